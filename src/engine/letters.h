// Exact answer distributions: one forward pass per item gives the probability mass of every
// vocabulary token that starts an answer with A, B or C, at any temperature.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/llama_backend.h"

namespace qaudit::engine {

// Which answer letter a token's text starts, or -1. After leading whitespace and one optional
// opening bracket, the text must be the letter alone or followed only by punctuation:
// "A", " A", "A)", "(A", " B." count; "Answer", "As", "a" do not.
int answer_letter_of_piece(std::string_view piece, int n_letters);

// For each letter, the vocabulary tokens that count for it (control tokens never do).
std::vector<std::vector<backends::Token>> letter_token_sets(const backends::LlamaModel& model, int n_letters);

struct LetterMass {
  std::vector<double> p;  // mass per letter at the temperature
  double invalid = 0;     // the rest of the vocabulary
};
// Softmax of logits / T over the whole vocabulary, summed per letter set (in double precision).
LetterMass letter_mass(const float* logits, int n_vocab, const std::vector<std::vector<backends::Token>>& sets,
                       double temperature);

struct ScoreRequest {
  std::vector<backends::Token> tokens;  // the full prompt
};

struct ScoreStats {
  long prefix_tokens = 0;   // tokens shared by all prompts, decoded once
  long decoded_tokens = 0;  // tokens actually put through llama_decode
  long prompt_tokens = 0;   // sum of all prompt lengths
  int decodes = 0;
};

// Decodes every request and hands the next-token logits after its last token to `on_logits`
// (request index, logits). `on_batch_done` runs after each llama_decode so the caller can commit.
// The token prefix common to all requests is decoded once and shared through the KV cache;
// the rest are packed, many sequences per decode. With share_prefix=false and n_seq=1 this is
// the naive one-prompt-at-a-time baseline.
ScoreStats score_next_token(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                            const std::vector<ScoreRequest>& requests, bool share_prefix,
                            const std::function<void(size_t, const float*)>& on_logits,
                            const std::function<void()>& on_batch_done);

}  // namespace qaudit::engine
