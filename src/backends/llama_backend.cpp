#include "backends/llama_backend.h"

#include <fmt/format.h>
#include <llama.h>

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <deque>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/files.h"

namespace qaudit::backends {
namespace {

std::mutex g_log_mutex;
std::deque<std::string> g_log_tail;
bool g_verbose = false;
std::function<void(const std::string&)> g_line_hook;
std::string g_line;

void log_callback(ggml_log_level level, const char* text, void*) {
  if (g_verbose) std::fputs(text, stderr);
  if (g_line_hook) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_line += text;
    for (size_t nl; (nl = g_line.find('\n')) != std::string::npos;) {
      std::string line = g_line.substr(0, nl);
      g_line.erase(0, nl + 1);
      g_line_hook(line);
    }
  }
  if (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    std::string t(text);
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    if (t.empty()) return;
    g_log_tail.push_back(t);
    if (g_log_tail.size() > 4) g_log_tail.pop_front();
  }
}

}  // namespace

void backend_init(bool verbose) {
  static std::once_flag once;
  g_verbose = verbose;
  std::call_once(once, [] {
    llama_log_set(log_callback, nullptr);
    llama_backend_init();
  });
}

void backend_set_line_hook(std::function<void(const std::string&)> hook) {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_line_hook = std::move(hook);
  g_line.clear();
}

std::string backend_last_log() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::string out;
  for (const auto& l : g_log_tail) out += (out.empty() ? "" : "; ") + l;
  g_log_tail.clear();
  return out;
}

std::string settings_text(const ContextSettings& s) {
  return fmt::format("fa={} kv={} batch={} seq={} ngl={}", s.exact ? "off" : "auto", s.exact ? "f32" : "f16",
                     s.n_batch, s.n_seq, s.n_gpu_layers);
}

std::unique_ptr<LlamaModel> LlamaModel::load(const std::string& path, int n_gpu_layers) {
  const char* hint = "pass a GGUF model file (llama.cpp's format), or make one with `qaudit testmodel`";
  require_readable_file(path, "model file", hint);
  {
    char magic[4] = {};
    std::FILE* f = std::fopen(path.c_str(), "rb");
    size_t n = f ? std::fread(magic, 1, 4, f) : 0;
    if (f) std::fclose(f);
    if (n < 4) throw Error(ErrorSite{path, 0, {}}, "model file is empty or shorter than a GGUF header", hint);
    if (std::memcmp(magic, "GGUF", 4) != 0)
      throw Error(ErrorSite{path, 0, {}}, "not a GGUF file (its first bytes are not \"GGUF\")", hint);
  }
  backend_init(g_verbose);
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = n_gpu_layers;
  std::unique_ptr<LlamaModel> m(new LlamaModel);
  backend_last_log();
  m->model_ = llama_model_load_from_file(path.c_str(), mp);
  if (!m->model_) {
    std::string why = backend_last_log();
    throw Error(ErrorSite{path, 0, {}},
                fmt::format("llama.cpp {} could not load this model{}", QAUDIT_LLAMA_RELEASE,
                            why.empty() ? "" : " (" + why + ")"),
                "the file may be truncated (an interrupted download or copy) or its architecture unsupported; "
                "check its size and re-create it");
  }
  m->vocab_ = llama_model_get_vocab(m->model_);
  m->path_ = path;
  return m;
}

LlamaModel::~LlamaModel() {
  if (model_) llama_model_free(model_);
}

int LlamaModel::n_vocab() const { return llama_vocab_n_tokens(vocab_); }
int LlamaModel::n_ctx_train() const { return llama_model_n_ctx_train(model_); }
uint64_t LlamaModel::n_params() const { return llama_model_n_params(model_); }

std::string LlamaModel::arch() const {
  char buf[128] = {};
  if (llama_model_meta_val_str(model_, "general.architecture", buf, sizeof buf) < 0) return "";
  return buf;
}

std::string LlamaModel::description() const {
  char buf[256] = {};
  llama_model_desc(model_, buf, sizeof buf);
  return buf;
}

std::optional<std::string> LlamaModel::chat_template() const {
  const char* t = llama_model_chat_template(model_, nullptr);
  if (!t || !*t) return std::nullopt;
  return std::string(t);
}

namespace {
std::string token_text(const llama_vocab* vocab, Token t, bool special) {
  char buf[256];
  int n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, special);
  if (n < 0) {
    std::string big(-n, '\0');
    n = llama_token_to_piece(vocab, t, big.data(), int(big.size()), 0, special);
    big.resize(std::max(n, 0));
    return big;
  }
  return std::string(buf, n);
}
}  // namespace

