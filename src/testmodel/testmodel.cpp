#include "testmodel/testmodel.h"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>


#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/gguf_file.h"

namespace qaudit::testmodel {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t name_seed(uint64_t seed, const std::string& name) {
  uint64_t h = seed ^ 0xcbf29ce484222325ULL;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// What one tensor holds: uniform noise of a given standard deviation, or a constant.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;
  bool matrix;    // 2-D weight (F16 unless f32) vs 1-D norm/bias (always F32)
  double std;     // 0: constant `value`
  double value;
};

std::vector<TensorSpec> tensor_specs(const std::string& arch, const Shape& s, int64_t n_vocab) {
  const int64_t e = s.n_embd, ff = s.n_ff, kv = int64_t(s.n_embd / s.n_head) * s.n_head_kv;
  auto mat = [](std::string n, int64_t in, int64_t out, double std) {
    return TensorSpec{std::move(n), {in, out}, true, std, 0};
  };
  auto vec = [](std::string n, int64_t len, double std, double value) {
    return TensorSpec{std::move(n), {len}, false, std, value};
  };
  double w = 1.0 / std::sqrt(double(e)), wff = 1.0 / std::sqrt(double(ff));
  std::vector<TensorSpec> t;
  t.push_back(mat("token_embd.weight", e, n_vocab, 1.0));
  t.push_back(vec("output_norm.weight", e, 0, 1.0));
  // Larger output weights give peaked next-token distributions, as trained models have.
  t.push_back(mat("output.weight", e, n_vocab, 4.0 * w));
  for (int i = 0; i < s.n_layer; ++i) {
    auto b = fmt::format("blk.{}.", i);
    t.push_back(vec(b + "attn_norm.weight", e, 0, 1.0));
    if (arch == "phi3") {
      t.push_back(mat(b + "attn_qkv.weight", e, e + 2 * kv, w));
    } else {
      t.push_back(mat(b + "attn_q.weight", e, e, w));
      t.push_back(mat(b + "attn_k.weight", e, kv, w));
      t.push_back(mat(b + "attn_v.weight", e, kv, w));
      if (arch == "qwen2") {
        t.push_back(vec(b + "attn_q.bias", e, 0.02, 0));
        t.push_back(vec(b + "attn_k.bias", kv, 0.02, 0));
        t.push_back(vec(b + "attn_v.bias", kv, 0.02, 0));
      }
    }
    t.push_back(mat(b + "attn_output.weight", e, e, w));
    t.push_back(vec(b + "ffn_norm.weight", e, 0, 1.0));
    if (arch == "phi3") {
      t.push_back(mat(b + "ffn_up.weight", e, 2 * ff, w));
    } else {
      t.push_back(mat(b + "ffn_gate.weight", e, ff, w));
      t.push_back(mat(b + "ffn_up.weight", e, ff, w));
    }
    t.push_back(mat(b + "ffn_down.weight", ff, e, wff));
  }
  return t;
}

}  // namespace

Shape preset(const std::string& name) {
  if (name == "tiny") return Shape{};
  if (name == "qwen2.5-0.5b") return Shape{896, 4864, 24, 14, 2, 32768};
  throw Error(ErrorSite{"", 0, "preset"}, fmt::format("unknown preset \"{}\"", name),
              fmt::format("use one of: {}", fmt::join(preset_names(), ", ")));
}

std::vector<std::string> preset_names() { return {"tiny", "qwen2.5-0.5b"}; }

std::string default_vocab_path(const std::string& arch) {
  const char* file = arch == "llama" ? "ggml-vocab-llama-spm.gguf" : arch == "phi3" ? "ggml-vocab-phi-3.gguf" : "ggml-vocab-qwen2.gguf";
  const char* env = std::getenv("QAUDIT_VOCAB_DIR");
  std::string dir = env && *env ? env : QAUDIT_VOCAB_DIR;
  return (std::filesystem::path(dir) / file).string();
}

