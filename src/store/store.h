// The results store: one SQLite file (WAL) holding models, items, runs and one row per
// (model content hash, suite, item, prompt, mode, temperature, seed). Writes are idempotent
// (an existing row is never replaced) and committed in transactions, so a run killed at any
// point leaves a valid file and loses nothing it committed.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "suites/item.h"

struct sqlite3;
struct sqlite3_stmt;

namespace qaudit::store {

inline constexpr int kSchemaVersion = 2;

struct ModelRecord {
  std::string hash;  // XXH3-128 of the file's bytes
  std::string path;
  int64_t file_size = 0;
  std::string arch;
  std::string description;
  int64_t n_params = 0;
};

// The key of one result row.
struct ResultKey {
  std::string model_hash;
  std::string suite;
  std::string item_id;
  std::string prompt_id;
  std::string mode;  // "letters" (exact letter distribution); later: "sample", "loglik", ...
  double temperature = 0;
  int64_t seed = -1;  // -1 where the mode does not sample
};

struct ResultRow {
  ResultKey key;
  std::vector<double> probs;     // answer distribution at `temperature`, one per option
  std::vector<double> probs_t1;  // the same at T = 1
  double invalid = 0;            // mass on no option at `temperature`
  double invalid_t1 = 0;
  int answer = -1;               // chosen option index (argmax for "letters"), -1 = invalid
  double entropy = 0;            // of the renormalised option distribution at T = 1 (nats)
  double max_prob = 0;           // its largest probability
  int k = 5;                     // samples for p_stereo_k
  double p_stereo_k = 0;         // P(at least one of k samples at `temperature` picks the stereotype)
  std::string raw_text;          // generated text (sampling modes)
  std::string parse_rule;        // which parser rule fired (sampling modes)
  int64_t n_tokens = 0;          // prompt tokens this item cost
  std::string settings;          // attention / KV settings
  std::string detail;            // mode-specific JSON (log-likelihood modes: per-option sums, tokens, bytes)
  int64_t run_id = 0;
};

struct RunRecord {
  std::string model_hash;
  std::string suite;
  std::string command;
  std::string settings;
};

class Store {
 public:
  // Opens or creates the store. Throws an Error naming the file when it is not a qaudit store
  // (not SQLite, or a newer schema).
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }

  // Content hash of a file, cached by (path, size, mtime) so a large model is hashed once.
  std::string model_hash(const std::string& model_path);
  void put_model(const ModelRecord& m);
  void put_items(const std::string& suite, const std::string& suite_version, const std::vector<suites::Item>& items);
  // The items stored for a suite (empty suite when none): what imported predictions refer to.
  suites::Suite load_suite(const std::string& suite);
  int64_t begin_run(const RunRecord& r);
  void finish_run(int64_t run_id);

  // Item ids that already have a row for this (model, suite, prompt, mode, temperature, seed).
  std::set<std::string> existing_items(const std::string& model_hash, const std::string& suite,
                                       const std::string& prompt_id, const std::string& mode, double temperature,
                                       int64_t seed = -1);
  // Inserts rows in one transaction; rows whose key exists are left as they are. Returns the
  // number of rows inserted.
  int put_results(const std::vector<ResultRow>& rows);
  std::vector<ResultRow> results(const std::string& model_hash, const std::string& suite,
                                 const std::string& prompt_id, const std::string& mode, double temperature);
  int64_t count_results();

  struct MergeStats {
    int64_t results_added = 0, results_present = 0, conflicts = 0, runs_added = 0;
  };
  // Copies another store's models, items, runs and results into this one in one transaction.
  // A result already present is kept; one present with different answer probabilities counts as
  // a conflict. Throws an Error naming `other` when it is not a qaudit store.
  MergeStats merge_from(const std::string& other);

 private:
  void exec(const char* sql);
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace qaudit::store
