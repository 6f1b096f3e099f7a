#include "analysis/cliff.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace qaudit::analysis {

Cliff find_cliff(const std::string& metric, std::vector<Rung> rungs, double threshold, const std::string& unit) {
  Cliff c;
  c.metric = metric;
  c.threshold = threshold;
  rungs.erase(std::remove_if(rungs.begin(), rungs.end(), [](const Rung& r) { return std::isnan(r.value); }), rungs.end());
  std::stable_sort(rungs.begin(), rungs.end(),
                   [](const Rung& a, const Rung& b) { return a.bits_per_weight > b.bits_per_weight; });
  for (const auto& r : rungs)
    if (r.value > threshold) {
      c.first_crossing = r.name;
      break;
    }
  for (size_t i = 1; i < rungs.size(); ++i) {
    double d = rungs[i].value - rungs[i - 1].value;
    if (c.jump_from.empty() || d > c.jump) {
      c.jump = d;
      c.jump_from = rungs[i - 1].name;
      c.jump_to = rungs[i].name;
    }
  }
  auto fmtv = [&](double v, bool sign) {
    if (unit == "points") return sign ? fmt::format("{:+.1f} points", 100 * v) : fmt::format("{:.1f} points", 100 * v);
    return sign ? fmt::format("{:+.3f}", v) : fmt::format("{:.3f}", v);
  };
  if (c.jump_from.empty()) {
    c.text = fmt::format("{}: too few rungs to find a cliff", metric);
  } else if (!c.first_crossing.empty()) {
    c.text = fmt::format("safety cliff for {} at {} (threshold {}); largest jump between {} and {}: {}", metric,
                         c.first_crossing, fmtv(threshold, false), c.jump_from, c.jump_to, fmtv(c.jump, true));
  } else {
    c.text = fmt::format("no rung crosses the {} threshold ({}); largest jump between {} and {}: {}", metric,
                         fmtv(threshold, false), c.jump_from, c.jump_to, fmtv(c.jump, true));
  }
  return c;
}

}  // namespace qaudit::analysis
