// `qaudit eval --crows-pairs FILE` / `--stereoset FILE`: every sentence of every item scored by the
// model's log-likelihood (after the BOS token, as lm-evaluation-harness scores a continuation of
// an empty context), stored per item, and the suite's metrics printed.
#pragma once

#include <string>

#include "backends/llama_backend.h"

namespace qaudit::audit {

struct PairsJob {
  std::string model_path;  // empty: the generated demo model
  std::string crows_path, stereoset_path;  // exactly one
  std::string store_path = "qaudit.sqlite";
  std::string json_path;
  int limit = 0;
  bool quiet = false;
  backends::ContextSettings context;
  std::string command;
};

int run_pairs_job(const PairsJob& job);

}  // namespace qaudit::audit
