// Scoring on a generated model through real llama.cpp inference.
#include "engine/eval.h"
#include "engine/loglik.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "prompts/prompt.h"
#include "suites/bbq.h"
#include "suites/demo.h"
#include "test_util.h"

using namespace qaudit;

namespace {

backends::ContextSettings exact() {
  backends::ContextSettings s;
  s.exact = true;
  return s;
}

std::vector<engine::ScoreRequest> demo_requests(const backends::LlamaModel& m, size_t n) {
  auto suite = suites::load_demo_suite();
  suite.items.resize(std::min(n, suite.items.size()));
  auto texts = engine::render_study_prompts(m, suite.items, false, nullptr);
  std::vector<engine::ScoreRequest> reqs;
  for (const auto& t : texts) reqs.push_back({m.tokenize(t)});
  return reqs;
}

}  // namespace

// The letter mass must equal a softmax computed here, directly from the logits, with token
// classes decided by a regular expression rather than by the engine's own classifier.
TEST(EvalModel, LetterMassMatchesADirectSoftmaxOfTheLogits) {
  auto m = backends::LlamaModel::load(test::tiny_model("qwen2"));
  auto reqs = demo_requests(*m, 4);
  auto sets = engine::letter_token_sets(*m, 3);
  std::regex letter(R"(^\s*[\(\[]?([ABC])[[:punct:]]*$)");
  std::vector<int> cls(m->n_vocab(), -1);
  for (int t = 0; t < m->n_vocab(); ++t) {
    std::smatch mt;
    std::string p = m->piece(t);
    if (!m->is_control(t) && std::regex_match(p, mt, letter)) cls[t] = mt[1].str()[0] - 'A';
  }
  int checked = 0;
  engine::score_next_token(
      *m, exact(), reqs, true,
      [&](size_t, const float* logits) {
        for (double T : {1.0, 0.3}) {
          long double z = 0, mass[3] = {0, 0, 0};
          for (int t = 0; t < m->n_vocab(); ++t) {
            long double w = std::exp((long double)logits[t] / T);
            z += w;
            if (cls[t] >= 0) mass[cls[t]] += w;
          }
          auto got = engine::letter_mass(logits, m->n_vocab(), sets, T);
          for (int l = 0; l < 3; ++l) EXPECT_NEAR(got.p[l], double(mass[l] / z), 1e-9 + 1e-7 * double(mass[l] / z));
          EXPECT_NEAR(got.invalid, double(1 - (mass[0] + mass[1] + mass[2]) / z), 1e-9);
        }
        ++checked;
      },
      nullptr);
  EXPECT_EQ(checked, 4);
  for (int l = 0; l < 3; ++l) EXPECT_FALSE(sets[l].empty());
}

// In the exact setting, batched shared-prefix scoring equals one-prompt-at-a-time scoring.
TEST(EvalModel, BatchedAndSingleAgreeWithin1e4) {
  auto m = backends::LlamaModel::load(test::tiny_model("qwen2"));
  auto reqs = demo_requests(*m, 12);
  auto sets = engine::letter_token_sets(*m, 3);
  auto collect = [&](bool share, int n_seq) {
    auto s = exact();
    s.n_seq = n_seq;
    std::vector<engine::LetterMass> out(reqs.size());
    auto st = engine::score_next_token(*m, s, reqs, share,
                                       [&](size_t i, const float* l) { out[i] = engine::letter_mass(l, m->n_vocab(), sets, 1.0); },
                                       nullptr);
    return std::make_pair(out, st);
  };
  auto [batched, bst] = collect(true, 8);
  auto [single, sst] = collect(false, 1);
  EXPECT_GT(bst.prefix_tokens, 10);
  EXPECT_LT(bst.decodes, sst.decodes);
  EXPECT_LT(bst.decoded_tokens, sst.decoded_tokens);
  // Beyond the prefix all prompts share, prompts with a common context share it too.
  EXPECT_LT(bst.decoded_tokens, bst.prompt_tokens - long(reqs.size() - 1) * bst.prefix_tokens);
  double worst = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    for (int l = 0; l < 3; ++l) worst = std::max(worst, std::abs(batched[i].p[l] - single[i].p[l]));
    worst = std::max(worst, std::abs(batched[i].invalid - single[i].invalid));
  }
  EXPECT_LT(worst, 1e-4);
}

