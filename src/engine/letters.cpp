#include "engine/letters.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/error.h"

namespace qaudit::engine {

using backends::Token;

int answer_letter_of_piece(std::string_view s, int n_letters) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && (s[i] == '(' || s[i] == '[')) ++i;
  if (i >= s.size()) return -1;
  int letter = s[i] - 'A';
  if (letter < 0 || letter >= n_letters) return -1;
  for (size_t j = i + 1; j < s.size(); ++j)
    if (!std::ispunct(static_cast<unsigned char>(s[j]))) return -1;
  return letter;
}

std::vector<std::vector<Token>> letter_token_sets(const backends::LlamaModel& model, int n_letters) {
  std::vector<std::vector<Token>> sets(n_letters);
  int n = model.n_vocab();
  for (Token t = 0; t < n; ++t) {
    if (model.is_control(t)) continue;
    int l = answer_letter_of_piece(model.piece(t), n_letters);
    if (l >= 0) sets[l].push_back(t);
  }
  for (int l = 0; l < n_letters; ++l)
    if (sets[l].empty())
      throw Error(fmt::format("the model's vocabulary has no token for the answer letter {}", char('A' + l)),
                  "this model cannot answer in the letter format; use a model with a general-purpose vocabulary");
  return sets;
}

LetterMass letter_mass(const float* logits, int n_vocab, const std::vector<std::vector<Token>>& sets, double temperature) {
  double inv_t = 1.0 / temperature;
  double mx = -INFINITY;
  for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, double(logits[i]));
  double z = 0;
  for (int i = 0; i < n_vocab; ++i) z += std::exp((double(logits[i]) - mx) * inv_t);
  LetterMass m;
  double total = 0;
  for (const auto& set : sets) {
    double s = 0;
    for (Token t : set) s += std::exp((double(logits[t]) - mx) * inv_t);
    m.p.push_back(s / z);
    total += s / z;
  }
  m.invalid = std::max(0.0, 1.0 - total);
  return m;
}

ScoreStats score_next_token(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                            const std::vector<ScoreRequest>& requests, bool share_prefix,
                            const std::function<void(size_t, const float*)>& on_logits,
                            const std::function<void()>& on_batch_done) {
  ScoreStats st;
  if (requests.empty()) return st;
  size_t max_len = 0, min_len = SIZE_MAX;
  for (const auto& r : requests) {
    if (r.tokens.empty()) throw Error("empty prompt", "every prompt must have at least one token");
    max_len = std::max(max_len, r.tokens.size());
    min_len = std::min(min_len, r.tokens.size());
    st.prompt_tokens += long(r.tokens.size());
  }
  // The shared prefix stops one token short of the shortest prompt: each sequence must decode at
  // least its last token to get its own logits.
  size_t prefix = 0;
  if (share_prefix && requests.size() > 1) {
    prefix = min_len - 1;
    for (const auto& r : requests) {
      size_t k = 0;
      while (k < prefix && r.tokens[k] == requests[0].tokens[k]) ++k;
      prefix = k;
    }
  }
  backends::ContextSettings s = settings;
  s.n_seq = std::max(1, std::min<int>(s.n_seq, int(requests.size())) + (prefix > 0 ? 1 : 0));
  s.n_batch = std::max<int>(s.n_batch, int(max_len - prefix));
  s.n_batch = std::max<int>(s.n_batch, int(prefix));
  int n_ctx = int(prefix) + s.n_batch;
  int trained = model.n_ctx_train();
  if (trained > 0 && max_len > size_t(trained))
    throw Error(fmt::format("a prompt of {} tokens is longer than the model's context of {}", max_len, trained),
                "use a model with a longer context or shorter items");
  backends::LlamaContext ctx(model, s, n_ctx);

  // Sequence 0 holds the shared prefix; item sequences are 1..n_seq-1 (or 0.. when no prefix).
  int first_seq = prefix > 0 ? 1 : 0;
  int n_item_seqs = s.n_seq - first_seq;
  std::vector<backends::LlamaContext::Entry> batch;
  if (prefix > 0) {
    for (size_t i = 0; i < prefix; ++i) batch.push_back({requests[0].tokens[i], int32_t(i), {0}, false});
    ctx.decode(batch);
    st.decodes++;
    st.decoded_tokens += long(prefix);
    st.prefix_tokens = long(prefix);
  }
  size_t next = 0;
  while (next < requests.size()) {
    batch.clear();
    std::vector<std::pair<size_t, int>> outputs;  // request index, batch position of its last token
    int seq = first_seq;
    while (next < requests.size() && seq < first_seq + n_item_seqs) {
      const auto& toks = requests[next].tokens;
      size_t n_new = toks.size() - prefix;
      if (!batch.empty() && batch.size() + n_new > size_t(s.n_batch)) break;
      if (prefix > 0) ctx.seq_copy(0, seq);
      for (size_t i = prefix; i < toks.size(); ++i)
        batch.push_back({toks[i], int32_t(i), {seq}, i + 1 == toks.size()});
      outputs.push_back({next, int(batch.size()) - 1});
      ++seq;
      ++next;
    }
    ctx.decode(batch);
    st.decodes++;
    st.decoded_tokens += long(batch.size());
    for (auto [req, pos] : outputs) on_logits(req, ctx.logits(pos));
    for (int q = first_seq; q < seq; ++q) ctx.seq_clear(q);
    if (on_batch_done) on_batch_done();
  }
  return st;
}

}  // namespace qaudit::engine
