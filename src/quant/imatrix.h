// Importance matrices in llama-imatrix's GGUF format: for every matrix multiplication weight, the
// sum over the evaluated tokens of each input column's squared activation ("<name>.in_sum2") and
// the number of tokens ("<name>.counts"); general.type "imatrix", imatrix.datasets,
// imatrix.chunk_count, imatrix.chunk_size. Files written here load in llama-quantize and files
// llama-imatrix writes load here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qaudit::quant {

struct ImatrixEntry {
  std::vector<double> sums;  // per input column
  int64_t count = 0;         // tokens summed
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;  // by weight tensor name, e.g. "blk.0.attn_q.weight"
  std::vector<std::string> datasets;
  int chunk_count = 0, chunk_size = 0;
};

void write_imatrix(const Imatrix& m, const std::string& path);
// Throws an Error naming the file when it is not a GGUF importance matrix (llama-imatrix's old
// .dat format is refused with a hint to convert it).
Imatrix read_imatrix(const std::string& path);

// Per-column means (sums / count), as llama-quantize hands them to the quantizer.
std::map<std::string, std::vector<float>> imatrix_means(const Imatrix& m);

}  // namespace qaudit::quant