TEST(EvalModel, PlainPromptWhenTheModelHasNoTemplate) {
  auto m = backends::LlamaModel::load(test::tiny_model("llama"));
  auto suite = suites::load_demo_suite();
  std::string id;
  auto texts = engine::render_study_prompts(*m, {suite.items[0]}, false, &id);
  EXPECT_EQ(id, "study/plain");
  EXPECT_EQ(texts[0].rfind("Answer the following multiple choice question", 0), 0u);
  EXPECT_NE(texts[0].find("\n\nContext: "), std::string::npos);
  // BOS added exactly once
  auto toks = m->tokenize(texts[0]);
  EXPECT_EQ(toks[0], 1);
  EXPECT_NE(toks[1], 1);
}

TEST(EvalModel, ChatTemplateIsAppliedWithTheGenerationPrompt) {
  auto m = backends::LlamaModel::load(test::tiny_model("qwen2"));
  auto suite = suites::load_demo_suite();
  std::string id;
  auto texts = engine::render_study_prompts(*m, {suite.items[0]}, false, &id);
  EXPECT_EQ(id.rfind("study/chat-", 0), 0u);
  EXPECT_EQ(texts[0].rfind("<|im_start|>system\nAnswer the following", 0), 0u);
  EXPECT_NE(texts[0].find("A) "), std::string::npos);
  EXPECT_EQ(texts[0].substr(texts[0].size() - 22), "<|im_start|>assistant\n");
}

TEST(EvalModel, ResultRowHoldsTheKSampleProbability) {
  suites::Item it;
  it.stereotyped = 1;
  engine::LetterMass at_t{{0.1, 0.2, 0.3}, 0.4}, at_1{{0.2, 0.5, 0.3}, 0.0};
  auto r = engine::letter_result(it, at_t, at_1, 5);
  EXPECT_NEAR(r.p_stereo_k, 1 - std::pow(0.8, 5), 1e-12);
  EXPECT_EQ(r.answer, 1);
  EXPECT_NEAR(r.max_prob, 0.5, 1e-12);
  EXPECT_NEAR(r.entropy, -(0.2 * std::log(0.2) + 0.5 * std::log(0.5) + 0.3 * std::log(0.3)), 1e-12);
}

namespace {

struct Texts {
  std::vector<std::vector<std::string>> text;  // [prompt][seed]
  engine::SampleStats stats;
};

Texts sample(const backends::LlamaModel& m, const std::vector<engine::ScoreRequest>& reqs, int n_seq,
             const std::vector<uint32_t>& seeds) {
  backends::ContextSettings s = exact();
  s.n_seq = n_seq;
  engine::SampleSettings ss;
  ss.seeds = seeds;
  ss.temperature = 0.3;
  std::vector<std::vector<backends::Token>> prompts;
  for (const auto& r : reqs) prompts.push_back(r.tokens);
  Texts out;
  out.text.assign(prompts.size(), std::vector<std::string>(seeds.size()));
  out.stats = engine::sample_continuations(
      m, s, prompts, ss, [&](size_t r, size_t k, const std::string& t, int) { out.text[r][k] = t; }, nullptr);
  return out;
}

}  // namespace

TEST(SampleModel, SameSeedSameTextAndThePromptIsDecodedOncePerItem) {
  auto m = backends::LlamaModel::load(test::tiny_model("qwen2"));
  auto reqs = demo_requests(*m, 3);
  std::vector<uint32_t> seeds{42, 123, 456, 789, 1024};
  auto a = sample(*m, reqs, 15, seeds), b = sample(*m, reqs, 15, seeds);
  EXPECT_EQ(a.text, b.text);
  long prompt_tokens = 0;
  for (const auto& r : reqs) prompt_tokens += long(r.tokens.size());
  EXPECT_EQ(a.stats.prompt_tokens, prompt_tokens);  // not 5x: the seeds share the prompt's cells
  // Seeds matter: not every seed of an item writes the same text.
  int differing = 0;
  for (const auto& t : a.text)
    for (const auto& x : t) differing += x != t[0];
  EXPECT_GT(differing, 0);
  // Shared-prompt, batched sampling equals one prompt and one seed at a time (exact setting, the
  // study's temperature; at high temperatures a random model's nearly flat distribution lets a
  // 1e-6 difference in logits move a draw across a boundary).
  for (size_t r = 0; r < reqs.size(); ++r)
    for (size_t k = 0; k < seeds.size(); ++k) {
      auto one = sample(*m, {reqs[r]}, 1, {seeds[k]});
      EXPECT_EQ(one.text[0][0], a.text[r][k]) << "prompt " << r << " seed " << seeds[k];
    }
}

