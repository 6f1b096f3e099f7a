// The built-in suite: size, dimensions, both conditions and polarities, consistent roles and
// answers, unique and deterministic ids; and suite filters / stable-hash subsampling.
#include "suites/builtin.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "suites/filter.h"

using namespace qaudit::suites;

TEST(Builtin, AtLeast2000ItemsOverNineDimensionsBothConditionsAndPolarities) {
  auto s = load_builtin_suite();
  EXPECT_GE(s.items.size(), 2000u);
  std::map<std::string, int> per_cat;
  std::map<std::pair<int, int>, int> cells;
  std::set<std::string> ids;
  for (const auto& it : s.items) {
    per_cat[it.category]++;
    cells[{int(it.condition), int(it.polarity)}]++;
    EXPECT_TRUE(ids.insert(it.id).second) << "duplicate id " << it.id;
    ASSERT_EQ(it.options.size(), 3u);
    EXPECT_NE(it.stereotyped, it.anti);
    EXPECT_NE(it.stereotyped, it.unknown);
    EXPECT_EQ(it.roles[it.unknown], Role::unknown);
    if (it.condition == Condition::ambiguous) EXPECT_EQ(it.label, it.unknown) << it.id;
    else EXPECT_NE(it.label, it.unknown) << it.id;
    for (const auto& o : it.options) EXPECT_EQ(it.context.find("{"), std::string::npos) << it.id << " " << o;
  }
  EXPECT_EQ(per_cat.size(), 9u);
  for (const auto& [cat, n] : per_cat) EXPECT_GE(n, 200) << cat;
  EXPECT_EQ(cells.size(), 4u);
  // Every template names its target groups and the stereotype it probes.
  for (const auto& t : builtin_templates()) {
    EXPECT_FALSE(t.note.empty()) << t.id;
    EXPECT_FALSE(t.targets.empty()) << t.id;
  }
}

TEST(Builtin, DisambiguatedItemsGoBothWays) {
  // Half of the disambiguated negative questions are answered by the stereotyped group (the
  // continuation confirms the stereotype), half by the other group.
  auto s = load_builtin_suite();
  int pro = 0, anti = 0;
  for (const auto& it : s.items)
    if (it.condition == Condition::disambiguated && it.polarity == Polarity::negative) {
      pro += it.label == it.stereotyped;
      anti += it.label == it.anti;
    }
  EXPECT_GT(pro, 0);
  EXPECT_EQ(pro, anti);
}

TEST(Builtin, ExpansionIsDeterministic) {
  auto a = load_builtin_suite(), b = load_builtin_suite();
  ASSERT_EQ(a.items.size(), b.items.size());
  for (size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].id, b.items[i].id);
    EXPECT_EQ(a.items[i].context, b.items[i].context);
    EXPECT_EQ(a.items[i].options, b.items[i].options);
  }
  // The unknown option's wording varies across items.
  std::set<std::string> unknowns;
  for (const auto& it : a.items) unknowns.insert(it.options[it.unknown]);
  EXPECT_GE(unknowns.size(), 5u);
}

TEST(Filter, CategoryConditionPolarityAndStableSubsample) {
  auto s = load_builtin_suite();
  Filter f;
  f.categories = {"age", "Race-ethnicity"};  // case and '-'/'_' do not matter
  f.condition = "ambig";
  f.polarity = "neg";
  apply_filter(s, f, {});
  ASSERT_FALSE(s.items.empty());
  for (const auto& it : s.items) {
    EXPECT_TRUE(it.category == "Age" || it.category == "Race_ethnicity");
    EXPECT_EQ(it.condition, Condition::ambiguous);
    EXPECT_EQ(it.polarity, Polarity::negative);
  }
  // A 30% sample keeps items by a hash of the id: the same subset every time, about 30%, and a
  // subset of a 60% sample.
  auto all = load_builtin_suite(), a = all, b = all, c = all;
  Filter p30, p60;
  p30.sample = 0.3;
  p60.sample = 0.6;
  apply_filter(a, p30, {});
  apply_filter(b, p30, {});
  apply_filter(c, p60, {});
  ASSERT_EQ(a.items.size(), b.items.size());
  EXPECT_NEAR(double(a.items.size()) / all.items.size(), 0.3, 0.04);
  std::set<std::string> in60;
  for (const auto& it : c.items) in60.insert(it.id);
  for (size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].id, b.items[i].id);
    EXPECT_TRUE(in60.count(a.items[i].id)) << a.items[i].id;
  }
  Filter bad;
  bad.categories = {"Astrology"};
  auto d = load_builtin_suite();
  EXPECT_THROW(apply_filter(d, bad, {"spec.toml", 3, "suites[0]."}), qaudit::Error);
}
