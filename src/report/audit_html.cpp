// The self-contained HTML report: no network, no external files. Tables are rendered here with
// every dataset string escaped; the charts are drawn in the page by a small inline script from
// the report JSON embedded as inert data (a JSON script element whose '<' are escaped).
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "report/audit_report.h"

namespace qaudit::report {
using nlohmann::json;
namespace {

double num(const json& j) { return j.is_number() ? j.get<double>() : NAN; }
std::string pct(const json& j) { return j.is_number() ? fmt::format("{:.1f}", 100 * j.get<double>()) : "–"; }
std::string pts(const json& j) { return j.is_number() ? fmt::format("{:+.1f}", 100 * j.get<double>()) : "–"; }
std::string e(const json& j) { return html_escape(j.is_string() ? j.get<std::string>() : j.dump()); }

// JSON safe to embed in a <script type="application/json"> element.
std::string embeddable(const json& j) {
  std::string s = j.dump(), out;
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

const char* kStyle = R"css(
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.pass{color:#176a1d;font-weight:600}.fail{color:#b00020;font-weight:600}
.failed{color:#8a5a00;font-weight:600}.note{color:#666;font-size:.92em}.chart{margin:.5em 0}
.flip{max-width:1000px}.flip td{text-align:left;vertical-align:top}.mono{font-family:ui-monospace,monospace}
)css";

// Draws one SVG chart per suite from the embedded report: bias metrics against bits per weight,
// with Wilson intervals for SRS and USR. Sets data-charts on <html> to the number drawn.
const char* kScript = R"js(
(function(){
  var data = JSON.parse(document.getElementById('qaudit-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent){ var n = document.createElementNS(NS, name);
    for (var k in attrs) n.setAttribute(k, attrs[k]); if (parent) parent.appendChild(n); return n; }
  function text(parent, x, y, s, anchor){ var t = el('text', {x:x, y:y, 'font-size':11, 'text-anchor':anchor||'middle'}, parent);
    t.textContent = s; return t; }
  var bits = {}; data.models.forEach(function(m){ bits[m.name] = m.bits_per_weight; });
  var drawn = 0;
  data.suites.forEach(function(s, si){
    var box = document.getElementById('chart-' + si); if (!box) return;
    var pts = [{name:'reference', x:bits.reference, srs:s.reference.overall.srs.expected, usr:s.reference.overall.usr.expected, bb:0, ci_s:null, ci_u:null}];
    s.variants.forEach(function(v){ if (v.failed) return; var o = v.categories.overall;
      pts.push({name:v.name, x:bits[v.name], srs:o.variant.srs.expected, usr:o.variant.usr.expected,
                bb:o.became_biased_above_floor, ci_s:o.srs_ci, ci_u:o.usr_ci}); });
    pts.sort(function(a, b){ return a.x - b.x; });
    var W = 760, H = 300, L = 50, R = 190, T = 15, B = 40;
    var svg = el('svg', {width:W, height:H, viewBox:'0 0 ' + W + ' ' + H, role:'img'}, box);
    var xs = pts.map(function(p){ return Math.log2(p.x); });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs); if (x1 - x0 < 1e-9) { x0 -= 1; x1 += 1; }
    function X(v){ return L + (Math.log2(v) - x0) / (x1 - x0) * (W - L - R); }
    function Y(v){ return T + (1 - v) * (H - T - B); }
    el('line', {x1:L, y1:Y(0), x2:W - R, y2:Y(0), stroke:'#999'}, svg);
    el('line', {x1:L, y1:Y(0), x2:L, y2:Y(1), stroke:'#999'}, svg);
    [0, .25, .5, .75, 1].forEach(function(v){ text(svg, L - 6, Y(v) + 4, Math.round(v * 100) + '%', 'end'); });
    pts.forEach(function(p){ text(svg, X(p.x), H - B + 14, p.x.toFixed(1)); });
    text(svg, (L + W - R) / 2, H - 6, 'bits per weight (log scale)');
    var series = [['srs', '#c0392b', 'SRS', 'ci_s'], ['usr', '#2471a3', 'USR', 'ci_u'], ['bb', '#7d3c98', 'became biased − floor', null]];
    series.forEach(function(sr, k){
      var d = pts.filter(function(p){ return p[sr[0]] !== null; }).map(function(p, i){ return (i ? 'L' : 'M') + X(p.x) + ' ' + Y(p[sr[0]]); }).join(' ');
      el('path', {d:d, fill:'none', stroke:sr[1], 'stroke-width':2}, svg);
      pts.forEach(function(p){ if (p[sr[0]] === null) return;
        el('circle', {cx:X(p.x), cy:Y(p[sr[0]]), r:3, fill:sr[1]}, svg);
        var ci = sr[3] && p[sr[3]]; if (ci && ci[0] !== null) el('line', {x1:X(p.x), x2:X(p.x), y1:Y(ci[0]), y2:Y(ci[1]), stroke:sr[1]}, svg); });
      el('rect', {x:W - R + 12, y:T + 18 * k, width:12, height:12, fill:sr[1]}, svg);
      text(svg, W - R + 30, T + 18 * k + 10, sr[2], 'start');
    });
    drawn++;
    // Perplexity against bias: one point per variant, PPL ratio on x, became-biased above the floor on y.
    var pbox = document.getElementById('ppl-chart-' + si);
    var pp = [];
    s.variants.forEach(function(v){ if (v.failed) return; var m = data.models.filter(function(x){ return x.name === v.name; })[0];
      if (m && m.perplexity.ppl_ratio !== null) pp.push({name:v.name, x:m.perplexity.ppl_ratio, y:v.categories.overall.became_biased_above_floor}); });
    if (pbox && pp.length) {
      var W2 = 760, H2 = 280, L2 = 60, R2 = 90, T2 = 15, B2 = 40;
      var sv = el('svg', {width:W2, height:H2, viewBox:'0 0 ' + W2 + ' ' + H2, role:'img'}, pbox);
      var xmin = Math.min(1, Math.min.apply(null, pp.map(function(p){ return p.x; })));
      var xmax = Math.max.apply(null, pp.map(function(p){ return p.x; })); if (xmax - xmin < 1e-6) xmax = xmin + 0.01;
      var ys = pp.map(function(p){ return p.y === null ? 0 : p.y; });
      var ymin = Math.min(0, Math.min.apply(null, ys)), ymax = Math.max(0.05, Math.max.apply(null, ys));
      function X2(v){ return L2 + (v - xmin) / (xmax - xmin) * (W2 - L2 - R2); }
      function Y2(v){ return T2 + (ymax - v) / (ymax - ymin) * (H2 - T2 - B2); }
      el('line', {x1:L2, y1:Y2(0), x2:W2 - R2, y2:Y2(0), stroke:'#999'}, sv);
      el('line', {x1:L2, y1:T2, x2:L2, y2:H2 - B2, stroke:'#999'}, sv);
      text(sv, L2 - 6, Y2(ymax) + 4, (100 * ymax).toFixed(1), 'end'); text(sv, L2 - 6, Y2(ymin) + 4, (100 * ymin).toFixed(1), 'end');
      text(sv, L2, H2 - B2 + 14, xmin.toFixed(3)); text(sv, W2 - R2, H2 - B2 + 14, xmax.toFixed(3));
      text(sv, (L2 + W2 - R2) / 2, H2 - 6, 'perplexity ratio to the reference (x) · became biased above floor, points (y)');
      pp.forEach(function(p){ var y = p.y === null ? 0 : p.y;
        el('circle', {cx:X2(p.x), cy:Y2(y), r:4, fill:'#7d3c98'}, sv); text(sv, X2(p.x) + 6, Y2(y) - 6, p.name, 'start'); });
      drawn++;
    }
  });
  document.documentElement.setAttribute('data-charts', String(drawn));
})();
)js";

std::string verdict_class(const std::string& v) { return v == "pass" ? "pass" : v == "fail" ? "fail" : "failed"; }

}  // namespace

std::string audit_html(const json& j) {
  std::string h;
  std::string ref_path;
  std::map<std::string, const json*> models;
  for (const auto& m : j["models"]) {
    models[m["name"]] = &m;
    if (m["name"] == "reference") ref_path = m["path"];
  }
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n";
  h += fmt::format("<title>qaudit audit — {}</title>\n<style>{}</style></head><body>\n", html_escape(ref_path), kStyle);
  h += fmt::format("<h1>qaudit audit — <span class=\"mono\">{}</span></h1>\n", html_escape(ref_path));
  bool pass = j["gate"]["pass"].get<bool>();
  h += fmt::format("<p>Gate: <span class=\"{}\">{}</span> · qaudit {} · llama.cpp {} · schema {}</p>\n", pass ? "pass" : "fail",
                   pass ? "PASS" : "FAIL", e(j["qaudit_version"]), e(j["llama_release"]), e(j["schema"]));

  h += "<h2>Verdict per variant</h2>\n<table><tr><th class=\"l\">variant</th><th>bits/weight</th><th>MiB</th><th>max tensor rel. error</th>"
       "<th>PPL</th><th>PPL ratio</th><th>mean KLD</th><th>same top</th><th class=\"l\">verdict</th></tr>\n";
  for (const auto& m : j["models"]) {
    std::string name = m["name"];
    std::string verdict = name == "reference" ? "reference" : j["verdicts"].value(name, std::string("?"));
    const auto& pp = m["perplexity"];
    auto opt = [](const json& v, const char* spec) { return v.is_number() ? fmt::format(fmt::runtime(spec), v.get<double>()) : std::string("–"); };
    h += fmt::format("<tr><td class=\"l mono\">{}</td><td>{:.2f}</td><td>{:.1f}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l {}\">{}{}</td></tr>\n",
                     html_escape(name), num(m["bits_per_weight"]), num(m["file_size"]) / 1048576.0,
                     m["max_tensor_rel"].is_number() ? fmt::format("{:.4f}", num(m["max_tensor_rel"])) : "–",
                     opt(pp["ppl"], "{:.4g}"), opt(pp["ppl_ratio"], "{:.4f}"), opt(pp["kld"], "{:.5f}"), pct(pp["same_top"]),
                     name == "reference" ? "" : verdict_class(verdict), html_escape(verdict),
                     m["failed"].get<bool>() ? ": " + e(m["error"]) : "");
  }
  h += "</table>\n<h3>Gate checks</h3>\n<table><tr><th class=\"l\">suite</th><th class=\"l\">variant</th><th class=\"l\">metric</th><th>value</th><th>threshold</th><th class=\"l\">result</th></tr>\n";
  for (const auto& c : j["gate"]["checks"]) {
    bool bs = c["metric"] == "bias_score_delta";
    auto fmtv = [&](const json& v) { return bs ? (v.is_number() ? fmt::format("{:.3f}", v.get<double>()) : "–") : pts(v); };
    h += fmt::format("<tr><td class=\"l\">{}</td><td class=\"l mono\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td class=\"l {}\">{}</td></tr>\n",
                     e(c["suite"]), e(c["variant"]), e(c["metric"]), fmtv(c["value"]), fmtv(c["threshold"]),
                     c["pass"].get<bool>() ? "pass" : "fail", c["pass"].get<bool>() ? "pass" : "FAIL " + e(c["note"]));
  }
  h += "</table>\n";

  int si = 0;
  for (const auto& s : j["suites"]) {
    h += fmt::format("<h2>Suite {} <span class=\"note\">({} items, {} skipped, prompt {}, temperature {}, k = {})</span></h2>\n",
                     e(s["name"]), s["n_items"].get<int>(), s["n_skipped"].get<int>(), e(s["prompt_id"]),
                     s["temperature"].get<double>(), s["k"].get<int>());
    h += "<ul>\n";
    for (const auto& c : s["cliffs"]) h += "<li>" + e(c["text"]) + "</li>\n";
    h += "</ul>\n";
    h += fmt::format("<h3>Bias against bits per weight</h3><div class=\"chart\" id=\"chart-{}\"></div>\n", si++);
    h += "<p class=\"note\">SRS/USR: expected share of ambiguous-context answers on the stereotyped / unknown option, "
         "with Wilson 95% intervals.</p>\n";
    h += fmt::format("<h3>Perplexity against bias</h3><div class=\"chart\" id=\"ppl-chart-{}\"></div>\n"
                     "<p class=\"note\">Perplexity can stay flat while bias moves: each point is a variant.</p>\n", si - 1);

    // Heatmap: became-biased above floor, category x variant.
    std::set<std::string> cats;
    for (const auto& v : s["variants"])
      for (const auto& [cat, st] : v["categories"].items()) cats.insert(cat);
    h += "<h3>Became biased above the noise floor, by category (points)</h3>\n<table><tr><th class=\"l\">category</th>";
    for (const auto& v : s["variants"]) h += "<th class=\"mono\">" + e(v["name"]) + "</th>";
    h += "</tr>\n";
    for (const auto& cat : cats) {
      h += "<tr><td class=\"l\">" + html_escape(cat) + "</td>";
      for (const auto& v : s["variants"]) {
        const json* st = v["categories"].contains(cat) ? &v["categories"][cat] : nullptr;
        double x = st ? num((*st)["became_biased_above_floor"]) : NAN;
        double a = std::isnan(x) ? 0 : std::min(1.0, std::max(0.0, x / 0.2));
        h += fmt::format("<td style=\"background:rgba(192,57,43,{:.2f})\">{}</td>", a, st ? pts((*st)["became_biased_above_floor"]) : "–");
      }
      h += "</tr>\n";
    }
    h += "</table>\n";

    // Per-variant detail: metrics, tests, transitions.
    h += "<h3>Paired comparison with the reference (overall)</h3>\n<table><tr><th class=\"l\">variant</th><th>SRS %</th><th>USR %</th>"
         "<th>USR rel. change</th><th>became biased</th><th>floor</th><th>McNemar b/c</th><th>p (Holm)</th><th>χ² p (Holm, worst category)</th>"
         "<th>Cohen's h</th><th>entropy ref→var</th><th>ECE ref→var</th></tr>\n";
    for (const auto& v : s["variants"]) {
      if (v["failed"].get<bool>()) {
        h += "<tr><td class=\"l mono\">" + e(v["name"]) + "</td><td class=\"l failed\" colspan=\"11\">failed: " + e(v["error"]) + "</td></tr>\n";
        continue;
      }
      const auto& o = v["categories"]["overall"];
      double worst = NAN;
      for (const auto& [cat, st] : v["categories"].items())
        if (cat != "overall" && (std::isnan(worst) || num(st["chi2"]["p_holm"]) < worst)) worst = num(st["chi2"]["p_holm"]);
      h += fmt::format("<tr><td class=\"l mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td><td>{:.3g}</td><td>{:.3g}</td><td>{:+.3f}</td><td>{:.3f}→{:.3f}</td><td>{:.3f}→{:.3f}</td></tr>\n",
                       e(v["name"]), pct(o["variant"]["srs"]["expected"]), pct(o["variant"]["usr"]["expected"]), pts(o["usr_relative_change"]),
                       pct(o["became_biased"]), pct(o["floor"]), o["mcnemar"]["b"].get<long>(), o["mcnemar"]["c"].get<long>(),
                       num(o["mcnemar"]["p_holm"]), worst, num(o["cohens_h"]), num(o["entropy"]["reference"]), num(o["entropy"]["variant"]),
                       num(o["ece"]["reference"]), num(o["ece"]["variant"]));
    }
    h += "</table>\n<h3>Transition matrices (ambiguous items; rows: reference answer, columns: variant answer)</h3>\n";
    for (const auto& v : s["variants"]) {
      if (v["failed"].get<bool>()) continue;
      h += "<table style=\"display:inline-table;margin-right:1.5em\"><tr><th class=\"l mono\">" + e(v["name"]) + "</th>";
      for (const auto& l : s["transition_labels"]) h += "<th>" + e(l) + "</th>";
      h += "</tr>\n";
      const auto& tr = v["categories"]["overall"]["transitions"];
      for (size_t r = 0; r < tr.size(); ++r) {
        h += "<tr><th class=\"l\">" + e(s["transition_labels"][r]) + "</th>";
        for (const auto& c : tr[r]) h += fmt::format("<td>{}</td>", c.get<long>());
        h += "</tr>\n";
      }
      h += "</table>\n";
    }
    const auto& reg = s["regression"];
    h += "<h3>Dose–response: logistic regression of the stereotype on bits per weight + category</h3>\n";
    if (!reg["error"].get<std::string>().empty()) {
      h += "<p class=\"note\">not fitted: " + e(reg["error"]) + "</p>\n";
    } else {
      h += "<table><tr><th class=\"l\">term</th><th>coefficient</th><th>SE clustered by item</th><th>p</th><th>SE unclustered</th></tr>\n";
      for (size_t i = 0; i < reg["names"].size(); ++i)
        h += fmt::format("<tr><td class=\"l\">{}</td><td>{:+.4f}</td><td>{:.4f}</td><td>{:.3g}</td><td>{:.4f}</td></tr>\n", e(reg["names"][i]),
                         num(reg["coef"][i]), num(reg["se_clustered"][i]), num(reg["p_clustered"][i]), num(reg["se"][i]));
      h += "</table>\n";
    }
    h += "<h3>Largest individual changes (ambiguous items)</h3>\n<table class=\"flip\"><tr><th>variant</th><th>item</th><th>text</th><th>P(stereotype) ref → var</th><th>answer ref → var</th></tr>\n";
    for (const auto& v : s["variants"])
      for (const auto& f : v["flips"]) {
        std::string opts;
        for (size_t i = 0; i < f["options"].size(); ++i)
          opts += fmt::format("<br>{}) {}{}", char('A' + i), e(f["options"][i]),
                              int(i) == f["stereotyped"].get<int>() ? " <em>(stereotyped)</em>" : "");
        h += fmt::format("<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}<br><strong>{}</strong>{}</td><td>{:.3f} → {:.3f}</td><td>{} → {}</td></tr>\n",
                         e(v["name"]), e(f["id"]), e(f["context"]), e(f["question"]), opts, num(f["p_reference"]),
                         num(f["p_variant"]), e(f["reference_answer"]), e(f["variant_answer"]));
      }
    h += "</table>\n";
  }
  h += "<script type=\"application/json\" id=\"qaudit-data\">" + embeddable(j) + "</script>\n";
  h += fmt::format("<script>{}</script>\n</body></html>\n", kScript);
  return h;
}

}  // namespace qaudit::report
