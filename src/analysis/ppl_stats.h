// Perplexity and KL-divergence statistics from per-token values, with the formulas and the
// uncertainty estimates llama-perplexity prints (so that the two agree on the same tokens).
#pragma once

#include <cstdint>
#include <vector>

namespace qaudit::analysis {

struct ValueUnc {
  double value = 0, unc = 0;
};

struct PplStats {
  long count = 0;
  ValueUnc ppl;                   // of the model
  bool has_base = false;
  ValueUnc ppl_base;              // of the reference
  double cor_log_ppl = 0;         // correlation of ln PPL(model) and ln PPL(reference)
  ValueUnc log_ppl_ratio;         // mean ln(PPL(Q)/PPL(base))
  ValueUnc ppl_ratio, ppl_diff;
  ValueUnc kld;                   // mean KL divergence
  // KLD percentiles: max, 99.9, 99, 95, 90, median, 10, 5, 1, 0.1, min
  double kld_max = 0, kld_p999 = 0, kld_p99 = 0, kld_p95 = 0, kld_p90 = 0, kld_median = 0, kld_p10 = 0, kld_p5 = 0,
         kld_p1 = 0, kld_p01 = 0, kld_min = 0;
  ValueUnc p_diff;                // mean Δp
  ValueUnc p_diff_rms;
  double p_diff_max = 0, p_diff_p999 = 0, p_diff_p99 = 0, p_diff_p95 = 0, p_diff_p90 = 0, p_diff_p75 = 0,
         p_diff_median = 0, p_diff_p25 = 0, p_diff_p10 = 0, p_diff_p5 = 0, p_diff_p1 = 0, p_diff_p01 = 0, p_diff_min = 0;
  ValueUnc same_top;              // share of tokens where both rank the same token first
};

// Per-token values, concatenated over chunks. nll_base, kld, p_diff and same_top may be empty
// (perplexity only).
PplStats ppl_stats(const std::vector<float>& nll, const std::vector<float>& nll_base, const std::vector<float>& kld,
                   const std::vector<float>& p_diff, const std::vector<uint8_t>& same_top);

}  // namespace qaudit::analysis