void write_test_model(const Options& opt, const std::string& path) {
  const Shape& s = opt.shape;
  if (opt.arch != "llama" && opt.arch != "qwen2" && opt.arch != "phi3")
    throw Error(ErrorSite{"", 0, "arch"}, fmt::format("unsupported architecture \"{}\"", opt.arch), "use llama, qwen2 or phi3");
  if (s.n_embd <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 || s.n_embd % s.n_head != 0 || s.n_head % s.n_head_kv != 0 ||
      s.n_ff <= 0 || s.n_layer <= 0)
    throw Error(ErrorSite{"", 0, "shape"},
                fmt::format("inconsistent shape: n_embd {} n_head {} n_head_kv {} n_ff {} n_layer {}", s.n_embd,
                            s.n_head, s.n_head_kv, s.n_ff, s.n_layer),
                "n_embd must divide by n_head, and n_head by n_head_kv");
  std::string vocab_path = opt.vocab_path.empty() ? default_vocab_path(opt.arch) : opt.vocab_path;
  require_readable_file(vocab_path, "vocab file", "pass --vocab with one of llama.cpp's models/ggml-vocab-*.gguf files");

  gguf_init_params vp{true, nullptr};
  GgufPtr vocab(gguf_init_from_file(vocab_path.c_str(), vp));
  if (!vocab) throw Error(ErrorSite{vocab_path, 0, {}}, "not a readable GGUF vocab file", "pass a models/ggml-vocab-*.gguf file");
  int64_t tok_key = gguf_find_key(vocab.get(), "tokenizer.ggml.tokens");
  if (tok_key < 0) throw Error(ErrorSite{vocab_path, 0, "tokenizer.ggml.tokens"}, "missing", "pass a vocab file with a tokenizer");
  int64_t n_vocab = int64_t(gguf_get_arr_n(vocab.get(), tok_key));

  GgufPtr out(gguf_init_empty());
  gguf_set_val_str(out.get(), "general.architecture", opt.arch.c_str());
  gguf_set_val_str(out.get(), "general.name", fmt::format("qaudit test model ({}, seed {})", opt.arch, opt.seed).c_str());
  gguf_set_val_u32(out.get(), "general.file_type", opt.f32 ? 0 : 1);  // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
  auto key = [&](const char* k) { return opt.arch + "." + k; };
  gguf_set_val_u32(out.get(), key("context_length").c_str(), uint32_t(s.n_ctx));
  gguf_set_val_u32(out.get(), key("embedding_length").c_str(), uint32_t(s.n_embd));
  gguf_set_val_u32(out.get(), key("block_count").c_str(), uint32_t(s.n_layer));
  gguf_set_val_u32(out.get(), key("feed_forward_length").c_str(), uint32_t(s.n_ff));
  gguf_set_val_u32(out.get(), key("attention.head_count").c_str(), uint32_t(s.n_head));
  gguf_set_val_u32(out.get(), key("attention.head_count_kv").c_str(), uint32_t(s.n_head_kv));
  gguf_set_val_f32(out.get(), key("attention.layer_norm_rms_epsilon").c_str(), 1e-6f);
  gguf_set_val_f32(out.get(), key("rope.freq_base").c_str(), 10000.0f);
  gguf_set_val_u32(out.get(), key("rope.dimension_count").c_str(), uint32_t(s.n_embd / s.n_head));
  // The tokenizer, verbatim: copy every key, then drop all but tokenizer.*.
  {
    GgufPtr tmp(gguf_init_empty());
    gguf_set_kv(tmp.get(), vocab.get());
    std::vector<std::string> drop;
    for (int64_t i = 0; i < gguf_get_n_kv(tmp.get()); ++i) {
      std::string k = gguf_get_key(tmp.get(), i);
      if (k.rfind("tokenizer.", 0) != 0) drop.push_back(k);
    }
    for (const auto& k : drop) gguf_remove_key(tmp.get(), k.c_str());
    gguf_set_kv(out.get(), tmp.get());
  }

  auto specs = tensor_specs(opt.arch, s, n_vocab);
  ggml_init_params ip{specs.size() * ggml_tensor_overhead() + 1024, nullptr, true};
  GgmlPtr meta(ggml_init(ip));
  ggml_type wtype = opt.f32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
  for (const auto& t : specs) {
    ggml_tensor* x = t.ne.size() == 2 ? ggml_new_tensor_2d(meta.get(), t.matrix ? wtype : GGML_TYPE_F32, t.ne[0], t.ne[1])
                                      : ggml_new_tensor_1d(meta.get(), GGML_TYPE_F32, t.ne[0]);
    ggml_set_name(x, t.name.c_str());
    gguf_add_tensor(out.get(), x);
  }

  GgufStreamWriter w(out.get(), path);
  std::vector<float> row;
  std::vector<ggml_fp16_t> row16;
  for (const auto& t : specs) {
    int64_t n_cols = t.ne[0], n_rows = t.ne.size() == 2 ? t.ne[1] : 1;
    uint64_t rng = name_seed(opt.seed, t.name);
    double half_width = t.std * std::sqrt(3.0);
    row.resize(n_cols);
    for (int64_t r = 0; r < n_rows; ++r) {
      for (int64_t c = 0; c < n_cols; ++c) {
        if (t.std == 0) {
          row[c] = float(t.value);
        } else {
          double u = double(splitmix64(rng) >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
          row[c] = float(t.value + (2 * u - 1) * half_width);
        }
      }
      if (t.matrix && !opt.f32) {
        row16.resize(n_cols);
        ggml_fp32_to_fp16_row(row.data(), row16.data(), n_cols);
        w.write(row16.data(), n_cols * sizeof(ggml_fp16_t));
      } else {
        w.write(row.data(), n_cols * sizeof(float));
      }
    }
    w.end_tensor();
  }
  w.finish();
}

}  // namespace qaudit::testmodel
