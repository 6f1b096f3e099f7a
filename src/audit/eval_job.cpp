#include "audit/eval_job.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "analysis/bbq_metrics.h"
#include "common/error.h"
#include "common/files.h"
#include "report/bbq_report.h"
#include "store/store.h"
#include "suites/bbq.h"
#include "suites/builtin.h"
#include "backends/http_backend.h"
#include "engine/http_eval.h"
#include "suites/demo.h"
#include "testmodel/testmodel.h"

namespace qaudit::audit {
namespace fs = std::filesystem;

std::string ensure_demo_model(bool quiet) {
  fs::path dir = fs::path(qaudit_cache_dir()) / "models";
  fs::create_directories(dir);
  fs::path path = dir / "demo-qwen2-tiny-seed1.gguf";
  if (!fs::exists(path)) {
    if (!quiet) fmt::print(stderr, "generating the demo model {}\n", path.string());
    testmodel::Options o;
    o.arch = "qwen2";
    o.shape = testmodel::preset("tiny");
    testmodel::write_test_model(o, path.string());
  }
  return path.string();
}

namespace {

std::vector<analysis::ScoredItem> scored_items(const suites::Suite& suite, const std::vector<store::ResultRow>& rows,
                                               bool at_t1) {
  std::map<std::string, const suites::Item*> by_id;
  for (const auto& it : suite.items) by_id[it.id] = &it;
  std::vector<analysis::ScoredItem> out;
  for (const auto& r : rows) {
    auto f = by_id.find(r.key.item_id);
    if (f == by_id.end()) continue;  // stored for a larger selection of the suite
    const auto& it = *f->second;
    out.push_back({it.category, it.condition, it.label, it.stereotyped, it.anti, it.unknown,
                   at_t1 ? r.probs_t1 : r.probs, at_t1 ? r.invalid_t1 : r.invalid});
  }
  return out;
}

}  // namespace

namespace {

// The metrics table and JSON, from the stored rows of one model.
int report_rows(const EvalJob& job, const suites::Suite& suite, const std::string& model_label, const std::string& hash,
                const engine::EvalSummary& sum, store::Store& store, const std::string& settings, nlohmann::json extra);


int report_rows(const EvalJob& job, const suites::Suite& suite, const std::string& model_label, const std::string& hash,
                const engine::EvalSummary& sum, store::Store& store, const std::string& settings, nlohmann::json extra) {
  auto rows = store.results(hash, suite.name, sum.prompt_id, sum.mode, sum.temperature);
  auto metrics = analysis::bbq_metrics_by_category(scored_items(suite, rows, false));
  auto metrics_t1 = analysis::bbq_metrics_by_category(scored_items(suite, rows, true));
  report::EvalHeader h{model_label, hash, suite.name, sum.prompt_id, sum.temperature, int(suite.items.size()),
                       int(suite.skipped.size()), settings};
  fmt::print("{}", report::bbq_table(h, metrics));
  std::map<std::string, int> rules;
  if (sum.mode == "sample") {
    for (const auto& r : rows) rules[r.parse_rule]++;
    fmt::print("\nsampled answers ({} seeds x {} items, at most {} tokens): ", job.eval.sample.seeds.size(), suite.items.size(),
               job.eval.sample.max_tokens);
    for (const auto& [rule, n] : rules) fmt::print("{} {}  ", rule, n);
    fmt::print("\nword_fallback: a letter only inside a word (\"I cannot...\"); the study's parser would have read it as an "
               "answer, this one counts it as no answer.\n");
  }
  if (!suite.skipped.empty()) {
    fmt::print("\n{} items skipped because their option roles cannot be decided:\n", suite.skipped.size());
    for (size_t i = 0; i < suite.skipped.size() && i < 10; ++i)
      fmt::print("  {} ({}): {}\n", suite.skipped[i].id, suite.skipped[i].source, suite.skipped[i].reason);
    if (suite.skipped.size() > 10) fmt::print("  ... and {} more (all listed in --json)\n", suite.skipped.size() - 10);
  }
  if (!job.json_path.empty()) {
    auto j = report::bbq_json(h, metrics);
    j["metrics_t1"] = report::bbq_metrics_json(metrics_t1);
    j["store"] = job.store_path;
    j["mode"] = sum.mode;
    if (sum.mode == "sample") {
      j["parse_rules"] = rules;
      j["seeds"] = job.eval.sample.seeds;
      j["max_tokens"] = job.eval.sample.max_tokens;
    }
    for (const auto& [k, v] : extra.items()) j[k] = v;
    j["skipped"] = nlohmann::json::array();
    for (const auto& s : suite.skipped) j["skipped"].push_back({{"id", s.id}, {"source", s.source}, {"reason", s.reason}});
    write_file_atomic(job.json_path, j.dump(2) + "\n");
  }
  return 0;
}

int run_http_eval(const EvalJob& job, suites::Suite& suite) {
  // Several endpoints of the same model: comma-separated.
  std::vector<backends::ServerSpec> specs;
  for (size_t pos = 0; pos <= job.model_path.size();) {
    size_t comma = job.model_path.find(',', pos);
    if (comma == std::string::npos) comma = job.model_path.size();
    specs.push_back(backends::parse_server_spec(job.model_path.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  const auto& spec = specs[0];
  engine::HttpEvalOptions o;
  o.eval = job.eval;
  o.concurrency = job.concurrency;
  o.top_k = job.top_k;
  o.http.timeout_s = job.timeout_s;
  o.http.retries = job.retries;
  if (!job.api_key_env.empty()) {
    const char* key = std::getenv(job.api_key_env.c_str());
    if (!key || !*key)
      throw Error(ErrorSite{"", 0, "--api-key-env"}, fmt::format("the environment variable {} is not set", job.api_key_env),
                  "export it with the server's API key (the key is never read from the command line)");
    o.http.api_key = key;
  }
  store::Store store(job.store_path);
  auto r = engine::eval_http(specs, o, suite, store);
  if (!job.eval.quiet) {
    if (r.sum.n_computed > 0)
      fmt::print(stderr, "answered {} items in {:.1f}s ({:.1f} items/s) from {} ({})\n", r.sum.n_computed, r.sum.seconds,
                 r.sum.n_computed / std::max(r.sum.seconds, 1e-9), spec.base, r.server.model);
    if (r.sum.n_existing > 0) fmt::print(stderr, "{} items were already in {}; not recomputed\n", r.sum.n_existing, job.store_path);
  }
  if (r.failed > 0)
    fmt::print(stderr, "warning: {} requests failed after {} retries (first: {}); run again to retry them\n", r.failed,
               job.retries, r.first_failure);
  nlohmann::json extra = {{"server", nlohmann::json::parse(r.server.description)}, {"failed_requests", r.failed}};
  int rc = report_rows(job, suite, spec.base + "#" + r.server.model, r.server.identity, r.sum, store,
                       fmt::format("server top_k={}", job.top_k), extra);
  return r.failed > 0 ? 3 : rc;
}

}  // namespace

int run_eval_job(const EvalJob& job) {
  bool demo_model = job.model_path.empty();
  suites::Suite suite = !job.bbq_files.empty() ? suites::load_bbq(job.bbq_files)
                        : job.builtin          ? suites::load_builtin_suite()
                                               : suites::load_demo_suite();
  if (job.limit > 0 && size_t(job.limit) < suite.items.size()) suite.items.resize(job.limit);
  if (suite.items.empty())
    throw Error("no item of the suite has decidable option roles; nothing to evaluate",
                "check the files' answer_info and stereotyped_groups fields");
  if (backends::is_server_spec(job.model_path)) return run_http_eval(job, suite);
  std::string model_path = demo_model ? ensure_demo_model(job.eval.quiet) : job.model_path;
  backends::backend_init(false);
  auto model = backends::LlamaModel::load(model_path, job.eval.context.n_gpu_layers);
  if (demo_model)
    fmt::print(stderr,
               "note: no --model given, so this runs a GENERATED model with random weights on the built-in demo suite.\n"
               "      Its numbers mean nothing; they show the pipeline works. Pass --model FILE.gguf to audit a real model.\n");
  if (!model->chat_template() && !job.eval.plain_prompt)
    fmt::print(stderr, "note: {} has no chat template; using the plain prompt format (prompt id \"study/plain\")\n",
               model_path);

  store::Store store(job.store_path);
  std::string hash = store.model_hash(model_path);
  store.put_model({hash, fs::absolute(model_path).string(), int64_t(fs::file_size(model_path)), model->arch(),
                   model->description(), int64_t(model->n_params())});
  engine::EvalSummary sum = engine::eval_suite(*model, hash, suite, store, job.eval);
  if (!job.eval.quiet) {
    if (sum.n_computed > 0)
      fmt::print(stderr, "scored {} items in {:.1f}s ({:.1f} items/s; {} prompt tokens, {} shared prefix tokens decoded once)\n",
                 sum.n_computed, sum.seconds, sum.n_computed / std::max(sum.seconds, 1e-9), sum.stats.prompt_tokens,
                 sum.stats.prefix_tokens);
    if (sum.n_existing > 0) fmt::print(stderr, "{} items were already in {}; not recomputed\n", sum.n_existing, job.store_path);
  }
  if (!sum.too_long.empty())
    fmt::print(stderr, "{} items skipped: their prompt is longer than the model's context of {} tokens ({}{})\n",
               sum.too_long.size(), model->n_ctx_train(), fmt::join(sum.too_long.begin(), sum.too_long.begin() + long(std::min<size_t>(5, sum.too_long.size())), ", "),
               sum.too_long.size() > 5 ? ", ..." : "");

  return report_rows(job, suite, model_path, hash, sum, store, backends::settings_text(job.eval.context),
                     nlohmann::json{{"skipped_too_long", sum.too_long}});
}

}  // namespace qaudit::audit
