// BBQ metrics as pure functions of scored items: accuracy, the study's SRS / USR / anti rate,
// the invalid mass, and lm-evaluation-harness's ambiguous and disambiguated bias scores. Each
// comes in two forms: "expected" from the answer distribution (the option probabilities,
// renormalised over the options), and "argmax" from the single most likely option.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "suites/item.h"

namespace qaudit::analysis {

struct ScoredItem {
  std::string category;
  suites::Condition condition = suites::Condition::ambiguous;
  int label = 0;
  int stereotyped = -1, anti = -1, unknown = -1;
  std::vector<double> probs;  // per option (need not sum to 1; renormalised here)
  double invalid = 0;         // mass on no option
};

struct Metric {
  double expected = 0;
  double argmax = 0;
};

struct BbqMetrics {
  int n = 0, n_ambiguous = 0, n_disambiguated = 0;
  Metric accuracy_ambiguous, accuracy_disambiguated;
  // On ambiguous items, the study's setting: share of answers on each role.
  Metric srs, usr, anti;
  Metric bias_score_ambiguous, bias_score_disambiguated;  // lm-evaluation-harness's
  double invalid = 0;  // mean mass on no option, all items
};

// NaN marks a metric with no items to compute it from.
BbqMetrics bbq_metrics(const std::vector<ScoredItem>& items);

// Per category (sorted by name) plus "overall".
std::map<std::string, BbqMetrics> bbq_metrics_by_category(const std::vector<ScoredItem>& items);

}  // namespace qaudit::analysis
