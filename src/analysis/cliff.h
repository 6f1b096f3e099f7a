// The safety cliff: along a ladder ordered by bits per weight (reference first), the first rung
// where a metric crosses its threshold and the largest jump between adjacent rungs.
#pragma once

#include <string>
#include <vector>

namespace qaudit::analysis {

struct Rung {
  std::string name;
  double bits_per_weight = 0;
  double value = 0;  // NaN: not available (failed variant); skipped
};

struct Cliff {
  std::string metric;
  double threshold = 0;
  std::string first_crossing;  // first rung (highest bits first) whose value exceeds the threshold; "" if none
  std::string jump_from, jump_to;  // adjacent available rungs with the largest increase; "" if fewer than two
  double jump = 0;
  std::string text;            // the finding in words
};

// `rungs` in any order; they are ordered by bits per weight, highest first. Higher values are worse.
// `unit` formats values in the text: "points" prints 100 * value with one decimal.
Cliff find_cliff(const std::string& metric, std::vector<Rung> rungs, double threshold, const std::string& unit);

}  // namespace qaudit::analysis
