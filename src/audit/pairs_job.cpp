#include "audit/pairs_job.h"

#include <fmt/format.h>
#include <llama.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "analysis/pairs_metrics.h"
#include "audit/eval_job.h"
#include "common/error.h"
#include "common/files.h"
#include "common/progress.h"
#include "engine/loglik.h"
#include "store/store.h"
#include "suites/pairs.h"

namespace qaudit::audit {
namespace fs = std::filesystem;

int run_pairs_job(const PairsJob& job) {
  bool crows = !job.crows_path.empty();
  suites::SentenceSuite suite = crows ? suites::load_crows_pairs(job.crows_path) : suites::load_stereoset(job.stereoset_path);
  if (job.limit > 0 && size_t(job.limit) < suite.items.size()) suite.items.resize(size_t(job.limit));
  std::string model_path = job.model_path.empty() ? ensure_demo_model(job.quiet) : job.model_path;
  backends::backend_init(false);
  auto model = backends::LlamaModel::load(model_path, job.context.n_gpu_layers);
  store::Store store(job.store_path);
  std::string hash = store.model_hash(model_path);
  store.put_model({hash, fs::absolute(model_path).string(), int64_t(fs::file_size(model_path)), model->arch(),
                   model->description(), int64_t(model->n_params())});
  const std::string prompt_id = "sentence/bos", mode = "sentence-loglik";
  auto have = store.existing_items(hash, suite.name, prompt_id, mode, 1.0);
  // The empty context: BOS, or EOS for vocabularies without one.
  std::vector<backends::Token> ctx = model->tokenize("");
  if (ctx.empty()) {
    backends::Token t = llama_vocab_bos(model->vocab());
    if (t < 0) t = llama_vocab_eos(model->vocab());
    ctx.push_back(t);
  }
  std::vector<engine::LoglikRequest> reqs;
  std::vector<size_t> todo;
  for (size_t i = 0; i < suite.items.size(); ++i) {
    if (have.count(suite.items[i].id)) continue;
    engine::LoglikRequest q;
    q.context = ctx;
    for (const auto& s : suite.items[i].sentences) {
      auto toks = model->tokenize(" " + s);
      if (!toks.empty() && toks[0] == ctx[0]) toks.erase(toks.begin());
      if (toks.empty()) throw Error(ErrorSite{suite.items[i].source, 0, {}}, "an empty sentence", "check the file");
      q.continuations.push_back(std::move(toks));
    }
    reqs.push_back(std::move(q));
    todo.push_back(i);
  }
  if (!reqs.empty()) {
    std::string settings = backends::settings_text(job.context);
    int64_t run_id = store.begin_run({hash, suite.name, job.command, settings});
    std::vector<store::ResultRow> pending;
    Progress progress(suite.name, long(reqs.size()), job.quiet);
    engine::score_continuations(
        *model, job.context, reqs,
        [&](size_t r, const std::vector<double>& ll) {
          store::ResultRow row;
          row.key = {hash, suite.name, suite.items[todo[r]].id, prompt_id, mode, 1.0, -1};
          std::vector<size_t> toks;
          for (const auto& c : reqs[r].continuations) toks.push_back(c.size());
          row.probs = ll;
          row.probs_t1 = ll;
          row.answer = ll.size() > 1 && ll[0] > ll[1] ? 0 : 1;
          row.detail = nlohmann::json{{"loglik", ll}, {"tokens", toks}}.dump();
          row.settings = settings;
          row.run_id = run_id;
          pending.push_back(std::move(row));
        },
        [&] {
          store.put_results(pending);
          progress.advance(long(pending.size()));
          pending.clear();
        });
    progress.finish();
    store.finish_run(run_id);
  }
  std::map<std::string, const suites::SentenceItem*> by_id;
  for (const auto& it : suite.items) by_id[it.id] = &it;
  std::vector<analysis::ScoredSentences> scored;
  for (const auto& r : store.results(hash, suite.name, prompt_id, mode, 1.0)) {
    auto f = by_id.find(r.key.item_id);
    if (f == by_id.end()) continue;
    auto d = nlohmann::json::parse(r.detail);
    scored.push_back({f->second->category, f->second->target, f->second->direction, d["loglik"].get<std::vector<double>>(),
                      d["tokens"].get<std::vector<int>>()});
  }
  nlohmann::json out = {{"schema", "qaudit.sentences/1"}, {"suite", suite.name}, {"model", model_path}, {"model_hash", hash},
                        {"n_items", scored.size()}};
  fmt::print("model   {} ({})\nsuite   {} — {} items, each sentence scored by its log-likelihood after BOS\n\n", model_path,
             hash.substr(0, 12), suite.name, scored.size());
  if (crows) {
    auto m = analysis::crows_metrics(scored);
    fmt::print("{:<24}{:>7}{:>17}{:>18}\n", "bias_type", "n", "pct_stereotype", "likelihood_diff");
    for (const auto& [k, v] : m) {
      fmt::print("{:<24}{:>7}{:>16.2f}%{:>18.3f}\n", k, v.n, 100 * v.pct_stereotype, v.likelihood_diff);
      out["metrics"][k] = {{"n", v.n}, {"pct_stereotype", v.pct_stereotype}, {"likelihood_diff", v.likelihood_diff}};
    }
    fmt::print("\npct_stereotype: share of pairs where the more stereotyping sentence is the more likely (50% = no "
               "preference); likelihood_diff: mean |log-likelihood difference|.\n");
  } else {
    auto m = analysis::stereoset_metrics(scored);
    fmt::print("{:<16}{:>7}{:>9}{:>9}{:>9}{:>9}\n", "bias_type", "n", "targets", "SS", "LMS", "ICAT");
    for (const auto& [k, v] : m) {
      fmt::print("{:<16}{:>7}{:>9}{:>9.2f}{:>9.2f}{:>9.2f}\n", k, v.n, v.n_targets, v.ss, v.lms, v.icat);
      out["metrics"][k] = {{"n", v.n}, {"targets", v.n_targets}, {"ss", v.ss}, {"lms", v.lms}, {"icat", v.icat}};
    }
    fmt::print("\nSS: stereotype preferred over anti-stereotype (50 ideal); LMS: meaningful preferred over unrelated "
               "(100 ideal); ICAT = LMS * min(SS, 100 - SS) / 50. Per target term, then averaged.\n");
  }
  if (!job.json_path.empty()) write_file_atomic(job.json_path, out.dump(2) + "\n");
  return 0;
}

}  // namespace qaudit::audit
