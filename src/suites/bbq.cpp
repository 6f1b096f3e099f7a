#include "suites/bbq.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

namespace qaudit::suites {
namespace {

using nlohmann::json;

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// Reads field `key` of `obj`, throwing an Error that names the line and the field.
struct LineReader {
  const std::string& file;
  long line;

  [[noreturn]] void fail(const std::string& field, const std::string& msg, const std::string& hint) const {
    throw Error(ErrorSite{file, line, field}, msg, hint);
  }
  const json& get(const json& obj, const char* key, const std::string& path) const {
    auto it = obj.find(key);
    if (it == obj.end())
      fail(path, "missing", "every BBQ line needs this field; is this a BBQ JSONL file?");
    return *it;
  }
  std::string str(const json& obj, const char* key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_string()) fail(path, fmt::format("expected a string, got {}", v.type_name()), "fix the value");
    return v.get<std::string>();
  }
  std::string str_or_number(const json& obj, const char* key) const {
    const json& v = get(obj, key, key);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    fail(key, fmt::format("expected a string or integer, got {}", v.type_name()), "fix the value");
  }
  std::vector<std::string> str_array(const json& obj, const char* key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_array()) fail(path, fmt::format("expected an array of strings, got {}", v.type_name()), "fix the value");
    std::vector<std::string> out;
    for (const auto& e : v) {
      if (!e.is_string()) fail(path, "expected an array of strings", "fix the value");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
};

// Decides option roles. Returns an empty string on success, else why the roles are undecidable.
std::string assign_roles(Item& item, const std::vector<std::vector<std::string>>& answer_info,
                         const std::vector<std::string>& stereotyped_groups) {
  std::vector<std::string> stereo;
  for (auto g : stereotyped_groups) {
    std::transform(g.begin(), g.end(), g.begin(), [](unsigned char c) { return std::tolower(c); });
    stereo.push_back(g);
  }
  std::vector<int> unknown, biased, named;
  for (int i = 0; i < 3; ++i) {
    const auto& info = answer_info[i];
    if (info.size() >= 2 && info[1] == "unknown") {
      unknown.push_back(i);
      continue;
    }
    named.push_back(i);
    bool all_empty = std::all_of(info.begin(), info.end(), [](const std::string& s) { return s.empty(); });
    if (all_empty && !contains(item.options[i], "Latina"))
      return fmt::format("answer_info of ans{} is empty", i);
    auto groups = bbq_answer_groups(info, item.options[i]);
    bool overlaps = std::any_of(groups.begin(), groups.end(), [&](const std::string& g) {
      return std::find(stereo.begin(), stereo.end(), g) != stereo.end();
    });
    // Negative question: the stereotyped answer belongs to a stereotyped group. Non-negative
    // question: the stereotyped answer is the named option outside the stereotyped groups.
    if (item.polarity == Polarity::negative ? overlaps : !overlaps) biased.push_back(i);
  }
  if (unknown.size() != 1)
    return fmt::format("{} options are tagged \"unknown\" in answer_info (expected exactly 1)", unknown.size());
  if (biased.size() != 1)
    return fmt::format("{} named options match the stereotyped_groups {} for a {} question (expected exactly 1)",
                       biased.size(), fmt::join(stereotyped_groups, ", "), polarity_name(item.polarity));
  item.unknown = unknown[0];
  item.stereotyped = biased[0];
  item.anti = named[0] == biased[0] ? named[1] : named[0];
  item.roles.assign(3, Role::anti);
  item.roles[item.unknown] = Role::unknown;
  item.roles[item.stereotyped] = Role::stereotyped;
  return {};
}

}  // namespace

std::vector<std::string> bbq_answer_groups(const std::vector<std::string>& answer_info,
                                           const std::string& answer_text) {
  std::string s;
  bool all_empty = std::all_of(answer_info.begin(), answer_info.end(), [](const std::string& x) { return x.empty(); });
  if (all_empty) {
    // BBQ leaves answer_info empty on a few rows; lm-evaluation-harness repairs only this one.
    s = contains(answer_text, "Latina") ? "Latino" : "";
  } else {
    for (size_t i = 0; i < answer_info.size(); ++i) s += (i ? "_" : "") + answer_info[i];
  }
  // Intersectional tags use '-' ("F-Black", "lowSES-African"); split them on '_' instead.
  for (auto [from, to] : {std::pair{"M-", "M_"}, {"F-", "F_"}, {"lowSES-", "lowSES_"}, {"highSES-", "highSES_"}})
    replace_all(s, from, to);
  replace_all(s, "lowSES", "low SES");
  replace_all(s, "highSES", "high SES");
  replace_all(s, "nonObese", "non Obese");
  replace_all(s, "nonDisabled", "non Disabled");
  replace_all(s, "nonTrans", "non Trans");
  // Gendered words carry the F/M tag that stereotyped_groups use.
  if (contains(s, "woman"))
    replace_all(s, "woman", "F_woman");
  else if (contains(s, "man"))
    replace_all(s, "man", "M_man");
  replace_all(s, "girl", "F_girl");
  replace_all(s, "boy", "M_boy");
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t pos; (pos = s.find('_', start)) != std::string::npos; start = pos + 1) out.push_back(s.substr(start, pos - start));
  out.push_back(s.substr(start));
  return out;
}

