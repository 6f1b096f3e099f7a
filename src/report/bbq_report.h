// Renders BBQ metrics: a readable table for the terminal and a JSON document.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/bbq_metrics.h"

namespace qaudit::report {

struct EvalHeader {
  std::string model_path;
  std::string model_hash;
  std::string suite;
  std::string prompt_id;
  double temperature = 0;
  int n_items = 0;
  int n_skipped = 0;
  std::string settings;
};

// Per-category rows plus "overall"; each metric shows the expected value (from the answer
// distribution) and, after a slash, the argmax-based value.
std::string bbq_table(const EvalHeader& h, const std::map<std::string, analysis::BbqMetrics>& by_category);

// A number, or null for NaN (no items to compute it from).
nlohmann::json json_number(double v);

nlohmann::json bbq_metrics_json(const analysis::BbqMetrics& m);

// The per-category metrics alone (the "metrics" member of bbq_json).
nlohmann::json bbq_metrics_json(const std::map<std::string, analysis::BbqMetrics>& by_category);

nlohmann::json bbq_json(const EvalHeader& h, const std::map<std::string, analysis::BbqMetrics>& by_category);

}  // namespace qaudit::report