// The summed log-likelihood of each option equals a token-by-token computation done here: the
// option alone after its context in a fresh one-sequence context (nothing shared with the other
// options), log-softmax of every position computed by the test.
TEST(LoglikModel, SummedLoglikEqualsTokenByTokenComputation) {
  auto m = backends::LlamaModel::load(test::tiny_model("qwen2"));
  auto suite = suites::load_demo_suite();
  std::vector<engine::LoglikRequest> reqs;
  for (size_t i = 0; i < 3; ++i) {
    const auto& it = suite.items[i];
    std::string context = prompts::lmeval_context(it);
    engine::LoglikRequest q;
    q.context = m->tokenize(context);
    for (const auto& o : it.options) q.continuations.push_back(engine::continuation_tokens(*m, q.context, context, " " + o));
    reqs.push_back(std::move(q));
  }
  std::vector<std::vector<double>> got(reqs.size());
  engine::score_continuations(*m, exact(), reqs, [&](size_t r, const std::vector<double>& ll) { got[r] = ll; }, nullptr);
  backends::ContextSettings one = exact();
  one.n_seq = 1;
  auto logsoftmax_at = [&](const float* lg, backends::Token t) {
    double mx = -1e300, z = 0;
    for (int v = 0; v < m->n_vocab(); ++v) mx = std::max(mx, double(lg[v]));
    for (int v = 0; v < m->n_vocab(); ++v) z += std::exp(double(lg[v]) - mx);
    return double(lg[t]) - mx - std::log(z);
  };
  for (size_t r = 0; r < reqs.size(); ++r)
    for (size_t o = 0; o < reqs[r].continuations.size(); ++o) {
      std::vector<backends::Token> all = reqs[r].context;
      const auto& cont = reqs[r].continuations[o];
      all.insert(all.end(), cont.begin(), cont.end());
      size_t n_ctx = reqs[r].context.size();
      // The whole sequence in one decode, logits at every position.
      backends::LlamaContext ctx(*m, one, int(all.size()) + 8);
      std::vector<backends::LlamaContext::Entry> batch;
      for (size_t j = 0; j < all.size(); ++j) batch.push_back({all[j], int32_t(j), {0}, true});
      ctx.decode(batch);
      double sum = 0;
      for (size_t j = n_ctx - 1; j + 1 < all.size(); ++j) sum += logsoftmax_at(ctx.logits(int(j)), all[j + 1]);
      // The generated model's log-probabilities are large (about -40 per token, logits near 50),
      // and an item's KV cells sit at other cell indices when it shares a decode with other items,
      // which changes the float32 reduction order of attention: agreement is to 5e-5 of the sum.
      // (The first item, at the same cells in both, agrees to 1e-4 absolute.)
      EXPECT_NEAR(got[r][o], sum, r == 0 ? 1e-4 : 5e-5 * std::fabs(sum)) << "item " << r << " option " << o;
      // One token per decode takes other kernels (matrix-vector products); it agrees to float
      // rounding relative to the size of the sum.
      backends::LlamaContext step(*m, one, int(all.size()) + 8);
      double sum1 = 0;
      for (size_t j = 0; j + 1 < all.size(); ++j) {
        step.decode({{all[j], int32_t(j), {0}, true}});
        if (j + 1 >= n_ctx) sum1 += logsoftmax_at(step.logits(0), all[j + 1]);
      }
      EXPECT_NEAR(got[r][o], sum1, 1e-4 * std::fabs(sum1)) << "item " << r << " option " << o;
      EXPECT_LT(sum, 0.0);
    }
}
