#include <fmt/format.h>

#include <memory>

#include "audit/eval_job.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/progress.h"
#include "engine/eval.h"
#include "engine/imatrix.h"
#include "prompts/prompt.h"
#include "quant/imatrix.h"
#include "suites/bbq.h"
#include "suites/builtin.h"
#include "suites/corpus.h"
#include "suites/demo.h"

namespace qaudit::cli {

Runner add_imatrix(CLI::App& app) {
  struct Args {
    std::string model, corpus, suite, out = "imatrix.gguf";
    std::vector<std::string> bbq;
    int n_ctx = 512, chunks = 0;
    bool process_output = false, quiet = false;
    backends::ContextSettings context;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "Computes an importance matrix in-process: for every matrix multiplication, the mean squared input\n"
      "activation per column over a calibration text, evaluated in llama-imatrix's chunk layout and written in\n"
      "its GGUF format (llama-quantize reads it; qaudit reads llama-imatrix's files). Calibrate on generic text,\n"
      "or on the prompts of a bias suite to compare a build calibrated on alignment-relevant text.\n"
      "Examples:\n"
      "  qaudit imatrix -m model-f16.gguf --corpus wiki.train.raw -o generic.gguf\n"
      "  qaudit imatrix -m model-f16.gguf --suite builtin -o bias-prompts.gguf\n"
      "  qaudit quantize -m model-f16.gguf -r IQ2_XS+imatrix=generic.gguf -r IQ2_XS+imatrix=bias-prompts.gguf");
  app.add_option("-m,--model", a->model, "reference GGUF (default: the generated demo model)");
  app.add_option("--corpus", a->corpus, "calibration text (plain or chat JSONL; default: the built-in corpus)");
  app.add_option("--suite", a->suite, "calibrate on a suite's rendered prompts instead: builtin, demo or bbq (with --bbq)")
      ->check(CLI::IsMember({"builtin", "demo", "bbq"}))->excludes("--corpus");
  app.add_option("--bbq", a->bbq, "BBQ files for --suite bbq")->expected(1, -1);
  app.add_option("-o,--output", a->out, "output file (GGUF)")->capture_default_str();
  app.add_option("-c,--ctx-size", a->n_ctx, "tokens per chunk")->capture_default_str()->check(CLI::Range(16, 1 << 20));
  app.add_option("--chunks", a->chunks, "at most N chunks (0: all)")->check(CLI::NonNegativeNumber);
  app.add_flag("--process-output", a->process_output, "also collect output.weight (llama-imatrix --process-output)");
  app.add_option("--threads", a->context.n_threads, "CPU threads (default: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--ngl,--n-gpu-layers", a->context.n_gpu_layers, "layers to offload to the GPU")->check(CLI::NonNegativeNumber);
  app.add_flag("-q,--quiet", a->quiet, "no progress on stderr");
  return [a] {
    if (a->suite == "bbq" && a->bbq.empty())
      throw Error(ErrorSite{"", 0, "--bbq"}, "--suite bbq needs the BBQ files", "pass --bbq FILE.jsonl ...");
    suites::Corpus corpus;
    suites::Suite suite;
    if (a->suite.empty()) corpus = suites::load_corpus(a->corpus);
    else suite = a->suite == "bbq" ? suites::load_bbq(a->bbq) : a->suite == "builtin" ? suites::load_builtin_suite() : suites::load_demo_suite();
    std::string model_path = a->model.empty() ? audit::ensure_demo_model(a->quiet) : a->model;
    backends::backend_init(false);
    auto model = backends::LlamaModel::load(model_path, a->context.n_gpu_layers);
    std::string text, dataset;
    if (a->suite.empty()) {
      text = suites::corpus_text(corpus, prompts::chat_format(model->chat_template(), false));
      dataset = corpus.source;
    } else {
      for (const auto& p : engine::render_study_prompts(*model, suite.items, false, nullptr)) text += p + "\n";
      dataset = "suite:" + suite.name;
    }
    auto ct = engine::corpus_tokens(*model, text, a->n_ctx, a->chunks, a->suite.empty() ? corpus.source : dataset);
    Progress progress("imatrix", ct.n_chunk, a->quiet);
    auto stats = engine::collect_activations(*model, a->context, ct, a->process_output, [&](int) { progress.advance(); });
    progress.finish();
    quant::Imatrix m;
    m.datasets = {dataset};
    m.chunk_count = ct.n_chunk;
    m.chunk_size = ct.n_ctx;
    for (auto& [name, s] : stats) m.entries[name] = {std::move(s.sum_sq), s.tokens};
    quant::write_imatrix(m, a->out);
    fmt::print("{}: {} matrices over {} chunks of {} tokens ({})\n", a->out, m.entries.size(), ct.n_chunk, ct.n_ctx, dataset);
    return 0;
  };
}

}  // namespace qaudit::cli
