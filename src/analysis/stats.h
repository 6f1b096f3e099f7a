// Statistics for paired comparisons of a variant with its reference: Wilson intervals,
// McNemar's exact test, the chi-squared 2x2 test with Cohen's h (the study's), Holm's
// correction, and logistic regression by IRLS with standard errors clustered by item.
// Distributions come from Boost.Math, linear algebra from Eigen.
#pragma once

#include <string>
#include <vector>

namespace qaudit::analysis {

struct Interval {
  double lo = 0, hi = 0;
};
// Wilson score interval of a proportion successes/n at confidence 1 - alpha. NaNs when n = 0.
Interval wilson(double successes, double n, double alpha = 0.05);

// Two-sided exact McNemar test: b and c are the discordant pair counts; the p-value of the
// binomial test of b against Binomial(b + c, 1/2), min(1, 2 * P(X <= min(b, c))). 1 when b + c = 0.
double mcnemar_exact_p(long b, long c);

struct ChiSquared {
  double statistic = 0;
  double p = 1;
};
// Pearson's chi-squared test of independence on the 2x2 table [[a, b], [c, d]], one degree of
// freedom, with Yates' continuity correction when `yates` (scipy.stats.chi2_contingency's default
// for 2x2 tables). A table with an empty row or column gives statistic 0, p 1.
ChiSquared chi_squared_2x2(double a, double b, double c, double d, bool yates = true);

// Cohen's h between two proportions: 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)).
double cohens_h(double p1, double p2);

// Holm's step-down adjusted p-values, in the input order (NaN inputs stay NaN and are not counted).
std::vector<double> holm(const std::vector<double>& p);

// Two-sided p-value of a z statistic under the standard normal.
double normal_two_sided_p(double z);

struct LogitFit {
  std::vector<double> coef;
  std::vector<double> se;            // from the inverse Fisher information (observations independent)
  std::vector<double> se_clustered;  // sandwich estimator clustered by `cluster`, with the small-sample
                                     // factor G/(G-1) * (N-1)/(N-K) (Stata's and statsmodels' default)
  std::vector<double> p_clustered;   // two-sided, normal reference, from se_clustered
  int n = 0, n_clusters = 0, iterations = 0;
  bool converged = false;
};
// Logistic regression of y (0/1, or a probability in [0, 1]: fractional response) on the rows of
// x (each row one observation, the intercept included by the caller), fitted by iteratively
// reweighted least squares. Throws an Error when the design is singular.
LogitFit logistic_irls(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                       const std::vector<long>& cluster, int max_iter = 50, double tol = 1e-10);

// Expected calibration error with `bins` equal-width confidence bins:
// sum over bins of |accuracy - mean confidence| * (bin size / n). NaN when empty.
double expected_calibration_error(const std::vector<double>& confidence, const std::vector<double>& correct,
                                  int bins = 10);

}  // namespace qaudit::analysis
