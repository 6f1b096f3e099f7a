// Scoring on a generated model through real llama.cpp inference.
#include "engine/eval.h"

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
