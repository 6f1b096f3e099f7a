#include "suites/imported.h"

#include <csv.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "prompts/parse.h"
#include "suites/bbq.h"

namespace qaudit::suites {
namespace {

using nlohmann::json;

ImportedAnswer from_text(const Item& it, const std::string& text) {
  ImportedAnswer a;
  a.item_id = it.id;
  a.raw = text;
  a.answer = prompts::lmeval_generate_match(text, it);
  a.probs.assign(it.options.size(), 0.0);
  if (a.answer >= 0) a.probs[size_t(a.answer)] = 1.0;
  a.rule = a.answer >= 0 ? "text" : "unmatched";
  return a;
}

const std::set<std::string>& bbq_fields() {
  static const std::set<std::string> f{"example_id", "question_index", "question_polarity", "context_condition", "category",
                                       "answer_info", "additional_metadata", "context", "question", "ans0", "ans1", "ans2",
                                       "label"};
  return f;
}

std::vector<json> json_lines(const std::string& path) {
  std::string text = read_file_checked(path, "predictions file");
  std::vector<json> out;
  long n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      out.emplace_back();
      continue;
    }
    try {
      out.push_back(json::parse(line));
    } catch (const json::parse_error& e) {
      throw Error(ErrorSite{path, n, {}}, fmt::format("not valid JSON ({})", e.what()), "each line must be one JSON object");
    }
  }
  return out;
}

}  // namespace

Imported import_bbq_columns(const std::string& path, const std::vector<std::string>& columns) {
  Imported im;
  im.format = "bbq-columns";
  im.suite.name = "bbq";
  im.suite.version = "bbq";
  std::string text = read_file_checked(path, "predictions file");
  parse_bbq_jsonl(text, path, im.suite);
  auto lines = json_lines(path);
  // Which columns are predictions.
  std::vector<std::string> cols = columns;
  if (cols.empty()) {
    std::set<std::string> found;
    for (const auto& j : lines)
      if (j.is_object())
        for (const auto& [k, v] : j.items())
          if (!bbq_fields().count(k) && v.is_string()) found.insert(k);
    cols.assign(found.begin(), found.end());
    if (cols.empty())
      throw Error(ErrorSite{path, 0, {}}, "no prediction columns: every field is part of BBQ's schema",
                  "add a column per model holding its answer text, or name the columns with --column");
  }
  std::map<std::string, const Item*> by_id;
  for (const auto& it : im.suite.items) by_id[it.id] = &it;
  for (const auto& c : cols) {
    ImportedVariant v;
    v.name = c;
    long n = 0;
    for (const auto& j : lines) {
      ++n;
      if (!j.is_object()) continue;
      std::string id = fmt::format("{}/{}", j.value("category", std::string()), j.value("example_id", 0LL));
      auto f = by_id.find(id);
      if (f == by_id.end()) continue;  // skipped item (undecidable roles)
      if (!j.contains(c) || !j[c].is_string())
        throw Error(ErrorSite{path, n, c}, "missing or not a string", "every line needs the prediction column");
      auto a = from_text(*f->second, j[c].get<std::string>());
      v.unmatched += a.answer < 0;
      v.answers.push_back(std::move(a));
    }
    im.variants.push_back(std::move(v));
  }
  return im;
}

