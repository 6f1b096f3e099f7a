#include "report/audit_report.h"

#include <fmt/format.h>

#include <cmath>

#include "common/version.h"
#include "report/bbq_report.h"

namespace qaudit::report {
using nlohmann::json;
namespace {

json interval_json(const analysis::Interval& i) { return json::array({json_number(i.lo), json_number(i.hi)}); }

json paired_json(const analysis::PairedStats& s) {
  json tr = json::array();
  for (const auto& row : s.transitions) tr.push_back(json(std::vector<long>(row.begin(), row.end())));
  return {{"n", s.n},
          {"n_ambiguous", s.n_ambiguous},
          {"reference", bbq_metrics_json(s.ref)},
          {"variant", bbq_metrics_json(s.var)},
          {"srs_ci", interval_json(s.srs_ci)},
          {"usr_ci", interval_json(s.usr_ci)},
          {"usr_relative_change", json_number(s.usr_relative_change)},
          {"became_biased", json_number(s.became_biased)},
          {"floor", json_number(s.floor)},
          {"became_biased_above_floor", json_number(s.became_biased - s.floor)},
          {"unbiased_weight", json_number(s.unbiased_weight)},
          {"became_biased_definition", s.observed ? "observed: share of items with 0 of k reference samples stereotyped that have >= 1 at the variant (floor: >= 1 with the second seed set)"
                                                  : "expected: sum (1-p)^k (1-(1-q)^k) / sum (1-p)^k"},
          {"unbiased_items", s.unbiased_items},
          {"transitions", tr},
          {"mcnemar", {{"b", s.mcnemar_b}, {"c", s.mcnemar_c}, {"p", json_number(s.mcnemar_p)}, {"p_holm", json_number(s.mcnemar_p_holm)}}},
          {"chi2", {{"statistic", json_number(s.chi2.statistic)}, {"p", json_number(s.chi2.p)}, {"p_holm", json_number(s.chi2_p_holm)}}},
          {"cohens_h", json_number(s.cohens_h)},
          {"entropy", {{"reference", json_number(s.mean_entropy_ref)}, {"variant", json_number(s.mean_entropy_var)}}},
          {"max_prob", {{"reference", json_number(s.mean_max_prob_ref)}, {"variant", json_number(s.mean_max_prob_var)}}},
          {"ece", {{"reference", json_number(s.ece_ref)}, {"variant", json_number(s.ece_var)}}}};
}

json model_json(const analysis::ModelInfo& m) {
  return {{"name", m.name},
          {"path", m.path},
          {"hash", m.hash},
          {"bits_per_weight", json_number(m.bits_per_weight)},
          {"file_size", m.file_size},
          {"failed", m.failed},
          {"error", m.error},
          {"max_tensor_rel", json_number(m.max_tensor_rel)},
          {"mean_tensor_rel", json_number(m.mean_tensor_rel)},
          {"perplexity", {{"ppl", json_number(m.ppl)},
                          {"ppl_ratio", json_number(m.ppl_ratio)},
                          {"kld", json_number(m.kld)},
                          {"kld_unc", json_number(m.kld_unc)},
                          {"kld_p99", json_number(m.kld_p99)},
                          {"p_diff_rms", json_number(m.p_diff_rms)},
                          {"same_top", json_number(m.same_top)},
                          {"error", m.ppl_error}}}};
}

json suite_json(const analysis::SuiteResult& r, const analysis::Thresholds& t) {
  json variants = json::array();
  for (const auto& v : r.variants) {
    json cats = json::object(), gated = json::object(), flips = json::array();
    for (const auto& [cat, st] : v.by_category) cats[cat] = paired_json(st);
    if (!v.failed)
      for (const auto& g : analysis::gated_values(v.by_category.at("overall"), t)) gated[g.metric] = json_number(g.value);
    for (const auto& f : v.flips)
      flips.push_back({{"id", f.item->id},
                       {"category", f.item->category},
                       {"context", f.item->context},
                       {"question", f.item->question},
                       {"options", f.item->options},
                       {"stereotyped", f.item->stereotyped},
                       {"anti", f.item->anti},
                       {"unknown", f.item->unknown},
                       {"p_reference", f.p_ref},
                       {"p_variant", f.p_var},
                       {"reference_answer", analysis::answer_class_name(f.ref_class)},
                       {"variant_answer", analysis::answer_class_name(f.var_class)}});
    variants.push_back({{"name", v.name},
                        {"failed", v.failed},
                        {"error", v.error},
                        {"usr_relative_change_mean", json_number(v.usr_relative_change_mean)},
                        {"gated", gated},
                        {"categories", cats},
                        {"flips", flips}});
  }
  const auto& f = r.regression.fit;
  json reg = {{"names", r.regression.names}, {"error", r.regression.error}, {"outcome", "stereotype probability at the audit temperature (fractional logit)"}};
  if (r.regression.error.empty()) {
    auto arr = [](const std::vector<double>& v) {
      json a = json::array();
      for (double x : v) a.push_back(json_number(x));
      return a;
    };
    reg["coef"] = arr(f.coef);
    reg["se"] = arr(f.se);
    reg["se_clustered"] = arr(f.se_clustered);
    reg["p_clustered"] = arr(f.p_clustered);
    reg["n"] = f.n;
    reg["n_clusters"] = f.n_clusters;
    reg["converged"] = f.converged;
  }
  json cliffs = json::array();
  for (const auto& c : r.cliffs)
    cliffs.push_back({{"metric", c.metric},
                      {"threshold", c.threshold},
                      {"first_crossing", c.first_crossing},
                      {"jump_from", c.jump_from},
                      {"jump_to", c.jump_to},
                      {"jump", json_number(c.jump)},
                      {"text", c.text}});
  return {{"name", r.name},
          {"version", r.version},
          {"prompt_id", r.prompt_id},
          {"temperature", r.temperature},
          {"k", r.k},
          {"n_items", r.n_items},
          {"n_skipped", r.n_skipped},
          {"transition_labels", {"stereotyped", "anti", "unknown", "invalid"}},
          {"reference", bbq_metrics_json(r.reference)},
          {"variants", variants},
          {"regression", reg},
          {"cliffs", cliffs}};
}

double num(const json& j) { return j.is_number() ? j.get<double>() : NAN; }
std::string pct(const json& j) { return j.is_number() ? fmt::format("{:.1f}", 100 * j.get<double>()) : "-"; }
std::string pts(const json& j) { return j.is_number() ? fmt::format("{:+.1f}", 100 * j.get<double>()) : "-"; }
std::string fix3(const json& j) { return j.is_number() ? fmt::format("{:+.3f}", j.get<double>()) : "-"; }
std::string gated_text(const json& j, const std::string& metric) {
  if (metric == "kld") return j.is_number() ? fmt::format("{:.4f}", j.get<double>()) : "-";
  return metric == "bias_score_delta" ? fix3(j) : pts(j);
}

const json* model_by_name(const json& report, const std::string& name) {
  for (const auto& m : report["models"])
    if (m["name"] == name) return &m;
  return nullptr;
}

std::string xml_escape(const std::string& s) { return html_escape(s); }

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

json audit_json(const json& spec, const std::vector<analysis::ModelInfo>& models,
                const std::vector<analysis::SuiteResult>& suites, const analysis::Thresholds& t) {
  json j = {{"schema", kAuditSchema}, {"qaudit_version", qaudit_version()}, {"llama_release", llama_release()}, {"spec", spec}};
  j["models"] = json::array();
  for (const auto& m : models) j["models"].push_back(model_json(m));
  j["suites"] = json::array();
  for (const auto& s : suites) j["suites"].push_back(suite_json(s, t));
  return regate(std::move(j), t);
}

json regate(json j, const analysis::Thresholds& t) {
  std::map<std::string, double> thr = {{"became_biased_above_floor", t.became_biased},
                                       {"usr_drop", t.usr_drop},
                                       {"bias_score_delta", t.bias_score_delta}};
  if (t.kld > 0) thr["kld"] = t.kld;
  json checks = json::array(), verdicts = json::object();
  bool all = true;
  for (const auto& m : j["models"])
    if (m["name"] != "reference") verdicts[m["name"].get<std::string>()] = m["failed"].get<bool>() ? "failed" : "pass";
  for (const auto& s : j["suites"])
    for (const auto& v : s["variants"]) {
      std::string name = v["name"];
      if (v["failed"].get<bool>()) {
        checks.push_back({{"suite", s["name"]}, {"variant", name}, {"metric", "evaluated"}, {"value", nullptr},
                          {"threshold", nullptr}, {"pass", false}, {"note", v["error"]}});
        all = false;
        continue;
      }
      for (const auto& [metric, limit] : thr) {
        if (metric == "kld") continue;  // a property of the model, checked once below
        double value = num(v["gated"].value(metric, json()));
        // A metric that cannot be computed (e.g. USR of 0 at the reference) does not fail the gate.
        bool pass = std::isnan(value) || value <= limit;
        checks.push_back({{"suite", s["name"]}, {"variant", name}, {"metric", metric}, {"value", json_number(value)},
                          {"threshold", limit}, {"pass", pass}, {"note", std::isnan(value) ? "not computable" : ""}});
        if (!pass) {
          all = false;
          verdicts[name] = "fail";
        }
      }
    }
  if (t.kld > 0)
    for (const auto& m : j["models"]) {
      if (m["name"] == "reference" || m["failed"].get<bool>()) continue;
      double value = num(m["perplexity"]["kld"]);
      bool pass = std::isnan(value) || value <= t.kld;
      std::string name = m["name"];
      checks.push_back({{"suite", "corpus"}, {"variant", name}, {"metric", "kld"}, {"value", json_number(value)},
                        {"threshold", t.kld}, {"pass", pass}, {"note", std::isnan(value) ? "not measured" : ""}});
      if (!pass) {
        all = false;
        verdicts[name] = "fail";
      }
    }
  j["gate"] = {{"thresholds", thr}, {"checks", checks}, {"pass", all}};
  j["verdicts"] = verdicts;
  return j;
}

std::string gate_lines(const json& j) {
  std::string out;
  for (const auto& c : j["gate"]["checks"]) {
    std::string metric = c["metric"];
    if (metric == "evaluated") {
      out += fmt::format("FAIL  {:<10} {:<18} variant failed: {}\n", c["suite"].get<std::string>(),
                         c["variant"].get<std::string>(), c["note"].get<std::string>());
      continue;
    }
    out += fmt::format("{}  {:<10} {:<18} {:<27} {:>8}  (max {})\n", c["pass"].get<bool>() ? "PASS" : "FAIL",
                       c["suite"].get<std::string>(), c["variant"].get<std::string>(), metric,
                       gated_text(c["value"], metric), gated_text(c["threshold"], metric));
  }
  out += fmt::format("gate: {}\n", j["gate"]["pass"].get<bool>() ? "PASS" : "FAIL");
  return out;
}

std::string gate_junit(const json& j) {
  int n = 0, failures = 0;
  std::string cases;
  for (const auto& c : j["gate"]["checks"]) {
    ++n;
    std::string metric = c["metric"];
    cases += fmt::format("    <testcase classname=\"qaudit.{}.{}\" name=\"{}\">", xml_escape(c["suite"]),
                         xml_escape(c["variant"]), xml_escape(metric));
    if (!c["pass"].get<bool>()) {
      ++failures;
      std::string msg = metric == "evaluated"
                            ? "variant failed: " + c["note"].get<std::string>()
                            : fmt::format("{} = {} exceeds {}", metric, gated_text(c["value"], metric), gated_text(c["threshold"], metric));
      cases += fmt::format("<failure message=\"{}\"/>", xml_escape(msg));
    }
    cases += "</testcase>\n";
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"qaudit gate\" tests=\"{}\" "
      "failures=\"{}\" errors=\"0\">\n{}  </testsuite>\n</testsuites>\n",
      n, failures, cases);
}

std::string audit_markdown(const json& j) {
  std::string out;
  const json* ref = model_by_name(j, "reference");
  out += fmt::format("## qaudit audit — {}\n\n", ref ? (*ref)["path"].get<std::string>() : "");
  out += fmt::format("Gate: **{}** · qaudit {} · llama.cpp {}\n\n", j["gate"]["pass"].get<bool>() ? "PASS" : "FAIL",
                     j["qaudit_version"].get<std::string>(), j["llama_release"].get<std::string>());
  for (const auto& s : j["suites"]) {
    out += fmt::format("### Suite `{}` ({} items, temperature {}, k = {})\n\n", s["name"].get<std::string>(),
                       s["n_items"].get<int>(), s["temperature"].get<double>(), s["k"].get<int>());
    out += "| variant | bits/weight | verdict | became biased above floor (pts) | USR drop (pts) | Δ bias score (amb) | SRS (%) | USR (%) | McNemar p (Holm) |\n";
    out += "|---|---:|---|---:|---:|---:|---:|---:|---:|\n";
    const auto& r0 = s["reference"]["overall"];
    out += fmt::format("| reference | {:.2f} | — | — | — | — | {} | {} | — |\n", ref ? num((*ref)["bits_per_weight"]) : NAN,
                       pct(r0["srs"]["expected"]), pct(r0["usr"]["expected"]));
    for (const auto& v : s["variants"]) {
      std::string name = v["name"];
      const json* m = model_by_name(j, name);
      double bpw = m ? num((*m)["bits_per_weight"]) : NAN;
      if (v["failed"].get<bool>()) {
        out += fmt::format("| {} | {:.2f} | failed | {} | | | | | |\n", name, bpw, v["error"].get<std::string>());
        continue;
      }
      const auto& o = v["categories"]["overall"];
      out += fmt::format("| {} | {:.2f} | {} | {} | {} | {} | {} | {} | {:.3g} |\n", name, bpw,
                         j["verdicts"].value(name, std::string("?")), pts(v["gated"]["became_biased_above_floor"]),
                         pts(v["gated"]["usr_drop"]), fix3(v["gated"]["bias_score_delta"]), pct(o["variant"]["srs"]["expected"]),
                         pct(o["variant"]["usr"]["expected"]), num(o["mcnemar"]["p_holm"]));
    }
    out += "\n";
    for (const auto& c : s["cliffs"]) out += fmt::format("- {}\n", c["text"].get<std::string>());
    out += "\n";
  }
  bool any_ppl = false;
  for (const auto& m : j["models"]) any_ppl |= m["perplexity"]["ppl"].is_number();
  if (any_ppl) {
    out += "### Perplexity and KL divergence against the reference\n\n| model | PPL | PPL ratio | mean KLD | KLD p99 | same top token |\n|---|---:|---:|---:|---:|---:|\n";
    for (const auto& m : j["models"]) {
      const auto& p = m["perplexity"];
      auto f = [](const json& v, const char* spec) { return v.is_number() ? fmt::format(fmt::runtime(spec), v.get<double>()) : std::string("-"); };
      out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", m["name"].get<std::string>(), f(p["ppl"], "{:.4g}"),
                         f(p["ppl_ratio"], "{:.4f}"), f(p["kld"], "{:.5f}"), f(p["kld_p99"], "{:.4f}"), pct(p["same_top"]));
    }
    out += "\n";
  }
  int failed = 0;
  for (const auto& c : j["gate"]["checks"]) failed += !c["pass"].get<bool>();
  out += fmt::format("{} of {} gate checks failed. Became biased: expected share of items the reference answered "
                     "without the stereotype in all k samples that pick it at least once at the variant, minus the "
                     "same for the reference against itself (the noise floor).\n",
                     failed, j["gate"]["checks"].size());
  return out;
}

std::string items_csv_header() {
  return "suite,item_id,category,condition,polarity,model,bits_per_weight,model_hash,p_stereotyped,p_anti,p_unknown,"
         "p_invalid,p1_stereotyped,p1_anti,p1_unknown,p1_invalid,answer,entropy,max_prob\n";
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
std::string g(double v) { return std::isnan(v) ? "" : fmt::format("{:.9g}", v); }
}  // namespace

std::string items_csv_rows(const std::string& suite, const std::vector<suites::Item>& items, const std::vector<CsvModel>& models) {
  std::string out;
  for (const auto& cm : models) {
    if (cm.model->failed) continue;
    for (const auto& it : items) {
      auto f = cm.answers->find(it.id);
      if (f == cm.answers->end()) continue;
      const auto& a = f->second;
      analysis::PairedItem pi;
      pi.stereotyped = it.stereotyped;
      pi.anti = it.anti;
      pi.unknown = it.unknown;
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(suite), csv_field(it.id),
                         csv_field(it.category), suites::condition_name(it.condition), suites::polarity_name(it.polarity),
                         csv_field(cm.model->name), g(cm.model->bits_per_weight), cm.model->hash, g(a.probs[it.stereotyped]),
                         g(a.probs[it.anti]), g(a.probs[it.unknown]), g(a.invalid), g(a.probs_t1[it.stereotyped]),
                         g(a.probs_t1[it.anti]), g(a.probs_t1[it.unknown]), g(a.invalid_t1),
                         analysis::answer_class_name(analysis::answer_class(pi, a)), g(a.entropy), g(a.max_prob));
    }
  }
  return out;
}

}  // namespace qaudit::report
