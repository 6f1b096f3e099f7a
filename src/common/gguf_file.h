// Reading and writing GGUF files tensor by tensor, so that memory stays flat whatever the
// model's size: a reader that fetches one tensor's bytes at a time, and a writer that writes
// the header first, appends each tensor's data padded to the file's alignment, and renames a
// temporary file into place only when everything is written.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

struct gguf_context;
struct ggml_context;
struct ggml_tensor;

namespace qaudit {

struct GgufFree {
  void operator()(gguf_context* c) const;
};
struct GgmlFree {
  void operator()(ggml_context* c) const;
};
using GgufPtr = std::unique_ptr<gguf_context, GgufFree>;
using GgmlPtr = std::unique_ptr<ggml_context, GgmlFree>;

class GgufReader {
 public:
  // Reads the header; throws an Error naming the file when it is not a readable GGUF file.
  GgufReader(const std::string& path, const char* hint);
  gguf_context* gguf() const { return g_.get(); }
  int64_t n_tensors() const;
  const char* name(int64_t i) const;
  ggml_tensor* tensor(int64_t i) const;  // shape and type (no data)
  int64_t find(const char* name) const;  // -1 when absent
  // The i-th tensor's bytes as stored; throws when the file is cut short.
  void read(int64_t i, std::vector<uint8_t>& out);
  // The i-th tensor's values converted to float.
  std::vector<float> floats(int64_t i);

 private:
  std::string path_;
  GgufPtr g_;
  GgmlPtr meta_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f_{nullptr, &std::fclose};
};

class GgufStreamWriter {
 public:
  // Writes `header`'s metadata and tensor infos to a temporary file next to `path`.
  GgufStreamWriter(const gguf_context* header, std::string path);
  // Removes the temporary file unless finish() ran.
  ~GgufStreamWriter();
  // Appends bytes of the current tensor (tensors in the header's order; a tensor may come in
  // pieces, e.g. row by row).
  void write(const void* data, size_t size);
  // Ends the current tensor: pads its data to the file's alignment.
  void end_tensor();
  // Flushes and renames the temporary file to `path`.
  void finish();

 private:
  std::string path_, tmp_;
  size_t align_, written_ = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f_{nullptr, &std::fclose};
  bool done_ = false;
};

}  // namespace qaudit
