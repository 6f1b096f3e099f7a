// qaudit: audits quantized LLMs for social bias. main() parses flags and dispatches.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <map>

#include "cli/commands.h"
#include "common/error.h"
#include "common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"qaudit — audits quantized LLMs for social bias, item by item, against their reference model.",
               "qaudit"};
  app.set_version_flag("--version", qaudit::version_line());
  app.require_subcommand(1);
  std::map<CLI::App*, qaudit::cli::Runner> runners;
  auto add = [&](const char* name, const char* help, qaudit::cli::Runner (*reg)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    runners[sub] = reg(*sub);
  };
  add("run", "The audit: quantize a ladder, evaluate every variant against the reference, report, gate.",
      qaudit::cli::add_run);
  add("eval", "Evaluate one model (a GGUF file or a served model) on a suite and print its bias metrics.",
      qaudit::cli::add_eval);
  add("imatrix", "Compute an importance matrix (llama-imatrix's GGUF format) from a corpus or a suite's prompts.",
      qaudit::cli::add_imatrix);
  add("ppl", "Perplexity over a corpus and KL divergence against a reference, as llama-perplexity computes them.",
      qaudit::cli::add_ppl);
  add("quantize", "Build quantized variants of a reference GGUF: llama.cpp's native types or simulated recipes.",
      qaudit::cli::add_quantize);
  add("gate", "Apply release thresholds to an audit report: exit 0 (pass), 1 (fail) or 2 (error).", qaudit::cli::add_gate);
  add("import", "Import per-item predictions made elsewhere (BBQ columns, lm-evaluation-harness samples, CSV) as variants.",
      qaudit::cli::add_import);
  add("merge", "Merge result stores, e.g. the shards of a sharded audit.", qaudit::cli::add_merge);
  add("suites", "List the suites qaudit reads, or show a few items of one.", qaudit::cli::add_suites);
  add("testmodel", "Write a small generated GGUF model (random weights, real tokenizer) for tests and benchmarks.",
      qaudit::cli::add_testmodel);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // --help and --version exit 0; a usage error is an error
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const qaudit::Error& e) {
    fmt::print(stderr, "{}\n", qaudit::error_text(e));
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 2;
}
