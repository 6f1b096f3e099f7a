// Generated test models: small GGUF files with deterministic random weights and a real
// tokenizer (every tokenizer.* key, chat template included, copied from one of llama.cpp's
// vocab-only files). Same options -> byte-identical file. Their answers mean nothing; they
// exist so that every stage can run on real llama.cpp inference without downloading weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qaudit::testmodel {

struct Shape {
  int n_embd = 256;
  int n_ff = 512;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 4;
  int n_ctx = 4096;
};

struct Options {
  std::string arch = "qwen2";  // llama | qwen2 | phi3
  std::string vocab_path;      // vocab-only GGUF; empty: the one that ships with the pinned llama.cpp
  Shape shape;
  uint64_t seed = 1;
  bool f32 = false;            // weight matrices in F32 instead of F16
};

// Named shapes: "tiny" (fast tests; K-quant friendly: widths multiples of 256) and
// "qwen2.5-0.5b" (the shapes of Qwen2.5-0.5B, for benchmarks).
Shape preset(const std::string& name);
std::vector<std::string> preset_names();

// The vocab file the pinned llama.cpp ships for an architecture (llama-spm, qwen2, phi-3).
std::string default_vocab_path(const std::string& arch);

// Writes the model to `path` (atomically: a temporary file renamed at the end). Memory stays
// flat: the header is written first, then each tensor is generated and streamed.
void write_test_model(const Options& opt, const std::string& path);

}  // namespace qaudit::testmodel
