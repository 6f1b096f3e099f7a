// Collecting an importance matrix: over a corpus evaluated in llama-perplexity's chunk layout (as
// llama-imatrix evaluates it), for every matrix multiplication with a "blk." weight, the sum of
// each input column's squared activation and the number of tokens, read from llama.cpp's graph
// evaluation callback. Batches under 16 tokens are left out, as llama-imatrix leaves them out.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "backends/llama_backend.h"
#include "engine/perplexity.h"

namespace qaudit::engine {

struct ActivationStats {
  std::vector<double> sum_sq;  // per input column
  int64_t tokens = 0;
};

// Evaluates every chunk of `corpus` and returns the statistics by weight name. `on_chunk` reports
// progress. With `include_output`, output.weight is collected too (llama-imatrix --process-output).
std::map<std::string, ActivationStats> collect_activations(const backends::LlamaModel& model,
                                                           const backends::ContextSettings& settings,
                                                           const CorpusTokens& corpus, bool include_output,
                                                           const std::function<void(int)>& on_chunk);

}  // namespace qaudit::engine
