#include "engine/loglik.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace qaudit::engine {

double token_logprob(const float* logits, int n_vocab, backends::Token token) {
  float mx = logits[0];
  for (int i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - mx);
  return double(logits[token]) - mx - std::log(sum);
}

std::vector<backends::Token> continuation_tokens(const backends::LlamaModel& model, const std::vector<backends::Token>& ctx,
                                                 const std::string& context, const std::string& continuation) {
  auto whole = model.tokenize(context + continuation);
  size_t k = 0;
  while (k < ctx.size() && k < whole.size() && whole[k] == ctx[k]) ++k;
  // Tokens the two encodings share stay with the context; the rest belong to the option.
  std::vector<backends::Token> out(whole.begin() + long(std::min(k, whole.size())), whole.end());
  if (out.empty()) throw Error("an answer option has no tokens of its own", "check the item's option texts");
  return out;
}

LoglikStats score_continuations(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                                const std::vector<LoglikRequest>& requests,
                                const std::function<void(size_t, const std::vector<double>&)>& on_result,
                                const std::function<void()>& on_batch_done) {
  LoglikStats st;
  if (requests.empty()) return st;
  size_t max_opts = 1, max_tokens = 0;
  for (const auto& r : requests) {
    if (r.context.empty() || r.continuations.empty()) throw Error("empty context or no options", "");
    max_opts = std::max(max_opts, r.continuations.size());
    size_t n = r.context.size();
    for (const auto& c : r.continuations) n += c.size();
    max_tokens = std::max(max_tokens, n);
  }
  backends::ContextSettings s = settings;
  s.n_seq = std::max<int>(s.n_seq, int(max_opts));
  s.n_batch = std::max<int>(s.n_batch, int(max_tokens));
  backends::LlamaContext ctx(model, s, s.n_batch + 8);
  int n_vocab = model.n_vocab();

  std::vector<backends::LlamaContext::Entry> batch;
  size_t next = 0;
  while (next < requests.size()) {
    std::vector<size_t> members;
    size_t tokens = 0;
    int seqs = 0;
    while (next < requests.size()) {
      const auto& r = requests[next];
      size_t n = r.context.size();
      for (const auto& c : r.continuations) n += c.size();
      if (!members.empty() && (tokens + n > size_t(s.n_batch) || seqs + int(r.continuations.size()) > s.n_seq))
        break;
      members.push_back(next++);
      tokens += n;
      seqs += int(r.continuations.size());
    }
    ctx.clear();
    batch.clear();
    // For every continuation: the batch index whose logits predict each of its tokens.
    std::vector<std::vector<std::vector<int>>> predictor(members.size());
    int seq = 0;
    for (size_t m = 0; m < members.size(); ++m) {
      const auto& r = requests[members[m]];
      int first_seq = seq;
      seq += int(r.continuations.size());
      for (size_t j = 0; j < r.context.size(); ++j) {
        // The context is decoded once; its cells belong to every option's sequence.
        backends::LlamaContext::Entry e{r.context[j], int32_t(j), {}, j + 1 == r.context.size()};
        for (int q = first_seq; q < seq; ++q) e.seqs.push_back(q);
        batch.push_back(std::move(e));
      }
      int ctx_last = int(batch.size()) - 1;
      predictor[m].resize(r.continuations.size());
      for (size_t o = 0; o < r.continuations.size(); ++o) {
        const auto& c = r.continuations[o];
        predictor[m][o].push_back(ctx_last);
        for (size_t j = 0; j < c.size(); ++j) {
          bool need = j + 1 < c.size();  // the last token predicts nothing we score
          if (need) predictor[m][o].push_back(int(batch.size()));
          batch.push_back({c[j], int32_t(r.context.size() + j), {int32_t(first_seq + int(o))}, need});
        }
        st.continuation_tokens += long(c.size());
      }
      st.context_tokens += long(r.context.size());
    }
    ctx.decode(batch);
    st.decodes++;
    for (size_t m = 0; m < members.size(); ++m) {
      const auto& r = requests[members[m]];
      std::vector<double> sums(r.continuations.size(), 0.0);
      for (size_t o = 0; o < r.continuations.size(); ++o)
        for (size_t j = 0; j < r.continuations[o].size(); ++j)
          sums[o] += token_logprob(ctx.logits(predictor[m][o][j]), n_vocab, r.continuations[o][j]);
      on_result(members[m], sums);
    }
    if (on_batch_done) on_batch_done();
  }
  return st;
}

}  // namespace qaudit::engine
