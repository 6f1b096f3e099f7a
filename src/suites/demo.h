// The demo suite shipped inside qaudit: original BBQ-format items (nine social dimensions, both
// context conditions, both question polarities) so that `qaudit eval` runs with no download.
// The scenarios were written for qaudit; they follow BBQ's design but copy none of its text.
#pragma once

#include <string>

#include "suites/item.h"

namespace qaudit::suites {

// The suite's items as BBQ JSONL text (the same format and role rules as real BBQ files).
std::string demo_suite_jsonl();
// Parsed demo suite: name "demo", deterministic ids "Category/N".
Suite load_demo_suite();

}  // namespace qaudit::suites
