#include "quant/recipe.h"

#include <fmt/format.h>
#include <ggml.h>
#include <llama.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"

namespace qaudit::quant {

const std::vector<NativeType>& native_types() {
  // Bits per weight of each type's main ggml block format (mixtures such as *_K_M put a few
  // tensors at higher precision, so their real average is reported per variant after building).
  static const std::vector<NativeType> types = {
      {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0, 8.5, false},       {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K, 6.5625, false},
      {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M, 5.5, false},   {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S, 5.5, false},
      {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1, 6.0, false},       {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0, 5.5, false},
      {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M, 4.5, false},   {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S, 4.5, false},
      {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1, 5.0, false},       {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0, 4.5, false},
      {"IQ4_NL", LLAMA_FTYPE_MOSTLY_IQ4_NL, 4.5, false},   {"IQ4_XS", LLAMA_FTYPE_MOSTLY_IQ4_XS, 4.25, false},
      {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L, 3.4375, false}, {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M, 3.4375, false},
      {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S, 3.4375, false}, {"IQ3_M", LLAMA_FTYPE_MOSTLY_IQ3_M, 3.4375, false},
      {"IQ3_S", LLAMA_FTYPE_MOSTLY_IQ3_S, 3.4375, false},  {"IQ3_XS", LLAMA_FTYPE_MOSTLY_IQ3_XS, 3.3, false},
      {"IQ3_XXS", LLAMA_FTYPE_MOSTLY_IQ3_XXS, 3.0625, false}, {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K, 2.625, false},
      {"Q2_K_S", LLAMA_FTYPE_MOSTLY_Q2_K_S, 2.625, true},  {"IQ2_M", LLAMA_FTYPE_MOSTLY_IQ2_M, 2.7, false},
      {"IQ2_S", LLAMA_FTYPE_MOSTLY_IQ2_S, 2.5, true},      {"IQ2_XS", LLAMA_FTYPE_MOSTLY_IQ2_XS, 2.3125, true},
      {"IQ2_XXS", LLAMA_FTYPE_MOSTLY_IQ2_XXS, 2.0625, true}, {"IQ1_M", LLAMA_FTYPE_MOSTLY_IQ1_M, 1.75, true},
      {"IQ1_S", LLAMA_FTYPE_MOSTLY_IQ1_S, 1.5625, true},   {"TQ2_0", LLAMA_FTYPE_MOSTLY_TQ2_0, 2.0625, false},
      {"TQ1_0", LLAMA_FTYPE_MOSTLY_TQ1_0, 1.6875, false},  {"BF16", LLAMA_FTYPE_MOSTLY_BF16, 16, false},
      {"F16", LLAMA_FTYPE_MOSTLY_F16, 16, false},
  };
  return types;
}

namespace {

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  std::vector<std::string> names;
  for (const auto& t : native_types()) names.push_back(t.name);
  throw Error(ErrorSite{"", 0, "recipe"}, fmt::format("\"{}\": {}", text, why),
              fmt::format("a recipe is a native type ({}), optionally followed by +pure, +imatrix=FILE, "
                          "+tt=PATTERN=TYPE, +output=TYPE, +embd=TYPE; or affine:bBITS:gGROUP or "
                          "rtn:bBITS:gGROUP with BITS 2-8 and GROUP 32, 64 or 128",
                          fmt::join(names, ", ")));
}

}  // namespace

int ggml_type_by_name(const std::string& name) {
  for (int i = 0; i < GGML_TYPE_COUNT; ++i) {
    const char* n = ggml_type_name(ggml_type(i));
    if (!n) continue;
    std::string a = n, b = name;
    if (a.size() != b.size()) continue;
    bool eq = true;
    for (size_t k = 0; k < a.size(); ++k) eq &= std::tolower(static_cast<unsigned char>(a[k])) == std::tolower(static_cast<unsigned char>(b[k]));
    if (eq && ggml_blck_size(ggml_type(i)) > 0 && ggml_type_size(ggml_type(i)) > 0) return i;
  }
  return -1;
}

Recipe parse_recipe(const std::string& text) {
  Recipe r;
  auto colon = text.find(':');
  if (colon != std::string::npos) {
    std::string family = text.substr(0, colon);
    if (family == "affine") r.kind = Recipe::Kind::affine;
    else if (family == "rtn") r.kind = Recipe::Kind::rtn;
    else bad(text, fmt::format("unknown family \"{}\"", family));
    int b = 0, g = 0;
    char tail = 0;
    if (std::sscanf(text.c_str() + colon, ":b%d:g%d%c", &b, &g, &tail) != 2) bad(text, "expected FAMILY:bBITS:gGROUP");
    if (b < 2 || b > 8) bad(text, fmt::format("{} bits is outside 2-8", b));
    if (g != 32 && g != 64 && g != 128) bad(text, fmt::format("group size {} is not 32, 64 or 128", g));
    r.bits = b;
    r.group = g;
    return r;
  }
  std::string name = text;
  if (auto plus = name.find('+'); plus != std::string::npos) {
    std::string rest = name.substr(plus + 1);
    name = name.substr(0, plus);
    size_t pos = 0;
    while (pos <= rest.size()) {
      size_t next = rest.find('+', pos);
      std::string opt = rest.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      pos = next == std::string::npos ? rest.size() + 1 : next + 1;
      auto type_of = [&](const std::string& t) {
        if (ggml_type_by_name(t) < 0) bad(text, fmt::format("\"{}\" is not a ggml tensor type", t));
        std::string low = t;
        for (char& c : low) c = char(std::tolower(static_cast<unsigned char>(c)));
        return low;
      };
      if (opt == "pure") {
        r.pure = true;
      } else if (opt.rfind("imatrix=", 0) == 0 && opt.size() > 8) {
        r.imatrix = opt.substr(8);
      } else if (opt.rfind("tt=", 0) == 0) {
        size_t eq = opt.rfind('=');
        if (eq <= 3) bad(text, fmt::format("\"+{}\": expected +tt=PATTERN=TYPE", opt));
        r.tensor_types.push_back({opt.substr(3, eq - 3), type_of(opt.substr(eq + 1))});
      } else if (opt.rfind("output=", 0) == 0) {
        r.output_type = type_of(opt.substr(7));
      } else if (opt.rfind("embd=", 0) == 0) {
        r.embedding_type = type_of(opt.substr(5));
      } else {
        bad(text, fmt::format("unknown option \"+{}\"", opt));
      }
    }
  }
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  for (const auto& t : native_types())
    if (name == t.name) {
      r.native_type = t.name;
      return r;
    }
  bad(text, fmt::format("\"{}\" is not a native type of llama.cpp {}", name, QAUDIT_LLAMA_RELEASE));
}

std::string recipe_text(const Recipe& r) {
  switch (r.kind) {
    case Recipe::Kind::affine: return fmt::format("affine:b{}:g{}", r.bits, r.group);
    case Recipe::Kind::rtn: return fmt::format("rtn:b{}:g{}", r.bits, r.group);
    case Recipe::Kind::native: {
      std::string t = r.native_type + (r.pure ? "+pure" : "");
      for (const auto& [p, ty] : r.tensor_types) t += "+tt=" + p + "=" + ty;
      if (!r.output_type.empty()) t += "+output=" + r.output_type;
      if (!r.embedding_type.empty()) t += "+embd=" + r.embedding_type;
      if (!r.imatrix.empty()) t += "+imatrix=" + r.imatrix;
      return t;
    }
  }
  return "";
}

}  // namespace qaudit::quant
