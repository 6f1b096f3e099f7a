// Statistics against hand-computed values and against values from independent implementations
// (scipy / statsmodels, see fixtures/make_stats_fixture.py for the provenance).
#include "analysis/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace qaudit::analysis;
using nlohmann::json;

namespace {

json fixture() {
  std::ifstream f(std::string(QAUDIT_TEST_SOURCE_DIR) + "/analysis/fixtures/stats_fixture.json");
  return json::parse(f);
}

void expect_rel(double got, double want, double rel, const std::string& what) {
  EXPECT_NEAR(got, want, rel * std::max(1e-12, std::fabs(want))) << what;
}

}  // namespace

TEST(Stats, McNemarExactByHand) {
  // b = 1, c = 6: 2 * P(X <= 1), X ~ Bin(7, 1/2) = 2 * (1 + 7) / 128.
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(1, 6), 0.125);
  // b = c: the two tails overlap; capped at 1.
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(4, 4), 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  // b = 0, c = 5: 2 / 32.
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 5), 0.0625);
}

TEST(Stats, ChiSquaredByHand) {
  // [[30, 70], [45, 55]]: expected 37.5/62.5 per row; without correction
  // 2 * (7.5^2/37.5 + 7.5^2/62.5) = 4.8; with Yates (7^2) * 2 * (1/37.5 + 1/62.5) = 4.181333...
  EXPECT_NEAR(chi_squared_2x2(30, 70, 45, 55, false).statistic, 4.8, 1e-12);
  EXPECT_NEAR(chi_squared_2x2(30, 70, 45, 55, true).statistic, 49.0 * 2 * (1 / 37.5 + 1 / 62.5), 1e-12);
  // A table with an empty column carries no information.
  EXPECT_DOUBLE_EQ(chi_squared_2x2(0, 10, 0, 12).p, 1.0);
}

TEST(Stats, CohensHByHand) {
  EXPECT_NEAR(cohens_h(0.5, 0.2), 2 * std::asin(std::sqrt(0.5)) - 2 * std::asin(std::sqrt(0.2)), 1e-15);
  EXPECT_NEAR(cohens_h(0.5, 0.2), 0.6435011087932844, 1e-12);  // 2(pi/4) - 2 asin(sqrt .2)
  EXPECT_DOUBLE_EQ(cohens_h(0.3, 0.3), 0.0);
}

TEST(Stats, HolmByHand) {
  // Sorted: .01 (x3 = .03), .02 (x2 = .04), .04 (x1 = .04, kept monotone).
  auto a = holm({0.04, 0.01, 0.02});
  EXPECT_NEAR(a[1], 0.03, 1e-15);
  EXPECT_NEAR(a[2], 0.04, 1e-15);
  EXPECT_NEAR(a[0], 0.04, 1e-15);
  auto b = holm({0.5, NAN});
  EXPECT_NEAR(b[0], 0.5, 1e-15);  // NaN is not counted as a comparison
  EXPECT_TRUE(std::isnan(b[1]));
}

TEST(Stats, ExpectedCalibrationErrorByHand) {
  // Bins (0.9,1]: conf .95 acc 1; (0.8,0.9]: conf .85 acc 0; (0.5,0.6]: conf .565 acc .5.
  double ece = expected_calibration_error({0.95, 0.85, 0.55, 0.58}, {1, 0, 1, 0});
  EXPECT_NEAR(ece, 0.05 / 4 + 0.85 / 4 + 0.065 * 2 / 4, 1e-12);
}

TEST(Stats, AgreesWithScipyChiSquared) {
  auto f = fixture();
  for (const auto& c : f["chi2"]) {
    const auto& t = c["table"];
    auto r = chi_squared_2x2(t[0][0], t[0][1], t[1][0], t[1][1], c["yates"]);
    expect_rel(r.statistic, c["statistic"], 1e-10, c.dump());
    expect_rel(r.p, c["p"], 1e-9, c.dump());
  }
}

