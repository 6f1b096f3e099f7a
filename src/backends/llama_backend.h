// The in-process backend: a GGUF model loaded through libllama, and a context whose KV cache
// holds many sequences at once. The engine drives it; nothing here knows about suites.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct llama_model;
struct llama_context;
struct llama_vocab;
struct llama_sampler;
struct ggml_tensor;

namespace qaudit::backends {

using Token = int32_t;

// Attention and KV settings. `exact` (flash attention off, F32 KV cache) makes batched and
// one-at-a-time scoring agree to ~1e-6; the default (flash attention auto, F16 KV) is faster.
struct ContextSettings {
  int n_threads = 0;     // 0: all hardware threads
  int n_gpu_layers = 0;  // layers offloaded when llama.cpp has a GPU backend
  bool exact = false;
  int n_batch = 2048;    // tokens per llama_decode
  int n_seq = 16;        // sequences decoded side by side
  int n_ubatch = 0;      // tokens per compute pass (0: n_batch, one pass per decode)
  bool unified_kv = true;  // one KV cache for all sequences (shared prefixes); false: one per sequence
  // Called by llama.cpp's scheduler for every graph node (ggml_backend_sched_eval_callback): with
  // ask = true it answers whether it wants the node's data, then it is called again with it.
  bool (*eval_callback)(::ggml_tensor* t, bool ask, void* user_data) = nullptr;
  void* eval_callback_data = nullptr;
};

// Recorded with every stored result, e.g. "fa=auto kv=f16 batch=2048 seq=32".
std::string settings_text(const ContextSettings& s);

// Sends llama.cpp's log to stderr only when verbose; the last error lines are kept for messages.
void backend_init(bool verbose);
std::string backend_last_log();
// Every complete line llama.cpp logs goes to `hook` until it is cleared (an empty function); used
// to show the quantizer's per-tensor progress as it happens.
void backend_set_line_hook(std::function<void(const std::string&)> hook);

class LlamaModel {
 public:
  // Loads a GGUF file. Throws an Error naming the file when it is missing, not GGUF, truncated
  // or not loadable by the pinned llama.cpp.
  static std::unique_ptr<LlamaModel> load(const std::string& path, int n_gpu_layers = 0);
  ~LlamaModel();

  llama_model* get() const { return model_; }
  const llama_vocab* vocab() const { return vocab_; }
  const std::string& path() const { return path_; }
  int n_vocab() const;
  int n_ctx_train() const;
  std::string arch() const;
  std::string description() const;
  uint64_t n_params() const;
  std::optional<std::string> chat_template() const;

  // Text -> tokens; BOS is added when the vocabulary asks for it and the text does not already
  // start with it. Special tokens in the text (chat template markers) are parsed as such.
  std::vector<Token> tokenize(const std::string& text) const;
  // Token -> text as it would be printed (special tokens render empty).
  std::string piece(Token t) const;
  bool is_control(Token t) const;
  bool is_end_of_generation(Token t) const;

 private:
  LlamaModel() = default;
  llama_model* model_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
  std::string path_;
};

// A decoding context with n_seq sequences over one unified KV cache, so that a prefix decoded in
// one sequence can be shared with all others by a cheap copy.
class LlamaContext {
 public:
  LlamaContext(const LlamaModel& model, const ContextSettings& settings, int n_ctx);
  ~LlamaContext();
  LlamaContext(const LlamaContext&) = delete;
  LlamaContext& operator=(const LlamaContext&) = delete;

  struct Entry {
    Token token;
    int32_t pos;
    std::vector<int32_t> seqs;
    bool logits;
  };
  // Decodes one batch; throws on failure (e.g. KV cache full).
  void decode(const std::vector<Entry>& batch);
  // Logits of the i-th entry of the last batch that asked for logits.
  const float* logits(int i) const;
  void seq_copy(int32_t src, int32_t dst);
  void seq_clear(int32_t seq);
  void clear();

  int n_ctx() const;
  int n_batch() const;
  int n_seq() const { return n_seq_; }
  llama_context* get() const { return ctx_; }

 private:
  llama_context* ctx_ = nullptr;
  int n_seq_;
};

// llama.cpp's sampler chain as its tools build it for `--temp T --seed S`: temperature, then a
// draw from the distribution with a generator seeded by S. Same seed, same logits -> same token.
class Sampler {
 public:
  Sampler(double temperature, uint32_t seed);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;
  // Samples from the logits of entry i of the context's last decode.
  Token sample(const LlamaContext& ctx, int i);

 private:
  llama_sampler* s_ = nullptr;
};

}  // namespace qaudit::backends
