// Answer log-likelihood, as lm-evaluation-harness's multiple_choice output type scores it: the
// summed log-probability of each option's tokens after the context. The context is decoded once
// per item; every option continues it in its own sequence, and many items share one decode.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backends/llama_backend.h"

namespace qaudit::engine {

struct LoglikRequest {
  std::vector<backends::Token> context;
  std::vector<std::vector<backends::Token>> continuations;  // each non-empty
};

struct LoglikStats {
  long context_tokens = 0, continuation_tokens = 0;
  int decodes = 0;
};

// Calls on_result(request, summed log-probability per continuation) for every request, and
// on_batch_done() after each decode.
LoglikStats score_continuations(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                                const std::vector<LoglikRequest>& requests,
                                const std::function<void(size_t, const std::vector<double>&)>& on_result,
                                const std::function<void()>& on_batch_done);

// log softmax(logits)[token], in double precision.
double token_logprob(const float* logits, int n_vocab, backends::Token token);

// lm-evaluation-harness's split: the continuation's tokens are those of tokenize(context +
// continuation) after tokenize(context) (so a merge across the boundary is kept).
std::vector<backends::Token> continuation_tokens(const backends::LlamaModel& model, const std::vector<backends::Token>& ctx,
                                                 const std::string& context, const std::string& continuation);

}  // namespace qaudit::engine
