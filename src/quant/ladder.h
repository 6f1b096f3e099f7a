// Building variants: native llama.cpp quantization or simulated recipes, cached by content
// (reference hash + recipe + llama.cpp release). A variant is complete only once its manifest is
// written, so a half-built file is never reused.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "quant/recipe.h"

namespace qaudit::quant {

struct TensorError {
  std::string name;
  std::string type;  // the variant's storage type
  double rmse = 0;   // root mean squared difference to the reference
  double rel = 0;    // ||variant - reference|| / ||reference||
};

struct Variant {
  std::string recipe;        // canonical text
  std::string path;          // the GGUF file
  std::string reference_hash;
  int64_t file_size = 0;
  double bits_per_weight = 0;  // over the weights of 2-D tensors, as stored
  std::string llama_release;
  bool reused = false;         // found complete in the cache
  std::vector<TensorError> tensors;
};

// Throws an Error (with the way forward) for a recipe this build cannot make, e.g. a type that
// needs an importance matrix.
void require_buildable(const Recipe& r);

// Builds (or reuses) one variant of `reference` in `cache_dir`. Progress per tensor on stderr
// unless quiet. Throws an Error for a type that needs an importance matrix, a non-float
// reference for simulated recipes, or a quantizer failure.
Variant build_variant(const std::string& reference, const std::string& reference_hash, const Recipe& recipe,
                      const std::string& cache_dir, bool quiet);

// The variant as JSON (the manifest's and `qaudit quantize --json`'s form).
nlohmann::json variant_json(const Variant& v);

// Per-tensor error of every 2-D tensor of `variant` against `reference` (same tensor names).
std::vector<TensorError> tensor_errors(const std::string& reference, const std::string& variant, double* bpw);

// Bits per weight over the 2-D tensors of a GGUF file, as stored.
double file_bits_per_weight(const std::string& path);

// ~/.cache/qaudit/variants (or $QAUDIT_CACHE_DIR/variants).
std::string default_variant_cache();

}  // namespace qaudit::quant
