// `qaudit ppl`: perplexity of a model over a corpus and, with a reference, the KL divergence and
// the other statistics llama-perplexity --kl-divergence prints. Per-chunk values go to the store
// (a rerun computes only the chunks it lacks); the reference's log-probabilities are computed once
// per (reference, corpus, context) and kept in a base file in llama-perplexity's format.
#pragma once

#include <string>

#include "analysis/ppl_stats.h"
#include "backends/llama_backend.h"

namespace qaudit::audit {

struct PplJob {
  std::string model_path;      // the model to measure (empty: the generated demo model)
  std::string reference_path;  // optional: KL divergence against it
  std::string base_path;       // optional: a llama-perplexity base file instead of a reference model
  std::string save_base;       // also copy the reference base file here
  std::string corpus_path;     // empty: the built-in corpus
  std::string store_path = "qaudit.sqlite";
  std::string json_path;
  int n_ctx = 512;
  int max_chunks = 0;          // 0: all
  bool plain_prompt = false;   // chat corpora: ignore the model's template
  bool quiet = false;
  backends::ContextSettings context;
  std::string command;
};

struct PplOutcome {
  analysis::PplStats stats;
  std::string corpus;
  int n_ctx = 0, n_chunk = 0;
  int computed = 0, existing = 0;
};

// Runs the job and returns its statistics (printing them unless quiet). Throws Error on bad input.
PplOutcome run_ppl_job(const PplJob& job);

// Prints the statistics like llama-perplexity's summary.
std::string ppl_text(const PplOutcome& o);

}  // namespace qaudit::audit
