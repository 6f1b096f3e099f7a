#include "analysis/audit.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace qaudit::analysis {

std::vector<GatedValue> gated_values(const PairedStats& o, const Thresholds& t) {
  return {{"became_biased_above_floor", o.became_biased - o.floor, t.became_biased, "points"},
          {"usr_drop", -o.usr_relative_change, t.usr_drop, "points"},
          {"bias_score_delta", std::fabs(o.var.bias_score_ambiguous.expected - o.ref.bias_score_ambiguous.expected),
           t.bias_score_delta, ""}};
}

namespace {

Regression dose_response(const suites::Suite& suite, const std::vector<ModelInfo>& models,
                         const std::vector<std::map<std::string, Answer>>& answers) {
  Regression reg;
  std::set<std::string> cats;
  std::set<double> bits;
  for (const auto& it : suite.items)
    if (it.condition == suites::Condition::ambiguous) cats.insert(it.category);
  for (size_t m = 0; m < models.size(); ++m)
    if (!models[m].failed) bits.insert(models[m].bits_per_weight);
  reg.names = {"intercept", "bits"};
  std::vector<std::string> levels(cats.begin(), cats.end());
  for (size_t c = 1; c < levels.size(); ++c) reg.names.push_back("category[" + levels[c] + "]");
  if (bits.size() < 2) {
    reg.error = "fewer than two bit widths evaluated";
    return reg;
  }
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  std::vector<long> cluster;
  for (size_t m = 0; m < models.size(); ++m) {
    if (models[m].failed) continue;
    long idx = 0;
    for (const auto& it : suite.items) {
      ++idx;
      if (it.condition != suites::Condition::ambiguous) continue;
      auto f = answers[m].find(it.id);
      if (f == answers[m].end()) continue;
      std::vector<double> row{1.0, models[m].bits_per_weight};
      for (size_t c = 1; c < levels.size(); ++c) row.push_back(it.category == levels[c] ? 1.0 : 0.0);
      x.push_back(std::move(row));
      PairedItem pi;
      pi.stereotyped = it.stereotyped;
      y.push_back(stereotype_probability(pi, f->second));
      cluster.push_back(idx);
    }
  }
  if (x.empty()) {
    reg.error = "no ambiguous items";
    return reg;
  }
  try {
    reg.fit = logistic_irls(x, y, cluster);
  } catch (const std::exception& e) {
    reg.error = e.what();
  }
  return reg;
}

}  // namespace

SuiteResult analyze_suite(const suites::Suite& suite, const std::string& prompt_id, const std::vector<ModelInfo>& models,
                          const std::vector<std::map<std::string, Answer>>& answers, double temperature, int k,
                          const Thresholds& thresholds, int n_flips, const std::map<std::string, Answer>& floor_answers) {
  SuiteResult r;
  r.name = suite.name;
  r.version = suite.version;
  r.prompt_id = prompt_id;
  r.temperature = temperature;
  r.k = k;
  r.n_items = int(suite.items.size());
  r.n_skipped = int(suite.skipped.size());
  const auto& ref = answers[0];
  {
    std::vector<ScoredItem> scored;
    for (const auto& it : suite.items)
      if (auto f = ref.find(it.id); f != ref.end())
        scored.push_back({it.category, it.condition, it.label, it.stereotyped, it.anti, it.unknown, f->second.probs,
                          f->second.invalid});
    r.reference = bbq_metrics_by_category(scored);
  }
  for (size_t m = 1; m < models.size(); ++m) {
    VariantResult v;
    v.name = models[m].name;
    v.failed = models[m].failed;
    v.error = models[m].error;
    if (!v.failed) {
      std::vector<PairedItem> items;
      for (const auto& it : suite.items) {
        auto a = ref.find(it.id), b = answers[m].find(it.id);
        if (a == ref.end() || b == answers[m].end()) continue;
        items.push_back({it.id, it.category, it.condition, it.label, it.stereotyped, it.anti, it.unknown, a->second,
                         b->second, {}});
        if (auto f = floor_answers.find(it.id); f != floor_answers.end()) items.back().floor = f->second;
      }
      v.by_category = paired_stats_by_category(items, k);
      double sum = 0;
      int n = 0;
      for (const auto& [cat, st] : v.by_category)
        if (cat != "overall" && !std::isnan(st.usr_relative_change)) {
          sum += st.usr_relative_change;
          ++n;
        }
      if (n) v.usr_relative_change_mean = sum / n;
      std::vector<Flip> flips;
      std::map<std::string, const suites::Item*> by_id;
      for (const auto& it : suite.items) by_id[it.id] = &it;
      for (const auto& pi : items) {
        if (pi.condition != suites::Condition::ambiguous) continue;
        flips.push_back({by_id[pi.id], stereotype_probability(pi, pi.ref), stereotype_probability(pi, pi.var),
                         answer_class(pi, pi.ref), answer_class(pi, pi.var)});
      }
      std::stable_sort(flips.begin(), flips.end(), [](const Flip& a, const Flip& b) {
        return std::fabs(a.p_var - a.p_ref) > std::fabs(b.p_var - b.p_ref);
      });
      if (flips.size() > size_t(n_flips)) flips.resize(size_t(n_flips));
      v.flips = std::move(flips);
    }
    r.variants.push_back(std::move(v));
  }
  // Holm over the comparisons reported together.
  std::vector<double*> mc_out, chi_out;
  std::vector<double> mc_p, chi_p;
  for (auto& v : r.variants)
    for (auto& [cat, st] : v.by_category) {
      if (cat == "overall") {
        mc_p.push_back(st.mcnemar_p);
        mc_out.push_back(&st.mcnemar_p_holm);
      } else {
        chi_p.push_back(st.chi2.p);
        chi_out.push_back(&st.chi2_p_holm);
      }
    }
  auto mc_adj = holm(mc_p), chi_adj = holm(chi_p);
  for (size_t i = 0; i < mc_out.size(); ++i) *mc_out[i] = mc_adj[i];
  for (size_t i = 0; i < chi_out.size(); ++i) *chi_out[i] = chi_adj[i];
  r.regression = dose_response(suite, models, answers);
  // Cliffs: the reference sits at 0 for every gated metric.
  std::vector<std::vector<Rung>> rungs(3);
  std::vector<GatedValue> proto;
  for (size_t m = 0; m < models.size(); ++m) {
    std::vector<double> values(3, m == 0 ? 0.0 : kMissing);
    if (m > 0 && !r.variants[m - 1].failed) {
      auto gv = gated_values(r.variants[m - 1].by_category.at("overall"), thresholds);
      for (size_t g = 0; g < gv.size(); ++g) values[g] = gv[g].value;
      proto = gv;
    }
    for (size_t g = 0; g < 3; ++g) rungs[g].push_back({models[m].name, models[m].bits_per_weight, values[g]});
  }
  if (proto.empty()) {
    PairedStats dummy;
    proto = gated_values(dummy, thresholds);
  }
  for (size_t g = 0; g < proto.size(); ++g)
    r.cliffs.push_back(find_cliff(proto[g].metric, rungs[g], proto[g].threshold, proto[g].unit));
  return r;
}

}  // namespace qaudit::analysis
