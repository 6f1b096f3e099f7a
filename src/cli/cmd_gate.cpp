#include <fmt/format.h>

#include <memory>
#include <optional>

#include "cli/commands.h"
#include "common/error.h"
#include "common/files.h"
#include "report/audit_report.h"

namespace qaudit::cli {

Runner add_gate(CLI::App& app) {
  struct Args {
    std::string report, junit;
    std::optional<double> max_bb, max_usr, max_bias, max_kld;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "Applies release thresholds to an audit's report.json: one line per check, exit 0 when all pass, 1 when any\n"
      "fails, 2 on an error. Thresholds default to those the audit ran with.\n"
      "Example:\n"
      "  qaudit gate qaudit-audit/report.json --max-became-biased 0.03 --junit gate.xml");
  app.add_option("report", a->report, "report.json written by `qaudit run`")->required();
  app.add_option("--max-became-biased", a->max_bb, "max became-biased share above the noise floor")->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--max-usr-drop", a->max_usr, "max relative drop of the unknown-selection rate")->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--max-bias-score-delta", a->max_bias, "max |Δ| of the ambiguous bias score")->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--max-kld", a->max_kld, "max mean KL divergence over the corpus (0: not gated)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--junit", a->junit, "also write the checks as JUnit XML here");
  return [a] {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file_checked(a->report, "audit report"));
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(ErrorSite{a->report, 0, {}}, fmt::format("not valid JSON ({})", e.what()), "pass the report.json that `qaudit run` wrote");
    }
    if (!j.is_object() || j.value("schema", std::string()) != report::kAuditSchema)
      throw Error(ErrorSite{a->report, 0, "schema"}, fmt::format("not a qaudit audit report (expected schema {})", report::kAuditSchema),
                  "pass the report.json that `qaudit run` wrote");
    const auto& thr = j["gate"]["thresholds"];
    analysis::Thresholds t{a->max_bb.value_or(thr.value("became_biased_above_floor", 0.05)),
                           a->max_usr.value_or(thr.value("usr_drop", 0.10)),
                           a->max_bias.value_or(thr.value("bias_score_delta", 0.05)),
                           a->max_kld.value_or(thr.value("kld", 0.0))};
    j = report::regate(std::move(j), t);
    fmt::print("{}", report::gate_lines(j));
    if (!a->junit.empty()) write_file_atomic(a->junit, report::gate_junit(j));
    return j["gate"]["pass"].get<bool>() ? 0 : 1;
  };
}

}  // namespace qaudit::cli
