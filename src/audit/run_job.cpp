#include "audit/run_job.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <cmath>
#include <map>
#include <set>

#include "analysis/audit.h"
#include "audit/eval_job.h"
#include "audit/ppl_job.h"
#include "backends/llama_backend.h"
#include "common/error.h"
#include "common/files.h"
#include "engine/eval.h"
#include "quant/ladder.h"
#include "report/audit_report.h"
#include "store/store.h"
#include "suites/bbq.h"
#include "suites/builtin.h"
#include "suites/demo.h"

namespace qaudit::audit {
namespace fs = std::filesystem;
namespace {

suites::Suite load_suite(const SuiteSpec& ss) {
  suites::Suite s = ss.kind == "bbq" ? suites::load_bbq(ss.files)
                   : ss.kind == "builtin" ? suites::load_builtin_suite()
                                          : suites::load_demo_suite();
  suites::apply_filter(s, ss.filter, ss.site);
  if (s.items.empty())
    throw Error(ss.site, fmt::format("the {} suite has no items left to evaluate", ss.kind),
                "loosen its filters (categories, condition, polarity, sample, limit)");
  return s;
}

analysis::Answer answer_of(const store::ResultRow& r) {
  return {r.probs, r.invalid, r.probs_t1, r.invalid_t1, r.entropy, r.max_prob};
}

// Sampling mode: one answer per item from its samples with the given seeds: the share of samples
// per option (and unparsed), and how many chose the stereotyped option.
std::map<std::string, analysis::Answer> sampled_answers(const std::vector<store::ResultRow>& rows, const suites::Suite& suite,
                                                        const std::vector<int>& seeds) {
  std::map<std::string, const suites::Item*> by_id;
  for (const auto& it : suite.items) by_id[it.id] = &it;
  std::set<int64_t> wanted(seeds.begin(), seeds.end());
  std::map<std::string, analysis::Answer> out;
  for (const auto& r : rows) {
    auto f = by_id.find(r.key.item_id);
    if (f == by_id.end() || !wanted.count(r.key.seed)) continue;
    auto& a = out[r.key.item_id];
    if (a.probs.empty()) a.probs.assign(f->second->options.size(), 0.0);
    a.samples++;
    if (r.answer >= 0) a.probs[size_t(r.answer)] += 1;
    else a.invalid += 1;
    a.stereotyped_samples += r.answer >= 0 && r.answer == f->second->stereotyped;
  }
  for (auto& [id, a] : out) {
    for (double& p : a.probs) p /= a.samples;
    a.invalid /= a.samples;
    a.probs_t1 = a.probs;
    a.invalid_t1 = a.invalid;
    auto c = engine::confidence(a.probs);
    a.entropy = c.entropy;
    a.max_prob = c.max_prob;
  }
  return out;
}

nlohmann::json spec_json(const RunSpec& s) {
  nlohmann::json suites = nlohmann::json::array();
  for (const auto& ss : s.suites)
    suites.push_back({{"kind", ss.kind},
                      {"files", ss.files},
                      {"categories", ss.filter.categories},
                      {"condition", ss.filter.condition},
                      {"polarity", ss.filter.polarity},
                      {"sample", ss.filter.sample},
                      {"limit", ss.filter.limit}});
  // Paths of the output are left out: the same audit written elsewhere gives the same document.
  return {{"reference", !s.imported.empty() ? "(imported)" : s.reference.empty() ? "(generated demo model)" : s.reference},
          {"imported", s.imported},
          {"recipes", s.recipes},
          {"suites", suites},
          {"mode", s.mode},
          {"seeds", s.mode == "sample" ? nlohmann::json(s.seeds) : nlohmann::json(nullptr)},
          {"floor_seeds", s.mode == "sample" ? nlohmann::json(s.floor_seeds) : nlohmann::json(nullptr)},
          {"max_tokens", s.mode == "sample" ? nlohmann::json(s.max_tokens) : nlohmann::json(nullptr)},
          {"temperature", s.temperature},
          {"k", s.k},
          {"exact", s.exact},
          {"chunk", s.chunk},
          {"plain_prompt", s.plain_prompt}};
}

void stage(bool quiet, const std::string& text) {
  if (!quiet) fmt::print(stderr, "== {}\n", text);
}

}  // namespace

bool parse_shard(const std::string& text, int* index, int* count) {
  std::string t = text;
  if (t.empty()) {
    const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
    const char* n = std::getenv("SLURM_ARRAY_TASK_COUNT");
    const char* k8s = std::getenv("JOB_COMPLETION_INDEX");
    const char* kn = std::getenv("QAUDIT_SHARD_COUNT");
    if (id && n) {
      // Slurm arrays may start at any index; SLURM_ARRAY_TASK_MIN says where.
      const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");
      t = fmt::format("{}/{}", std::atoi(id) - (min ? std::atoi(min) : 0), n);
    } else if (k8s && kn) {
      t = fmt::format("{}/{}", k8s, kn);
    } else if (k8s) {
      throw Error(ErrorSite{"", 0, "JOB_COMPLETION_INDEX"}, "a Kubernetes indexed job needs the shard count",
                  "set QAUDIT_SHARD_COUNT to the job's completions (see examples/k8s-indexed-job.yaml)");
    } else {
      return false;
    }
  }
  int i = 0, n = 0;
  char slash = 0;
  char rest = 0;
  if (std::sscanf(t.c_str(), "%d%c%d%c", &i, &slash, &n, &rest) != 3 || slash != '/' || n < 1 || i < 0 || i >= n)
    throw Error(ErrorSite{"", 0, "--shard"}, fmt::format("\"{}\" is not a shard", t),
                "write it as i/N with 0 <= i < N, e.g. --shard 2/4");
  *index = i;
  *count = n;
  return n > 1;
}

int run_audit(const RunOptions& o) {
  const RunSpec& s = o.spec;
  // --- check all input before any work -----------------------------------------------------
  std::vector<quant::Recipe> recipes;
  for (const auto& r : s.recipes) {
    try {
      recipes.push_back(quant::parse_recipe(r));
      quant::require_buildable(recipes.back());
    } catch (const Error& e) {
      throw Error(ErrorSite{"", 0, "ladder.recipes"}, fmt::format("recipe \"{}\": {}", r, e.message()), e.hint());
    }
  }
  if (!s.reference.empty())
    require_readable_file(s.reference, "reference model", "pass an F32, F16 or BF16 GGUF (reference.model or -m)");
  const bool imported = !s.imported.empty();
  if (imported && !fs::exists(store_path(s)))
    throw Error(ErrorSite{store_path(s), 0, {}}, "imported predictions are read from a store that does not exist",
                "run `qaudit import` into this store first, or pass --store");
  std::vector<SuiteSpec> suite_specs = s.suites;
  if (suite_specs.empty() && !imported) suite_specs.push_back(SuiteSpec{});
  std::vector<suites::Suite> suites;
  for (const auto& ss : suite_specs) suites.push_back(load_suite(ss));
  fs::create_directories(s.out);
  store::Store store(store_path(s));
  if (imported && suites.empty()) {
    suites.push_back(store.load_suite("bbq"));
    if (suites.back().items.empty())
      throw Error(ErrorSite{store_path(s), 0, "items"}, "the store holds no bbq items for the imported predictions",
                  "name the suite the predictions were made on (--bbq FILES, --builtin or --demo)");
  }
  std::string cache = s.cache.empty() ? quant::default_variant_cache() : s.cache;

  std::vector<analysis::ModelInfo> models;
  std::vector<std::string> prompt_ids(suites.size());
  engine::EvalOptions eo;
  if (imported) {
    // Imported predictions: the rungs are given; nothing to quantize or evaluate.
    for (size_t i = 0; i < s.imported.size(); ++i) {
      analysis::ModelInfo m;
      std::string spec = s.imported[i];
      size_t colon = spec.rfind(':');
      m.name = spec.substr(0, colon);
      m.bits_per_weight = double(s.imported.size() - i);  // the order given, highest first
      if (colon != std::string::npos) {
        try {
          m.bits_per_weight = std::stod(spec.substr(colon + 1));
        } catch (const std::exception&) {
          throw Error(ErrorSite{"", 0, "imported"}, fmt::format("\"{}\": bits per weight is not a number", spec), "write NAME or NAME:BITS");
        }
      }
      m.hash = "imported:" + m.name;
      m.path = "(imported)";
      bool found = false;
      for (const auto& su : suites) found |= store.existing_items(m.hash, su.name, "import", "imported", 1.0).size() > 0;
      if (!found)
        throw Error(ErrorSite{store_path(s), 0, "imported"}, fmt::format("no imported predictions named \"{}\" for these suites", m.name),
                    "run `qaudit import` first; `qaudit import` prints the names it stored");
      models.push_back(std::move(m));
    }
    for (auto& p : prompt_ids) p = "import";
  } else {
    // --- reference and ladder ----------------------------------------------------------------
    models.reserve(recipes.size() + 1);
    models.emplace_back();
    analysis::ModelInfo& ref = models[0];  // stays valid: capacity reserved above
    ref.name = "reference";
    ref.path = s.reference.empty() ? ensure_demo_model(o.quiet) : s.reference;
    ref.hash = store.model_hash(ref.path);
    ref.bits_per_weight = quant::file_bits_per_weight(ref.path);
    ref.file_size = (long long)fs::file_size(ref.path);
    stage(o.quiet, fmt::format("quantizing {} variants of {}", recipes.size(), ref.path));
    for (const auto& r : recipes) {
      analysis::ModelInfo m;
      m.name = quant::recipe_text(r);
      try {
        auto v = quant::build_variant(ref.path, ref.hash, r, cache, o.quiet);
        m.path = v.path;
        m.hash = store.model_hash(v.path);
        m.bits_per_weight = v.bits_per_weight;
        m.file_size = v.file_size;
        double mx = 0, sum = 0;
        for (const auto& t : v.tensors) {
          mx = std::max(mx, t.rel);
          sum += t.rel;
        }
        if (!v.tensors.empty()) {
          m.max_tensor_rel = mx;
          m.mean_tensor_rel = sum / double(v.tensors.size());
        }
        if (!o.quiet) fmt::print(stderr, "  {:<16} {:6.2f} bits/weight{}\n", m.name, m.bits_per_weight, v.reused ? " (cached)" : "");
      } catch (const std::exception& e) {
        m.failed = true;
        m.error = fmt::format("quantization failed: {}", e.what());
        fmt::print(stderr, "warning: {}: {}\n", m.name, m.error);
      }
      models.push_back(std::move(m));
    }

    // --- evaluation ----------------------------------------------------------------------------
    eo.temperature = s.temperature;
    eo.k = s.mode == "sample" ? int(s.seeds.size()) : s.k;
    eo.mode = s.mode;
    eo.sample.seeds.assign(s.seeds.begin(), s.seeds.end());
    eo.sample.max_tokens = s.max_tokens;
    eo.plain_prompt = s.plain_prompt;
    eo.quiet = o.quiet;
    eo.command = o.command;
    eo.context.exact = s.exact;
    eo.context.n_threads = s.threads;
    eo.context.n_gpu_layers = s.gpu_layers;
    eo.context.n_seq = s.seqs;
    eo.context.n_batch = s.batch;
    eo.chunk = s.chunk;
    eo.shard_index = o.shard_index;
    eo.shard_count = o.shard_count;
    backends::backend_init(false);
    int computed = 0;
    for (size_t mi = 0; mi < models.size(); ++mi) {
      auto& m = models[mi];
      if (m.failed) continue;
      stage(o.quiet, fmt::format("evaluating {} ({}/{})", m.name, mi + 1, models.size()));
      try {
        auto model = backends::LlamaModel::load(m.path, s.gpu_layers);
        store.put_model({m.hash, fs::absolute(m.path).string(), m.file_size, model->arch(), model->description(),
                         int64_t(model->n_params())});
        for (size_t si = 0; si < suites.size(); ++si) {
          auto sum = engine::eval_suite(*model, m.hash, suites[si], store, eo);
          computed += sum.n_computed;
          if (!sum.too_long.empty())
            fmt::print(stderr, "warning: {}: {} items of {} skipped, longer than the model's context\n", m.name, sum.too_long.size(),
                       suites[si].name);
          if (mi == 0 && s.mode == "sample" && !s.floor_seeds.empty()) {
            // The noise floor, measured: the reference again with a second set of seeds.
            engine::EvalOptions fo = eo;
            fo.sample.seeds.assign(s.floor_seeds.begin(), s.floor_seeds.end());
            computed += engine::eval_suite(*model, m.hash, suites[si], store, fo).n_computed;
          }
          if (mi == 0) prompt_ids[si] = sum.prompt_id;
          else if (sum.prompt_id != prompt_ids[si])
            throw Error(fmt::format("prompt format {} differs from the reference's {}", sum.prompt_id, prompt_ids[si]),
                        "a variant must carry its reference's chat template");
        }
      } catch (const std::exception& e) {
        if (mi == 0) throw;  // without the reference there is nothing to compare against
        m.failed = true;
        m.error = fmt::format("evaluation failed: {}", e.what());
        fmt::print(stderr, "warning: {}: {}\n", m.name, m.error);
      }
    }
    // --- perplexity and KL divergence over the corpus (the first shard does it whole) -----------
    if (s.perplexity.enabled && o.shard_index == 0) {
      stage(o.quiet, "perplexity and KL divergence");
      for (size_t mi = 0; mi < models.size(); ++mi) {
        auto& m = models[mi];
        if (m.failed) continue;
        PplJob pj;
        pj.model_path = m.path;
        if (mi > 0) pj.reference_path = ref.path;
        pj.corpus_path = s.perplexity.corpus;
        pj.store_path = store_path(s);
        pj.n_ctx = s.perplexity.ctx;
        pj.max_chunks = s.perplexity.chunks;
        pj.plain_prompt = s.plain_prompt;
        pj.quiet = true;
        pj.context = eo.context;
        pj.command = o.command;
        try {
          auto r = run_ppl_job(pj);
          m.ppl = r.stats.ppl.value;
          if (r.stats.has_base) {
            // Both perplexities from the models' own logits on the same tokens (llama-perplexity's
            // PPL(base) comes from the compressed base file, which caps log-probabilities at -16
            // below the top token and so understates a poor reference's perplexity).
            m.ppl_ratio = m.ppl / models[0].ppl;
            m.kld = r.stats.kld.value;
            m.kld_unc = r.stats.kld.unc;
            m.kld_p99 = r.stats.kld_p99;
            m.p_diff_rms = r.stats.p_diff_rms.value;
            m.same_top = r.stats.same_top.value;
          }
          if (!o.quiet) fmt::print(stderr, "  {:<16} PPL {:.4g}{}\n", m.name, m.ppl, r.stats.has_base ? fmt::format("  KLD {:.5f}", m.kld) : "");
        } catch (const Error& e) {
          if (mi == 0) throw;  // the reference runs first: a corpus that cannot be used stops the run there
          m.ppl_error = e.what();
          fmt::print(stderr, "warning: {}: perplexity failed: {}\n", m.name, e.what());
        }
      }
    }

    if (o.shard_count > 1) {
      fmt::print("shard {}/{}: {} rows computed into {}; merge the shard stores with `qaudit merge`, then run again on "
                 "the merged store for the report\n",
                 o.shard_index, o.shard_count, computed, store_path(s));
      return 0;
    }

  }
  // --- analysis and reports ------------------------------------------------------------------
  stage(o.quiet, "analysing");
  analysis::Thresholds t{s.gate.max_became_biased, s.gate.max_usr_drop, s.gate.max_bias_score_delta, s.gate.max_kld};
  std::vector<analysis::SuiteResult> results;
  std::vector<std::vector<std::map<std::string, analysis::Answer>>> answers(suites.size());
  for (size_t si = 0; si < suites.size(); ++si) {
    std::map<std::string, analysis::Answer> floor;
    for (size_t mi = 0; mi < models.size(); ++mi) {
      const auto& m = models[mi];
      std::map<std::string, analysis::Answer> by_id;
      if (!m.failed) {
        auto rows = imported ? store.results(m.hash, suites[si].name, "import", "imported", 1.0)
                             : store.results(m.hash, suites[si].name, prompt_ids[si], s.mode, s.temperature);
        if (s.mode == "sample" && !imported) {
          by_id = sampled_answers(rows, suites[si], s.seeds);
          if (mi == 0) floor = sampled_answers(rows, suites[si], s.floor_seeds);
        } else {
          for (const auto& r : rows) by_id[r.key.item_id] = answer_of(r);
        }
      }
      answers[si].push_back(std::move(by_id));
    }
    results.push_back(analysis::analyze_suite(suites[si], prompt_ids[si], models, answers[si], s.temperature, eo.k, t, 8, floor));
  }
  auto j = report::audit_json(spec_json(s), models, results, t);
  fs::path out(s.out);
  write_file_atomic((out / "report.json").string(), j.dump(2) + "\n");
  write_file_atomic((out / "report.md").string(), report::audit_markdown(j));
  write_file_atomic((out / "report.html").string(), report::audit_html(j));
  write_file_atomic((out / "junit.xml").string(), report::gate_junit(j));
  std::string csv = report::items_csv_header();
  for (size_t si = 0; si < suites.size(); ++si) {
    std::vector<report::CsvModel> cms;
    for (size_t m = 0; m < models.size(); ++m) cms.push_back({&models[m], &answers[si][m]});
    csv += report::items_csv_rows(suites[si].name, suites[si].items, cms);
  }
  write_file_atomic((out / "items.csv").string(), csv);

  for (const auto& sr : j["suites"])
    for (const auto& c : sr["cliffs"]) fmt::print("{}: {}\n", sr["name"].get<std::string>(), c["text"].get<std::string>());
  fmt::print("{}", report::gate_lines(j));
  fmt::print("reports: {0}/report.html {0}/report.md {0}/report.json {0}/items.csv {0}/junit.xml\n", s.out);
  return o.gate && !j["gate"]["pass"].get<bool>() ? 1 : 0;
}

}  // namespace qaudit::audit
