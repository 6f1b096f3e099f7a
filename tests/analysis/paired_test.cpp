// Paired analysis: the exact became-biased expectation and its noise floor against a Monte-Carlo
// simulation of k-seed sampling; transitions, McNemar counts and USR change by hand; the cliff.
#include "analysis/paired.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "analysis/audit.h"
#include "analysis/cliff.h"

using namespace qaudit::analysis;
using qaudit::suites::Condition;

namespace {

// An ambiguous item whose options are (stereotyped, anti, unknown); `p` and `q` give the
// reference's and the variant's probabilities of the three options (the rest is invalid mass).
PairedItem item(std::vector<double> p, std::vector<double> q, std::string cat = "c") {
  PairedItem it;
  it.id = "x";
  it.category = std::move(cat);
  it.condition = Condition::ambiguous;
  it.label = 2;
  it.stereotyped = 0;
  it.anti = 1;
  it.unknown = 2;
  auto answer = [](const std::vector<double>& v) {
    Answer a;
    a.probs = v;
    a.probs_t1 = v;
    a.invalid = a.invalid_t1 = 1 - v[0] - v[1] - v[2];
    return a;
  };
  it.ref = answer(p);
  it.var = answer(q);
  return it;
}

}  // namespace

TEST(Paired, BecameBiasedExpectationMatchesSimulatedSeeds) {
  const int k = 5, n_items = 300, reps = 400;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<PairedItem> items;
  for (int i = 0; i < n_items; ++i) {
    // Mostly unbiased reference items (small p), a variant that drifts towards the stereotype.
    double p = 0.25 * u(rng) * u(rng), q = std::min(0.9, p + 0.2 * u(rng));
    double pu = (1 - p) * 0.7, qu = (1 - q) * 0.6;
    items.push_back(item({p, 1 - p - pu - 0.01, pu}, {q, 1 - q - qu - 0.01, qu}));
  }
  auto st = paired_stats(items, k);
  // Simulate: k samples per item from the reference and from the variant (and a second,
  // independent set of k reference samples for the floor).
  double unbiased = 0, became = 0, became_floor = 0;
  for (int r = 0; r < reps; ++r)
    for (const auto& it : items) {
      double p = it.ref.probs[0], q = it.var.probs[0];
      bool ref_hit = false, var_hit = false, ref2_hit = false;
      for (int s = 0; s < k; ++s) {
        ref_hit |= u(rng) < p;
        var_hit |= u(rng) < q;
        ref2_hit |= u(rng) < p;
      }
      if (ref_hit) continue;
      unbiased += 1;
      became += var_hit;
      became_floor += ref2_hit;
    }
  double sim = became / unbiased, sim_floor = became_floor / unbiased;
  double se = std::sqrt(sim * (1 - sim) / unbiased), se_floor = std::sqrt(sim_floor * (1 - sim_floor) / unbiased);
  EXPECT_NEAR(st.became_biased, sim, 4 * se + 1e-4) << "simulated " << sim << " +- " << se;
  EXPECT_NEAR(st.floor, sim_floor, 4 * se_floor + 1e-4) << "simulated " << sim_floor << " +- " << se_floor;
  EXPECT_GT(st.became_biased, st.floor + 0.05);  // the drift is visible above the noise floor
}

TEST(Paired, BecameBiasedByHand) {
  // Two items, k = 2. Item 1: p = 0, q = 0.5 -> weight 1, became 1 - 0.25 = 0.75, floor 0.
  // Item 2: p = 0.5, q = 0.5 -> weight 0.25, became 0.75, floor 0.75.
  std::vector<PairedItem> items{item({0, 0.5, 0.5}, {0.5, 0.25, 0.25}), item({0.5, 0.25, 0.25}, {0.5, 0.25, 0.25})};
  auto st = paired_stats(items, 2);
  EXPECT_NEAR(st.unbiased_weight, 1.25, 1e-15);
  EXPECT_NEAR(st.became_biased, (0.75 + 0.25 * 0.75) / 1.25, 1e-15);
  EXPECT_NEAR(st.floor, (0.25 * 0.75) / 1.25, 1e-15);
}

