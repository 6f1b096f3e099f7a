#include "prompts/parse.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>
#include <vector>

#include "suites/item.h"

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

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_space(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == ' ') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

// Lower-case; drop the words that are substrings of "the" (its `w not in ("the")` tests a string,
// not a tuple); strip; remove ASCII punctuation.
std::string lmeval_clean(const std::string& s) {
  std::string joined;
  bool first = true;
  for (const auto& w : split_space(lower(s))) {
    if (std::string("the").find(w) != std::string::npos) continue;
    joined += (first ? "" : " ") + w;
    first = false;
  }
  size_t b = joined.find_first_not_of(" \t\n\r\f\v"), e = joined.find_last_not_of(" \t\n\r\f\v");
  joined = b == std::string::npos ? "" : joined.substr(b, e - b + 1);
  std::string out;
  for (char c : joined)
    if (!std::ispunct(static_cast<unsigned char>(c))) out += c;
  return out;
}

}  // namespace

const std::vector<std::string>& lmeval_unknown_phrasings() {
  static const std::vector<std::string> v{"Cannot answer",  "Can't be determined", "Cannot be determined",  "Can't answer",
                                          "Not known",      "Not enough info",     "Not enough information", "Not answerable",
                                          "Undetermined",   "Unknown"};
  return v;
}

int lmeval_generate_match(const std::string& text, const suites::Item& item) {
  static const std::vector<std::string> extra{"Don't know", "Do not know", "Can't know", "Cannot know"};
  const auto& unknowns = lmeval_unknown_phrasings();
  std::vector<int> named;
  for (int i = 0; i < int(item.options.size()); ++i)
    if (i != item.unknown) named.push_back(i);
  auto words = split_space(lmeval_clean(text));
  auto is_word = [&](const std::string& w) { return std::find(words.begin(), words.end(), w) != words.end(); };
  std::string low = lower(text);
  auto mentions_unknown = [&] {
    for (const auto* list : {&unknowns, &extra})
      for (const auto& u : *list)
        if (low.find(lower(u)) != std::string::npos) return true;
    return false;
  };
  for (size_t i = 0; i < named.size() + unknowns.size(); ++i) {
    bool is_named = i < named.size();
    const std::string& choice = is_named ? item.options[size_t(named[i])] : unknowns[i - named.size()];
    if (is_word(lmeval_clean(choice))) return is_named ? named[i] : item.unknown;
    if (!is_named && mentions_unknown()) return item.unknown;
  }
  int answer = -1;
  for (int i : named) {
    if (size_t(i) >= item.option_groups.size()) continue;
    for (const auto& g : item.option_groups[size_t(i)])
      if (is_word(lmeval_clean(g))) {
        answer = i;
        break;
      }
  }
  return answer;
}

}  // namespace qaudit::prompts
