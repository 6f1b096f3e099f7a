// The audit spec: a round trip through its TOML form, and errors that name file, line and key.
#include "audit/spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

using namespace qaudit;

namespace {
std::string write(const std::string& name, const std::string& text) {
  auto p = test::temp_dir("spec") / name;
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST(Spec, PrintedSpecReadsBackToTheSameSpec) {
  audit::RunSpec s;
  s.reference = "/models/ref-f16.gguf";
  s.out = "/audits/ref";  // relative paths in a file are relative to it; see the next test
  s.recipes = {"Q8_0", "affine:b4:g64"};
  audit::SuiteSpec b;
  b.kind = "bbq";
  b.files = {"/data/Age.jsonl", "/data/Religion.jsonl"};
  b.filter.categories = {"Age"};
  b.filter.condition = "ambig";
  b.filter.sample = 0.25;
  s.suites = {b, audit::SuiteSpec{}};
  s.temperature = 0.7;
  s.gate.max_usr_drop = 0.2;
  std::string text = audit::spec_toml(s);
  audit::RunSpec back;
  audit::load_spec(write("a.toml", text), back);
  EXPECT_EQ(audit::spec_toml(back), text);
  EXPECT_EQ(back.suites.size(), 2u);
  EXPECT_DOUBLE_EQ(back.suites[0].filter.sample, 0.25);
}

TEST(Spec, RelativePathsAreRelativeToTheSpecFile) {
  audit::RunSpec s;
  std::string path = write("rel.toml", "[reference]\nmodel = \"models/ref.gguf\"\n");
  audit::load_spec(path, s);
  EXPECT_EQ(s.reference, (std::filesystem::path(path).parent_path() / "models/ref.gguf").string());
}

TEST(Spec, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"[eval]\ntemperature = 0.3\ntemprature = 1\n", "rel2.toml:3: field 'eval.temprature': unknown key"},
      {"[eval]\nk = \"five\"\n", "rel2.toml:2: field 'eval.k': expected an integer"},
      {"[ladder]\nrecipes = \"Q4_K_M\"\n", "field 'ladder.recipes': expected an array of strings"},
      {"[[suites]]\nkind = \"bbq\"\n", "field 'suites[0].files'"},
      {"[[suites]]\nkind = \"mmlu\"\n", "rel2.toml:2: field 'suites[0].kind': unknown suite kind"},
      {"[eval\n", "rel2.toml:1"},
  };
  for (const auto& c : cases) {
    audit::RunSpec s;
    try {
      audit::load_spec(write("rel2.toml", c.text), s);
      ADD_FAILURE() << "no error for:\n" << c.text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
      EXPECT_FALSE(e.hint().empty()) << e.what();
    }
  }
}
