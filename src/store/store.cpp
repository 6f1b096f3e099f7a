#include "store/store.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/version.h"

namespace qaudit::store {
namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS file_hashes(
  path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY(path, size, mtime_ns));
CREATE TABLE IF NOT EXISTS models(
  model_hash TEXT PRIMARY KEY, path TEXT NOT NULL, file_size INTEGER NOT NULL, arch TEXT,
  description TEXT, n_params INTEGER, first_seen TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(
  suite TEXT NOT NULL, item_id TEXT NOT NULL, suite_version TEXT NOT NULL, category TEXT NOT NULL,
  condition TEXT NOT NULL, polarity TEXT NOT NULL, label INTEGER NOT NULL,
  stereotyped INTEGER NOT NULL, anti INTEGER NOT NULL, unknown INTEGER NOT NULL,
  context TEXT NOT NULL, question TEXT NOT NULL, options TEXT NOT NULL, source TEXT,
  PRIMARY KEY(suite, item_id));
CREATE TABLE IF NOT EXISTS runs(
  run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT,
  qaudit_version TEXT NOT NULL, llama_release TEXT NOT NULL, model_hash TEXT NOT NULL,
  suite TEXT NOT NULL, command TEXT, settings TEXT);
CREATE TABLE IF NOT EXISTS results(
  model_hash TEXT NOT NULL, suite TEXT NOT NULL, item_id TEXT NOT NULL, prompt_id TEXT NOT NULL,
  mode TEXT NOT NULL, temperature REAL NOT NULL, seed INTEGER NOT NULL,
  probs TEXT NOT NULL, probs_t1 TEXT NOT NULL, invalid REAL NOT NULL, invalid_t1 REAL NOT NULL,
  answer INTEGER NOT NULL, entropy REAL, max_prob REAL, k INTEGER, p_stereo_k REAL,
  raw_text TEXT, parse_rule TEXT, n_tokens INTEGER, settings TEXT, detail TEXT,
  qaudit_version TEXT NOT NULL, llama_release TEXT NOT NULL, run_id INTEGER, created_at TEXT NOT NULL,
  PRIMARY KEY(model_hash, suite, item_id, prompt_id, mode, temperature, seed));
)sql";

std::string now_iso() {
  auto t = std::chrono::system_clock::now();
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(t));
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const std::string& path) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, const std::string& v) { return check(sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT)); }
  Stmt& bind(int i, double v) { return check(sqlite3_bind_double(s_, i, v)); }
  Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
  Stmt& bind(int i, int v) { return check(sqlite3_bind_int64(s_, i, v)); }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int changes() const { return sqlite3_changes(db_); }
  std::string text(int i) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, sqlite3_column_bytes(s_, i)) : std::string();
  }
  double real(int i) const { return sqlite3_column_double(s_, i); }
  int64_t integer(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) fail("bind");
    return *this;
  }
  [[noreturn]] void fail(const char* what) {
    throw Error(ErrorSite{path_, 0, {}}, fmt::format("SQLite {} failed: {}", what, sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  const std::string& path_;
};

std::string to_json(const std::vector<double>& v) { return nlohmann::json(v).dump(); }
std::vector<double> from_json(const std::string& s) { return nlohmann::json::parse(s).get<std::vector<double>>(); }

}  // namespace

Store::Store(const std::string& path) : path_(path) {
  const char* hint = "pass --store with a new file name or an existing qaudit store";
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorSite{path, 0, {}}, "cannot open the results store: " + msg, hint);
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("BEGIN IMMEDIATE");
    exec(kSchema);
    Stmt get(db_, "SELECT value FROM meta WHERE key='schema_version'", path_);
    if (get.step()) {
      int v = std::stoi(get.text(0));
      if (v > kSchemaVersion)
        throw Error(ErrorSite{path, 0, "schema_version"},
                    fmt::format("store has schema {} but this qaudit reads schema {}", v, kSchemaVersion),
                    "use a newer qaudit, or a new store file");
      if (v < 2) {  // schema 2 adds results.detail (per-option log-likelihoods, perplexity details)
        exec("ALTER TABLE results ADD COLUMN detail TEXT");
        exec("UPDATE meta SET value='2' WHERE key='schema_version'");
      }
    } else {
      Stmt put(db_, "INSERT INTO meta(key, value) VALUES('schema_version', ?), ('created_by', ?)", path_);
      put.bind(1, std::to_string(kSchemaVersion)).bind(2, version_line());
      put.step();
    }
    exec("COMMIT");
  } catch (const Error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    if (std::string(e.what()).find("not a database") != std::string::npos)
      throw Error(ErrorSite{path, 0, {}}, "is not a qaudit results store (not an SQLite database)", hint);
    throw;
  }
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

