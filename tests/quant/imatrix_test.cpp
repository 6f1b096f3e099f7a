// Importance matrices: qaudit imatrix writes the same bytes as llama-imatrix (built from the
// pinned release) on the same model, text and context; each tool's file drives the other's
// quantizer to the same tensors; overrides of tensor types are applied; bad input is refused.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/gguf_file.h"
#include "quant/imatrix.h"
#include "test_util.h"

using namespace qaudit;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
const std::string kBin = QAUDIT_BINARY;
const std::string kLlamaBin = QAUDIT_LLAMA_BIN_DIR;
}  // namespace

TEST(Imatrix, SameBytesAsLlamaImatrixAndInterchangeableWithLlamaQuantize) {
  auto dir = test::temp_dir("imatrix");
  std::string model = test::tiny_model("llama"), corpus = test::shared_data("crows-pairs/crows_pairs_anonymized.csv");
  std::string ours = (dir / "ours.gguf").string(), theirs = (dir / "theirs.gguf").string();
  auto r = test::run(kBin + " imatrix -q -m " + model + " --corpus " + corpus + " -c 128 --chunks 4 -o " + ours);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run(kLlamaBin + "/llama-imatrix -t 2 -m " + model + " -f " + corpus + " -c 128 --chunks 4 -o " + theirs);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::slurp(ours) == test::slurp(theirs)) << "the importance matrix files differ";
  auto m = quant::read_imatrix(ours);
  ASSERT_GT(m.entries.size(), 0u);
  EXPECT_EQ(m.entries.at("blk.0.attn_q.weight").count, 4 * 128);  // every token of every chunk
  for (const auto& [name, e] : m.entries)
    for (double s : e.sums) ASSERT_GE(s, 0.0) << name;  // sums of squares
  // qaudit's quantizer with llama-imatrix's file, llama-quantize with qaudit's: the same tensors.
  r = test::run(kBin + " quantize -q -m " + model + " -r IQ2_XS+imatrix=" + theirs + " --cache " + (dir / "cache").string() +
                " --json " + (dir / "q.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string mine = json::parse(test::slurp(dir / "q.json"))[0]["path"];
  std::string lq = (dir / "lq.gguf").string();
  r = test::run(kLlamaBin + "/llama-quantize --imatrix " + ours + " " + model + " " + lq + " IQ2_XS 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  GgufReader a(mine, ""), b(lq, "");
  ASSERT_EQ(a.n_tensors(), b.n_tensors());
  std::vector<uint8_t> x, y;
  for (int64_t i = 0; i < a.n_tensors(); ++i) {
    int64_t j = b.find(a.name(i));
    ASSERT_GE(j, 0) << a.name(i);
    a.read(i, x);
    b.read(j, y);
    EXPECT_TRUE(x == y) << a.name(i) << " differs";
  }
  // Without the importance matrix the same type is refused, with the way to make one.
  r = test::run(kBin + " quantize -q -m " + model + " -r IQ2_XS --cache " + (dir / "cache").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("qaudit imatrix"), std::string::npos) << r.output;
  // A GGUF that is not an importance matrix.
  r = test::run(kBin + " quantize -q -m " + model + " -r IQ2_XS+imatrix=" + model + " --cache " + (dir / "cache").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not an importance matrix"), std::string::npos) << r.output;
}

TEST(Imatrix, TensorTypeOverridesAndOutputAndEmbeddingTypes) {
  auto dir = test::temp_dir("overrides");
  std::string model = test::tiny_model("llama");
  auto r = test::run(kBin + " quantize -q -m " + model + " -r Q4_K_M+tt=attn_v=q8_0+output=q8_0+embd=q6_k --cache " +
                     (dir / "cache").string() + " --json " + (dir / "q.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto v = json::parse(test::slurp(dir / "q.json"))[0];
  EXPECT_EQ(v["recipe"], "Q4_K_M+tt=attn_v=q8_0+output=q8_0+embd=q6_k");
  int attn_v = 0;
  for (const auto& t : v["tensors"]) {
    std::string name = t["name"], type = t["type"];
    if (name.find("attn_v") != std::string::npos) {
      EXPECT_EQ(type, "q8_0") << name;
      ++attn_v;
    }
    if (name == "output.weight") {
      EXPECT_EQ(type, "q8_0");
    }
    if (name == "token_embd.weight") {
      EXPECT_EQ(type, "q6_K");
    }
    if (name.find("attn_q") != std::string::npos) {
      EXPECT_EQ(type, "q4_K") << name;
    }
  }
  EXPECT_EQ(attn_v, 2);  // one per layer
  r = test::run(kBin + " quantize -q -m " + model + " -r Q4_K_M+tt=attn_v=q9_9 --cache " + (dir / "cache").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not a ggml tensor type"), std::string::npos) << r.output;
}
