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
  // Requests in token order, so that prompts sharing a prefix (BBQ's ambiguous and
  // disambiguated contexts, its negative and non-negative questions) sit next to each other;
  // within a batch each shared token is decoded once and carries the ids of every sequence that
  // shares it (a prefix tree flattened into one llama_batch).
  std::vector<size_t> order(requests.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (share_prefix)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return requests[a].tokens < requests[b].tokens; });
  auto lcp = [&](size_t a, size_t b) {
    const auto &x = requests[a].tokens, &y = requests[b].tokens;
    size_t k = 0, n = std::min(x.size(), y.size());
    while (k < n && x[k] == y[k]) ++k;
    return k;
  };
  size_t next = 0;
  while (next < order.size()) {
    // Choose the batch: consecutive requests while sequences and token budget last.
    std::vector<size_t> members;  // request indices, in token order
    std::vector<size_t> shared;   // shared[i]: tokens member i shares with member i+1
    size_t n_tokens = 0;
    while (next < order.size() && int(members.size()) < n_item_seqs) {
      size_t r = order[next];
      size_t common = members.empty() || !share_prefix ? prefix : std::max(prefix, lcp(members.back(), r));
      size_t n_new = requests[r].tokens.size() - std::min(common, requests[r].tokens.size());
      if (!members.empty() && n_tokens + n_new > size_t(s.n_batch)) break;
      if (!members.empty()) shared.push_back(common);
      members.push_back(r);
      n_tokens += n_new;
      ++next;
    }
    shared.push_back(0);
    batch.clear();
    std::vector<int> out_entry(members.size(), -1);
    for (size_t i = 0; i < members.size(); ++i) {
      const auto& toks = requests[members[i]].tokens;
      if (prefix > 0) ctx.seq_copy(0, first_seq + int(i));
      size_t from = i == 0 ? prefix : std::max(prefix, shared[i - 1]);
      for (size_t j = from; j < toks.size(); ++j) {
        backends::LlamaContext::Entry e{toks[j], int32_t(j), {first_seq + int32_t(i)}, false};
        // Later members that share token j: their sequences see this one cell too.
        size_t reach = shared[i];
        for (size_t m = i + 1; m < members.size() && j < reach; ++m) {
          e.seqs.push_back(first_seq + int32_t(m));
          if (j + 1 == requests[members[m]].tokens.size()) out_entry[m] = int(batch.size());
          reach = std::min(reach, shared[m]);
        }
        if (j + 1 == toks.size()) out_entry[i] = int(batch.size());
        batch.push_back(std::move(e));
      }
    }
    for (int idx : out_entry) batch[idx].logits = true;
    ctx.decode(batch);
    st.decodes++;
    st.decoded_tokens += long(batch.size());
    for (size_t i = 0; i < members.size(); ++i) on_logits(members[i], ctx.logits(out_entry[i]));
    for (size_t i = 0; i < members.size(); ++i) ctx.seq_clear(first_seq + int(i));
    if (on_batch_done) on_batch_done();
  }
  return st;
}

}  // namespace qaudit::engine