std::vector<Token> LlamaModel::tokenize(const std::string& text) const {
  bool add_special = true;
  if (llama_vocab_get_add_bos(vocab_)) {
    // A chat template may already write the BOS text; do not add a second one.
    std::string bos = token_text(vocab_, llama_vocab_bos(vocab_), true);
    if (!bos.empty() && text.compare(0, bos.size(), bos) == 0) add_special = false;
  }
  int n = -llama_tokenize(vocab_, text.data(), int32_t(text.size()), nullptr, 0, add_special, true);
  std::vector<Token> out(std::max(n, 0));
  int got = llama_tokenize(vocab_, text.data(), int32_t(text.size()), out.data(), int32_t(out.size()), add_special, true);
  if (got < 0) throw Error("tokenization failed", "the prompt text could not be tokenized by this model's vocabulary");
  out.resize(got);
  return out;
}

std::string LlamaModel::piece(Token t) const { return token_text(vocab_, t, false); }
bool LlamaModel::is_control(Token t) const { return llama_vocab_is_control(vocab_, t); }
bool LlamaModel::is_end_of_generation(Token t) const { return llama_vocab_is_eog(vocab_, t); }

LlamaContext::LlamaContext(const LlamaModel& model, const ContextSettings& s, int n_ctx) : n_seq_(s.n_seq) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = uint32_t(n_ctx);
  cp.n_batch = uint32_t(s.n_batch);
  cp.n_ubatch = uint32_t(s.n_ubatch > 0 ? std::min(s.n_ubatch, s.n_batch) : s.n_batch);  // default: one pass per decode
  cp.n_seq_max = uint32_t(s.n_seq);
  cp.kv_unified = s.unified_kv;       // a prefix copied to many sequences shares its KV cells
  int threads = s.n_threads > 0 ? s.n_threads : int(std::max(1u, std::thread::hardware_concurrency()));
  cp.n_threads = cp.n_threads_batch = threads;
  cp.no_perf = true;
  cp.cb_eval = s.eval_callback;
  cp.cb_eval_user_data = s.eval_callback_data;
  if (s.exact) {
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
  }
  backend_last_log();
  ctx_ = llama_init_from_model(model.get(), cp);
  if (!ctx_) {
    std::string why = backend_last_log();
    throw Error(fmt::format("llama.cpp could not create a context of {} tokens{}", n_ctx, why.empty() ? "" : " (" + why + ")"),
                "lower --batch or --seqs, or free memory");
  }
}

LlamaContext::~LlamaContext() {
  if (ctx_) llama_free(ctx_);
}

void LlamaContext::decode(const std::vector<Entry>& entries) {
  size_t n_seq_ids = 1;
  for (const auto& e : entries) n_seq_ids = std::max(n_seq_ids, e.seqs.size());
  llama_batch b = llama_batch_init(int32_t(entries.size()), 0, int32_t(n_seq_ids));
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    b.token[i] = e.token;
    b.pos[i] = e.pos;
    b.n_seq_id[i] = int32_t(e.seqs.size());
    for (size_t k = 0; k < e.seqs.size(); ++k) b.seq_id[i][k] = e.seqs[k];
    b.logits[i] = e.logits;
  }
  b.n_tokens = int32_t(entries.size());
  int rc = llama_decode(ctx_, b);
  llama_batch_free(b);
  if (rc != 0) {
    std::string why = backend_last_log();
    throw Error(fmt::format("llama_decode failed with code {}{}", rc, why.empty() ? "" : " (" + why + ")"),
                rc == 1 ? "the KV cache is full: lower --batch or --seqs" : "");
  }
}

const float* LlamaContext::logits(int i) const { return llama_get_logits_ith(ctx_, i); }
void LlamaContext::seq_copy(int32_t src, int32_t dst) { llama_memory_seq_cp(llama_get_memory(ctx_), src, dst, -1, -1); }
void LlamaContext::seq_clear(int32_t seq) { llama_memory_seq_rm(llama_get_memory(ctx_), seq, -1, -1); }
void LlamaContext::clear() { llama_memory_clear(llama_get_memory(ctx_), true); }
int LlamaContext::n_ctx() const { return int(llama_n_ctx(ctx_)); }
int LlamaContext::n_batch() const { return int(llama_n_batch(ctx_)); }

Sampler::Sampler(double temperature, uint32_t seed) {
  s_ = llama_sampler_chain_init(llama_sampler_chain_default_params());
  llama_sampler_chain_add(s_, llama_sampler_init_temp(float(temperature)));
  llama_sampler_chain_add(s_, llama_sampler_init_dist(seed));
}

Sampler::~Sampler() {
  if (s_) llama_sampler_free(s_);
}

Token Sampler::sample(const LlamaContext& ctx, int i) { return llama_sampler_sample(s_, ctx.get(), i); }

}  // namespace qaudit::backends
