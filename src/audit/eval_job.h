// The `qaudit eval` job end to end: load the suite and the model (all input checked before the
// store is touched), score what the store lacks, then compute and render the metrics from the
// stored rows. The CLI fills EvalJob from flags and calls run_eval_job.
#pragma once

#include <string>
#include <vector>

#include "engine/eval.h"

namespace qaudit::audit {

struct EvalJob {
  std::string model_path;               // empty: the generated demo model
  std::vector<std::string> bbq_files;   // empty: the built-in demo suite (or `builtin`)
  bool builtin = false;                 // qaudit's built-in suite instead of the demo suite
  std::string store_path = "qaudit.sqlite";
  std::string json_path;                // write the metrics as JSON here too
  int limit = 0;                        // only the first N items (0: all)
  // A served model instead of a GGUF file (model_path "http://host:port/v1#model").
  std::string api_key_env;              // environment variable holding the API key
  int concurrency = 0;                  // requests in flight (0: the server's slots, else 4)
  int top_k = 20;                       // alternatives of the first token (letters mode)
  double timeout_s = 120;
  int retries = 5;
  engine::EvalOptions eval;
};

// Returns the process exit code; throws qaudit::Error on bad input.
int run_eval_job(const EvalJob& job);

// Path of the generated demo model (qwen2 vocabulary, tiny preset), created on first use.
std::string ensure_demo_model(bool quiet);

}  // namespace qaudit::audit
