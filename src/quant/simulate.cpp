#include "quant/simulate.h"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"
#include "common/gguf_file.h"

namespace qaudit::quant {

float round_to(FloatType t, float x) {
  switch (t) {
    case FloatType::f16: return ggml_fp16_to_fp32(ggml_fp32_to_fp16(x));
    case FloatType::bf16: return ggml_bf16_to_fp32(ggml_fp32_to_bf16(x));
    case FloatType::f32: return x;
  }
  return x;
}

void affine_group(float* w, size_t n, int bits, FloatType storage) {
  const float levels = float((1 << bits) - 1);
  float mn = *std::min_element(w, w + n), mx = *std::max_element(w, w + n);
  float scale = std::max((mx - mn) / levels, 1e-7f);
  bool min_is_edge = std::fabs(mn) > std::fabs(mx);
  float edge = min_is_edge ? mn : mx;
  if (!min_is_edge) scale = -scale;
  float q0 = std::nearbyint(edge / scale);  // round half to even, as MLX's round
  float bias = 0;
  if (q0 != 0) {
    scale = edge / q0;
    bias = edge;
  }
  scale = round_to(storage, scale);
  bias = round_to(storage, bias);
  for (size_t i = 0; i < n; ++i) {
    float q = std::clamp(std::nearbyint((w[i] - bias) / scale), 0.0f, levels);
    w[i] = q * scale + bias;
  }
}

void rtn_group(float* w, size_t n, int bits, FloatType storage) {
  const float qmax = float((1 << (bits - 1)) - 1);
  float amax = 0;
  for (size_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(w[i]));
  float scale = round_to(storage, amax / qmax);
  for (size_t i = 0; i < n; ++i) w[i] = scale == 0 ? 0 : std::clamp(std::nearbyint(w[i] / scale), -qmax, qmax) * scale;
}

void write_simulated(const std::string& reference, const Recipe& r, const std::string& out_path) {
  GgufReader ref(reference, "pass an F32, F16 or BF16 GGUF model");
  GgufPtr out(gguf_init_empty());
  gguf_set_kv(out.get(), ref.gguf());
  gguf_set_val_str(out.get(), "qaudit.recipe", recipe_text(r).c_str());
  for (int64_t i = 0; i < ref.n_tensors(); ++i) {
    ggml_tensor* t = ref.tensor(i);
    if (ggml_n_dims(t) >= 2 && t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16 && t->type != GGML_TYPE_BF16)
      throw Error(ErrorSite{reference, 0, ref.name(i)}, fmt::format("tensor is {}, not a float type", ggml_type_name(t->type)),
                  "simulated quantization needs a full-precision reference (F32, F16 or BF16)");
    gguf_add_tensor(out.get(), t);
  }
  GgufStreamWriter w(out.get(), out_path);
  std::vector<uint8_t> buf;
  std::vector<float> row;
  for (int64_t i = 0; i < ref.n_tensors(); ++i) {
    ggml_tensor* t = ref.tensor(i);
    ref.read(i, buf);
    std::string n(ref.name(i));
    bool weight = n.size() > 7 && n.compare(n.size() - 7, 7, ".weight") == 0;
    if (ggml_n_dims(t) >= 2 && weight && t->ne[0] % r.group == 0) {
      FloatType ft = t->type == GGML_TYPE_F16 ? FloatType::f16 : t->type == GGML_TYPE_BF16 ? FloatType::bf16 : FloatType::f32;
      int64_t n_cols = t->ne[0], n_rows = ggml_nrows(t);
      row.resize(n_cols);
      size_t row_bytes = ggml_row_size(t->type, n_cols);
      for (int64_t rr = 0; rr < n_rows; ++rr) {
        uint8_t* src = buf.data() + rr * row_bytes;
        if (ft == FloatType::f16) ggml_fp16_to_fp32_row(reinterpret_cast<ggml_fp16_t*>(src), row.data(), n_cols);
        else if (ft == FloatType::bf16) ggml_bf16_to_fp32_row(reinterpret_cast<ggml_bf16_t*>(src), row.data(), n_cols);
        else std::copy_n(reinterpret_cast<float*>(src), n_cols, row.data());
        for (int64_t g = 0; g < n_cols; g += r.group) {
          if (r.kind == Recipe::Kind::affine) affine_group(row.data() + g, r.group, r.bits, ft);
          else rtn_group(row.data() + g, r.group, r.bits, ft);
        }
        if (ft == FloatType::f16) ggml_fp32_to_fp16_row(row.data(), reinterpret_cast<ggml_fp16_t*>(src), n_cols);
        else if (ft == FloatType::bf16) ggml_fp32_to_bf16_row_ref(row.data(), reinterpret_cast<ggml_bf16_t*>(src), n_cols);
        else std::copy_n(row.data(), n_cols, reinterpret_cast<float*>(src));
      }
    }
    w.write(buf.data(), buf.size());
    w.end_tensor();
  }
  w.finish();
}

}  // namespace qaudit::quant
