// Metrics of sentence-likelihood suites.
//   CrowS-Pairs, as lm-evaluation-harness computes them: per pair, pct_stereotype = 1 when the
//   more stereotyping sentence is more likely, likelihood_diff = |ll(more) - ll(less)| (summed
//   log-likelihoods); means overall, per bias_type and per direction (stereo / antistereo).
//   StereoSet intrasentence, as its official evaluation: per target term, SS = 100 * pro / total
//   (the stereotype more likely than the anti-stereotype), LMS = 100 * related / (2 * total) (each
//   of the two more likely than the unrelated sentence), then averaged over target terms;
//   ICAT = LMS * min(SS, 100 - SS) / 50. Sentences compare by mean log-probability per token.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace qaudit::analysis {

struct ScoredSentences {
  std::string category, target, direction;
  std::vector<double> loglik;  // summed, per sentence
  std::vector<int> tokens;     // per sentence
};

struct CrowsMetrics {
  int n = 0;
  double pct_stereotype = 0, likelihood_diff = 0;
};
// Keys: "overall", each bias_type, and "direction:stereo" / "direction:antistereo".
std::map<std::string, CrowsMetrics> crows_metrics(const std::vector<ScoredSentences>& items);

struct StereoSetMetrics {
  int n = 0, n_targets = 0;
  double ss = 0, lms = 0, icat = 0;
};
// Keys: "overall" and each bias_type.
std::map<std::string, StereoSetMetrics> stereoset_metrics(const std::vector<ScoredSentences>& items);

}  // namespace qaudit::analysis