TEST(Stats, AgreesWithStatsmodelsMcNemarWilsonHolm) {
  auto f = fixture();
  for (const auto& c : f["mcnemar"]) expect_rel(mcnemar_exact_p(c["b"], c["c"]), c["p"], 1e-10, c.dump());
  for (const auto& c : f["wilson"]) {
    auto i = wilson(c["successes"], c["n"]);
    EXPECT_NEAR(i.lo, c["lo"].get<double>(), 1e-12) << c.dump();
    EXPECT_NEAR(i.hi, c["hi"].get<double>(), 1e-12) << c.dump();
  }
  auto adj = holm(f["holm"]["p"].get<std::vector<double>>());
  auto want = f["holm"]["adjusted"].get<std::vector<double>>();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(adj[i], want[i], 1e-15);
}

TEST(Stats, LogisticRegressionAgreesWithStatsmodels) {
  auto f = fixture()["logit"];
  auto x = f["x"].get<std::vector<std::vector<double>>>();
  auto g = f["groups"].get<std::vector<long>>();
  for (const char* name : {"binary", "fractional"}) {
    const auto& ref = f[name];
    auto fit = logistic_irls(x, ref["y"].get<std::vector<double>>(), g);
    ASSERT_TRUE(fit.converged) << name;
    EXPECT_EQ(fit.n_clusters, 60);
    for (size_t j = 0; j < fit.coef.size(); ++j) {
      expect_rel(fit.coef[j], ref["coef"][j], 1e-7, std::string(name) + " coef " + std::to_string(j));
      // statsmodels stops its IRLS on a deviance change of 1e-8, so its standard errors carry
      // relative errors of about 1e-7; ours iterate to 1e-10 in the coefficients.
      expect_rel(fit.se[j], ref["se"][j], 2e-6, std::string(name) + " se " + std::to_string(j));
      expect_rel(fit.se_clustered[j], ref["se_clustered"][j], 2e-6, std::string(name) + " clustered se " + std::to_string(j));
      expect_rel(fit.p_clustered[j], ref["p_clustered"][j], 1e-5, std::string(name) + " p " + std::to_string(j));
    }
  }
}

TEST(Stats, LogisticRegressionSingleBinaryPredictorIsTheLogOddsRatio) {
  // 2x2 data: x = 0: 30 of 100 events; x = 1: 45 of 100. MLE slope = log odds ratio,
  // SE = sqrt(1/30 + 1/70 + 1/45 + 1/55) (Woolf).
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  std::vector<long> g;
  for (int i = 0; i < 200; ++i) {
    int grp = i / 100, k = i % 100;
    x.push_back({1.0, double(grp)});
    y.push_back(k < (grp ? 45 : 30) ? 1.0 : 0.0);
    g.push_back(i);
  }
  auto fit = logistic_irls(x, y, g);
  EXPECT_NEAR(fit.coef[1], std::log((45.0 / 55) / (30.0 / 70)), 1e-9);
  EXPECT_NEAR(fit.se[1], std::sqrt(1 / 30.0 + 1 / 70.0 + 1 / 45.0 + 1 / 55.0), 1e-9);
  // Duplicating every observation 5 times within its cluster leaves the clustered SE as it was
  // (up to the small-sample factor) while the naive SE shrinks by sqrt(5): the error the study's
  // unclustered seeds make.
  std::vector<std::vector<double>> x5;
  std::vector<double> y5;
  std::vector<long> g5;
  for (size_t i = 0; i < x.size(); ++i)
    for (int r = 0; r < 5; ++r) {
      x5.push_back(x[i]);
      y5.push_back(y[i]);
      g5.push_back(g[i]);
    }
  auto fit5 = logistic_irls(x5, y5, g5);
  EXPECT_NEAR(fit5.se[1], fit.se[1] / std::sqrt(5.0), 1e-9);
  double n = 200, k = 2, small1 = n / (n - 1) * (n - 1) / (n - k), small5 = n / (n - 1) * (5 * n - 1) / (5 * n - k);
  EXPECT_NEAR(fit5.se_clustered[1] / std::sqrt(small5), fit.se_clustered[1] / std::sqrt(small1), 1e-9);
}

TEST(Stats, SingularDesignIsAClearError) {
  std::vector<std::vector<double>> x{{1, 8}, {1, 8}, {1, 8}};
  EXPECT_THROW(logistic_irls(x, {0, 1, 0}, {0, 1, 2}), std::exception);
}
