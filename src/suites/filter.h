// Selecting part of a suite: by category, context condition and question polarity, and a
// deterministic subsample by a stable hash of the item id (the same subset on every machine and
// every shard), then an optional cap on the count.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "suites/item.h"

namespace qaudit::suites {

struct Filter {
  std::vector<std::string> categories;  // empty: all (matched case-insensitively, '-'/'_' ignored)
  std::string condition;                // "", "ambig" or "disambig"
  std::string polarity;                 // "", "neg" or "nonneg"
  double sample = 1.0;                  // keep an item when hash(id) / 2^64 < sample
  int limit = 0;                        // then keep the first N (0: all)
};

// Throws an Error at `where` (its field is a prefix such as "suite[1]." or "--") for a category
// the suite does not have or a bad condition/polarity/sample.
void apply_filter(Suite& suite, const Filter& f, const ErrorSite& where);

// The stable hash behind subsampling, as a number in [0, 1).
double item_unit_hash(const std::string& suite, const std::string& id);

}  // namespace qaudit::suites
