// Recipes: how a variant is made from its reference, with a stable text form used on the
// command line and in stored results.
//   Q4_K_M                 llama.cpp's own quantizer, a native type (see native_types())
//   Q4_K_M+pure            ... with every tensor at the base type
//   affine:b4:g64          MLX's affine group quantization (the study's), simulated: the
//                          dequantized weights written in the reference's float type
//   rtn:b4:g64             symmetric round-to-nearest per group (absmax), simulated
#pragma once

#include <string>
#include <vector>

namespace qaudit::quant {

struct Recipe {
  enum class Kind { native, affine, rtn } kind = Kind::native;
  std::string native_type;  // canonical name, e.g. "Q4_K_M"
  int bits = 0;             // affine / rtn
  int group = 0;            // affine / rtn
  bool pure = false;        // native: no mixture
};

// Parses a recipe; throws an Error naming the bad part and listing what is accepted.
Recipe parse_recipe(const std::string& text);
// The canonical text form (parse_recipe(recipe_text(r)) == r).
std::string recipe_text(const Recipe& r);

struct NativeType {
  const char* name;
  int ftype;             // llama_ftype
  double nominal_bpw;    // bits per weight of its main tensor type
  bool needs_imatrix;    // refused without an importance matrix
};
const std::vector<NativeType>& native_types();

}  // namespace qaudit::quant
