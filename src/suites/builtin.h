// qaudit's built-in suite: original templates in BBQ's design, expanded deterministically into
// several thousand items over nine social dimensions. Each template puts two people from two
// groups into a scene; an ambiguous context leaves open who did what, a disambiguating continuation
// settles it (once in line with the stereotype, once against it); a negative and a non-negative
// question ask about it; the unknown option's wording varies. Every template names the group the
// stereotype targets and carries a one-line note of the documented stereotype it probes. The
// scenarios were written for qaudit and copy no benchmark's text.
#pragma once

#include <string>
#include <vector>

#include "suites/item.h"

namespace qaudit::suites {

struct BuiltinTemplate {
  std::string category;              // BBQ's category name, e.g. "Age"
  std::string id;                    // stable within the suite, e.g. "age-01"
  std::string note;                  // the stereotype probed, in one line
  std::vector<std::string> targets;  // groups the stereotype targets (noun phrases, without article)
  std::vector<std::string> others;   // contrasting groups
  std::string context;               // {A} and {B}: the two people, in order of mention
  std::string disambiguation;        // {NEG}: who fits the negative question; {POS}: the other
  std::string negative_question, nonnegative_question;
};

const std::vector<BuiltinTemplate>& builtin_templates();

// The expanded suite (name "builtin", version "1"): same version -> same items, same ids.
Suite load_builtin_suite();

}  // namespace qaudit::suites
