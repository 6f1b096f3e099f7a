#include "quant/ladder.h"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>
#include <llama.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "backends/llama_backend.h"
#include "common/error.h"
#include "common/files.h"
#include "common/gguf_file.h"
#include "quant/imatrix.h"
#include "quant/simulate.h"

namespace qaudit::quant {
namespace fs = std::filesystem;

namespace {

std::string safe(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  return s;
}

}  // namespace

std::string default_variant_cache() {
  return (fs::path(qaudit_cache_dir()) / "variants").string();
}

std::vector<TensorError> tensor_errors(const std::string& reference, const std::string& variant, double* bpw) {
  GgufReader ref(reference, "pass a GGUF model"), var(variant, "pass a GGUF model");
  std::vector<TensorError> out;
  double bits = 0, weights = 0;
  for (int64_t i = 0; i < var.n_tensors(); ++i) {
    const char* name = var.name(i);
    ggml_tensor* vt = var.tensor(i);
    if (ggml_n_dims(vt) < 2) continue;
    bits += 8.0 * gguf_get_tensor_size(var.gguf(), i);
    weights += double(ggml_nelements(vt));
    int64_t j = ref.find(name);
    if (j < 0) continue;
    auto a = ref.floats(j), b = var.floats(i);
    double se = 0, norm = 0;
    for (size_t k = 0; k < a.size() && k < b.size(); ++k) {
      double d = double(b[k]) - a[k];
      se += d * d;
      norm += double(a[k]) * a[k];
    }
    out.push_back({name, ggml_type_name(vt->type), std::sqrt(se / std::max<size_t>(a.size(), 1)),
                   norm > 0 ? std::sqrt(se / norm) : 0});
  }
  if (bpw) *bpw = weights > 0 ? bits / weights : 0;
  return out;
}

double file_bits_per_weight(const std::string& path) {
  GgufReader f(path, "pass a GGUF model");
  double bits = 0, weights = 0;
  for (int64_t i = 0; i < f.n_tensors(); ++i) {
    ggml_tensor* t = f.tensor(i);
    if (ggml_n_dims(t) < 2) continue;
    bits += 8.0 * gguf_get_tensor_size(f.gguf(), i);
    weights += double(ggml_nelements(t));
  }
  return weights > 0 ? bits / weights : 0;
}

nlohmann::json variant_json(const Variant& v) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : v.tensors) tensors.push_back({{"name", t.name}, {"type", t.type}, {"rmse", t.rmse}, {"rel", t.rel}});
  return {{"recipe", v.recipe},           {"path", v.path},
          {"reference_hash", v.reference_hash}, {"file_size", v.file_size},
          {"bits_per_weight", v.bits_per_weight}, {"llama_release", v.llama_release},
          {"tensors", tensors}};
}

namespace {

const NativeType* native_type(const Recipe& r) {
  for (const auto& t : native_types())
    if (r.native_type == t.name) return &t;
  return nullptr;
}

}  // namespace

void require_buildable(const Recipe& r) {
  const NativeType* nt = r.kind == Recipe::Kind::native ? native_type(r) : nullptr;
  if (nt && nt->needs_imatrix && r.imatrix.empty())
    throw Error(ErrorSite{"", 0, "recipe"}, fmt::format("{} needs an importance matrix", nt->name),
                fmt::format("compute one with `qaudit imatrix -m REFERENCE.gguf --corpus calibration.txt -o imatrix.gguf` "
                            "(or llama-imatrix) and use the recipe {}+imatrix=imatrix.gguf; or choose a type that "
                            "does not need one (e.g. Q2_K, IQ3_XXS, Q3_K_S)",
                            nt->name));
  if (!r.imatrix.empty()) read_imatrix(r.imatrix);  // readable and an importance matrix
}

