#include "suites/item.h"

namespace qaudit::suites {

const char* role_name(Role r) {
  switch (r) {
    case Role::stereotyped: return "stereotyped";
    case Role::anti: return "anti";
    case Role::unknown: return "unknown";
  }
  return "?";
}
const char* condition_name(Condition c) { return c == Condition::ambiguous ? "ambig" : "disambig"; }
const char* polarity_name(Polarity p) { return p == Polarity::negative ? "neg" : "nonneg"; }

}  // namespace qaudit::suites
