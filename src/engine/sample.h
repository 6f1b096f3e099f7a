// Sampled generation, the study's way: for each prompt, k continuations (one per seed) of at most
// max_tokens tokens at temperature T. The prompt is decoded once; its KV cells are shared by the
// k sequences that continue it, and many prompts' sequences run side by side in one batch.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backends/llama_backend.h"

namespace qaudit::engine {

struct SampleSettings {
  double temperature = 0.3;
  int max_tokens = 5;
  std::vector<uint32_t> seeds{42, 123, 456, 789, 1024};
};

struct SampleStats {
  long prompt_tokens = 0;     // decoded once per prompt
  long generated_tokens = 0;  // summed over all continuations
  int decodes = 0;
};

// Calls on_text(request, seed index, text, generated tokens) for every continuation, then
// on_group_done() after each group of prompts so the caller can commit.
SampleStats sample_continuations(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                                 const std::vector<std::vector<backends::Token>>& prompts, const SampleSettings& ss,
                                 const std::function<void(size_t, size_t, const std::string&, int)>& on_text,
                                 const std::function<void()>& on_group_done);

}  // namespace qaudit::engine
