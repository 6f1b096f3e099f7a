// The audit's reports. audit_json builds the one document everything else is rendered from
// (schema "qaudit.audit/1", documented in docs/report-schema.md): the Markdown summary, the
// self-contained HTML page and the JUnit XML of the gate. items_csv is the per-item export.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/audit.h"

namespace qaudit::report {

inline constexpr const char* kAuditSchema = "qaudit.audit/1";

nlohmann::json audit_json(const nlohmann::json& spec, const std::vector<analysis::ModelInfo>& models,
                          const std::vector<analysis::SuiteResult>& suites, const analysis::Thresholds& thresholds);

// Re-evaluates the gate of a report with new thresholds (what `qaudit gate` does); returns the
// report with its "gate" and "verdicts" replaced.
nlohmann::json regate(nlohmann::json report, const analysis::Thresholds& thresholds);

std::string audit_markdown(const nlohmann::json& report);
std::string audit_html(const nlohmann::json& report);
std::string gate_junit(const nlohmann::json& report);
// One line per gate check ("PASS"/"FAIL"), for the terminal.
std::string gate_lines(const nlohmann::json& report);

// One row per (suite, model, item): what pandas.read_csv reads directly.
struct CsvModel {
  const analysis::ModelInfo* model;
  const std::map<std::string, analysis::Answer>* answers;
};
std::string items_csv_header();
std::string items_csv_rows(const std::string& suite, const std::vector<suites::Item>& items,
                           const std::vector<CsvModel>& models);

// HTML-escapes text (& < > " ').
std::string html_escape(const std::string& s);

}  // namespace qaudit::report
