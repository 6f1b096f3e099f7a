// `qaudit ppl` against llama.cpp's own llama-perplexity (built from the pinned release) on a
// generated model and its Q4_K_M build: perplexity, KL divergence and the base file agree; bad
// input gets clear errors; a rerun computes nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "test_util.h"

using namespace qaudit;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBin = QAUDIT_BINARY;
const std::string kLlamaBin = QAUDIT_LLAMA_BIN_DIR;

// The number after the last "label:" (or "label =") in llama-perplexity's output.
double grab(const std::string& out, const std::string& label) {
  std::regex re(label + R"(\s*(?::|=)\s*([0-9.eE+-]+))");
  double v = NAN;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it) v = std::stod((*it)[1]);
  return v;
}

struct Fixture {
  std::string ref, variant, corpus;
  fs::path dir;
};

const Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    x.dir = test::temp_dir("ppl");
    x.ref = test::tiny_model("llama");
    x.corpus = test::shared_data("crows-pairs/crows_pairs_anonymized.csv");
    auto r = test::run(kBin + " quantize -q -m " + x.ref + " -r Q4_K_M --cache " + (x.dir / "cache").string() + " --json " +
                       (x.dir / "q.json").string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    x.variant = json::parse(test::slurp(x.dir / "q.json"))[0]["path"];
    return x;
  }();
  return f;
}

}  // namespace

TEST(PplCli, AgreesWithLlamaPerplexityAndSharesItsBaseFileFormat) {
  const auto& f = fixture();
  std::string common = " -c 128 --chunks 8 ";
  // llama-perplexity: perplexity of the variant, then the base file of the reference and the KL
  // divergence of the variant against it.
  auto lp = test::run(kLlamaBin + "/llama-perplexity -t 2 -m " + f.variant + " -f " + f.corpus + common);
  ASSERT_EQ(lp.exit_code, 0) << lp.output;
  double llama_ppl = grab(lp.output, "Final estimate: PPL");
  std::string lbase = (f.dir / "llama-base.bin").string();
  auto lb = test::run(kLlamaBin + "/llama-perplexity -t 2 -m " + f.ref + " -f " + f.corpus + common + "--kl-divergence-base " + lbase);
  ASSERT_EQ(lb.exit_code, 0) << lb.output;
  auto lk = test::run(kLlamaBin + "/llama-perplexity -t 2 -m " + f.variant + " -f " + f.corpus + common +
                      "--kl-divergence --kl-divergence-base " + lbase);
  ASSERT_EQ(lk.exit_code, 0) << lk.output;
  double llama_kld = grab(lk.output, "Mean    KLD"), llama_ppl_q = grab(lk.output, "Mean PPL\\(Q\\)"),
         llama_ppl_base = grab(lk.output, "Mean PPL\\(base\\)"), llama_ratio = grab(lk.output, "Mean ln\\(PPL\\(Q\\)/PPL\\(base\\)\\)"),
         llama_top = grab(lk.output, "Same top p");
  ASSERT_FALSE(std::isnan(llama_ppl) || std::isnan(llama_kld) || std::isnan(llama_top)) << lk.output;

  std::string store = (f.dir / "ppl.sqlite").string();
  auto r = test::run(kBin + " ppl -q -m " + f.variant + " --corpus " + f.corpus + common + "-s " + store + " --json " +
                     (f.dir / "ppl.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json p = json::parse(test::slurp(f.dir / "ppl.json"));
  EXPECT_NEAR(p["ppl"]["value"].get<double>() / llama_ppl, 1.0, 1e-3);
  std::string obase = (f.dir / "our-base.bin").string();
  r = test::run(kBin + " ppl -q -m " + f.variant + " --reference " + f.ref + " --corpus " + f.corpus + common + "-s " + store +
                " --save-base " + obase + " --json " + (f.dir / "kld.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json k = json::parse(test::slurp(f.dir / "kld.json"));
  EXPECT_NEAR(k["kld"]["value"].get<double>() / llama_kld, 1.0, 1e-3);
  EXPECT_NEAR(k["ppl"]["value"].get<double>() / llama_ppl_q, 1.0, 1e-3);
  EXPECT_NEAR(k["ppl_base"]["value"].get<double>() / llama_ppl_base, 1.0, 1e-3);
  EXPECT_NEAR(k["log_ppl_ratio"]["value"].get<double>(), llama_ratio, 1e-3 * std::fabs(llama_ratio));
  EXPECT_NEAR(100 * k["same_top"]["value"].get<double>(), llama_top, 0.01);
  EXPECT_GT(k["kld"]["value"].get<double>(), 0.0);
  // The reference's base file: the same bytes as llama-perplexity's, and either one is accepted.
  EXPECT_TRUE(test::slurp(obase) == test::slurp(lbase)) << "base files differ";
  r = test::run(kBin + " ppl -q -m " + f.variant + " --base " + lbase + " -s " + store + " --json " + (f.dir / "kld2.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NEAR(json::parse(test::slurp(f.dir / "kld2.json"))["kld"]["value"].get<double>() / llama_kld, 1.0, 1e-3);
  // A rerun computes nothing.
  r = test::run(kBin + " ppl -m " + f.variant + " --reference " + f.ref + " --corpus " + f.corpus + common + "-s " + store);
  EXPECT_NE(r.output.find("8 chunks were already in"), std::string::npos) << r.output;
}

TEST(PplCli, BadInputIsAClearError) {
  const auto& f = fixture();
  auto dir = test::temp_dir("ppl-bad");
  std::ofstream(dir / "short.txt") << "Only a few words here.";
  std::ofstream(dir / "bad.jsonl") << "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n{\"messages\": 3}\n";
  std::ofstream(dir / "trunc.bin") << "_logits_xxxx";
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"-m " + f.variant + " --corpus " + (dir / "short.txt").string() + " -c 128", "needs at least 256"},
      {"-m " + test::tiny_model("qwen2") + " --reference " + f.ref + " --corpus " + f.corpus + " -c 128 --chunks 2", "vocabulary"},
      {"-m " + f.variant + " --corpus " + (dir / "bad.jsonl").string(), "bad.jsonl:2: field 'messages'"},
      {"-m " + f.variant + " --base " + (dir / "trunc.bin").string(), "trunc.bin"},
      {"-m " + f.variant + " --corpus " + (dir / "missing.txt").string(), "missing.txt"},
  };
  for (const auto& c : cases) {
    auto r = test::run(kBin + " ppl -q -s " + (dir / "s.sqlite").string() + " " + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
  }
}
