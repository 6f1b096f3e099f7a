#include "engine/perplexity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <llama.h>

#include "common/error.h"

namespace qaudit::engine {
namespace {

// Entries per token in a base file: the vocabulary padded to even, plus two floats.
int base_stride(int n_vocab) { return 2 * ((n_vocab + 1) / 2) + 4; }

int nearest_int(float fval) {
  float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}

// The reference side: compresses the log-softmax of `logits` into `out` and returns the negative
// log-likelihood of `tok`, in llama-perplexity's arithmetic.
float compress_log_probs(int n_vocab, const float* logits, uint16_t* out, int tok) {
  float max_logit = logits[0], min_logit = logits[0];
  for (int i = 1; i < n_vocab; ++i) {
    max_logit = std::max(max_logit, logits[i]);
    min_logit = std::min(min_logit, logits[i]);
  }
  min_logit = std::max(min_logit, max_logit - 16);
  double sum_exp = 0.0;
  for (int i = 0; i < n_vocab; ++i) sum_exp += std::exp(logits[i] - max_logit);
  const float log_sum_exp = float(std::log(sum_exp));
  const float min_log_prob = min_logit - max_logit - log_sum_exp;
  const float scale = (max_logit - min_logit) / 65535.f;
  float head[2] = {scale, min_log_prob};
  std::memcpy(out, head, sizeof(head));
  uint16_t* q = out + 4;
  if (scale != 0) {
    const float inv = 1 / scale;
    for (int i = 0; i < n_vocab; ++i) q[i] = logits[i] > min_logit ? uint16_t(nearest_int(inv * (logits[i] - min_logit))) : 0;
  } else {
    std::memset(q, 0, size_t(n_vocab) * sizeof(uint16_t));
  }
  return max_logit + log_sum_exp - logits[tok];
}

float plain_nll(int n_vocab, const float* logits, int tok) {
  float max_logit = logits[0];
  for (int i = 1; i < n_vocab; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum_exp = 0.0;
  for (int i = 0; i < n_vocab; ++i) sum_exp += std::exp(logits[i] - max_logit);
  return max_logit + float(std::log(sum_exp)) - logits[tok];
}

// The variant side against one token's compressed reference distribution.
void compare(int n_vocab, const float* logits, const uint16_t* base, int tok, PplChunk& c) {
  float max_logit = logits[0];
  int imax = 0;
  for (int i = 1; i < n_vocab; ++i)
    if (logits[i] > max_logit) {
      max_logit = logits[i];
      imax = i;
    }
  double sum_exp = 0.0;
  for (int i = 0; i < n_vocab; ++i) sum_exp += std::exp(logits[i] - max_logit);
  const float log_sum_exp = float(std::log(sum_exp));
  float head[2];
  std::memcpy(head, base, sizeof(head));
  const float scale = head[0], min_log_prob = head[1];
  const uint16_t* q = base + 4;
  const float nll = max_logit + log_sum_exp - logits[tok];
  const float nll_base = -(scale * q[tok] + min_log_prob);
  const float log_norm = max_logit + log_sum_exp;
  double kld = 0;
  int imax_base = -1;
  float best = 0;
  for (int i = 0; i < n_vocab; ++i) {
    const float lp_base = scale * q[i] + min_log_prob;
    if (i == 0 || lp_base > best) {
      best = lp_base;
      imax_base = i;
    }
    // Reference tokens below e^-16 are left out, as llama-perplexity does.
    if (lp_base > -16.f) kld += std::exp(lp_base) * (lp_base - logits[i] + log_norm);
  }
  c.nll.push_back(nll);
  c.nll_base.push_back(nll_base);
  c.kld.push_back(float(kld));
  c.p_diff.push_back(std::exp(-nll) - std::exp(-nll_base));
  c.same_top.push_back(imax == imax_base);
}

// Decodes chunks (first token replaced by BOS where the vocabulary adds one) in llama-perplexity's
// layout: n_batch / n_ctx chunks per decode, each in its own sequence with its own KV cache, in
// passes of 512 tokens; hands over the logits of positions n_ctx/2 .. n_ctx-1 of each.
class ChunkRunner {
 public:
  ChunkRunner(const backends::LlamaModel& model, const backends::ContextSettings& settings, int n_ctx, bool all_outputs = false)
      : model_(model), n_ctx_(n_ctx), all_outputs_(all_outputs), per_decode_(std::max(1, settings.n_batch / n_ctx)),
        ctx_(model, layout(settings, n_ctx, per_decode_), per_decode_ * n_ctx) {}

  int per_decode() const { return per_decode_; }

  // Runs up to per_decode() chunks; on_logits(k, pos, logits) for chunk k of the call.
  template <class F>
  void run(const std::vector<const backends::Token*>& chunks, F&& on_logits) {
    ctx_.clear();
    std::vector<backends::LlamaContext::Entry> batch;
    const int first = n_ctx_ / 2;
    bool add_bos = llama_vocab_get_add_bos(model_.vocab());
    for (size_t c = 0; c < chunks.size(); ++c)
      for (int k = 0; k < n_ctx_; ++k) {
        backends::Token t = (k == 0 && add_bos) ? llama_vocab_bos(model_.vocab()) : chunks[c][k];
        batch.push_back({t, k, {int32_t(c)}, all_outputs_ || k >= first});
      }
    ctx_.decode(batch);
    for (size_t c = 0; c < chunks.size(); ++c)
      for (int p = first; p < n_ctx_; ++p) on_logits(c, p, ctx_.logits(int(c) * n_ctx_ + p));
  }

 private:
  static backends::ContextSettings layout(backends::ContextSettings s, int n_ctx, int per_decode) {
    s.n_seq = per_decode;
    s.n_batch = per_decode * n_ctx;
    if (s.n_ubatch <= 0) s.n_ubatch = 512;  // llama.cpp's default pass size
    s.unified_kv = false;
    return s;
  }
  const backends::LlamaModel& model_;
  int n_ctx_;
  bool all_outputs_;
  int per_decode_;
  backends::LlamaContext ctx_;
};

// Calls run() for the chunk indices in `todo`, per_decode() at a time.
template <class F>
void for_chunk_groups(ChunkRunner& runner, const std::vector<int>& todo, const backends::Token* tokens, int n_ctx, F&& per_group) {
  for (size_t g = 0; g < todo.size(); g += size_t(runner.per_decode())) {
    std::vector<int> ids(todo.begin() + long(g), todo.begin() + long(std::min(todo.size(), g + size_t(runner.per_decode()))));
    std::vector<const backends::Token*> ptrs;
    for (int i : ids) ptrs.push_back(tokens + size_t(i) * n_ctx);
    per_group(ids, ptrs);
  }
}

}  // namespace

CorpusTokens corpus_tokens(const backends::LlamaModel& model, const std::string& text, int n_ctx, int max_chunks,
                           const std::string& source) {
  if (n_ctx < 16) throw Error(ErrorSite{"", 0, "--ctx-size"}, fmt::format("a context of {} tokens is too small", n_ctx), "use at least 16 (llama-perplexity's usual is 512)");
  CorpusTokens c;
  c.n_ctx = n_ctx;
  c.tokens = model.tokenize(text);
  if (int(c.tokens.size()) < 2 * n_ctx)
    throw Error(ErrorSite{source, 0, {}},
                fmt::format("the corpus tokenizes to {} tokens; a context of {} needs at least {}", c.tokens.size(), n_ctx, 2 * n_ctx),
                "use a longer corpus or a smaller --ctx-size");
  c.n_chunk = int(c.tokens.size()) / n_ctx;
  if (max_chunks > 0) c.n_chunk = std::min(c.n_chunk, max_chunks);
  c.tokens.resize(size_t(c.n_chunk) * n_ctx);
  return c;
}

void perplexity_chunks(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                       const CorpusTokens& corpus, const std::vector<int>& chunks, const std::string& base_out,
                       const std::function<void(int, PplChunk&&)>& on_chunk, bool all_outputs) {
  const int n_ctx = corpus.n_ctx, first = n_ctx / 2, n_vocab = model.n_vocab(), nv = base_stride(n_vocab);
  std::vector<int> todo = chunks;
  if (todo.empty())
    for (int i = 0; i < corpus.n_chunk; ++i) todo.push_back(i);
  if (!base_out.empty() && int(todo.size()) != corpus.n_chunk)
    throw Error("a base file holds every chunk", "write it in one pass over the whole corpus");
  std::ofstream out;
  std::string tmp = base_out + ".partial";
  if (!base_out.empty()) {
    std::filesystem::create_directories(std::filesystem::path(base_out).parent_path().empty() ? "." : std::filesystem::path(base_out).parent_path());
    out.open(tmp, std::ios::binary);
    if (!out) throw Error(ErrorSite{base_out, 0, {}}, "cannot write the base file", "check the directory");
    out.write("_logits_", 8);
    uint32_t nc = uint32_t(n_ctx);
    out.write(reinterpret_cast<const char*>(&nc), 4);
    out.write(reinterpret_cast<const char*>(&n_vocab), 4);
    out.write(reinterpret_cast<const char*>(&corpus.n_chunk), 4);
    out.write(reinterpret_cast<const char*>(corpus.tokens.data()), std::streamsize(corpus.tokens.size() * sizeof(backends::Token)));
  }
  ChunkRunner runner(model, settings, n_ctx, all_outputs);
  const size_t per_chunk = size_t(n_ctx - 1 - first) * nv;
  for_chunk_groups(runner, todo, corpus.tokens.data(), n_ctx, [&](const std::vector<int>& ids, const std::vector<const backends::Token*>& ptrs) {
    std::vector<PplChunk> cs(ids.size());
    std::vector<uint16_t> q(base_out.empty() ? 0 : per_chunk * ids.size());
    runner.run(ptrs, [&](size_t c, int p, const float* lg) {
      if (p + 1 >= n_ctx) return;
      int tok = ptrs[c][p + 1];
      cs[c].nll.push_back(base_out.empty() ? plain_nll(n_vocab, lg, tok)
                                           : compress_log_probs(n_vocab, lg, q.data() + c * per_chunk + size_t(p - first) * nv, tok));
    });
    if (!base_out.empty()) out.write(reinterpret_cast<const char*>(q.data()), std::streamsize(q.size() * sizeof(uint16_t)));
    for (size_t c = 0; c < ids.size(); ++c) on_chunk(ids[c], std::move(cs[c]));
  });
  if (!base_out.empty()) {
    out.close();
    if (!out) throw Error(ErrorSite{base_out, 0, {}}, "writing the base file failed", "check free disk space");
    std::filesystem::rename(tmp, base_out);
  }
}

BaseFile read_base_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorSite{path, 0, {}}, "cannot read the base file", "pass a file written by qaudit ppl or llama-perplexity --kl-divergence-base");
  char magic[8];
  BaseFile b;
  b.path = path;
  uint32_t n_ctx = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&n_ctx), 4);
  in.read(reinterpret_cast<char*>(&b.n_vocab), 4);
  in.read(reinterpret_cast<char*>(&b.n_chunk), 4);
  if (!in || std::memcmp(magic, "_logits_", 8) != 0 || n_ctx < 16 || b.n_vocab <= 0 || b.n_chunk <= 0)
    throw Error(ErrorSite{path, 0, {}}, "is not a log-probability base file", "pass a file written by qaudit ppl or llama-perplexity --kl-divergence-base");
  b.n_ctx = int(n_ctx);
  b.tokens.resize(size_t(b.n_ctx) * b.n_chunk);
  in.read(reinterpret_cast<char*>(b.tokens.data()), std::streamsize(b.tokens.size() * sizeof(backends::Token)));
  auto expect = std::uintmax_t(20 + b.tokens.size() * 4) +
                std::uintmax_t(b.n_chunk) * std::uintmax_t(b.n_ctx - 1 - b.n_ctx / 2) * base_stride(b.n_vocab) * 2;
  if (!in || std::filesystem::file_size(path) != expect)
    throw Error(ErrorSite{path, 0, {}}, fmt::format("the base file is truncated ({} bytes, expected {})", std::filesystem::file_size(path), expect),
                "compute the reference again");
  return b;
}