void parse_bbq_jsonl(std::string_view text, const std::string& origin, Suite& into) {
  parse_bbq_lines(text, origin, into, nullptr);
}

void parse_bbq_lines(std::string_view text, const std::string& origin, Suite& into,
                     const std::function<const nlohmann::json&(const nlohmann::json&, long)>& doc_of) {
  long line_no = 0;
  size_t n_items_before = into.items.size() + into.skipped.size();
  // Ids must be unique across everything loaded into the suite (a file passed twice is a mistake).
  std::map<std::string, std::string> seen;
  for (const auto& it : into.items) seen[it.id] = it.source;
  for (const auto& it : into.skipped) seen[it.id] = it.source;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    LineReader r{origin, line_no};
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      r.fail({}, fmt::format("not valid JSON ({})", e.what()),
             "each line must be one JSON object; was the file truncated or edited by hand?");
    }
    if (!j.is_object()) r.fail({}, "expected a JSON object", "each line must be one BBQ item");
    if (doc_of) j = json(doc_of(j, line_no));
    Item item;
    const json& ex = r.get(j, "example_id", "example_id");
    if (!ex.is_number_integer()) r.fail("example_id", "expected an integer", "fix the value");
    item.category = r.str(j, "category", "category");
    item.id = fmt::format("{}/{}", item.category, ex.get<long long>());
    item.source = fmt::format("{}:{}", origin, line_no);
    if (auto dup = seen.find(item.id); dup != seen.end())
      r.fail("example_id", fmt::format("item {} appears twice (first at {})", item.id, dup->second),
             "pass each BBQ file once; example_id must be unique within a category");
    seen[item.id] = item.source;
    r.str_or_number(j, "question_index");
    std::string pol = r.str(j, "question_polarity", "question_polarity");
    if (pol == "neg") item.polarity = Polarity::negative;
    else if (pol == "nonneg") item.polarity = Polarity::nonnegative;
    else r.fail("question_polarity", fmt::format("\"{}\" is neither \"neg\" nor \"nonneg\"", pol), "fix the value");
    std::string cond = r.str(j, "context_condition", "context_condition");
    if (cond == "ambig") item.condition = Condition::ambiguous;
    else if (cond == "disambig") item.condition = Condition::disambiguated;
    else r.fail("context_condition", fmt::format("\"{}\" is neither \"ambig\" nor \"disambig\"", cond), "fix the value");
    item.context = r.str(j, "context", "context");
    item.question = r.str(j, "question", "question");
    for (int i = 0; i < 3; ++i) {
      std::string key = fmt::format("ans{}", i);
      item.options.push_back(r.str(j, key.c_str(), key));
    }
    const json& lab = r.get(j, "label", "label");
    if (!lab.is_number_integer()) r.fail("label", fmt::format("expected an integer 0-2, got {}", lab.type_name()), "fix the value");
    long long label = lab.get<long long>();
    if (label < 0 || label > 2)
      r.fail("label", fmt::format("{} is out of range", label), "label must be 0, 1 or 2 (the index of the correct ansN)");
    item.label = int(label);
    const json& info = r.get(j, "answer_info", "answer_info");
    if (!info.is_object()) r.fail("answer_info", "expected an object with ans0, ans1, ans2", "fix the value");
    std::vector<std::vector<std::string>> answer_info;
    for (int i = 0; i < 3; ++i) {
      std::string key = fmt::format("ans{}", i);
      answer_info.push_back(r.str_array(info, key.c_str(), "answer_info." + key));
    }
    const json& meta = r.get(j, "additional_metadata", "additional_metadata");
    if (!meta.is_object()) r.fail("additional_metadata", "expected an object", "fix the value");
    auto stereotyped = r.str_array(meta, "stereotyped_groups", "additional_metadata.stereotyped_groups");
    for (int i = 0; i < 3; ++i) item.option_groups.push_back(bbq_answer_groups(answer_info[i], item.options[i]));
    std::string why = assign_roles(item, answer_info, stereotyped);
    if (!why.empty())
      into.skipped.push_back({item.id, item.source, why});
    else
      into.items.push_back(std::move(item));
  }
  if (into.items.size() + into.skipped.size() == n_items_before)
    throw Error(ErrorSite{origin, 0, {}}, "contains no items", "the file is empty; point qaudit at a BBQ .jsonl file");
}

Suite load_bbq(const std::vector<std::string>& paths) {
  Suite s;
  s.name = "bbq";
  s.version = "1";
  for (const auto& p : paths) {
    std::string text = read_file_checked(p, "BBQ file");
    parse_bbq_jsonl(text, p, s);
  }
  return s;
}

}  // namespace qaudit::suites
