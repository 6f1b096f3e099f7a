#include "analysis/ppl_stats.h"

#include <algorithm>
#include <cmath>

namespace qaudit::analysis {
namespace {

// Mean and its standard error (0 with ten values or fewer), as llama-perplexity reports them.
ValueUnc mean_unc(double sum, double sum2, long count) {
  if (count < 1) return {0, 0};
  double f = sum / double(count);
  double df = sum2 / double(count) - f * f;
  df = df > 0 && count > 10 ? std::sqrt(df / double(count - 1)) : 0.0;
  return {f, df};
}

double covariance(double suma, double sumb, double sumab, long count) {
  if (count < 10) return 0.0;
  double var = sumab / double(count) - (suma / double(count)) * (sumb / double(count));
  return var / double(count - 1);
}

// Linear interpolation between order statistics (llama-perplexity's percentile).
double percentile(const std::vector<float>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  double p = fraction * double(sorted.size() - 1);
  size_t ip = size_t(p);
  p -= double(ip);
  return (1 - p) * sorted[ip] + p * sorted[std::min(ip + 1, sorted.size() - 1)];
}

double median(const std::vector<float>& v) {
  if (v.empty()) return 0;
  return v.size() % 2 == 0 ? 0.5 * (v[v.size() / 2] + v[v.size() / 2 - 1]) : v[v.size() / 2];
}

}  // namespace

PplStats ppl_stats(const std::vector<float>& nll, const std::vector<float>& nll_base, const std::vector<float>& kld,
                   const std::vector<float>& p_diff, const std::vector<uint8_t>& same_top) {
  PplStats s;
  s.count = long(nll.size());
  double sn = 0, sn2 = 0;
  for (float v : nll) {
    sn += v;
    sn2 += double(v) * v;
  }
  auto log_ppl = mean_unc(sn, sn2, s.count);
  s.ppl = {std::exp(log_ppl.value), std::exp(log_ppl.value) * log_ppl.unc};
  if (nll_base.empty()) return s;
  s.has_base = true;
  double sb = 0, sb2 = 0, snb = 0, sk = 0, sk2 = 0, sd = 0, sd2 = 0, sd4 = 0;
  long same = 0;
  for (size_t i = 0; i < nll.size(); ++i) {
    sb += nll_base[i];
    sb2 += double(nll_base[i]) * nll_base[i];
    snb += double(nll[i]) * nll_base[i];
    sk += kld[i];
    sk2 += double(kld[i]) * kld[i];
    sd += p_diff[i];
    double d2 = double(p_diff[i]) * p_diff[i];
    sd2 += d2;
    sd4 += d2 * d2;
    same += same_top[i];
  }
  auto log_base = mean_unc(sb, sb2, s.count);
  s.ppl_base = {std::exp(log_base.value), std::exp(log_base.value) * log_base.unc};
  double cov = covariance(sn, sb, snb, s.count);
  s.cor_log_ppl = cov / (log_ppl.unc * log_base.unc);
  s.log_ppl_ratio = {log_ppl.value - log_base.value,
                     std::sqrt(log_ppl.unc * log_ppl.unc + log_base.unc * log_base.unc - 2.0 * cov)};
  s.ppl_ratio = {std::exp(s.log_ppl_ratio.value), std::exp(s.log_ppl_ratio.value) * s.log_ppl_ratio.unc};
  double ppl_cov = s.ppl.value * s.ppl_base.value * cov;
  s.ppl_diff = {s.ppl.value - s.ppl_base.value,
                std::sqrt(s.ppl.unc * s.ppl.unc + s.ppl_base.unc * s.ppl_base.unc - 2.0 * ppl_cov)};
  s.kld = mean_unc(sk, sk2, s.count);
  std::vector<float> ks = kld, ds = p_diff;
  std::sort(ks.begin(), ks.end());
  std::sort(ds.begin(), ds.end());
  s.kld_max = ks.back();
  s.kld_p999 = percentile(ks, 0.999);
  s.kld_p99 = percentile(ks, 0.99);
  s.kld_p95 = percentile(ks, 0.95);
  s.kld_p90 = percentile(ks, 0.90);
  s.kld_median = median(ks);
  s.kld_p10 = percentile(ks, 0.10);
  s.kld_p5 = percentile(ks, 0.05);
  s.kld_p1 = percentile(ks, 0.01);
  s.kld_p01 = percentile(ks, 0.001);
  s.kld_min = ks.front();
  s.p_diff = mean_unc(sd, sd2, s.count);
  auto mse = mean_unc(sd2, sd4, s.count);
  s.p_diff_rms = {std::sqrt(mse.value), mse.value > 0 ? 0.5 / std::sqrt(mse.value) * mse.unc : 0.0};
  s.p_diff_max = ds.back();
  s.p_diff_p999 = percentile(ds, 0.999);
  s.p_diff_p99 = percentile(ds, 0.99);
  s.p_diff_p95 = percentile(ds, 0.95);
  s.p_diff_p90 = percentile(ds, 0.90);
  s.p_diff_p75 = percentile(ds, 0.75);
  s.p_diff_median = median(ds);
  s.p_diff_p25 = percentile(ds, 0.25);
  s.p_diff_p10 = percentile(ds, 0.10);
  s.p_diff_p5 = percentile(ds, 0.05);
  s.p_diff_p1 = percentile(ds, 0.01);
  s.p_diff_p01 = percentile(ds, 0.001);
  s.p_diff_min = ds.front();
  double top = double(same) / double(s.count);
  s.same_top = {top, s.count > 1 ? std::sqrt(top * (1 - top) / double(s.count - 1)) : 0.0};
  return s;
}

}  // namespace qaudit::analysis
