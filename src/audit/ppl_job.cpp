#include "audit/ppl_job.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "audit/eval_job.h"
#include "common/error.h"
#include "common/files.h"
#include "common/progress.h"
#include "engine/perplexity.h"
#include "prompts/prompt.h"
#include "store/store.h"
#include "suites/corpus.h"

namespace qaudit::audit {
namespace fs = std::filesystem;
namespace {

nlohmann::json chunk_json(const engine::PplChunk& c) {
  nlohmann::json j = {{"nll", c.nll}};
  if (!c.nll_base.empty()) {
    j["nll_base"] = c.nll_base;
    j["kld"] = c.kld;
    j["p_diff"] = c.p_diff;
    j["same_top"] = c.same_top;
  }
  return j;
}

void append(engine::PplChunk& all, const nlohmann::json& j) {
  auto add = [](auto& v, const nlohmann::json& a) {
    for (const auto& x : a) v.push_back(x.get<typename std::decay_t<decltype(v)>::value_type>());
  };
  add(all.nll, j.at("nll"));
  if (j.contains("nll_base")) {
    add(all.nll_base, j["nll_base"]);
    add(all.kld, j["kld"]);
    add(all.p_diff, j["p_diff"]);
    add(all.same_top, j["same_top"]);
  }
}

std::string chunk_id(int i) { return fmt::format("chunk/{:05d}", i); }

}  // namespace

PplOutcome run_ppl_job(const PplJob& job) {
  // All input checked before the store is touched.
  suites::Corpus corpus = suites::load_corpus(job.corpus_path);
  if (!job.reference_path.empty()) require_readable_file(job.reference_path, "reference model", "pass the reference GGUF");
  engine::BaseFile given_base;
  if (!job.base_path.empty()) given_base = engine::read_base_header(job.base_path);
  std::string model_path = job.model_path.empty() ? ensure_demo_model(job.quiet) : job.model_path;
  backends::backend_init(false);
  auto model = backends::LlamaModel::load(model_path, job.context.n_gpu_layers);
  auto format = prompts::chat_format(model->chat_template(), job.plain_prompt);
  std::string text = suites::corpus_text(corpus, format);
  std::string source = corpus.source;

  store::Store store(job.store_path);
  std::string hash = store.model_hash(model_path);
  store.put_model({hash, fs::absolute(model_path).string(), int64_t(fs::file_size(model_path)), model->arch(),
                   model->description(), int64_t(model->n_params())});
  PplOutcome out;
  out.corpus = corpus.name;
  std::string suite = "corpus/" + corpus.name;
  std::string settings = backends::settings_text(job.context);

  // The reference's base file: given, cached, or computed now.
  engine::BaseFile base;
  std::string mode = "ppl";
  if (!job.base_path.empty()) {
    base = given_base;
    mode = "kld/" + file_content_hash(job.base_path).substr(0, 16);
  } else if (!job.reference_path.empty()) {
    std::string ref_hash = store.model_hash(job.reference_path);
    fs::path cache = fs::path(qaudit_cache_dir()) / "ppl-base" /
                     fmt::format("{}-{}-{}-c{}-n{}.bin", ref_hash.substr(0, 16), corpus.content_hash, format.id, job.n_ctx, job.max_chunks);
    if (!fs::exists(cache)) {
      auto ref = backends::LlamaModel::load(job.reference_path, job.context.n_gpu_layers);
      if (ref->n_vocab() != model->n_vocab())
        throw Error(ErrorSite{model_path, 0, {}},
                    fmt::format("the model's vocabulary has {} tokens but the reference's has {}", model->n_vocab(), ref->n_vocab()),
                    "a variant must share its reference's vocabulary; compare a model with its own quantized builds");
      auto ct = engine::corpus_tokens(*ref, text, job.n_ctx, job.max_chunks, source);
      if (!job.quiet) fmt::print(stderr, "computing the reference's log-probabilities over {} chunks of {} tokens\n", ct.n_chunk, ct.n_ctx);
      Progress progress("reference", ct.n_chunk, job.quiet);
      engine::perplexity_chunks(*ref, job.context, ct, {}, cache.string(), [&](int, engine::PplChunk&&) { progress.advance(); });
      progress.finish();
    }
    base = engine::read_base_header(cache.string());
    mode = "kld/" + ref_hash.substr(0, 16);
  }
  if (!job.save_base.empty() && !base.path.empty()) fs::copy_file(base.path, job.save_base, fs::copy_options::overwrite_existing);

  int n_chunk = 0, n_ctx = job.n_ctx;
  engine::CorpusTokens ct;
  if (base.path.empty()) {
    ct = engine::corpus_tokens(*model, text, job.n_ctx, job.max_chunks, source);
    n_chunk = ct.n_chunk;
  } else {
    n_chunk = base.n_chunk;
    n_ctx = base.n_ctx;
  }
  std::string prompt_id = fmt::format("ppl/c{}/{}", n_ctx, base.path.empty() ? corpus.content_hash + "/" + format.id : "base");
  auto have = store.existing_items(hash, suite, prompt_id, mode, 1.0);
  std::vector<int> todo;
  for (int i = 0; i < n_chunk; ++i)
    if (!have.count(chunk_id(i))) todo.push_back(i);
  out.existing = n_chunk - int(todo.size());
  if (!todo.empty()) {
    int64_t run_id = store.begin_run({hash, suite, job.command, settings});
    Progress progress(fs::path(model_path).filename().string(), long(todo.size()), job.quiet);
    auto save = [&](int i, engine::PplChunk&& c) {
      store::ResultRow r;
      r.key = {hash, suite, chunk_id(i), prompt_id, mode, 1.0, -1};
      r.answer = -1;
      r.detail = chunk_json(c).dump();
      r.n_tokens = n_ctx;
      r.settings = settings;
      r.run_id = run_id;
      out.computed += store.put_results({r});
      progress.advance();
    };
    if (base.path.empty()) engine::perplexity_chunks(*model, job.context, ct, todo, "", save);
    else engine::kl_divergence_chunks(*model, job.context, base, todo, save);
    progress.finish();
    store.finish_run(run_id);
  }
  engine::PplChunk all;
  for (const auto& r : store.results(hash, suite, prompt_id, mode, 1.0)) {
    int i = std::stoi(r.key.item_id.substr(6));
    if (i < n_chunk) append(all, nlohmann::json::parse(r.detail));
  }
  out.stats = analysis::ppl_stats(all.nll, all.nll_base, all.kld, all.p_diff, all.same_top);
  out.n_ctx = n_ctx;
  out.n_chunk = n_chunk;
  if (!job.json_path.empty()) {
    const auto& s = out.stats;
    auto vu = [](const analysis::ValueUnc& v) { return nlohmann::json{{"value", v.value}, {"unc", v.unc}}; };
    nlohmann::json j = {{"schema", "qaudit.ppl/1"}, {"model", model_path}, {"model_hash", hash}, {"corpus", corpus.source},
                        {"n_ctx", n_ctx}, {"n_chunk", n_chunk}, {"count", s.count}, {"ppl", vu(s.ppl)}};
    if (s.has_base) {
      j["reference"] = job.reference_path.empty() ? job.base_path : job.reference_path;
      j["ppl_base"] = vu(s.ppl_base);
      j["cor_log_ppl"] = s.cor_log_ppl;
      j["log_ppl_ratio"] = vu(s.log_ppl_ratio);
      j["ppl_ratio"] = vu(s.ppl_ratio);
      j["ppl_diff"] = vu(s.ppl_diff);
      j["kld"] = vu(s.kld);
      j["kld_percentiles"] = {{"max", s.kld_max}, {"99.9", s.kld_p999}, {"99", s.kld_p99}, {"95", s.kld_p95},
                              {"90", s.kld_p90}, {"median", s.kld_median}, {"10", s.kld_p10}, {"5", s.kld_p5},
                              {"1", s.kld_p1}, {"0.1", s.kld_p01}, {"min", s.kld_min}};
      j["p_diff"] = vu(s.p_diff);
      j["p_diff_rms"] = vu(s.p_diff_rms);
      j["p_diff_percentiles"] = {{"max", s.p_diff_max}, {"99.9", s.p_diff_p999}, {"99", s.p_diff_p99}, {"95", s.p_diff_p95},
                                 {"90", s.p_diff_p90}, {"75", s.p_diff_p75}, {"median", s.p_diff_median}, {"25", s.p_diff_p25},
                                 {"10", s.p_diff_p10}, {"5", s.p_diff_p5}, {"1", s.p_diff_p1}, {"0.1", s.p_diff_p01},
                                 {"min", s.p_diff_min}};
      j["same_top"] = vu(s.same_top);
    }
    write_file_atomic(job.json_path, j.dump(2) + "\n");
  }
  return out;
}

std::string ppl_text(const PplOutcome& o) {
  const auto& s = o.stats;
  std::string t = fmt::format("corpus {}: {} chunks of {} tokens, {} tokens scored (the second half of each chunk)\n", o.corpus,
                              o.n_chunk, o.n_ctx, s.count);
  t += fmt::format("Mean PPL(Q)                   : {:10.6f} ± {:10.6f}\n", s.ppl.value, s.ppl.unc);
  if (!s.has_base) return t;
  t += fmt::format("Mean PPL(base)                : {:10.6f} ± {:10.6f}\n", s.ppl_base.value, s.ppl_base.unc);
  t += fmt::format("Cor(ln(PPL(Q)), ln(PPL(base))): {:6.2f}%\n", 100 * s.cor_log_ppl);
  t += fmt::format("Mean ln(PPL(Q)/PPL(base))     : {:10.6f} ± {:10.6f}\n", s.log_ppl_ratio.value, s.log_ppl_ratio.unc);
  t += fmt::format("Mean PPL(Q)/PPL(base)         : {:10.6f} ± {:10.6f}\n", s.ppl_ratio.value, s.ppl_ratio.unc);
  t += fmt::format("Mean PPL(Q)-PPL(base)         : {:10.6f} ± {:10.6f}\n\n", s.ppl_diff.value, s.ppl_diff.unc);
  t += fmt::format("Mean    KLD: {:10.6f} ± {:10.6f}\n", s.kld.value, s.kld.unc);
  t += fmt::format("Maximum KLD: {:10.6f}\n99.9%   KLD: {:10.6f}\n99.0%   KLD: {:10.6f}\n95.0%   KLD: {:10.6f}\n"
                   "90.0%   KLD: {:10.6f}\nMedian  KLD: {:10.6f}\n10.0%   KLD: {:10.6f}\n 5.0%   KLD: {:10.6f}\n"
                   " 1.0%   KLD: {:10.6f}\n 0.1%   KLD: {:10.6f}\nMinimum KLD: {:10.6f}\n\n",
                   s.kld_max, s.kld_p999, s.kld_p99, s.kld_p95, s.kld_p90, s.kld_median, s.kld_p10, s.kld_p5, s.kld_p1,
                   s.kld_p01, s.kld_min);
  t += fmt::format("Mean    Δp: {:6.3f} ± {:5.3f} %\n", 100 * s.p_diff.value, 100 * s.p_diff.unc);
  t += fmt::format("Maximum Δp: {:6.3f}%\nMedian  Δp: {:6.3f}%\nMinimum Δp: {:6.3f}%\n", 100 * s.p_diff_max,
                   100 * s.p_diff_median, 100 * s.p_diff_min);
  t += fmt::format("RMS Δp    : {:6.3f} ± {:5.3f} %\n", 100 * s.p_diff_rms.value, 100 * s.p_diff_rms.unc);
  t += fmt::format("Same top p: {:6.3f} ± {:5.3f} %\n", 100 * s.same_top.value, 100 * s.same_top.unc);
  return t;
}

}  // namespace qaudit::audit
