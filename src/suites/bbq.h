// BBQ in its distributed JSONL format (one item per line: example_id, question_index,
// question_polarity, context_condition, category, answer_info, additional_metadata,
// context, question, ans0-ans2, label).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "suites/item.h"

namespace qaudit::suites {

// Loads one or more BBQ JSONL files into a single suite named "bbq". Malformed input (not JSON,
// a missing or mistyped field, a label out of range, an empty file) throws an Error naming the
// file, line and field. Items whose option roles cannot be decided are not guessed: they go to
// Suite::skipped with the reason.
Suite load_bbq(const std::vector<std::string>& paths);

// Parses BBQ JSONL text (as load_bbq does for one file); `origin` names it in errors.
void parse_bbq_jsonl(std::string_view text, const std::string& origin, Suite& into);
// The same for JSONL whose lines hold a BBQ item somewhere inside: doc_of(line object, line
// number) returns it (or throws an Error naming the line), e.g. lm-evaluation-harness's samples.
void parse_bbq_lines(std::string_view text, const std::string& origin, Suite& into,
                     const std::function<const nlohmann::json&(const nlohmann::json&, long)>& doc_of);

// Groups an answer belongs to, as lm-evaluation-harness's BBQ task derives them from the
// answer_info pair (e.g. ["grandfather", "old"] -> {"grandfather", "old"}; "F-Black" ->
// {"f", "black"}; "woman" -> {"f", "woman"}). Lower-cased.
std::vector<std::string> bbq_answer_groups(const std::vector<std::string>& answer_info,
                                           const std::string& answer_text);

}  // namespace qaudit::suites
