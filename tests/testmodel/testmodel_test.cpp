#include "testmodel/testmodel.h"

#include <gtest/gtest.h>
#include <gguf.h>

#include <fstream>
#include <sstream>

#include "backends/llama_backend.h"
#include "common/error.h"
#include "test_util.h"

using namespace qaudit;

namespace {

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string write(const std::filesystem::path& dir, const std::string& name, testmodel::Options o) {
  auto p = (dir / name).string();
  testmodel::write_test_model(o, p);
  return p;
}

}  // namespace

TEST(TestModel, SameSeedAndShapeGiveByteIdenticalFiles) {
  auto dir = test::temp_dir("tm-det");
  testmodel::Options o;
  auto a = write(dir, "a.gguf", o), b = write(dir, "b.gguf", o);
  EXPECT_EQ(bytes(a), bytes(b));
  o.seed = 2;
  auto c = write(dir, "c.gguf", o);
  EXPECT_NE(bytes(a), bytes(c));
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".partial"), std::string::npos) << e.path();
}

class TestModelArch : public ::testing::TestWithParam<const char*> {};

TEST_P(TestModelArch, LoadsInLlamaCppWithTheVocabFilesTokenizer) {
  std::string arch = GetParam();
  auto dir = test::temp_dir(std::string("tm-") + arch);
  testmodel::Options o;
  o.arch = arch;
  auto path = write(dir, "m.gguf", o);
  auto m = backends::LlamaModel::load(path);
  EXPECT_EQ(m->arch(), arch);
  // Every tokenizer.* key of the vocab file, unchanged.
  gguf_init_params p{true, nullptr};
  gguf_context* vocab = gguf_init_from_file(testmodel::default_vocab_path(arch).c_str(), p);
  gguf_context* model = gguf_init_from_file(path.c_str(), p);
  ASSERT_TRUE(vocab && model);
  int copied = 0;
  for (int64_t i = 0; i < gguf_get_n_kv(vocab); ++i) {
    std::string key = gguf_get_key(vocab, i);
    if (key.rfind("tokenizer.", 0) != 0) continue;
    int64_t j = gguf_find_key(model, key.c_str());
    ASSERT_GE(j, 0) << key;
    EXPECT_EQ(gguf_get_kv_type(model, j), gguf_get_kv_type(vocab, i)) << key;
    if (gguf_get_kv_type(vocab, i) == GGUF_TYPE_STRING) {
      EXPECT_STREQ(gguf_get_val_str(model, j), gguf_get_val_str(vocab, i)) << key;
    } else if (gguf_get_kv_type(vocab, i) == GGUF_TYPE_ARRAY) {
      EXPECT_EQ(gguf_get_arr_n(model, j), gguf_get_arr_n(vocab, i)) << key;
    }
    ++copied;
  }
  EXPECT_GT(copied, 3);
  gguf_free(vocab);
  gguf_free(model);
  // qwen2 and phi-3 vocabularies carry a chat template; llama-spm does not.
  EXPECT_EQ(m->chat_template().has_value(), arch != "llama");
  // K-quant friendly widths
  EXPECT_EQ(testmodel::preset("tiny").n_embd % 256, 0);
  EXPECT_EQ(testmodel::preset("tiny").n_ff % 256, 0);
}

INSTANTIATE_TEST_SUITE_P(Archs, TestModelArch, ::testing::Values("llama", "qwen2", "phi3"));

TEST(TestModel, RejectsAnInconsistentShape) {
  testmodel::Options o;
  o.shape.n_head = 3;
  EXPECT_THROW(testmodel::write_test_model(o, (test::temp_dir("tm-bad") / "x.gguf").string()), Error);
}
