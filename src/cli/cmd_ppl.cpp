#include <fmt/format.h>

#include <memory>

#include "audit/ppl_job.h"
#include "cli/commands.h"

namespace qaudit::cli {

Runner add_ppl(CLI::App& app) {
  auto job = std::make_shared<audit::PplJob>();
  app.footer(
      "Computed as llama-perplexity computes it (chunks of --ctx-size tokens, first token BOS, the second half of each\n"
      "chunk scored), so the numbers agree with llama-perplexity on the same model, text and context size. With a\n"
      "reference, its log-probabilities are computed once per corpus and cached in llama-perplexity's\n"
      "--kl-divergence-base format (--save-base exports it; --base imports one llama-perplexity wrote).\n"
      "Examples:\n"
      "  qaudit ppl -m model-Q4_K_M.gguf --reference model-f16.gguf --corpus wiki.test.raw\n"
      "  qaudit ppl -m model-Q4_K_M.gguf --reference model-f16.gguf --corpus chat.jsonl -c 512 --chunks 256 --json kld.json\n"
      "  qaudit ppl                                   # demo model on the built-in corpus");
  app.add_option("-m,--model", job->model_path, "GGUF model to measure (default: the generated demo model)");
  app.add_option("--reference", job->reference_path, "reference GGUF: also KL divergence, Δp, same-top rate and the PPL ratio");
  app.add_option("--base", job->base_path, "a reference base file (llama-perplexity --kl-divergence-base) instead of --reference")
      ->excludes("--reference");
  app.add_option("--save-base", job->save_base, "copy the reference base file here (readable by llama-perplexity)");
  app.add_option("--corpus", job->corpus_path, "plain text, or chat JSONL ({\"messages\": [...]} per line); default: built in");
  app.add_option("-c,--ctx-size", job->n_ctx, "tokens per chunk")->capture_default_str()->check(CLI::Range(16, 1 << 20));
  app.add_option("--chunks", job->max_chunks, "use at most N chunks (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("-s,--store", job->store_path, "SQLite results store")->capture_default_str();
  app.add_option("--json", job->json_path, "also write the statistics as JSON");
  app.add_flag("--no-chat-template", job->plain_prompt, "chat corpora: plain rendering");
  app.add_flag("--exact", job->context.exact, "flash attention off and an F32 KV cache");
  app.add_option("--threads", job->context.n_threads, "CPU threads (default: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--ngl,--n-gpu-layers", job->context.n_gpu_layers, "layers to offload to the GPU")->check(CLI::NonNegativeNumber);
  app.add_flag("-q,--quiet", job->quiet, "no progress on stderr");
  return [job] {
    job->command = "qaudit ppl";
    auto o = audit::run_ppl_job(*job);
    fmt::print("{}", audit::ppl_text(o));
    if (o.existing > 0 && !job->quiet) fmt::print(stderr, "{} chunks were already in {}; not recomputed\n", o.existing, job->store_path);
    return 0;
  };
}

}  // namespace qaudit::cli
