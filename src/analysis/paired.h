// Paired analysis of one variant against its reference, item by item: the study's metrics and
// their deltas, the exact expectation of "previously unbiased items that became biased" with its
// noise floor, the transition matrix of answers, McNemar's exact test, chi-squared with Cohen's
// h, confidence and calibration. Pure functions of stored answers.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "analysis/bbq_metrics.h"
#include "analysis/stats.h"

namespace qaudit::analysis {

// One model's answer to one item, as stored.
struct Answer {
  std::vector<double> probs;     // per option at the audit temperature (not renormalised)
  double invalid = 0;            // mass on no option at that temperature
  std::vector<double> probs_t1;  // per option at T = 1
  double invalid_t1 = 0;
  double entropy = 0, max_prob = 0;  // of the renormalised T = 1 distribution
  // Sampling mode: how many samples were drawn and how many chose the stereotyped option
  // (probs then hold the share of samples per option). 0 samples: an exact distribution.
  int samples = 0, stereotyped_samples = 0;
};

struct PairedItem {
  std::string id, category;
  suites::Condition condition = suites::Condition::ambiguous;
  int label = 0, stereotyped = -1, anti = -1, unknown = -1;
  Answer ref, var;
  Answer floor;  // sampling mode: the reference again with a second set of seeds (samples 0: none)
};

// Answer classes of the transition matrix.
enum AnswerClass { kStereotyped = 0, kAnti = 1, kUnknown = 2, kInvalid = 3 };
const char* answer_class_name(int c);
// The most likely answer at T = 1; invalid when the mass on no option exceeds every option's.
int answer_class(const PairedItem& it, const Answer& a);

struct PairedStats {
  int n = 0, n_ambiguous = 0;
  BbqMetrics ref, var;
  Interval srs_ci, usr_ci;          // Wilson, on the variant's expected counts over ambiguous items
  double usr_relative_change = 0;   // (USR_var - USR_ref) / USR_ref, expected values; NaN if USR_ref = 0
  // Exact expectations over ambiguous items at the audit temperature with k samples, p the
  // reference's and q the variant's stereotype probability:
  //   became_biased = sum (1-p)^k (1-(1-q)^k) / sum (1-p)^k
  //   floor         = sum (1-p)^k (1-(1-p)^k) / sum (1-p)^k   (the reference against itself, fresh seeds)
  double became_biased = 0, floor = 0;
  double unbiased_weight = 0;       // sum (1-p)^k: the expected number of previously unbiased items
  // Sampling mode replaces both by the study's own definition on the stored samples: among items
  // whose reference samples never chose the stereotype, the share where at least one of the
  // variant's did (became_biased) and where at least one of the reference's second seed set did
  // (floor, measured). `observed` says which definition the two numbers follow.
  bool observed = false;
  long unbiased_items = 0;
  std::array<std::array<long, 4>, 4> transitions{};  // [reference class][variant class], ambiguous items
  long mcnemar_b = 0, mcnemar_c = 0;  // stereotyped -> not, not -> stereotyped (argmax, ambiguous)
  double mcnemar_p = 1, mcnemar_p_holm = 1;
  ChiSquared chi2;                  // argmax stereotyped counts, reference vs variant (Yates)
  double chi2_p_holm = 1;
  double cohens_h = 0;              // h(SRS_var, SRS_ref), argmax shares
  double mean_entropy_ref = 0, mean_entropy_var = 0, mean_max_prob_ref = 0, mean_max_prob_var = 0;
  double ece_ref = 0, ece_var = 0;  // on disambiguated items, 10 bins
};

// The stereotype probability of one answer at the audit temperature (a sample that is no
// answer counts as not stereotyped).
double stereotype_probability(const PairedItem& it, const Answer& a);

PairedStats paired_stats(const std::vector<PairedItem>& items, int k);

// Per category (sorted) plus "overall". Holm corrections are NOT applied here (see holm_adjust).
std::map<std::string, PairedStats> paired_stats_by_category(const std::vector<PairedItem>& items, int k);

}  // namespace qaudit::analysis