Variant build_variant(const std::string& reference, const std::string& reference_hash, const Recipe& recipe,
                      const std::string& cache_dir, bool quiet) {
  require_buildable(recipe);
  Variant v;
  v.recipe = recipe_text(recipe);
  v.reference_hash = reference_hash;
  v.llama_release = QAUDIT_LLAMA_RELEASE;
  // The importance matrix enters the key by content, not by path.
  Recipe key_recipe = recipe;
  key_recipe.imatrix.clear();
  std::string key_text = reference_hash + "\n" + recipe_text(key_recipe) + "\n" + v.llama_release;
  if (!recipe.imatrix.empty()) key_text += "\nimatrix " + file_content_hash(recipe.imatrix);
  XXH128_hash_t h = XXH3_128bits(key_text.data(), key_text.size());
  fs::path dir = fs::path(cache_dir) / fmt::format("{:016x}{:016x}", h.high64, h.low64).substr(0, 20);
  fs::path file = dir / (fs::path(reference).stem().string() + "." + safe(v.recipe) + ".gguf");
  fs::path manifest = dir / "variant.json";
  v.path = file.string();
  if (fs::exists(manifest) && fs::exists(file)) {
    auto j = nlohmann::json::parse(read_file_checked(manifest.string(), "variant manifest"));
    v.file_size = j.at("file_size");
    v.bits_per_weight = j.at("bits_per_weight");
    for (const auto& t : j.at("tensors")) v.tensors.push_back({t.at("name"), t.at("type"), t.at("rmse"), t.at("rel")});
    v.reused = true;
    return v;
  }
  fs::create_directories(dir);
  std::string tmp = fmt::format("{}.partial.{}", file.string(), ::getpid());
  try {
    if (recipe.kind == Recipe::Kind::native) {
      const NativeType* nt = native_type(recipe);
      backends::backend_init(false);
      llama_model_quantize_params qp = llama_model_quantize_default_params();
      qp.ftype = llama_ftype(nt->ftype);
      qp.nthread = int(std::thread::hardware_concurrency());
      qp.pure = recipe.pure;
      // Importance matrix, tensor-type overrides and output/embedding types, handed to the
      // quantizer as llama-quantize hands them.
      std::map<std::string, std::vector<float>> means;
      std::vector<llama_model_imatrix_data> imatrix_data;
      if (!recipe.imatrix.empty()) {
        means = imatrix_means(read_imatrix(recipe.imatrix));
        for (const auto& [name, v] : means) imatrix_data.push_back({name.c_str(), v.data(), v.size()});
        imatrix_data.push_back({nullptr, nullptr, 0});
        qp.imatrix = imatrix_data.data();
      }
      std::vector<llama_model_tensor_override> overrides;
      for (const auto& [pattern, type] : recipe.tensor_types) overrides.push_back({pattern.c_str(), ggml_type(ggml_type_by_name(type))});
      if (!overrides.empty()) {
        overrides.push_back({nullptr, GGML_TYPE_COUNT});
        qp.tt_overrides = overrides.data();
      }
      if (!recipe.output_type.empty()) qp.output_tensor_type = ggml_type(ggml_type_by_name(recipe.output_type));
      if (!recipe.embedding_type.empty()) qp.token_embedding_type = ggml_type(ggml_type_by_name(recipe.embedding_type));
      backends::backend_last_log();
      if (!quiet) fmt::print(stderr, "quantizing {} -> {}\n", reference, v.recipe);
      // Live per-tensor progress: the quantizer logs one "[ i/ n] name - [...], type = ..." line per tensor.
      if (!quiet)
        backends::backend_set_line_hook([](const std::string& line) {
          if (line.size() > 2 && line[0] == '[' && line.find("] ") != std::string::npos) fmt::print(stderr, "  {}\n", line);
        });
      uint32_t rc = llama_model_quantize(reference.c_str(), tmp.c_str(), &qp);
      backends::backend_set_line_hook(nullptr);
      if (rc != 0)
        throw Error(ErrorSite{reference, 0, {}}, fmt::format("llama.cpp's quantizer failed ({})", backends::backend_last_log()),
                    "check that the reference is a loadable F32/F16/BF16 GGUF");
    } else {
      if (!quiet) fmt::print(stderr, "simulating {} on {}\n", v.recipe, reference);
      write_simulated(reference, recipe, tmp);
    }
    v.tensors = tensor_errors(reference, tmp, &v.bits_per_weight);
    // A simulated variant is stored in float; report the bits the simulated format would take
    // (codes plus per-group F16 scale, and bias for affine).
    if (recipe.kind == Recipe::Kind::affine) v.bits_per_weight = recipe.bits + 32.0 / recipe.group;
    if (recipe.kind == Recipe::Kind::rtn) v.bits_per_weight = recipe.bits + 16.0 / recipe.group;
    if (!quiet)
      for (const auto& t : v.tensors) fmt::print(stderr, "  {:<32} {:<6} rmse {:.3e} rel {:.4f}\n", t.name, t.type, t.rmse, t.rel);
    fs::rename(tmp, file);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);  // a half-built variant never stays in the cache
    throw;
  }
  v.file_size = int64_t(fs::file_size(file));
  nlohmann::json j = variant_json(v);
  j["reference_path"] = fs::absolute(reference).string();
  write_file_atomic(manifest.string(), j.dump(2) + "\n");
  return v;
}

}  // namespace qaudit::quant
