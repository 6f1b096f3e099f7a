// Simulated quantization: weights are quantized and immediately dequantized, then written in the
// reference's float type, so that llama.cpp evaluates exactly the quantized values.
#pragma once

#include <cstddef>
#include <string>

#include "quant/recipe.h"

namespace qaudit::quant {

// Float storage types a reference may use; scale and bias are rounded to it as MLX stores them.
enum class FloatType { f32, f16, bf16 };
float round_to(FloatType t, float x);

// MLX's affine quantization of one group (in place): n = 2^bits - 1; scale = max((max-min)/n,
// 1e-7); the edge of larger magnitude is kept exact (negating scale when it is the maximum);
// q = clamp(round((w - bias) / scale), 0, n); w = q * scale + bias.
void affine_group(float* w, size_t n, int bits, FloatType storage);
// Symmetric round-to-nearest of one group: scale = absmax / (2^(bits-1) - 1).
void rtn_group(float* w, size_t n, int bits, FloatType storage);

// Writes a copy of the reference GGUF with every 2-D weight whose row length divides by the
// group size replaced by its quantized-dequantized values (norms and biases unchanged).
// Throws an Error if the reference is not F32/F16/BF16.
void write_simulated(const std::string& reference, const Recipe& r, const std::string& out_path);

}  // namespace qaudit::quant
