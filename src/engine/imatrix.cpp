#include "engine/imatrix.h"

#include <ggml-backend.h>
#include <ggml.h>

#include <cstring>
#include <mutex>

#include "common/error.h"

namespace qaudit::engine {
namespace {

struct Collector {
  bool include_output = false;
  std::map<std::string, ActivationStats> stats;
  std::vector<char> buffer;
  std::mutex mutex;
  std::string error;
};

// Tensor names as the scheduler shows them may carry a backend prefix ("CUDA0#name#1").
std::string weight_name(const char* name) {
  const char* p = std::strchr(name, '#');
  if (!p) return name;
  ++p;
  const char* q = std::strchr(p, '#');
  return q ? std::string(p, size_t(q - p)) : std::string(p);
}

bool on_node(ggml_tensor* t, bool ask, void* user) {
  auto* c = static_cast<Collector*>(user);
  const ggml_tensor* w = t->src[0];
  const ggml_tensor* x = t->src[1];
  if (ask) {
    if (t->op != GGML_OP_MUL_MAT || !w || !x) return false;
    if (x->ne[1] < 16 || x->type != GGML_TYPE_F32) return false;
    std::string name = weight_name(w->name);
    return name.rfind("blk.", 0) == 0 || (c->include_output && name == "output.weight");
  }
  std::lock_guard<std::mutex> lock(c->mutex);
  const char* data = static_cast<const char*>(x->data);
  if (!ggml_backend_buffer_is_host(x->buffer)) {
    c->buffer.resize(ggml_nbytes(x));
    ggml_backend_tensor_get(x, c->buffer.data(), 0, ggml_nbytes(x));
    data = c->buffer.data();
  }
  auto& s = c->stats[weight_name(w->name)];
  const int64_t ne0 = x->ne[0];
  if (s.sum_sq.empty()) s.sum_sq.assign(size_t(ne0), 0.0);
  if (int64_t(s.sum_sq.size()) != ne0) {
    c->error = "inconsistent activation width for " + weight_name(w->name);
    return false;
  }
  int64_t rows = 0;
  for (int64_t i3 = 0; i3 < x->ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x->ne[2]; ++i2)
      for (int64_t r = 0; r < x->ne[1]; ++r) {
        const float* v = reinterpret_cast<const float*>(data + r * x->nb[1] + i2 * x->nb[2] + i3 * x->nb[3]);
        // Accumulated in float, as llama-imatrix does, so that the files agree.
        for (int64_t j = 0; j < ne0; ++j) s.sum_sq[size_t(j)] = float(s.sum_sq[size_t(j)]) + v[j] * v[j];
        ++rows;
      }
  s.tokens += rows;
  return true;
}

}  // namespace

std::map<std::string, ActivationStats> collect_activations(const backends::LlamaModel& model,
                                                           const backends::ContextSettings& settings,
                                                           const CorpusTokens& corpus, bool include_output,
                                                           const std::function<void(int)>& on_chunk) {
  Collector c;
  c.include_output = include_output;
  backends::ContextSettings s = settings;
  s.eval_callback = on_node;
  s.eval_callback_data = &c;
  perplexity_chunks(
      model, s, corpus, {}, "", [&](int i, PplChunk&&) {
        if (on_chunk) on_chunk(i);
      },
      true);
  if (!c.error.empty()) throw Error(c.error, "the model's graph changed between batches; report this model");
  return std::move(c.stats);
}

}  // namespace qaudit::engine
