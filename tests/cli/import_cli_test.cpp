// Imported predictions: the three formats become variants in the store and `qaudit run
// --imported` analyses them against an imported reference; numbers checked against counts made here.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

using namespace qaudit;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
const std::string kBin = QAUDIT_BINARY;
std::vector<json> religion(int n) {
  std::ifstream in(test::shared_data("bbq/Religion.jsonl"));
  std::vector<json> out;
  std::string l;
  while (int(out.size()) < n && std::getline(in, l)) out.push_back(json::parse(l));
  return out;
}
std::string unknown_key(const json& d) {
  for (const char* k : {"ans0", "ans1", "ans2"})
    if (d["answer_info"][k][1] == "unknown") return k;
  return "";
}
}  // namespace

TEST(ImportCli, BbqColumnsBecomeVariantsAndAreAuditedAgainstTheImportedReference) {
  auto dir = test::temp_dir("import");
  auto docs = religion(60);
  // ref always answers the unknown option; var answers ans0 on two items in three, else "no idea".
  int amb = 0, var_answered_amb = 0, var_unknown_amb = 0;
  std::ofstream out(dir / "preds.jsonl");
  for (size_t i = 0; i < docs.size(); ++i) {
    auto d = docs[i];
    d["ref"] = d[unknown_key(d)];
    d["var"] = i % 3 ? "I think it is " + d["ans0"].get<std::string>() : "no idea at all";
    out << d.dump() << "\n";
    if (d["context_condition"] == "ambig") {
      ++amb;
      // What the variant's text means: the unknown option when ans0 is it, unmatched otherwise.
      var_answered_amb += i % 3 != 0;
      var_unknown_amb += i % 3 && unknown_key(d) == "ans0";
    }
  }
  out.close();
  std::string store = (dir / "s.sqlite").string();
  auto r = test::run(kBin + " import bbq-columns " + (dir / "preds.jsonl").string() + " -s " + store);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ref "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("20 matched no option"), std::string::npos) << r.output;  // the "no idea" answers
  r = test::run(kBin + " run -q --imported ref,var -s " + store + " -o " + (dir / "out").string() + " --no-ppl");
  ASSERT_LE(r.exit_code, 1) << r.output;
  json j = json::parse(test::slurp(dir / "out" / "report.json"));
  const auto& o = j["suites"][0]["variants"][0]["categories"]["overall"];
  EXPECT_EQ(o["n_ambiguous"], amb);
  EXPECT_DOUBLE_EQ(o["reference"]["usr"]["argmax"].get<double>(), 1.0);
  // Unmatched answers are left out of the rates (and counted as invalid).
  ASSERT_GT(var_answered_amb, 0);
  EXPECT_DOUBLE_EQ(o["variant"]["usr"]["argmax"].get<double>(), double(var_unknown_amb) / var_answered_amb);
  EXPECT_NEAR(o["variant"]["invalid"].get<double>(), 20.0 / 60, 1e-12);
  EXPECT_EQ(j["models"][0]["name"], "ref");
  EXPECT_EQ(j["models"][1]["name"], "var");
}

TEST(ImportCli, LmevalSamplesAndCsv) {
  auto dir = test::temp_dir("import2");
  auto docs = religion(12);
  // lm-evaluation-harness samples: 12 log-likelihoods (two named options + 10 unknown phrasings)
  // for bbq_multiple_choice; the highest one decides.
  std::ofstream out(dir / "samples_bbq.jsonl");
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<json> resps;
    for (int k = 0; k < 12; ++k) resps.push_back(json::array({-10.0 - k, false}));
    resps[i % 2 ? 0 : 5] = json::array({-1.0, true});  // a named option, or an unknown phrasing
    out << json{{"doc_id", i}, {"doc", docs[i]}, {"target", 0}, {"filtered_resps", resps}}.dump() << "\n";
  }
  out.close();
  std::string store = (dir / "s.sqlite").string();
  auto r = test::run(kBin + " import lmeval " + (dir / "samples_bbq.jsonl").string() + " --name mc -s " + store);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mc "), std::string::npos) << r.output;
  // Items answered with an unknown phrasing went to the unknown option.
  std::ofstream csv(dir / "answers.csv");
  csv << "item_id,variant,answer\nAge/0/x,a,B\n";
  csv.close();
  r = test::run(kBin + " import csv " + (dir / "answers.csv").string() + " --demo -s " + store);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("answers.csv:2: field 'item_id'"), std::string::npos) << r.output;
  std::ofstream csv2(dir / "answers2.csv");
  csv2 << "item_id,variant,p0,p1,p2\nAge/0,a,0.2,0.7,0.1\nAge/1,a,0.5,0.25,0.25\nAge/0,b,1.5,0,0\n";
  csv2.close();
  r = test::run(kBin + " import csv " + (dir / "answers2.csv").string() + " --demo -s " + store);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("answers2.csv:4: field 'p0': out of range"), std::string::npos) << r.output;
  r = test::run(kBin + " import csv " + (dir / "answers.csv").string() + " -s " + store);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--bbq"), std::string::npos) << r.output;
}