void Store::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(ErrorSite{path_, 0, {}}, "SQLite: " + msg);
  }
}

std::string Store::model_hash(const std::string& model_path) {
  struct stat st {};
  if (::stat(model_path.c_str(), &st) != 0) return file_content_hash(model_path);
  int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  Stmt get(db_, "SELECT hash FROM file_hashes WHERE path=? AND size=? AND mtime_ns=?", path_);
  get.bind(1, model_path).bind(2, int64_t(st.st_size)).bind(3, mtime);
  if (get.step()) return get.text(0);
  std::string h = file_content_hash(model_path);
  Stmt put(db_, "INSERT OR REPLACE INTO file_hashes(path, size, mtime_ns, hash) VALUES(?,?,?,?)", path_);
  put.bind(1, model_path).bind(2, int64_t(st.st_size)).bind(3, mtime).bind(4, h);
  put.step();
  return h;
}

void Store::put_model(const ModelRecord& m) {
  Stmt s(db_,
         "INSERT OR IGNORE INTO models(model_hash, path, file_size, arch, description, n_params, first_seen) "
         "VALUES(?,?,?,?,?,?,?)",
         path_);
  s.bind(1, m.hash).bind(2, m.path).bind(3, m.file_size).bind(4, m.arch).bind(5, m.description).bind(6, m.n_params)
      .bind(7, now_iso());
  s.step();
}

