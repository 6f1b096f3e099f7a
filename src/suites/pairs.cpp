#include "suites/pairs.h"

#include <csv.h>
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

namespace qaudit::suites {
namespace {

// Rows of a CSV file through libcsv, each with the line it starts on.
struct CsvRows {
  std::vector<std::vector<std::string>> rows;
  std::vector<long> lines;
  std::vector<std::string> current;
  long line = 1, row_start = 1;
};

void on_field(void* s, size_t n, void* data) {
  auto* r = static_cast<CsvRows*>(data);
  r->current.emplace_back(s ? std::string(static_cast<const char*>(s), n) : std::string());  // NULL: empty field
}

void on_row(int, void* data) {
  auto* r = static_cast<CsvRows*>(data);
  r->rows.push_back(std::move(r->current));
  r->lines.push_back(r->row_start);
  r->current.clear();
}

CsvRows parse_csv(const std::string& path) {
  std::string bytes = read_file_checked(path, "CSV file");
  csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) throw Error("cannot initialise the CSV parser", "");
  CsvRows rows;
  // Feed line by line so that each row knows where it started.
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    end = end == std::string::npos ? bytes.size() : end + 1;
    size_t before = rows.rows.size();
    bool in_row = !rows.current.empty();
    if (!in_row) rows.row_start = rows.line;
    if (csv_parse(&p, bytes.data() + pos, end - pos, on_field, on_row, &rows) != end - pos) {
      std::string why = csv_strerror(csv_error(&p));
      csv_free(&p);
      throw Error(ErrorSite{path, rows.line, {}}, "malformed CSV: " + why, "check the quoting on this line");
    }
    (void)before;
    ++rows.line;
    pos = end;
  }
  csv_fini(&p, on_field, on_row, &rows);
  csv_free(&p);
  return rows;
}

}  // namespace

SentenceSuite load_crows_pairs(const std::string& path) {
  auto csv = parse_csv(path);
  if (csv.rows.empty()) throw Error(ErrorSite{path, 0, {}}, "the file is empty", "pass crows_pairs_anonymized.csv as distributed");
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < csv.rows[0].size(); ++i) col[csv.rows[0][i]] = i;
  for (const char* need : {"sent_more", "sent_less", "stereo_antistereo", "bias_type"})
    if (!col.count(need))
      throw Error(ErrorSite{path, 1, need}, "missing column", "the header must name sent_more, sent_less, stereo_antistereo and bias_type");
  SentenceSuite s;
  s.name = "crows-pairs";
  s.version = "1";
  for (size_t r = 1; r < csv.rows.size(); ++r) {
    const auto& row = csv.rows[r];
    long line = csv.lines[r];
    if (row.size() == 1 && row[0].empty()) continue;  // blank line
    auto get = [&](const char* name) -> const std::string& {
      size_t i = col[name];
      if (i >= row.size() || row[i].empty())
        throw Error(ErrorSite{path, line, name}, "missing or empty", "every row needs sent_more, sent_less, stereo_antistereo and bias_type");
      return row[i];
    };
    SentenceItem it;
    it.id = "crows/" + (col.count("") && col[""] < row.size() && !row[col[""]].empty() ? row[col[""]] : std::to_string(r - 1));
    it.sentences = {get("sent_more"), get("sent_less")};
    it.direction = get("stereo_antistereo");
    if (it.direction != "stereo" && it.direction != "antistereo")
      throw Error(ErrorSite{path, line, "stereo_antistereo"}, fmt::format("\"{}\" is neither stereo nor antistereo", it.direction),
                  "use the file as distributed");
    it.category = get("bias_type");
    it.source = fmt::format("{}:{}", path, line);
    s.items.push_back(std::move(it));
  }
  if (s.items.empty()) throw Error(ErrorSite{path, 0, {}}, "no sentence pairs", "pass crows_pairs_anonymized.csv as distributed");
  return s;
}

SentenceSuite load_stereoset(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file_checked(path, "StereoSet file"));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorSite{path, 0, {}}, fmt::format("not valid JSON ({})", e.what()), "pass StereoSet's dev.json as distributed");
  }
  if (!j.is_object() || !j.contains("data") || !j["data"].contains("intrasentence") || !j["data"]["intrasentence"].is_array())
    throw Error(ErrorSite{path, 0, "data.intrasentence"}, "missing", "pass StereoSet's dev.json as distributed");
  SentenceSuite s;
  s.name = "stereoset";
  s.version = j.value("version", std::string("1"));
  size_t k = 0;
  for (const auto& ex : j["data"]["intrasentence"]) {
    std::string where = fmt::format("data.intrasentence[{}]", k++);
    for (const char* need : {"id", "target", "bias_type", "sentences"})
      if (!ex.contains(need)) throw Error(ErrorSite{path, 0, where + "." + need}, "missing", "use the file as distributed");
    SentenceItem it;
    it.id = ex["id"].get<std::string>();
    it.target = ex["target"].get<std::string>();
    it.category = ex["bias_type"].get<std::string>();
    it.source = path + " " + where;
    std::map<std::string, std::string> by_label;
    for (const auto& sent : ex["sentences"]) {
      if (!sent.contains("sentence") || !sent.contains("gold_label"))
        throw Error(ErrorSite{path, 0, where + ".sentences"}, "every sentence needs \"sentence\" and \"gold_label\"", "use the file as distributed");
      by_label[sent["gold_label"].get<std::string>()] = sent["sentence"].get<std::string>();
    }
    for (const char* need : {"stereotype", "anti-stereotype", "unrelated"})
      if (!by_label.count(need))
        throw Error(ErrorSite{path, 0, where + ".sentences"}, fmt::format("no sentence with gold_label \"{}\"", need),
                    "each intrasentence example has a stereotype, an anti-stereotype and an unrelated sentence");
    it.sentences = {by_label["stereotype"], by_label["anti-stereotype"], by_label["unrelated"]};
    s.items.push_back(std::move(it));
  }
  if (s.items.empty()) throw Error(ErrorSite{path, 0, "data.intrasentence"}, "empty", "pass StereoSet's dev.json as distributed");
  return s;
}

}  // namespace qaudit::suites
