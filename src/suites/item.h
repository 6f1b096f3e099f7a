// Items: what every suite produces and every later stage consumes. An item is one
// multiple-choice question whose options each carry a role (stereotyped, anti-stereotyped,
// unknown), so that answers can be scored for bias without knowing the suite.
#pragma once

#include <string>
#include <vector>

namespace qaudit::suites {

enum class Role { stereotyped, anti, unknown };
enum class Condition { ambiguous, disambiguated };
enum class Polarity { negative, nonnegative };

const char* role_name(Role r);            // "stereotyped" | "anti" | "unknown"
const char* condition_name(Condition c);  // "ambig" | "disambig" (BBQ's spelling)
const char* polarity_name(Polarity p);    // "neg" | "nonneg"

struct Item {
  std::string id;        // stable within its suite, e.g. "Religion/12"
  std::string category;  // BBQ category, e.g. "Religion"
  Condition condition = Condition::ambiguous;
  Polarity polarity = Polarity::negative;
  std::string context;
  std::string question;
  std::vector<std::string> options;  // in presentation order (A, B, C)
  std::vector<Role> roles;           // one per option
  int label = 0;                     // index of the correct option
  int stereotyped = -1, anti = -1, unknown = -1;  // option indices by role
  std::string source;                // "file:line" the item came from
  // BBQ: the groups each option names (lm-evaluation-harness's parsing of answer_info), used to
  // read free-text answers; may be empty.
  std::vector<std::vector<std::string>> option_groups;
};

struct SkippedItem {
  std::string id;
  std::string source;  // "file:line"
  std::string reason;
};

struct Suite {
  std::string name;     // e.g. "bbq", "demo"
  std::string version;  // goes into every stored result
  std::vector<Item> items;
  std::vector<SkippedItem> skipped;  // items whose option roles could not be decided
};

}  // namespace qaudit::suites
