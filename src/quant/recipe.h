// Recipes: how a variant is made from its reference, with a stable text form used on the
// command line and in stored results.
//   Q4_K_M                 llama.cpp's own quantizer, a native type (see native_types())
//   Q4_K_M+pure            ... with every tensor at the base type
//   IQ2_XS+imatrix=F.gguf  ... quantized with an importance matrix (llama-imatrix's GGUF format)
//   Q4_K_M+tt=attn_v=q8_0  ... tensors whose name matches the pattern at another type (as
//                          llama-quantize --tensor-type; repeatable)
//   Q4_K_M+output=q8_0+embd=q4_k  the output / token-embedding tensors at these types
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
  std::string imatrix;      // native: importance matrix file
  std::vector<std::pair<std::string, std::string>> tensor_types;  // native: (pattern, ggml type name)
  std::string output_type, embedding_type;                        // native: ggml type names
};

// A ggml type by name, case-insensitive (q8_0, Q4_K, f16, ...); -1 when unknown.
int ggml_type_by_name(const std::string& name);

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