void kl_divergence_chunks(const backends::LlamaModel& model, const backends::ContextSettings& settings, const BaseFile& base,
                          const std::vector<int>& chunks, const std::function<void(int, PplChunk&&)>& on_chunk) {
  const int n_vocab = model.n_vocab();
  if (n_vocab != base.n_vocab)
    throw Error(ErrorSite{model.path(), 0, {}},
                fmt::format("the model's vocabulary has {} tokens but the reference's has {}", n_vocab, base.n_vocab),
                "a variant must share its reference's vocabulary; compare a model with its own quantized builds");
  const int n_ctx = base.n_ctx, first = n_ctx / 2, nv = base_stride(n_vocab);
  const size_t per_chunk = size_t(n_ctx - 1 - first) * nv;
  std::ifstream in(base.path, std::ios::binary);
  const std::streamoff data_start = 20 + std::streamoff(base.tokens.size() * 4);
  std::vector<int> todo = chunks;
  if (todo.empty())
    for (int i = 0; i < base.n_chunk; ++i) todo.push_back(i);
  ChunkRunner runner(model, settings, n_ctx);
  std::vector<uint16_t> q(per_chunk);
  for_chunk_groups(runner, todo, base.tokens.data(), n_ctx, [&](const std::vector<int>& ids, const std::vector<const backends::Token*>& ptrs) {
    std::vector<std::vector<uint16_t>> qs(ids.size(), std::vector<uint16_t>(per_chunk));
    for (size_t c = 0; c < ids.size(); ++c) {
      in.seekg(data_start + std::streamoff(ids[c]) * std::streamoff(per_chunk * 2));
      in.read(reinterpret_cast<char*>(qs[c].data()), std::streamsize(per_chunk * 2));
      if (!in) throw Error(ErrorSite{base.path, 0, {}}, fmt::format("cannot read chunk {}", ids[c]), "compute the reference again");
    }
    std::vector<PplChunk> cs(ids.size());
    runner.run(ptrs, [&](size_t c, int p, const float* lg) {
      if (p + 1 >= n_ctx) return;
      compare(n_vocab, lg, qs[c].data() + size_t(p - first) * nv, ptrs[c][p + 1], cs[c]);
    });
    for (size_t c = 0; c < ids.size(); ++c) on_chunk(ids[c], std::move(cs[c]));
  });
}

}  // namespace qaudit::engine