void Store::put_items(const std::string& suite, const std::string& suite_version, const std::vector<suites::Item>& items) {
  exec("BEGIN IMMEDIATE");
  try {
    Stmt s(db_,
           "INSERT OR IGNORE INTO items(suite, item_id, suite_version, category, condition, polarity, label, "
           "stereotyped, anti, unknown, context, question, options, source) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
           path_);
    for (const auto& it : items) {
      s.bind(1, suite).bind(2, it.id).bind(3, suite_version).bind(4, it.category)
          .bind(5, std::string(suites::condition_name(it.condition))).bind(6, std::string(suites::polarity_name(it.polarity)))
          .bind(7, it.label).bind(8, it.stereotyped).bind(9, it.anti).bind(10, it.unknown).bind(11, it.context)
          .bind(12, it.question).bind(13, nlohmann::json(it.options).dump()).bind(14, it.source);
      s.step();
      s.reset();
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

int64_t Store::begin_run(const RunRecord& r) {
  Stmt s(db_,
         "INSERT INTO runs(started_at, qaudit_version, llama_release, model_hash, suite, command, settings) "
         "VALUES(?,?,?,?,?,?,?)",
         path_);
  s.bind(1, now_iso()).bind(2, std::string(qaudit_version())).bind(3, std::string(llama_release()))
      .bind(4, r.model_hash).bind(5, r.suite).bind(6, r.command).bind(7, r.settings);
  s.step();
  return sqlite3_last_insert_rowid(db_);
}

void Store::finish_run(int64_t run_id) {
  Stmt s(db_, "UPDATE runs SET finished_at=? WHERE run_id=?", path_);
  s.bind(1, now_iso()).bind(2, run_id);
  s.step();
}

std::set<std::string> Store::existing_items(const std::string& model_hash, const std::string& suite,
                                            const std::string& prompt_id, const std::string& mode, double temperature,
                                            int64_t seed) {
  Stmt s(db_,
         "SELECT item_id FROM results WHERE model_hash=? AND suite=? AND prompt_id=? AND mode=? AND temperature=? "
         "AND seed=?",
         path_);
  s.bind(1, model_hash).bind(2, suite).bind(3, prompt_id).bind(4, mode).bind(5, temperature).bind(6, seed);
  std::set<std::string> out;
  while (s.step()) out.insert(s.text(0));
  return out;
}

int Store::put_results(const std::vector<ResultRow>& rows) {
  if (rows.empty()) return 0;
  int inserted = 0;
  exec("BEGIN IMMEDIATE");
  try {
    Stmt s(db_,
           "INSERT OR IGNORE INTO results(model_hash, suite, item_id, prompt_id, mode, temperature, seed, probs, "
           "probs_t1, invalid, invalid_t1, answer, entropy, max_prob, k, p_stereo_k, raw_text, parse_rule, n_tokens, "
           "settings, qaudit_version, llama_release, run_id, created_at, detail) "
           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
           path_);
    std::string now = now_iso();
    for (const auto& r : rows) {
      const auto& k = r.key;
      s.bind(1, k.model_hash).bind(2, k.suite).bind(3, k.item_id).bind(4, k.prompt_id).bind(5, k.mode)
          .bind(6, k.temperature).bind(7, k.seed).bind(8, to_json(r.probs)).bind(9, to_json(r.probs_t1))
          .bind(10, r.invalid).bind(11, r.invalid_t1).bind(12, r.answer).bind(13, r.entropy).bind(14, r.max_prob)
          .bind(15, r.k).bind(16, r.p_stereo_k).bind(17, r.raw_text).bind(18, r.parse_rule).bind(19, r.n_tokens)
          .bind(20, r.settings).bind(21, std::string(qaudit_version())).bind(22, std::string(llama_release()))
          .bind(23, r.run_id).bind(24, now).bind(25, r.detail);
      s.step();
      inserted += s.changes();
      s.reset();
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  return inserted;
}

std::vector<ResultRow> Store::results(const std::string& model_hash, const std::string& suite,
                                      const std::string& prompt_id, const std::string& mode, double temperature) {
  Stmt s(db_,
         "SELECT item_id, seed, probs, probs_t1, invalid, invalid_t1, answer, entropy, max_prob, k, p_stereo_k, "
         "raw_text, parse_rule, n_tokens, settings, run_id, detail FROM results WHERE model_hash=? AND suite=? AND "
         "prompt_id=? AND mode=? AND temperature=? ORDER BY item_id, seed",
         path_);
  s.bind(1, model_hash).bind(2, suite).bind(3, prompt_id).bind(4, mode).bind(5, temperature);
  std::vector<ResultRow> out;
  while (s.step()) {
    ResultRow r;
    r.key = {model_hash, suite, s.text(0), prompt_id, mode, temperature, s.integer(1)};
    r.probs = from_json(s.text(2));
    r.probs_t1 = from_json(s.text(3));
    r.invalid = s.real(4);
    r.invalid_t1 = s.real(5);
    r.answer = int(s.integer(6));
    r.entropy = s.real(7);
    r.max_prob = s.real(8);
    r.k = int(s.integer(9));
    r.p_stereo_k = s.real(10);
    r.raw_text = s.text(11);
    r.parse_rule = s.text(12);
    r.n_tokens = s.integer(13);
    r.settings = s.text(14);
    r.run_id = s.integer(15);
    r.detail = s.text(16);
    out.push_back(std::move(r));
  }
  return out;
}

int64_t Store::count_results() {
  Stmt s(db_, "SELECT COUNT(*) FROM results", path_);
  s.step();
  return s.integer(0);
}

Store::MergeStats Store::merge_from(const std::string& other) {
  require_readable_file(other, "store to merge", "pass the shard stores written by `qaudit run --shard`");
  if (std::filesystem::equivalent(other, path_))
    throw Error(ErrorSite{other, 0, {}}, "is the output store itself", "merge into a new file");
  { Store check(other); }  // validates that it is a qaudit store of a readable schema
  MergeStats st;
  Stmt attach(db_, "ATTACH DATABASE ? AS src", path_);
  attach.bind(1, other);
  attach.step();
  const char* cols =
      "model_hash, suite, item_id, prompt_id, mode, temperature, seed, probs, probs_t1, invalid, invalid_t1, answer, "
      "entropy, max_prob, k, p_stereo_k, raw_text, parse_rule, n_tokens, settings, detail, qaudit_version, llama_release";
  try {
    exec("BEGIN IMMEDIATE");
    exec("INSERT OR IGNORE INTO models SELECT * FROM src.models");
    exec("INSERT OR IGNORE INTO items SELECT * FROM src.items");
    exec("INSERT OR IGNORE INTO file_hashes SELECT * FROM src.file_hashes");
    int64_t offset = 0;
    {
      Stmt q(db_, "SELECT COALESCE(MAX(run_id), 0) FROM main.runs", path_);
      if (q.step()) offset = q.integer(0);
    }
    {
      Stmt q(db_,
             "SELECT COUNT(*), SUM(m.probs != s.probs OR m.probs_t1 != s.probs_t1) FROM src.results s JOIN main.results m "
             "USING(model_hash, suite, item_id, prompt_id, mode, temperature, seed)",
             path_);
      if (q.step()) {
        st.results_present = q.integer(0);
        st.conflicts = q.integer(1);
      }
    }
    {
      Stmt q(db_,
             "INSERT INTO runs(run_id, started_at, finished_at, qaudit_version, llama_release, model_hash, suite, command, "
             "settings) SELECT run_id + ?, started_at, finished_at, qaudit_version, llama_release, model_hash, suite, "
             "command, settings FROM src.runs",
             path_);
      q.bind(1, offset);
      q.step();
      st.runs_added = q.changes();
    }
    {
      std::string sql = fmt::format("INSERT OR IGNORE INTO results({0}, run_id, created_at) SELECT {0}, run_id + ?, created_at FROM src.results", cols);
      Stmt q(db_, sql.c_str(), path_);
      q.bind(1, offset);
      q.step();
      st.results_added = q.changes();
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_exec(db_, "DETACH DATABASE src", nullptr, nullptr, nullptr);
    throw;
  }
  exec("DETACH DATABASE src");
  return st;
}

suites::Suite Store::load_suite(const std::string& name) {
  suites::Suite s;
  s.name = name;
  Stmt q(db_,
         "SELECT item_id, suite_version, category, condition, polarity, label, stereotyped, anti, unknown, context, question, "
         "options, source FROM items WHERE suite = ? ORDER BY rowid",
         path_);
  q.bind(1, name);
  while (q.step()) {
    suites::Item it;
    it.id = q.text(0);
    s.version = q.text(1);
    it.category = q.text(2);
    it.condition = q.text(3) == "ambig" ? suites::Condition::ambiguous : suites::Condition::disambiguated;
    it.polarity = q.text(4) == "neg" ? suites::Polarity::negative : suites::Polarity::nonnegative;
    it.label = int(q.integer(5));
    it.stereotyped = int(q.integer(6));
    it.anti = int(q.integer(7));
    it.unknown = int(q.integer(8));
    it.context = q.text(9);
    it.question = q.text(10);
    it.options = nlohmann::json::parse(q.text(11)).get<std::vector<std::string>>();
    it.source = q.text(12);
    it.roles.assign(it.options.size(), suites::Role::anti);
    if (it.unknown >= 0) it.roles[size_t(it.unknown)] = suites::Role::unknown;
    if (it.stereotyped >= 0) it.roles[size_t(it.stereotyped)] = suites::Role::stereotyped;
    s.items.push_back(std::move(it));
  }
  return s;
}

}  // namespace qaudit::store
