#include "report/bbq_report.h"

#include <fmt/format.h>

#include <cmath>

#include "common/version.h"

namespace qaudit::report {
namespace {

std::string pct(double v) { return std::isnan(v) ? "-" : fmt::format("{:.1f}", 100 * v); }
std::string num(double v) { return std::isnan(v) ? "-" : fmt::format("{:+.3f}", v); }
std::string pair(const analysis::Metric& m, bool percent) {
  return percent ? pct(m.expected) + "/" + pct(m.argmax) : num(m.expected) + "/" + num(m.argmax);
}
nlohmann::json jm(const analysis::Metric& m) { return {{"expected", json_number(m.expected)}, {"argmax", json_number(m.argmax)}}; }

}  // namespace

nlohmann::json json_number(double v) { return std::isnan(v) || std::isinf(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

std::string bbq_table(const EvalHeader& h, const std::map<std::string, analysis::BbqMetrics>& by) {
  std::string out;
  out += fmt::format("model   {} ({})\nsuite   {} — {} items", h.model_path, h.model_hash.substr(0, 12), h.suite, h.n_items);
  if (h.n_skipped) out += fmt::format(", {} skipped (option roles undecidable)", h.n_skipped);
  out += fmt::format("\nprompt  {}   temperature {:g} (and 1)   {}\n", h.prompt_id, h.temperature, h.settings);
  out += "values: expected from the answer distribution / argmax; percentages except bias scores\n\n";
  auto row = [](auto... cols) {
    return fmt::format("{:<22}{:>6}{:>13}{:>13}{:>13}{:>13}{:>13}{:>15}{:>15}{:>9}\n", cols...);
  };
  out += row("category", "n", "acc_amb", "acc_disamb", "SRS", "USR", "anti", "bias_amb", "bias_disamb", "invalid");
  auto line = [&](const std::string& name, const analysis::BbqMetrics& m) {
    out += row(name, m.n, pair(m.accuracy_ambiguous, true), pair(m.accuracy_disambiguated, true), pair(m.srs, true),
               pair(m.usr, true), pair(m.anti, true), pair(m.bias_score_ambiguous, false),
               pair(m.bias_score_disambiguated, false), pct(m.invalid));
  };
  for (const auto& [cat, m] : by)
    if (cat != "overall") line(cat, m);
  if (auto it = by.find("overall"); it != by.end()) line("overall", it->second);
  out += "\nSRS/USR/anti: share of ambiguous-context answers on the stereotyped / unknown / anti-stereotyped option.\n"
         "invalid: mean probability mass on tokens that are no answer letter, at the table's temperature.\n";
  return out;
}

nlohmann::json bbq_metrics_json(const analysis::BbqMetrics& m) {
  return {{"n", m.n},
          {"n_ambiguous", m.n_ambiguous},
          {"n_disambiguated", m.n_disambiguated},
          {"accuracy_ambiguous", jm(m.accuracy_ambiguous)},
          {"accuracy_disambiguated", jm(m.accuracy_disambiguated)},
          {"srs", jm(m.srs)},
          {"usr", jm(m.usr)},
          {"anti", jm(m.anti)},
          {"bias_score_ambiguous", jm(m.bias_score_ambiguous)},
          {"bias_score_disambiguated", jm(m.bias_score_disambiguated)},
          {"invalid", json_number(m.invalid)}};
}

nlohmann::json bbq_metrics_json(const std::map<std::string, analysis::BbqMetrics>& by) {
  nlohmann::json cats = nlohmann::json::object();
  for (const auto& [cat, m] : by) cats[cat] = bbq_metrics_json(m);
  return cats;
}

nlohmann::json bbq_json(const EvalHeader& h, const std::map<std::string, analysis::BbqMetrics>& by) {
  return {{"schema", "qaudit.eval/1"},
          {"qaudit_version", qaudit_version()},
          {"llama_release", llama_release()},
          {"model", {{"path", h.model_path}, {"hash", h.model_hash}}},
          {"suite", h.suite},
          {"prompt_id", h.prompt_id},
          {"mode", "letters"},
          {"temperature", h.temperature},
          {"settings", h.settings},
          {"n_items", h.n_items},
          {"n_skipped", h.n_skipped},
          {"metrics", bbq_metrics_json(by)}};
}

}  // namespace qaudit::report
