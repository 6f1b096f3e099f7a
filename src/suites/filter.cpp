#include "suites/filter.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/error.h"

namespace qaudit::suites {
namespace {

std::string fold(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != '_' && c != '-' && c != ' ') out += char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

double item_unit_hash(const std::string& suite, const std::string& id) {
  std::string key = suite + "/" + id;
  return double(XXH3_64bits(key.data(), key.size()) >> 11) / double(uint64_t(1) << 53);
}

void apply_filter(Suite& suite, const Filter& f, const ErrorSite& where) {
  auto at = [&](const char* field) { return ErrorSite{where.file, where.line, where.field + field}; };
  if (!f.condition.empty() && f.condition != "ambig" && f.condition != "disambig")
    throw Error(at("condition"), fmt::format("unknown condition \"{}\"", f.condition),
                "use \"ambig\" or \"disambig\" (or leave it out for both)");
  if (!f.polarity.empty() && f.polarity != "neg" && f.polarity != "nonneg")
    throw Error(at("polarity"), fmt::format("unknown polarity \"{}\"", f.polarity),
                "use \"neg\" or \"nonneg\" (or leave it out for both)");
  if (!(f.sample > 0 && f.sample <= 1))
    throw Error(at("sample"), fmt::format("sample must be in (0, 1], not {}", f.sample),
                "give the share of items to keep, e.g. 0.1");
  std::set<std::string> wanted;
  if (!f.categories.empty()) {
    std::set<std::string> have, have_names;
    for (const auto& it : suite.items) {
      have.insert(fold(it.category));
      have_names.insert(it.category);
    }
    for (const auto& c : f.categories) {
      if (!have.count(fold(c)))
        throw Error(at("categories"),
                    fmt::format("suite {} has no category \"{}\"", suite.name, c),
                    fmt::format("its categories are: {}", fmt::join(have_names, ", ")));
      wanted.insert(fold(c));
    }
  }
  std::vector<Item> kept;
  for (auto& it : suite.items) {
    if (!wanted.empty() && !wanted.count(fold(it.category))) continue;
    if (!f.condition.empty() && f.condition != condition_name(it.condition)) continue;
    if (!f.polarity.empty() && f.polarity != polarity_name(it.polarity)) continue;
    if (f.sample < 1 && item_unit_hash(suite.name, it.id) >= f.sample) continue;
    kept.push_back(std::move(it));
  }
  if (f.limit > 0 && size_t(f.limit) < kept.size()) kept.resize(size_t(f.limit));
  suite.items = std::move(kept);
}

}  // namespace qaudit::suites