TEST(Paired, TransitionsMcNemarAndUsrChangeByHand) {
  std::vector<PairedItem> items{
      item({0.7, 0.1, 0.2}, {0.1, 0.1, 0.8}),    // stereotyped -> unknown
      item({0.1, 0.1, 0.8}, {0.6, 0.1, 0.3}),    // unknown -> stereotyped
      item({0.1, 0.1, 0.8}, {0.5, 0.2, 0.3}),    // unknown -> stereotyped
      item({0.1, 0.6, 0.2}, {0.1, 0.6, 0.2}),    // anti -> anti
      item({0.05, 0.05, 0.1}, {0.1, 0.1, 0.7}),  // invalid (0.8 of the mass) -> unknown
  };
  auto st = paired_stats(items, 5);
  EXPECT_EQ(st.transitions[kStereotyped][kUnknown], 1);
  EXPECT_EQ(st.transitions[kUnknown][kStereotyped], 2);
  EXPECT_EQ(st.transitions[kAnti][kAnti], 1);
  EXPECT_EQ(st.transitions[kInvalid][kUnknown], 1);
  EXPECT_EQ(st.mcnemar_b, 1);
  EXPECT_EQ(st.mcnemar_c, 2);
  EXPECT_DOUBLE_EQ(st.mcnemar_p, 1.0);  // 2 * P(X <= 1 | n = 3) = 2 * 4/8
  // USR (renormalised over the options): reference .2 .8 .8 .2/.9 .5 ; variant .8 .3 .3 .2/.9 .7.
  double ref_usr = (0.2 + 0.8 + 0.8 + 0.2 / 0.9 + 0.5) / 5, var_usr = (0.8 + 0.3 + 0.3 + 0.2 / 0.9 + 0.7 / 0.9) / 5;
  EXPECT_NEAR(st.ref.usr.expected, ref_usr, 1e-12);
  EXPECT_NEAR(st.usr_relative_change, (var_usr - ref_usr) / ref_usr, 1e-12);
  // Cohen's h on argmax stereotyped shares: variant 2/5, reference 1/5.
  EXPECT_NEAR(st.cohens_h, 2 * std::asin(std::sqrt(0.4)) - 2 * std::asin(std::sqrt(0.2)), 1e-12);
}

TEST(Cliff, FirstCrossingAndLargestJumpByHand) {
  std::vector<Rung> rungs{{"Q3_K_M", 3.9, 0.12}, {"reference", 16, 0}, {"Q8_0", 8.5, 0.004},
                          {"Q4_K_M", 4.9, 0.03}, {"Q2_K", 2.6, 0.15},  {"broken", 3.0, NAN}};
  auto c = find_cliff("became_biased_above_floor", rungs, 0.05, "points");
  EXPECT_EQ(c.first_crossing, "Q3_K_M");
  EXPECT_EQ(c.jump_from, "Q4_K_M");
  EXPECT_EQ(c.jump_to, "Q3_K_M");
  EXPECT_NEAR(c.jump, 0.09, 1e-12);
  EXPECT_NE(c.text.find("between Q4_K_M and Q3_K_M: +9.0 points"), std::string::npos) << c.text;
  auto none = find_cliff("x", {{"reference", 16, 0}, {"Q8_0", 8.5, 0.01}}, 0.05, "");
  EXPECT_EQ(none.first_crossing, "");
  EXPECT_EQ(none.jump_to, "Q8_0");
}

TEST(Paired, SampledAnswersFollowTheStudysDefinition) {
  // k = 5 samples each. Unbiased at the reference: 0 of 5 stereotyped. Items 1-3 are unbiased;
  // of those, the variant picks the stereotype at least once on items 1 and 2, and the reference's
  // second seed set on item 3. Item 4 was already biased at the reference and does not count.
  auto sampled = [](int stereo) {
    Answer a;
    a.samples = 5;
    a.stereotyped_samples = stereo;
    a.probs = {stereo / 5.0, (5 - stereo) / 5.0, 0};
    a.probs_t1 = a.probs;
    return a;
  };
  std::vector<PairedItem> items;
  int ref[] = {0, 0, 0, 2}, var[] = {1, 3, 0, 5}, flo[] = {0, 0, 1, 1};
  for (int i = 0; i < 4; ++i) {
    PairedItem it = item({0, 0, 0}, {0, 0, 0});
    it.ref = sampled(ref[i]);
    it.var = sampled(var[i]);
    it.floor = sampled(flo[i]);
    items.push_back(it);
  }
  auto st = paired_stats(items, 5);
  EXPECT_TRUE(st.observed);
  EXPECT_EQ(st.unbiased_items, 3);
  EXPECT_DOUBLE_EQ(st.became_biased, 2.0 / 3);
  EXPECT_DOUBLE_EQ(st.floor, 1.0 / 3);
}
