#include "prompts/parse.h"

#include <cctype>
#include <regex>
#include <string>

namespace qaudit::prompts {
namespace {

bool alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

}  // namespace

const char* parse_rule_name(ParseRule r) {
  switch (r) {
    case ParseRule::exact: return "exact";
    case ParseRule::prefix: return "prefix";
    case ParseRule::phrase: return "phrase";
    case ParseRule::letter: return "letter";
    case ParseRule::word_fallback: return "word_fallback";
    case ParseRule::none: return "none";
  }
  return "none";
}

ParsedAnswer parse_answer(std::string_view raw, int n_options) {
  const char last = char('A' + n_options - 1);
  auto is_letter = [&](char c) {
    char u = char(std::toupper(static_cast<unsigned char>(c)));
    return u >= 'A' && u <= last;
  };
  auto index = [](char c) { return std::toupper(static_cast<unsigned char>(c)) - 'A'; };
  size_t b = 0, e = raw.size();
  while (b < e && std::isspace(static_cast<unsigned char>(raw[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(raw[e - 1]))) --e;
  std::string t(raw.substr(b, e - b));
  ParsedAnswer p;
  auto found = [&](int a, ParseRule r) {
    p.answer = p.study_answer = a;
    p.rule = r;
    return p;
  };
  // 1. The letter alone.
  if (t.size() == 1 && is_letter(t[0])) return found(index(t[0]), ParseRule::exact);
  // 2. "A)", "(A)", "A." at the start.
  if (t.size() >= 2 && is_letter(t[0]) && std::isupper(static_cast<unsigned char>(t[0])) && (t[1] == ')' || t[1] == '.'))
    return found(index(t[0]), ParseRule::prefix);
  if (t.size() >= 3 && t[0] == '(' && is_letter(t[1]) && std::isupper(static_cast<unsigned char>(t[1])) && t[2] == ')')
    return found(index(t[1]), ParseRule::prefix);
  // 3. "answer is X" / "choose X".
  static const std::regex phrase(R"((?:answer\s+is|choose)\s*:?\s*\(?([A-Za-z])(?![A-Za-z]))", std::regex::icase);
  std::smatch m;
  if (std::regex_search(t, m, phrase) && is_letter(m[1].str()[0])) return found(index(m[1].str()[0]), ParseRule::phrase);
  // 4. The study's fallback reads the first A-C character anywhere; this parser only a letter
  // that stands alone.
  for (size_t i = 0; i < t.size(); ++i)
    if (is_letter(t[i])) {
      p.study_answer = index(t[i]);
      break;
    }
  for (size_t i = 0; i < t.size(); ++i) {
    if (!is_letter(t[i])) continue;
    bool alone = (i == 0 || !alpha(t[i - 1])) && (i + 1 == t.size() || !alpha(t[i + 1]));
    // A lowercase "a" standing alone is usually the article; it counts only in a short answer
    // such as "b)" or "(c".
    if (alone && std::islower(static_cast<unsigned char>(t[i])) && t.size() > 3) alone = false;
    if (alone) {
      p.answer = index(t[i]);
      p.rule = ParseRule::letter;
      return p;
    }
  }
  p.rule = p.study_answer >= 0 ? ParseRule::word_fallback : ParseRule::none;
  return p;
}

}  // namespace qaudit::prompts
