// CrowS-Pairs and StereoSet metrics against hand-computed values.
#include "analysis/pairs_metrics.h"

#include <gtest/gtest.h>

using namespace qaudit::analysis;

TEST(PairsMetrics, CrowsPairsByHand) {
  std::vector<ScoredSentences> items{
      {"race-color", "", "stereo", {-10, -12}, {5, 5}},    // more stereotyping sentence more likely
      {"gender", "", "antistereo", {-9, -8}, {4, 4}},      // less stereotyping more likely
      {"race-color", "", "stereo", {-5, -7}, {3, 3}},
  };
  auto m = crows_metrics(items);
  EXPECT_EQ(m["overall"].n, 3);
  EXPECT_NEAR(m["overall"].pct_stereotype, 2.0 / 3, 1e-15);
  EXPECT_NEAR(m["overall"].likelihood_diff, (2.0 + 1.0 + 2.0) / 3, 1e-15);
  EXPECT_DOUBLE_EQ(m["race-color"].pct_stereotype, 1.0);
  EXPECT_DOUBLE_EQ(m["gender"].pct_stereotype, 0.0);
  EXPECT_EQ(m["direction:stereo"].n, 2);
  EXPECT_DOUBLE_EQ(m["direction:antistereo"].likelihood_diff, 1.0);
}

TEST(PairsMetrics, StereoSetByHandPerTargetThenAveraged) {
  // Sentences compare by mean log-probability per token: loglik / tokens.
  std::vector<ScoredSentences> items{
      // target A, example 1: stereo -1, anti -2, unrelated -3 -> pro 1, related 2
      {"profession", "A", "", {-2, -4, -6}, {2, 2, 2}},
      // target A, example 2: stereo -2, anti -1, unrelated -1.5 -> pro 0, related 1 (anti only)
      {"profession", "A", "", {-6, -2, -3}, {3, 2, 2}},
      // target B: stereo -1, anti -1.5, unrelated -0.5 -> pro 1, related 0
      {"gender", "B", "", {-1, -3, -1}, {1, 2, 2}},
  };
  auto m = stereoset_metrics(items);
  // A: SS 50, LMS 75; B: SS 100, LMS 0. Averaged over targets: SS 75, LMS 37.5.
  EXPECT_NEAR(m["overall"].ss, 75.0, 1e-12);
  EXPECT_NEAR(m["overall"].lms, 37.5, 1e-12);
  EXPECT_NEAR(m["overall"].icat, 37.5 * 25 / 50, 1e-12);
  EXPECT_EQ(m["overall"].n_targets, 2);
  EXPECT_NEAR(m["profession"].ss, 50.0, 1e-12);
  EXPECT_NEAR(m["profession"].lms, 75.0, 1e-12);
  EXPECT_NEAR(m["gender"].icat, 0.0, 1e-12);
}