Imported import_lmeval_samples(const std::string& path, const std::string& name) {
  Imported im;
  im.format = "lmeval";
  im.suite.name = "bbq";
  im.suite.version = "bbq";
  std::string text = read_file_checked(path, "lm-evaluation-harness samples");
  parse_bbq_lines(text, path, im.suite, [&](const json& j, long line) -> const json& {
    if (!j.contains("doc") || !j["doc"].is_object())
      throw Error(ErrorSite{path, line, "doc"}, "missing", "pass a samples_bbq_*.jsonl file written with --log_samples");
    return j["doc"];
  });
  std::map<std::string, const Item*> by_id;
  for (const auto& it : im.suite.items) by_id[it.id] = &it;
  ImportedVariant v;
  v.name = name.empty() ? std::filesystem::path(path).stem().string() : name;
  auto lines = json_lines(path);
  long n = 0;
  for (const auto& j : lines) {
    ++n;
    if (!j.is_object()) continue;
    const json& doc = j["doc"];
    std::string id = fmt::format("{}/{}", doc.value("category", std::string()), doc.value("example_id", 0LL));
    auto f = by_id.find(id);
    if (f == by_id.end()) continue;
    const Item& it = *f->second;
    const json& resps = j.contains("filtered_resps") ? j["filtered_resps"] : j.value("resps", json());
    if (!resps.is_array() || resps.empty())
      throw Error(ErrorSite{path, n, "filtered_resps"}, "missing or empty", "pass a file written with --log_samples");
    // Generated text: ["text"] (or [["text"]]); log-likelihoods: [[ll, is_greedy], ...] or [ll, ...].
    const json* first = &resps[0];
    if (first->is_array() && !first->empty() && (*first)[0].is_string()) first = &(*first)[0];
    if (first->is_string()) {
      auto a = from_text(it, first->get<std::string>());
      v.unmatched += a.answer < 0;
      v.answers.push_back(std::move(a));
      continue;
    }
    std::vector<double> ll;
    for (const auto& r : resps) {
      const json& x = r.is_array() && !r.empty() ? r[0] : r;
      if (!x.is_number()) throw Error(ErrorSite{path, n, "filtered_resps"}, "expected log-likelihoods or text", "pass a bbq task's samples");
      ll.push_back(x.get<double>());
    }
    // lm-evaluation-harness's choices: the three options, or the two named ones + 10 unknowns.
    std::vector<int> option_of;
    if (ll.size() == it.options.size()) {
      for (int o = 0; o < int(it.options.size()); ++o) option_of.push_back(o);
    } else if (ll.size() == 2 + prompts::lmeval_unknown_phrasings().size()) {
      for (int o = 0; o < int(it.options.size()); ++o)
        if (o != it.unknown) option_of.push_back(o);
      for (size_t u = 0; u < prompts::lmeval_unknown_phrasings().size(); ++u) option_of.push_back(it.unknown);
    } else {
      throw Error(ErrorSite{path, n, "filtered_resps"}, fmt::format("{} log-likelihoods; expected 3 or 12", ll.size()),
                  "pass the samples of bbq or bbq_multiple_choice");
    }
    ImportedAnswer a;
    a.item_id = it.id;
    a.rule = "loglik";
    double mx = *std::max_element(ll.begin(), ll.end()), z = 0;
    for (double x : ll) z += std::exp(x - mx);
    a.probs.assign(it.options.size(), 0.0);
    for (size_t o = 0; o < ll.size(); ++o) a.probs[size_t(option_of[o])] += std::exp(ll[o] - mx) / z;
    a.answer = option_of[size_t(std::max_element(ll.begin(), ll.end()) - ll.begin())];
    a.raw = json(ll).dump();
    v.answers.push_back(std::move(a));
  }
  im.variants.push_back(std::move(v));
  return im;
}

namespace {

struct Rows {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> cur;
};
void field_cb(void* s, size_t n, void* d) {
  static_cast<Rows*>(d)->cur.emplace_back(s ? std::string(static_cast<const char*>(s), n) : std::string());
}
void row_cb(int, void* d) {
  auto* r = static_cast<Rows*>(d);
  r->rows.push_back(std::move(r->cur));
  r->cur.clear();
}

}  // namespace

