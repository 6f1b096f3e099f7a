#include "analysis/stats.h"

#include <Eigen/Dense>
#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "common/error.h"

namespace qaudit::analysis {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

Interval wilson(double successes, double n, double alpha) {
  if (n <= 0) return {kNaN, kNaN};
  double z = boost::math::quantile(boost::math::complement(boost::math::normal(), alpha / 2));
  double p = successes / n, z2 = z * z;
  double denom = 1 + z2 / n;
  double centre = (p + z2 / (2 * n)) / denom;
  double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

double mcnemar_exact_p(long b, long c) {
  long n = b + c;
  if (n == 0) return 1.0;
  boost::math::binomial dist(double(n), 0.5);
  return std::min(1.0, 2.0 * boost::math::cdf(dist, double(std::min(b, c))));
}

ChiSquared chi_squared_2x2(double a, double b, double c, double d, bool yates) {
  double n = a + b + c + d;
  double r1 = a + b, r2 = c + d, c1 = a + c, c2 = b + d;
  if (r1 <= 0 || r2 <= 0 || c1 <= 0 || c2 <= 0) return {0.0, 1.0};
  double obs[4] = {a, b, c, d};
  double exp[4] = {r1 * c1 / n, r1 * c2 / n, r2 * c1 / n, r2 * c2 / n};
  double stat = 0;
  for (int i = 0; i < 4; ++i) {
    double dev = std::fabs(obs[i] - exp[i]);
    // scipy: the correction moves each observed count 0.5 towards its expectation, never past it.
    if (yates) dev = std::max(0.0, dev - 0.5);
    stat += dev * dev / exp[i];
  }
  double p = boost::math::cdf(boost::math::complement(boost::math::chi_squared(1.0), stat));
  return {stat, p};
}

double cohens_h(double p1, double p2) { return 2 * std::asin(std::sqrt(p1)) - 2 * std::asin(std::sqrt(p2)); }

std::vector<double> holm(const std::vector<double>& p) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(p.size(), kNaN);
  double running = 0;
  size_t m = idx.size();
  for (size_t r = 0; r < m; ++r) {
    running = std::max(running, std::min(1.0, double(m - r) * p[idx[r]]));
    out[idx[r]] = running;
  }
  return out;
}

double normal_two_sided_p(double z) {
  if (std::isnan(z)) return kNaN;
  return 2 * boost::math::cdf(boost::math::complement(boost::math::normal(), std::fabs(z)));
}

LogitFit logistic_irls(const std::vector<std::vector<double>>& xrows, const std::vector<double>& yv,
                       const std::vector<long>& cluster, int max_iter, double tol) {
  const long n = long(xrows.size());
  if (n == 0 || long(yv.size()) != n || long(cluster.size()) != n)
    throw Error("logistic regression: observations, outcomes and clusters differ in number", "");
  const long k = long(xrows[0].size());
  Eigen::MatrixXd X(n, k);
  Eigen::VectorXd y(n);
  for (long i = 0; i < n; ++i) {
    for (long j = 0; j < k; ++j) X(i, j) = xrows[i][j];
    y(i) = yv[i];
  }
  if (Eigen::ColPivHouseholderQR<Eigen::MatrixXd>(X).rank() < k)
    throw Error("logistic regression: the design matrix is singular (a predictor is constant or collinear)",
                "audit more than one variant bit width, or drop categories without items");
  LogitFit fit;
  fit.n = int(n);
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(k), mu(n);
  Eigen::MatrixXd info(k, k);
  auto linear_solve = [&](const Eigen::MatrixXd& a) {
    Eigen::LDLT<Eigen::MatrixXd> ldlt(a);
    if (ldlt.info() != Eigen::Success || ldlt.rcond() < 1e-12)
      throw Error("logistic regression: the design matrix is singular (a predictor is constant or collinear)",
                  "audit more than one variant bit width, or drop categories without items");
    return ldlt;
  };
  for (fit.iterations = 1; fit.iterations <= max_iter; ++fit.iterations) {
    Eigen::VectorXd eta = X * beta;
    mu = (1.0 / (1.0 + (-eta.array()).exp())).matrix();
    Eigen::VectorXd w = (mu.array() * (1 - mu.array())).max(1e-12).matrix();
    info = X.transpose() * w.asDiagonal() * X;
    Eigen::VectorXd step = linear_solve(info).solve(X.transpose() * (y - mu));
    beta += step;
    if (step.cwiseAbs().maxCoeff() < tol * (1 + beta.cwiseAbs().maxCoeff())) {
      fit.converged = true;
      break;
    }
  }
  Eigen::VectorXd eta = X * beta;
  mu = (1.0 / (1.0 + (-eta.array()).exp())).matrix();
  Eigen::VectorXd w = (mu.array() * (1 - mu.array())).matrix();
  info = X.transpose() * w.asDiagonal() * X;
  Eigen::MatrixXd bread = linear_solve(info).solve(Eigen::MatrixXd::Identity(k, k));
  // Score contributions summed within each cluster.
  std::map<long, Eigen::VectorXd> scores;
  for (long i = 0; i < n; ++i) {
    auto [it, fresh] = scores.try_emplace(cluster[i], Eigen::VectorXd::Zero(k));
    it->second += X.row(i).transpose() * (y(i) - mu(i));
  }
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(k, k);
  for (const auto& [g, u] : scores) meat += u * u.transpose();
  double G = double(scores.size());
  double factor = G > 1 && n > k ? G / (G - 1) * double(n - 1) / double(n - k) : kNaN;
  Eigen::MatrixXd vc = factor * bread * meat * bread;
  fit.n_clusters = int(scores.size());
  for (long j = 0; j < k; ++j) {
    fit.coef.push_back(beta(j));
    fit.se.push_back(std::sqrt(bread(j, j)));
    fit.se_clustered.push_back(std::sqrt(vc(j, j)));
    fit.p_clustered.push_back(normal_two_sided_p(beta(j) / fit.se_clustered.back()));
  }
  return fit;
}

double expected_calibration_error(const std::vector<double>& confidence, const std::vector<double>& correct, int bins) {
  if (confidence.empty()) return kNaN;
  std::vector<double> n(bins, 0), conf(bins, 0), acc(bins, 0);
  for (size_t i = 0; i < confidence.size(); ++i) {
    int b = std::clamp(int(std::ceil(confidence[i] * bins)) - 1, 0, bins - 1);  // bins (lo, hi]
    n[b] += 1;
    conf[b] += confidence[i];
    acc[b] += correct[i];
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b)
    if (n[b] > 0) ece += std::fabs(acc[b] / n[b] - conf[b] / n[b]) * n[b] / double(confidence.size());
  return ece;
}

}  // namespace qaudit::analysis
