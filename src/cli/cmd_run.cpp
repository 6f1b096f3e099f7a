#include <fmt/format.h>

#include <memory>
#include <optional>

#include "audit/run_job.h"
#include "cli/commands.h"

namespace qaudit::cli {

Runner add_run(CLI::App& app) {
  struct Args {
    std::string spec_file, model, out, store, cache, shard, condition, polarity;
    std::vector<std::string> recipes, bbq, categories;
    bool demo = false, builtin = false, study = false, exact = false, plain = false, gate = false, print_spec = false, quiet = false;
    std::optional<double> temperature, max_bb, max_usr, max_bias, max_kld, sample;
    std::string corpus;
    bool no_ppl = false;
    std::optional<int> ppl_ctx, ppl_chunks;
    std::optional<int> k, threads, ngl, seqs, batch, limit, chunk, max_tokens;
    std::string mode;
    std::vector<int> seeds, floor_seeds;
    std::vector<std::string> imported;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "The audit: quantize the ladder (cached), evaluate the reference and every variant on every suite\n"
      "(resumable: a rerun computes only what the store lacks), compare item by item, write report.html,\n"
      "report.md, report.json, items.csv and junit.xml to --out, and print the gate.\n"
      "Exit status: 0; 1 with --gate when a check fails; 2 on an error.\n"
      "Examples:\n"
      "  qaudit run                                    # generated demo model, default ladder, built-in suite\n"
      "  qaudit run --print-spec > audit.toml          # start a spec from the defaults\n"
      "  qaudit run --spec audit.toml --gate\n"
      "  qaudit run -m model-f16.gguf -r Q8_0 -r Q4_K_M -r Q3_K_M -r affine:b4:g64 --bbq BBQ/data/Age.jsonl --demo\n"
      "  qaudit run --spec audit.toml --shard 0/4 --store shard0.sqlite   # then qaudit merge");
  app.add_option("--spec", a->spec_file, "audit spec (TOML); flags override its fields");
  app.add_option("--imported", a->imported,
                 "audit predictions imported with `qaudit import` instead of a model: REFERENCE,VARIANT,... (NAME or NAME:BITS)")
      ->delimiter(',');
  app.add_option("-m,--model", a->model, "reference GGUF (F32/F16/BF16; default: a generated demo model)");
  app.add_option("-r,--recipe", a->recipes, "ladder rung (repeatable; replaces the spec's ladder), see `qaudit quantize --list`");
  app.add_option("--bbq", a->bbq, "a BBQ suite from these JSONL files (replaces the spec's suites)")->expected(1, -1);
  app.add_flag("--builtin", a->builtin, "qaudit's built-in suite (2,592 items, nine dimensions; the default)");
  app.add_flag("--demo", a->demo, "the 54-item demo suite (combine with --bbq / --builtin for several suites)");
  app.add_option("--categories", a->categories, "keep only these categories (every suite)")->expected(1, -1);
  app.add_flag("--study-preset", a->study,
               "the study's selection: Age, Gender_identity, Race_ethnicity, Religion and SES, ambiguous contexts only");
  app.add_option("--condition", a->condition, "keep only ambig or disambig items")->check(CLI::IsMember({"ambig", "disambig"}));
  app.add_option("--polarity", a->polarity, "keep only neg or nonneg questions")->check(CLI::IsMember({"neg", "nonneg"}));
  app.add_option("--sample", a->sample, "keep this share of items, chosen by a stable hash of the id")->check(CLI::Range(0.0, 1.0));
  app.add_option("--limit", a->limit, "keep the first N items of each suite")->check(CLI::NonNegativeNumber);
  app.add_option("-o,--out", a->out, "report directory (default qaudit-audit)");
  app.add_option("-s,--store", a->store, "SQLite results store (default OUT/qaudit.sqlite)");
  app.add_option("--cache", a->cache, "variant cache directory");
  app.add_option("-t,--temperature", a->temperature, "temperature of the answer distribution (default 0.3)")->check(CLI::PositiveNumber);
  app.add_option("-k,--samples", a->k, "k of the k-seed statistics (default 5)")->check(CLI::PositiveNumber);
  app.add_option("--mode", a->mode, "letters (exact answer distributions, the default) or sample (the study's 5-seed sampling)")
      ->check(CLI::IsMember({"letters", "sample"}));
  app.add_option("--seeds", a->seeds, "sample mode: seeds (default 42,123,456,789,1024)")->delimiter(',');
  app.add_option("--floor-seeds", a->floor_seeds, "sample mode: a second seed set for the reference, the measured noise floor")
      ->delimiter(',');
  app.add_option("--max-tokens", a->max_tokens, "sample mode: new tokens per sample (default 5)")->check(CLI::Range(1, 256));
  app.add_flag("--exact", a->exact, "flash attention off and an F32 KV cache");
  app.add_flag("--no-chat-template", a->plain, "use the plain prompt format");
  app.add_option("--threads", a->threads, "CPU threads (default: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--ngl,--n-gpu-layers", a->ngl, "layers to offload to the GPU")->check(CLI::NonNegativeNumber);
  app.add_option("--seqs", a->seqs, "prompts decoded side by side")->check(CLI::Range(1, 256));
  app.add_option("-b,--batch", a->batch, "tokens per llama_decode")->check(CLI::Range(32, 1 << 16));
  app.add_option("--chunk", a->chunk, "items per scoring chunk, the unit of resumption and sharding (default 256)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-became-biased", a->max_bb, "gate: max became-biased share above the noise floor (default 0.05)")->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--max-usr-drop", a->max_usr, "gate: max relative drop of the unknown-selection rate (default 0.10)")->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--max-bias-score-delta", a->max_bias, "gate: max |Δ| of the ambiguous bias score (default 0.05)")->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--max-kld", a->max_kld, "gate: max mean KL divergence over the corpus (default: not gated)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--corpus", a->corpus, "perplexity/KL corpus: plain text or chat JSONL (default: built in)");
  app.add_option("--ppl-ctx", a->ppl_ctx, "tokens per perplexity chunk (default 256)")->check(CLI::Range(16, 1 << 20));
  app.add_option("--ppl-chunks", a->ppl_chunks, "at most N perplexity chunks (default: all)")->check(CLI::NonNegativeNumber);
  app.add_flag("--no-ppl", a->no_ppl, "skip perplexity and KL divergence");
  app.add_flag("--gate", a->gate, "exit 1 when a gate check fails");
  app.add_flag("--print-spec", a->print_spec, "print the effective spec as TOML and exit");
  app.add_option("--shard", a->shard,
                 "evaluate only shard i of N (0-based; default from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX "
                 "with QAUDIT_SHARD_COUNT); no report");
  app.add_flag("-q,--quiet", a->quiet, "no progress on stderr");
  return [a, &app] {
    audit::RunOptions o;
    audit::RunSpec& s = o.spec;
    if (!a->spec_file.empty()) audit::load_spec(a->spec_file, s);
    if (!a->model.empty()) s.reference = a->model;
    if (!a->recipes.empty()) s.recipes = a->recipes;
    if (!a->imported.empty()) s.imported = a->imported;
    if (!a->bbq.empty() || a->demo || a->builtin) {
      s.suites.clear();
      if (!a->bbq.empty()) {
        audit::SuiteSpec b;
        b.kind = "bbq";
        b.files = a->bbq;
        b.site = ErrorSite{"", 0, "--"};
        s.suites.push_back(b);
      }
      if (a->builtin) s.suites.push_back(audit::SuiteSpec{"builtin", {}, {}, ErrorSite{"", 0, "--"}});
      if (a->demo) s.suites.push_back(audit::SuiteSpec{"demo", {}, {}, ErrorSite{"", 0, "--"}});
    }
    if (s.suites.empty() && s.imported.empty()) s.suites.push_back(audit::SuiteSpec{"builtin", {}, {}, ErrorSite{"", 0, "--"}});
    for (auto& ss : s.suites) {
      if (a->study) {
        ss.filter.categories = {"Age", "Gender_identity", "Race_ethnicity", "Religion", "SES"};
        ss.filter.condition = "ambig";
      }
      if (!a->categories.empty()) ss.filter.categories = a->categories;
      if (!a->condition.empty()) ss.filter.condition = a->condition;
      if (!a->polarity.empty()) ss.filter.polarity = a->polarity;
      if (a->sample) ss.filter.sample = *a->sample;
      if (a->limit) ss.filter.limit = *a->limit;
    }
    if (!a->out.empty()) s.out = a->out;
    if (!a->store.empty()) s.store = a->store;
    if (!a->cache.empty()) s.cache = a->cache;
    if (a->temperature) s.temperature = *a->temperature;
    if (a->k) s.k = *a->k;
    if (!a->mode.empty()) s.mode = a->mode;
    if (!a->seeds.empty()) s.seeds = a->seeds;
    if (!a->floor_seeds.empty()) s.floor_seeds = a->floor_seeds;
    if (a->max_tokens) s.max_tokens = *a->max_tokens;
    if (a->exact) s.exact = true;
    if (a->plain) s.plain_prompt = true;
    if (a->threads) s.threads = *a->threads;
    if (a->ngl) s.gpu_layers = *a->ngl;
    if (a->seqs) s.seqs = *a->seqs;
    if (a->batch) s.batch = *a->batch;
    if (a->chunk) s.chunk = *a->chunk;
    if (a->max_bb) s.gate.max_became_biased = *a->max_bb;
    if (a->max_usr) s.gate.max_usr_drop = *a->max_usr;
    if (a->max_bias) s.gate.max_bias_score_delta = *a->max_bias;
    if (a->max_kld) s.gate.max_kld = *a->max_kld;
    if (!a->corpus.empty()) s.perplexity.corpus = a->corpus;
    if (a->ppl_ctx) s.perplexity.ctx = *a->ppl_ctx;
    if (a->ppl_chunks) s.perplexity.chunks = *a->ppl_chunks;
    if (a->no_ppl) s.perplexity.enabled = false;
    if (a->print_spec) {
      fmt::print("{}", audit::spec_toml(s));
      return 0;
    }
    audit::parse_shard(a->shard, &o.shard_index, &o.shard_count);
    o.gate = a->gate;
    o.quiet = a->quiet;
    o.command = "qaudit run";
    for (const auto& opt : app.get_options())
      if (opt->count() && opt->get_name() != "--help")
        o.command += " " + opt->get_name() + (opt->get_expected_max() ? " " + fmt::format("{}", fmt::join(opt->results(), " ")) : "");
    return audit::run_audit(o);
  };
}

}  // namespace qaudit::cli
