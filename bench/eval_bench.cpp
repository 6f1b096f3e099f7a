// items/s of qaudit's letter-distribution scoring (shared prefix, many sequences per decode)
// against the baseline of scoring the same prompts one at a time with no shared prefix.
// Both run in this process on the same model and prompts; the ratio is what we report.
//
//   eval_bench MODEL.gguf BBQ.jsonl N_ITEMS
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>

#include "backends/llama_backend.h"
#include "engine/eval.h"
#include "engine/letters.h"
#include "suites/bbq.h"

using namespace qaudit;

int main(int argc, char** argv) {
  if (argc < 4) {
    fmt::print(stderr, "usage: eval_bench MODEL.gguf BBQ.jsonl N_ITEMS\n");
    return 2;
  }
  backends::backend_init(false);
  auto model = backends::LlamaModel::load(argv[1]);
  auto suite = suites::load_bbq({argv[2]});
  suite.items.resize(std::min<size_t>(std::atoi(argv[3]), suite.items.size()));
  auto texts = engine::render_study_prompts(*model, suite.items, false, nullptr);
  std::vector<engine::ScoreRequest> reqs;
  for (const auto& t : texts) reqs.push_back({model->tokenize(t)});
  auto sets = engine::letter_token_sets(*model, 3);

  struct Run {
    double seconds;
    engine::ScoreStats st;
    std::vector<engine::LetterMass> mass;
  };
  auto run = [&](bool share, int n_seq) {
    backends::ContextSettings s;
    s.n_seq = n_seq;
    Run r;
    r.mass.resize(reqs.size());
    auto t0 = std::chrono::steady_clock::now();
    r.st = engine::score_next_token(*model, s, reqs, share,
                                    [&](size_t i, const float* l) { r.mass[i] = engine::letter_mass(l, model->n_vocab(), sets, 1.0); },
                                    nullptr);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  if (const char* sweep = std::getenv("QAUDIT_BENCH_SEQ_SWEEP")) {  // tuning aid: items/s per n_seq
    for (const char* p = sweep; *p;) {
      int n_seq = std::atoi(p);
      Run r = run(true, n_seq);
      fmt::print("n_seq {:3d}: {:.2f} items/s, {:.0f} tokens/s\n", n_seq, reqs.size() / r.seconds, r.st.decoded_tokens / r.seconds);
      while (*p && *p != ',') ++p;
      if (*p == ',') ++p;
    }
    return 0;
  }
  Run naive = run(false, 1);
  Run fast = run(true, backends::ContextSettings{}.n_seq);
  double worst = 0;
  for (size_t i = 0; i < reqs.size(); ++i)
    for (int l = 0; l < 3; ++l) worst = std::max(worst, std::abs(fast.mass[i].p[l] - naive.mass[i].p[l]));
  double n = double(reqs.size());
  fmt::print("| mode | items | decoded tokens | seconds | items/s |\n|---|---|---|---|---|\n");
  fmt::print("| one at a time, no shared prefix (baseline) | {} | {} | {:.1f} | {:.2f} |\n", reqs.size(),
             naive.st.decoded_tokens, naive.seconds, n / naive.seconds);
  fmt::print("| qaudit eval: prefix tree ({} tokens common to all, shared contexts per batch), {} sequences per decode | {} | {} | {:.1f} | {:.2f} |\n",
             fast.st.prefix_tokens, backends::ContextSettings{}.n_seq, reqs.size(), fast.st.decoded_tokens, fast.seconds,
             n / fast.seconds);
  fmt::print("\nspeed-up: **{:.2f}x** items/s; tokens decoded: {:.2f}x fewer; "
             "largest letter-probability difference between the two: {:.1e}\n",
             naive.seconds / fast.seconds, double(naive.st.decoded_tokens) / fast.st.decoded_tokens, worst);
  return 0;
}
