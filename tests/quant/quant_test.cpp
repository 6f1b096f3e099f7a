#include <gtest/gtest.h>

#include <cmath>

#include "backends/llama_backend.h"
#include "common/error.h"
#include "quant/ladder.h"
#include "quant/recipe.h"
#include "quant/simulate.h"
#include "test_util.h"

using namespace qaudit;
using namespace qaudit::quant;

// w = 0..63, 2 bits: n = 3, scale = 63/3 = 21, the maximum is the exact edge (scale -21,
// bias 63); codes round((w - 63) / -21) -> worked out by hand below.
TEST(Affine, TwoBitsOnARampByHand) {
  std::vector<float> w(64);
  for (int i = 0; i < 64; ++i) w[i] = float(i);
  affine_group(w.data(), 64, 2, FloatType::f32);
  for (int i = 0; i < 64; ++i) {
    float expect = i <= 10 ? 0 : i <= 31 ? 21 : i <= 52 ? 42 : 63;
    EXPECT_FLOAT_EQ(w[i], expect) << i;
  }
}

TEST(Affine, NegativeEdgeKeepsTheMinimumExact) {
  std::vector<float> w(64);
  for (int i = 0; i < 64; ++i) w[i] = -float(i);
  affine_group(w.data(), 64, 2, FloatType::f32);
  EXPECT_FLOAT_EQ(w[63], -63);
  EXPECT_FLOAT_EQ(w[0], 0);
  EXPECT_FLOAT_EQ(w[11], -21);
  EXPECT_FLOAT_EQ(w[10], 0);
}

// 4 bits on 0..1: scale -1/15 stored in F16 becomes -0.066650390625 (mantissa 68/1024 at 2^-4),
// so w = 0 decodes to 1 - 15 * 0.066650390625 = 0.000244140625.
TEST(Affine, ScaleIsRoundedToTheStorageType) {
  std::vector<float> w(64), v(64);
  for (int i = 0; i < 64; ++i) w[i] = v[i] = float(i) / 63;
  affine_group(w.data(), 64, 4, FloatType::f16);
  EXPECT_FLOAT_EQ(w[0], 0.000244140625f);
  EXPECT_FLOAT_EQ(w[63], 1.0f);
  affine_group(v.data(), 64, 4, FloatType::f32);
  EXPECT_NEAR(v[0], 0.0f, 1e-6);
}

// absmax 1, 3 bits: qmax 3, scale 1/3; 0.5 -> 1.5 -> 2 (half to even); 0.125 -> 0.375 -> 0.
TEST(Rtn, ThreeBitsByHand) {
  std::vector<float> w(32);
  for (int i = 0; i < 32; ++i) w[i] = float(i - 16) / 16;
  rtn_group(w.data(), 32, 3, FloatType::f32);
  EXPECT_FLOAT_EQ(w[0], -1.0f);
  EXPECT_FLOAT_EQ(w[24], 2.0f / 3);
  EXPECT_FLOAT_EQ(w[8], -2.0f / 3);
  EXPECT_FLOAT_EQ(w[20], 1.0f / 3);
  EXPECT_FLOAT_EQ(w[18], 0.0f);
}

TEST(Recipe, ParsesAndPrintsCanonically) {
  for (const char* t : {"Q4_K_M", "Q8_0+pure", "affine:b3:g64", "rtn:b4:g128", "IQ4_XS"})
    EXPECT_EQ(recipe_text(parse_recipe(t)), t);
  EXPECT_EQ(recipe_text(parse_recipe("q4_k_m")), "Q4_K_M");
  for (const char* bad : {"Q4_K_X", "affine:b9:g64", "affine:b4:g48", "mlx:b4:g64", "affine:b4", "Q4_0+fast"})
    EXPECT_THROW(parse_recipe(bad), Error) << bad;
}

TEST(Ladder, BuildsCachesAndOrdersErrorsByPrecision) {
  auto dir = test::temp_dir("ladder");
  std::string ref = test::tiny_model();
  auto build = [&](const char* r) { return build_variant(ref, "refhash", parse_recipe(r), dir.string(), true); };
  Variant q8 = build("Q8_0"), q3 = build("Q3_K_M"), a8 = build("affine:b8:g64"), a3 = build("affine:b3:g64");
  EXPECT_FALSE(q8.reused);
  EXPECT_TRUE(build("Q8_0").reused);
  auto mean_rel = [](const Variant& v) {
    double s = 0;
    for (const auto& t : v.tensors) s += t.rel;
    return s / v.tensors.size();
  };
  EXPECT_LT(mean_rel(q8), mean_rel(q3));
  EXPECT_LT(mean_rel(a8), mean_rel(a3));
  EXPECT_GT(mean_rel(a3), 0.0);
  EXPECT_NEAR(q8.bits_per_weight, 8.5, 1e-9);
  EXPECT_NEAR(a3.bits_per_weight, 3.5, 1e-9);
  // every variant is a model llama.cpp loads
  for (const auto* v : {&q8, &q3, &a3}) EXPECT_NO_THROW(backends::LlamaModel::load(v->path)) << v->recipe;
  // a type that needs an importance matrix is refused with a way forward
  try {
    build("IQ2_XS");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.hint().find("imatrix"), std::string::npos);
  }
}
