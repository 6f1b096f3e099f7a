// Perplexity and KL divergence against a reference, computed the way llama.cpp's llama-perplexity
// computes them, so that the numbers agree with it on the same model, text and context size:
// the text is tokenized once (BOS added as the vocabulary asks), cut into chunks of n_ctx tokens
// whose first token becomes BOS, and only the second half of each chunk is scored (every token
// there has at least n_ctx/2 tokens of context). The reference's log-probabilities are kept in
// llama-perplexity's --kl-divergence-base file format (uint16 per vocabulary entry with a
// per-token scale and offset), so base files are interchangeable with llama-perplexity both ways.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backends/llama_backend.h"

namespace qaudit::engine {

// Per-token values of one chunk's scored positions (n_ctx - 1 - n_ctx/2 of them).
struct PplChunk {
  std::vector<float> nll;       // the model's negative log-likelihood of the next token
  std::vector<float> nll_base;  // the reference's (from the base file); empty without one
  std::vector<float> kld;       // KL(reference || model) over the vocabulary
  std::vector<float> p_diff;    // p_model(next token) - p_reference(next token)
  std::vector<uint8_t> same_top;  // both rank the same token first
};

// Tokens of a corpus, cut to whole chunks. Throws an Error naming `source` when the text is
// shorter than two contexts (llama-perplexity's rule).
struct CorpusTokens {
  std::vector<backends::Token> tokens;  // n_chunk * n_ctx
  int n_ctx = 0, n_chunk = 0;
};
CorpusTokens corpus_tokens(const backends::LlamaModel& model, const std::string& text, int n_ctx, int max_chunks,
                           const std::string& source);

// Scores the chunks of `corpus` whose indices are in `chunks` (all when empty). With `base_out`
// set, also writes the reference base file for every chunk (then `chunks` must be empty).
// `all_outputs`: ask for the output of every position, not only the scored half (llama-imatrix
// does, so that the last layer sees every token).
void perplexity_chunks(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                       const CorpusTokens& corpus, const std::vector<int>& chunks, const std::string& base_out,
                       const std::function<void(int, PplChunk&&)>& on_chunk, bool all_outputs = false);

// A base file's header and tokens.
struct BaseFile {
  std::string path;
  int n_ctx = 0, n_vocab = 0, n_chunk = 0;
  std::vector<backends::Token> tokens;
};
BaseFile read_base_header(const std::string& path);

// KL divergence of `model` against a base file, chunk by chunk. Throws an Error when the model's
// vocabulary differs from the base file's.
void kl_divergence_chunks(const backends::LlamaModel& model, const backends::ContextSettings& settings, const BaseFile& base,
                          const std::vector<int>& chunks, const std::function<void(int, PplChunk&&)>& on_chunk);

}  // namespace qaudit::engine
