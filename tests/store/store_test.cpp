#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "common/error.h"
#include "test_util.h"

using namespace qaudit;
using namespace qaudit::store;

namespace {

ResultRow row(const std::string& item, double p0) {
  ResultRow r;
  r.key = {"hash", "demo", item, "study/plain", "letters", 0.3, -1};
  r.probs = {p0, 0.2, 0.1};
  r.probs_t1 = {0.3, 0.3, 0.3};
  r.invalid = 1 - p0 - 0.3;
  r.answer = 0;
  return r;
}

}  // namespace

TEST(Store, WritesAreIdempotentAndKeepTheFirstRow) {
  auto dir = test::temp_dir("store-idem");
  Store s((dir / "r.sqlite").string());
  EXPECT_EQ(s.put_results({row("a", 0.5), row("b", 0.4)}), 2);
  EXPECT_EQ(s.put_results({row("a", 0.9), row("c", 0.4)}), 1);
  EXPECT_EQ(s.count_results(), 3);
  auto rows = s.results("hash", "demo", "study/plain", "letters", 0.3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key.item_id, "a");
  EXPECT_DOUBLE_EQ(rows[0].probs[0], 0.5);  // not replaced by the second write
}

TEST(Store, ExistingItemsAreKeyedByEveryKeyField) {
  auto dir = test::temp_dir("store-keys");
  Store s((dir / "r.sqlite").string());
  s.put_results({row("a", 0.5)});
  EXPECT_EQ(s.existing_items("hash", "demo", "study/plain", "letters", 0.3), std::set<std::string>{"a"});
  EXPECT_TRUE(s.existing_items("hash", "demo", "study/plain", "letters", 1.0).empty());
  EXPECT_TRUE(s.existing_items("other", "demo", "study/plain", "letters", 0.3).empty());
  EXPECT_TRUE(s.existing_items("hash", "demo", "study/chat-1", "letters", 0.3).empty());
}

TEST(Store, ProbabilitiesRoundTripExactly) {
  auto dir = test::temp_dir("store-exact");
  Store s((dir / "r.sqlite").string());
  ResultRow r = row("a", 0.1);
  r.probs = {1.0 / 3.0, 2.718281828459045e-9, 0.1 + 0.2};
  s.put_results({r});
  auto back = s.results("hash", "demo", "study/plain", "letters", 0.3);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].probs, r.probs);
}

TEST(Store, RecordsVersionsAndSurvivesReopen) {
  auto dir = test::temp_dir("store-reopen");
  auto path = (dir / "r.sqlite").string();
  { Store(path).put_results({row("a", 0.5)}); }
  Store s(path);
  EXPECT_EQ(s.count_results(), 1);
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st;
  sqlite3_prepare_v2(db, "SELECT qaudit_version, llama_release FROM results", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)), QAUDIT_TEST_LLAMA_RELEASE);
  EXPECT_GT(sqlite3_column_bytes(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(Store, RefusesAFileThatIsNotAStore) {
  auto dir = test::temp_dir("store-bad");
  auto path = (dir / "notes.txt").string();
  std::ofstream(path) << "these are my notes, not a database; they must survive\n"
                      << std::string(5000, 'x');
  try {
    Store s(path);
    FAIL() << "opened a text file as a store";
  } catch (const Error& e) {
    EXPECT_EQ(e.site().file, path);
  }
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "these are my notes, not a database; they must survive");
}

TEST(Store, ModelHashIsContentBasedAndCached) {
  auto dir = test::temp_dir("store-hash");
  auto a = (dir / "a.bin").string(), b = (dir / "b.bin").string();
  std::ofstream(a) << "same bytes";
  std::ofstream(b) << "same bytes";
  Store s((dir / "r.sqlite").string());
  std::string ha = s.model_hash(a);
  EXPECT_EQ(ha.size(), 32u);
  EXPECT_EQ(ha, s.model_hash(b));
  EXPECT_EQ(ha, s.model_hash(a));
  std::ofstream(b) << "other bytes!";
  EXPECT_NE(ha, s.model_hash(b));
}
