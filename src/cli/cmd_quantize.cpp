#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "quant/ladder.h"
#include "common/files.h"

namespace qaudit::cli {

Runner add_quantize(CLI::App& app) {
  struct Args {
    std::string model, cache = quant::default_variant_cache(), json;
    std::vector<std::string> recipes;
    bool list = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "Recipes: a native llama.cpp type (Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q3_K_M, Q2_K, IQ4_XS, ... see --list),\n"
      "optionally with +pure, +imatrix=FILE (an importance matrix: qaudit imatrix or llama-imatrix),\n"
      "+tt=PATTERN=TYPE (tensors matching PATTERN at TYPE, repeatable), +output=TYPE, +embd=TYPE;\n"
      "affine:bBITS:gGROUP (MLX's affine group quantization, the study's, simulated);\n"
      "rtn:bBITS:gGROUP (symmetric round-to-nearest, simulated). BITS 2-8, GROUP 32/64/128.\n"
      "Examples:\n"
      "  qaudit quantize --list\n"
      "  qaudit quantize -m model-f16.gguf -r Q8_0 -r Q4_K_M -r Q3_K_M -r affine:b4:g64 -r affine:b3:g64\n"
      "  qaudit quantize -m model-f16.gguf -r IQ2_XS+imatrix=imatrix.gguf -r Q4_K_M+tt=attn_v=q8_0+output=q8_0\n"
      "Variants are cached by content (reference hash + recipe + llama.cpp release); existing ones are reused.");
  app.add_option("-m,--model", a->model, "reference GGUF (F32, F16 or BF16)");
  app.add_option("-r,--recipe", a->recipes, "recipe of a variant to build (repeatable)");
  app.add_option("--cache", a->cache, "variant cache directory")->capture_default_str();
  app.add_option("--json", a->json, "write the ladder (paths, sizes, bits per weight, per-tensor errors) as JSON");
  app.add_flag("--list", a->list, "list the recipes this build offers");
  app.add_flag("-q,--quiet", a->quiet, "no progress on stderr");
  return [a] {
    if (a->list) {
      fmt::print("{:<10} {:>6}  {}\n", "type", "bpw", "notes");
      for (const auto& t : quant::native_types())
        fmt::print("{:<10} {:>6.2f}  {}\n", t.name, t.nominal_bpw, t.needs_imatrix ? "needs an importance matrix" : "");
      fmt::print("affine:bB:gG  B+32/G  MLX affine group quantization (simulated; scale and bias per group)\n");
      fmt::print("rtn:bB:gG     B+16/G  symmetric round-to-nearest per group (simulated)\n");
      fmt::print("bpw: bits per weight of the main tensor format; mixtures (_M, _L) keep some tensors higher.\n");
      return 0;
    }
    if (a->model.empty() || a->recipes.empty())
      throw Error(ErrorSite{"", 0, "--model/--recipe"}, "nothing to build", "pass -m REFERENCE.gguf and at least one -r RECIPE");
    std::vector<quant::Recipe> recipes;
    for (const auto& r : a->recipes) {  // all checked before any work
      recipes.push_back(quant::parse_recipe(r));
      quant::require_buildable(recipes.back());
    }
    require_readable_file(a->model, "reference model", "pass an F32, F16 or BF16 GGUF model");
    std::string hash = file_content_hash(a->model);
    nlohmann::json out = nlohmann::json::array();
    fmt::print("{:<16} {:>8} {:>10}  {}\n", "recipe", "bpw", "MiB", "path");
    for (const auto& r : recipes) {
      auto v = quant::build_variant(a->model, hash, r, a->cache, a->quiet);
      fmt::print("{:<16} {:>8.3f} {:>10.1f}  {}{}\n", v.recipe, v.bits_per_weight, v.file_size / 1048576.0, v.path,
                 v.reused ? "  (cached)" : "");
      out.push_back(quant::variant_json(v));
    }
    if (!a->json.empty()) write_file_atomic(a->json, out.dump(2) + "\n");
    return 0;
  };
}

}  // namespace qaudit::cli
