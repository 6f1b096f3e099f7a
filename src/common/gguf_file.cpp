#include "common/gguf_file.h"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/error.h"

namespace qaudit {

void GgufFree::operator()(gguf_context* c) const { gguf_free(c); }
void GgmlFree::operator()(ggml_context* c) const { ggml_free(c); }

GgufReader::GgufReader(const std::string& path, const char* hint) : path_(path) {
  ggml_context* meta = nullptr;
  gguf_init_params p{true, &meta};
  g_.reset(gguf_init_from_file(path.c_str(), p));
  meta_.reset(meta);
  if (!g_) throw Error(ErrorSite{path, 0, {}}, "not a readable GGUF file", hint);
  f_.reset(std::fopen(path.c_str(), "rb"));
  if (!f_) throw Error(ErrorSite{path, 0, {}}, "cannot open", hint);
}

int64_t GgufReader::n_tensors() const { return gguf_get_n_tensors(g_.get()); }
const char* GgufReader::name(int64_t i) const { return gguf_get_tensor_name(g_.get(), i); }
ggml_tensor* GgufReader::tensor(int64_t i) const { return ggml_get_tensor(meta_.get(), name(i)); }
int64_t GgufReader::find(const char* name) const { return gguf_find_tensor(g_.get(), name); }

void GgufReader::read(int64_t i, std::vector<uint8_t>& out) {
  size_t size = gguf_get_tensor_size(g_.get(), i);
  out.resize(size);
  std::fseek(f_.get(), long(gguf_get_data_offset(g_.get()) + gguf_get_tensor_offset(g_.get(), i)), SEEK_SET);
  if (std::fread(out.data(), 1, size, f_.get()) != size)
    throw Error(ErrorSite{path_, 0, name(i)}, "tensor data is cut short", "the file is truncated; re-create it");
}

std::vector<float> GgufReader::floats(int64_t i) {
  std::vector<uint8_t> raw;
  read(i, raw);
  ggml_tensor* t = tensor(i);
  std::vector<float> out(ggml_nelements(t));
  if (t->type == GGML_TYPE_F32) std::memcpy(out.data(), raw.data(), out.size() * sizeof(float));
  else ggml_get_type_traits(t->type)->to_float(raw.data(), out.data(), int64_t(out.size()));
  return out;
}

GgufStreamWriter::GgufStreamWriter(const gguf_context* header, std::string path)
    : path_(std::move(path)), tmp_(fmt::format("{}.partial.{}", path_, ::getpid())), align_(gguf_get_alignment(header)) {
  if (!gguf_write_to_file(header, tmp_.c_str(), /*only_meta=*/true))
    throw Error(ErrorSite{path_, 0, {}}, "cannot write", "check that the directory exists and is writable");
  f_.reset(std::fopen(tmp_.c_str(), "ab"));
  if (!f_) throw Error(ErrorSite{path_, 0, {}}, "cannot append tensor data");
}

GgufStreamWriter::~GgufStreamWriter() {
  if (done_) return;
  f_.reset();
  std::error_code ec;
  std::filesystem::remove(tmp_, ec);
}

void GgufStreamWriter::write(const void* data, size_t size) {
  std::fwrite(data, 1, size, f_.get());
  written_ += size;
}

void GgufStreamWriter::end_tensor() {
  static const char zeros[64] = {};
  std::fwrite(zeros, 1, (align_ - written_ % align_) % align_, f_.get());
  written_ = 0;
}

void GgufStreamWriter::finish() {
  if (std::fflush(f_.get()) != 0 || std::ferror(f_.get())) throw Error(ErrorSite{path_, 0, {}}, "write failed (disk full?)");
  f_.reset();
  std::filesystem::rename(tmp_, path_);
  done_ = true;
}

}  // namespace qaudit
