#include "quant/imatrix.h"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>

#include <cstring>

#include "common/error.h"
#include "common/files.h"
#include "common/gguf_file.h"

namespace qaudit::quant {

void write_imatrix(const Imatrix& m, const std::string& path) {
  size_t mem = 1024 * 1024;
  for (const auto& [name, e] : m.entries) mem += 2 * ggml_tensor_overhead() + (e.sums.size() + 1) * sizeof(float) + 2 * GGML_MEM_ALIGN;
  ggml_init_params ip{mem, nullptr, false};
  GgmlPtr ctx(ggml_init(ip));
  GgufPtr g(gguf_init_empty());
  gguf_set_val_str(g.get(), "general.type", "imatrix");
  std::vector<const char*> ds;
  for (const auto& d : m.datasets) ds.push_back(d.c_str());
  gguf_set_arr_str(g.get(), "imatrix.datasets", ds.data(), ds.size());
  gguf_set_val_u32(g.get(), "imatrix.chunk_count", uint32_t(m.chunk_count));
  gguf_set_val_u32(g.get(), "imatrix.chunk_size", uint32_t(m.chunk_size));
  for (const auto& [name, e] : m.entries) {
    ggml_tensor* sums = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, int64_t(e.sums.size()), 1);
    ggml_tensor* counts = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, 1, 1);
    ggml_format_name(sums, "%s.in_sum2", name.c_str());
    ggml_format_name(counts, "%s.counts", name.c_str());
    for (size_t j = 0; j < e.sums.size(); ++j) static_cast<float*>(sums->data)[j] = float(e.sums[j]);
    static_cast<float*>(counts->data)[0] = float(e.count);
    gguf_add_tensor(g.get(), sums);
    gguf_add_tensor(g.get(), counts);
  }
  std::string tmp = path + ".partial";
  if (!gguf_write_to_file(g.get(), tmp.c_str(), false))
    throw Error(ErrorSite{path, 0, {}}, "cannot write the importance matrix", "check the directory and free space");
  write_file_atomic(path, read_file_checked(tmp, "importance matrix"));
  std::remove(tmp.c_str());
}

Imatrix read_imatrix(const std::string& path) {
  require_readable_file(path, "importance matrix", "pass a GGUF file written by qaudit imatrix or llama-imatrix");
  ggml_context* raw = nullptr;
  gguf_init_params gp{false, &raw};
  GgufPtr g(gguf_init_from_file(path.c_str(), gp));
  GgmlPtr ctx(raw);
  if (!g)
    throw Error(ErrorSite{path, 0, {}}, "is not a GGUF importance matrix",
                "llama-imatrix's legacy .dat files are not read; convert with `llama-imatrix --in-file old.dat -o new.gguf`");
  Imatrix m;
  int64_t key = gguf_find_key(g.get(), "general.type");
  if (key < 0 || gguf_get_kv_type(g.get(), key) != GGUF_TYPE_STRING || std::string(gguf_get_val_str(g.get(), key)) != "imatrix")
    throw Error(ErrorSite{path, 0, "general.type"}, "is not \"imatrix\": this GGUF is not an importance matrix",
                "pass the file qaudit imatrix or llama-imatrix wrote");
  if (int64_t k = gguf_find_key(g.get(), "imatrix.datasets"); k >= 0 && gguf_get_arr_type(g.get(), k) == GGUF_TYPE_STRING)
    for (size_t i = 0; i < gguf_get_arr_n(g.get(), k); ++i) m.datasets.push_back(gguf_get_arr_str(g.get(), k, i));
  if (int64_t k = gguf_find_key(g.get(), "imatrix.chunk_count"); k >= 0) m.chunk_count = int(gguf_get_val_u32(g.get(), k));
  if (int64_t k = gguf_find_key(g.get(), "imatrix.chunk_size"); k >= 0) m.chunk_size = int(gguf_get_val_u32(g.get(), k));
  const std::string s_suffix = ".in_sum2", c_suffix = ".counts";
  for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) {
    std::string name = gguf_get_tensor_name(g.get(), i);
    if (name.size() <= s_suffix.size() || name.compare(name.size() - s_suffix.size(), s_suffix.size(), s_suffix) != 0) continue;
    std::string base = name.substr(0, name.size() - s_suffix.size());
    ggml_tensor* sums = ggml_get_tensor(ctx.get(), name.c_str());
    ggml_tensor* counts = ggml_get_tensor(ctx.get(), (base + c_suffix).c_str());
    if (!sums || !counts || sums->type != GGML_TYPE_F32 || counts->type != GGML_TYPE_F32)
      throw Error(ErrorSite{path, 0, name}, "missing its counts or not F32", "the file is damaged; compute it again");
    int64_t n_mat = ggml_nelements(counts);
    if (n_mat != 1)
      throw Error(ErrorSite{path, 0, name}, fmt::format("{} expert matrices: mixture-of-experts importance matrices are not supported", n_mat),
                  "use llama-quantize with this file for MoE models");
    ImatrixEntry e;
    e.count = int64_t(static_cast<const float*>(counts->data)[0]);
    for (int64_t j = 0; j < ggml_nelements(sums); ++j) e.sums.push_back(static_cast<const float*>(sums->data)[j]);
    m.entries[base] = std::move(e);
  }
  if (m.entries.empty()) throw Error(ErrorSite{path, 0, {}}, "holds no importance data", "compute it again on a longer corpus");
  return m;
}

std::map<std::string, std::vector<float>> imatrix_means(const Imatrix& m) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, e] : m.entries) {
    auto& v = out[name];
    for (double s : e.sums) v.push_back(e.count > 0 ? float(s) / float(e.count) : 1.0f);
  }
  return out;
}

}  // namespace qaudit::quant
