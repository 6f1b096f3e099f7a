#include "engine/sample.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "common/error.h"

namespace qaudit::engine {

SampleStats sample_continuations(const backends::LlamaModel& model, const backends::ContextSettings& settings,
                                 const std::vector<std::vector<backends::Token>>& prompts, const SampleSettings& ss,
                                 const std::function<void(size_t, size_t, const std::string&, int)>& on_text,
                                 const std::function<void()>& on_group_done) {
  SampleStats st;
  if (prompts.empty()) return st;
  const int k = int(ss.seeds.size());
  if (k == 0) throw Error("no seeds to sample with", "give at least one seed");
  size_t max_len = 0;
  for (const auto& p : prompts) {
    if (p.empty()) throw Error("empty prompt", "every prompt must have at least one token");
    max_len = std::max(max_len, p.size());
  }
  backends::ContextSettings s = settings;
  int per_group = std::max(1, s.n_seq / k);  // prompts side by side
  s.n_seq = per_group * k;
  s.n_batch = std::max<int>(s.n_batch, int(max_len));
  s.n_batch = std::max(s.n_batch, s.n_seq);
  int n_ctx = s.n_batch + s.n_seq * ss.max_tokens + 8;
  backends::LlamaContext ctx(model, s, n_ctx);

  size_t next = 0;
  std::vector<backends::LlamaContext::Entry> batch;
  while (next < prompts.size()) {
    // The group: consecutive prompts while sequences and the token budget last.
    std::vector<size_t> members;
    size_t tokens = 0;
    while (next < prompts.size() && int(members.size()) < per_group &&
           (members.empty() || tokens + prompts[next].size() <= size_t(s.n_batch))) {
      tokens += prompts[next].size();
      members.push_back(next++);
    }
    ctx.clear();
    batch.clear();
    std::vector<int> last(members.size());
    for (size_t g = 0; g < members.size(); ++g) {
      const auto& p = prompts[members[g]];
      for (size_t j = 0; j < p.size(); ++j) {
        // Every prompt token belongs to all k sequences of its prompt: decoded once, shared.
        backends::LlamaContext::Entry e{p[j], int32_t(j), {}, j + 1 == p.size()};
        for (int r = 0; r < k; ++r) e.seqs.push_back(int32_t(g * k + r));
        batch.push_back(std::move(e));
      }
      last[g] = int(batch.size()) - 1;
    }
    ctx.decode(batch);
    st.decodes++;
    st.prompt_tokens += long(tokens);
    // One sampler per continuation, seeded as the study seeds its runs.
    std::vector<std::unique_ptr<backends::Sampler>> samplers;
    std::vector<std::string> text(members.size() * k);
    std::vector<int> n_gen(members.size() * k, 0), index(members.size() * k);
    std::vector<bool> done(members.size() * k, false);
    std::vector<backends::Token> current(members.size() * k);
    for (size_t g = 0; g < members.size(); ++g)
      for (int r = 0; r < k; ++r) {
        samplers.push_back(std::make_unique<backends::Sampler>(ss.temperature, ss.seeds[r]));
        index[g * k + r] = last[g];
      }
    for (int step = 0; step < ss.max_tokens; ++step) {
      for (size_t c = 0; c < samplers.size(); ++c) {
        if (done[c]) continue;
        backends::Token t = samplers[c]->sample(ctx, index[c]);
        if (model.is_end_of_generation(t)) {
          done[c] = true;
          continue;
        }
        text[c] += model.piece(t);
        n_gen[c]++;
        current[c] = t;
      }
      if (step + 1 == ss.max_tokens) break;
      batch.clear();
      for (size_t c = 0; c < samplers.size(); ++c) {
        if (done[c]) continue;
        size_t g = c / k;
        index[c] = int(batch.size());
        batch.push_back({current[c], int32_t(prompts[members[g]].size() + step), {int32_t(c)}, true});
      }
      if (batch.empty()) break;
      ctx.decode(batch);
      st.decodes++;
    }
    for (size_t c = 0; c < samplers.size(); ++c) {
      st.generated_tokens += n_gen[c];
      on_text(members[c / k], c % k, text[c], n_gen[c]);
    }
    if (on_group_done) on_group_done();
  }
  return st;
}

}  // namespace qaudit::engine