Imported import_csv(const std::string& path, const Suite& suite) {
  Imported im;
  im.format = "csv";
  im.suite = suite;
  std::string bytes = read_file_checked(path, "predictions CSV");
  csv_parser p;
  csv_init(&p, CSV_STRICT | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
  Rows rows;
  if (csv_parse(&p, bytes.data(), bytes.size(), field_cb, row_cb, &rows) != bytes.size()) {
    std::string why = csv_strerror(csv_error(&p));
    csv_free(&p);
    throw Error(ErrorSite{path, 0, {}}, "malformed CSV: " + why, "check the quoting");
  }
  csv_fini(&p, field_cb, row_cb, &rows);
  csv_free(&p);
  if (rows.rows.empty()) throw Error(ErrorSite{path, 0, {}}, "the file is empty", "write a header: item_id,variant,answer");
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows.rows[0].size(); ++i) col[rows.rows[0][i]] = i;
  for (const char* need : {"item_id", "variant"})
    if (!col.count(need)) throw Error(ErrorSite{path, 1, need}, "missing column", "the header needs item_id, variant and answer (or p0,p1,p2)");
  bool probs = col.count("p0") && col.count("p1") && col.count("p2");
  if (!probs && !col.count("answer"))
    throw Error(ErrorSite{path, 1, "answer"}, "missing column", "give answer (index, letter or text) or p0,p1,p2");
  std::map<std::string, const Item*> by_id;
  for (const auto& it : im.suite.items) by_id[it.id] = &it;
  std::map<std::string, size_t> variant_index;
  for (size_t r = 1; r < rows.rows.size(); ++r) {
    const auto& row = rows.rows[r];
    long line = long(r) + 1;
    if (row.size() == 1 && row[0].empty()) continue;
    auto get = [&](const char* name) -> std::string {
      size_t i = col[name];
      return i < row.size() ? row[i] : std::string();
    };
    std::string id = get("item_id"), var = get("variant");
    auto f = by_id.find(id);
    if (f == by_id.end())
      throw Error(ErrorSite{path, line, "item_id"}, fmt::format("\"{}\" is not an item of the {} suite", id, im.suite.name),
                  "pass the suite the predictions were made on (--bbq FILES, --builtin or --demo)");
    if (var.empty()) throw Error(ErrorSite{path, line, "variant"}, "empty", "name the model or variant");
    if (!variant_index.count(var)) {
      variant_index[var] = im.variants.size();
      im.variants.push_back({var, {}, 0});
    }
    auto& v = im.variants[variant_index[var]];
    const Item& it = *f->second;
    ImportedAnswer a;
    a.item_id = id;
    a.probs.assign(it.options.size(), 0.0);
    if (probs) {
      double sum = 0;
      for (int o = 0; o < 3; ++o) {
        std::string key = fmt::format("p{}", o);
        try {
          size_t used = 0;
          a.probs[size_t(o)] = std::stod(get(key.c_str()), &used);
        } catch (const std::exception&) {
          throw Error(ErrorSite{path, line, key}, fmt::format("\"{}\" is not a number", get(key.c_str())), "give a probability in [0, 1]");
        }
        if (!(a.probs[size_t(o)] >= 0 && a.probs[size_t(o)] <= 1))
          throw Error(ErrorSite{path, line, key}, "out of range", "give a probability in [0, 1]");
        sum += a.probs[size_t(o)];
      }
      if (sum > 1 + 1e-6) throw Error(ErrorSite{path, line, "p0"}, fmt::format("p0 + p1 + p2 = {} exceeds 1", sum), "give option probabilities");
      a.answer = int(std::max_element(a.probs.begin(), a.probs.end()) - a.probs.begin());
      a.rule = "probs";
      a.raw = fmt::format("{},{},{}", a.probs[0], a.probs[1], a.probs[2]);
    } else {
      std::string ans = get("answer");
      a.raw = ans;
      if (ans.size() == 1 && ans[0] >= '0' && ans[0] <= '2') {
        a.answer = ans[0] - '0';
        a.rule = "index";
      } else if (ans.size() == 1 && std::toupper(static_cast<unsigned char>(ans[0])) >= 'A' &&
                 std::toupper(static_cast<unsigned char>(ans[0])) <= 'C') {
        a.answer = std::toupper(static_cast<unsigned char>(ans[0])) - 'A';
        a.rule = "letter";
      } else {
        a = from_text(it, ans);
      }
      if (a.answer >= 0) a.probs[size_t(a.answer)] = 1.0;
      v.unmatched += a.answer < 0;
    }
    v.answers.push_back(std::move(a));
  }
  if (im.variants.empty()) throw Error(ErrorSite{path, 0, {}}, "no predictions", "add rows: item_id,variant,answer");
  return im;
}

}  // namespace qaudit::suites
