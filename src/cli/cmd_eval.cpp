#include <fmt/format.h>

#include <memory>

#include "audit/eval_job.h"
#include "audit/pairs_job.h"
#include "cli/commands.h"
#include "common/files.h"

namespace qaudit::cli {

Runner add_eval(CLI::App& app) {
  auto job = std::make_shared<audit::EvalJob>();
  auto pairs = std::make_shared<audit::PairsJob>();
  app.footer(
      "Examples:\n"
      "  qaudit eval                                   # generated demo model on the built-in demo suite\n"
      "  qaudit eval -m Qwen2.5-7B-Instruct-Q4_K_M.gguf --bbq BBQ/data/Religion.jsonl --json religion.json\n"
      "  qaudit eval -m model.gguf --bbq Religion.jsonl --mode sample --seeds 42,123,456,789,1024   # the study's sampling\n"
      "  qaudit eval -m model.gguf --crows-pairs crows_pairs_anonymized.csv\n"
      "  qaudit eval -m http://127.0.0.1:8080/v1 --bbq Religion.jsonl --api-key-env OPENAI_API_KEY   # a served model\n"
      "  qaudit eval -m model.gguf --stereoset dev.json\n"
      "Results go to the store (default qaudit.sqlite); a rerun computes only what is missing.");
  app.add_option("-m,--model", job->model_path,
                 "GGUF model to evaluate, or a served model http://HOST:PORT/v1#MODEL (default: a generated demo model)");
  app.add_option("--api-key-env", job->api_key_env, "served models: environment variable that holds the API key");
  app.add_option("--concurrency", job->concurrency, "served models: requests in flight (default: the server's slots)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--top-k", job->top_k, "served models: first-token alternatives asked for (letters mode)")
      ->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--timeout", job->timeout_s, "served models: seconds per request")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--retries", job->retries, "served models: retries of a failed request (backoff with jitter; Retry-After honoured)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--bbq", job->bbq_files, "BBQ JSONL file(s) (default: the built-in demo suite)")->expected(1, -1);
  app.add_flag("--builtin", job->builtin, "qaudit's built-in suite (2,592 items) instead of the 54-item demo suite")->excludes("--bbq");
  app.add_option("--crows-pairs", pairs->crows_path, "CrowS-Pairs CSV as distributed: pct_stereotype and likelihood_diff")
      ->excludes("--bbq");
  app.add_option("--stereoset", pairs->stereoset_path, "StereoSet dev.json (intrasentence): SS, LMS and ICAT")
      ->excludes("--bbq")->excludes("--crows-pairs");
  app.add_option("-s,--store", job->store_path, "SQLite results store")->capture_default_str();
  app.add_option("--json", job->json_path, "also write the metrics as JSON to this file");
  app.add_option("--limit", job->limit, "evaluate only the first N items")->check(CLI::NonNegativeNumber);
  app.add_option("-t,--temperature", job->eval.temperature, "temperature of the answer distribution (T=1 is stored too)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--mode", job->eval.mode,
                 "letters: exact answer distribution from one forward pass; sample: the study's sampled generation "
                 "(k seeds, parsed); loglik / loglik12: lm-evaluation-harness's option log-likelihood with 3 "
                 "options / with its 10 unknown phrasings")
      ->capture_default_str()->check(CLI::IsMember({"letters", "sample", "loglik", "loglik12"}));
  app.add_option("--seeds", job->eval.sample.seeds, "seeds for --mode sample")->delimiter(',')->capture_default_str();
  app.add_option("--max-tokens", job->eval.sample.max_tokens, "new tokens per sample")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("-k,--samples", job->eval.k, "k for P(at least one of k samples picks the stereotype)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--exact", job->eval.context.exact,
               "flash attention off and an F32 KV cache: batched scoring equals one-at-a-time within 1e-4");
  app.add_flag("--no-chat-template", job->eval.plain_prompt, "use the plain prompt format even if the model has a template");
  app.add_option("--threads", job->eval.context.n_threads, "CPU threads (default: all)")->check(CLI::NonNegativeNumber);
  app.add_option("-b,--batch", job->eval.context.n_batch, "tokens per llama_decode")->capture_default_str()->check(CLI::Range(32, 1 << 16));
  app.add_option("--seqs", job->eval.context.n_seq, "prompts decoded side by side")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--ngl,--n-gpu-layers", job->eval.context.n_gpu_layers, "layers to offload to the GPU")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-q,--quiet", job->eval.quiet, "no progress or notes on stderr");
  return [job, pairs, &app] {
    std::string cmd = "qaudit eval";
    for (const auto& o : app.get_options())
      if (o->count() && o->get_name() != "--help") cmd += " " + o->get_name() + (o->get_expected_max() ? " " + fmt::format("{}", fmt::join(o->results(), " ")) : "");
    job->eval.command = cmd;
    if (!pairs->crows_path.empty() || !pairs->stereoset_path.empty()) {
      pairs->model_path = job->model_path;
      pairs->store_path = job->store_path;
      pairs->json_path = job->json_path;
      pairs->limit = job->limit;
      pairs->quiet = job->eval.quiet;
      pairs->context = job->eval.context;
      pairs->command = cmd;
      return audit::run_pairs_job(*pairs);
    }
    return audit::run_eval_job(*job);
  };
}

}  // namespace qaudit::cli
