// Reading a generated answer as an option letter: the study's parser, with its flaw made visible.
// The study's rules, in order: the text is exactly a letter; it starts with "A)", "(A)" or "A.";
// it says "answer is X" or "choose X"; else the first character that is a letter A-C in either
// case. That last rule reads "I cannot determine" as C (the c of "cannot"). Here the fallback
// takes only a letter standing alone (uppercase, or lowercase in an answer of at most three
// characters such as "b)"); a letter inside a word is recorded as its own outcome,
// word_fallback, with no answer, and counted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qaudit::prompts {

enum class ParseRule { exact, prefix, phrase, letter, word_fallback, none };
const char* parse_rule_name(ParseRule r);  // "exact", "prefix", "phrase", "letter", "word_fallback", "none"

struct ParsedAnswer {
  int answer = -1;        // option index, -1 when the text gives none
  ParseRule rule = ParseRule::none;
  int study_answer = -1;  // what the study's parser reads (its first-letter rule included)
};

ParsedAnswer parse_answer(std::string_view text, int n_options = 3);

}  // namespace qaudit::prompts

namespace qaudit::suites {
struct Item;
}

namespace qaudit::prompts {

// lm-evaluation-harness's reading of a generated BBQ answer (its bbq generate task), quirks
// included: the text and each choice are lower-cased, stripped of punctuation and of the word
// "the"; a choice matches when the cleaned choice is one of the text's words; an unknown choice
// matches when any of its unknown phrasings occurs in the text; failing both, an option matches
// when one of its BBQ groups is one of the words (the last such option wins). Returns the item's
// option index, or -1 (unmatched, counted by the caller).
int lmeval_generate_match(const std::string& text, const suites::Item& item);

// lm-evaluation-harness's 10 unknown phrasings (the options of its 12-option bbq task beside the
// two named ones).
const std::vector<std::string>& lmeval_unknown_phrasings();

}  // namespace qaudit::prompts
