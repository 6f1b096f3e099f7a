// The qaudit binary end to end: bad input, resume after SIGKILL, idempotent reruns.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_util.h"

using namespace qaudit;
namespace fs = std::filesystem;

namespace {

const std::string kBin = QAUDIT_BINARY;

int64_t query_int(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* st = nullptr;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::string integrity(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string out = "error";
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

struct BadCase {
  std::string what;
  std::string args;
  std::vector<std::string> expect_in_message;
};

}  // namespace

TEST(EvalCli, VersionNamesThePinnedRelease) {
  auto r = test::run(kBin + " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find(std::string("llama.cpp ") + QAUDIT_TEST_LLAMA_RELEASE), std::string::npos) << r.output;
}

TEST(EvalCli, BadInputGivesAClearErrorAndWritesNothing) {
  auto dir = test::temp_dir("cli-bad");
  std::string model = test::tiny_model();
  std::string religion = test::shared_data("bbq/Religion.jsonl");
  // a truncated copy of a real model
  std::string truncated = (dir / "truncated.gguf").string();
  {
    std::ifstream in(model, std::ios::binary);
    std::string head(4 << 20, '\0');
    in.read(head.data(), head.size());
    std::ofstream(truncated, std::ios::binary) << head;
  }
  std::string text_model = (dir / "notes.gguf").string();
  std::ofstream(text_model) << "just some text\n";
  std::string empty_model = (dir / "empty.gguf").string();
  std::ofstream(empty_model).close();
  std::string bad_json = (dir / "bad.jsonl").string();
  {
    std::ifstream in(religion);
    std::string l1, l2;
    std::getline(in, l1);
    std::getline(in, l2);
    std::ofstream(bad_json) << l1 << "\n" << l2.substr(0, 100) << "\n";
  }
  std::string no_field = (dir / "nofield.jsonl").string();
  {
    std::ifstream in(religion);
    std::string l1, l2, l3;
    std::getline(in, l1);
    std::getline(in, l2);
    std::getline(in, l3);
    auto p = l3.find("\"context\":");
    std::ofstream(no_field) << l1 << "\n" << l2 << "\n" << l3.replace(p, 10, "\"kontext\":") << "\n";
  }
  std::string bad_label = (dir / "label.jsonl").string();
  {
    std::ifstream in(religion);
    std::string l1;
    std::getline(in, l1);
    auto p = l1.find("\"label\": 1");
    std::ofstream(bad_label) << l1.replace(p, 10, "\"label\": 7") << "\n";
  }
  std::string empty_jsonl = (dir / "empty.jsonl").string();
  std::ofstream(empty_jsonl).close();

  std::vector<BadCase> cases = {
      {"missing model", "-m " + (dir / "nope.gguf").string() + " --bbq " + religion, {"nope.gguf", "does not exist"}},
      {"not GGUF", "-m " + text_model + " --bbq " + religion, {"notes.gguf", "not a GGUF file"}},
      {"empty model", "-m " + empty_model + " --bbq " + religion, {"empty.gguf", "shorter than a GGUF header"}},
      {"truncated model", "-m " + truncated + " --bbq " + religion, {"truncated.gguf", "could not load", "truncated"}},
      {"line not JSON", "-m " + model + " --bbq " + bad_json, {"bad.jsonl:2", "not valid JSON"}},
      {"missing field", "-m " + model + " --bbq " + no_field, {"nofield.jsonl:3", "field 'context'", "missing"}},
      {"label out of range", "-m " + model + " --bbq " + bad_label, {"label.jsonl:1", "field 'label'", "out of range"}},
      {"empty file", "-m " + model + " --bbq " + empty_jsonl, {"empty.jsonl", "no items"}},
  };
  for (const auto& c : cases) {
    std::string store = (dir / "store.sqlite").string();
    auto r = test::run(kBin + " eval -q " + c.args + " --store " + store);
    EXPECT_EQ(r.exit_code, 2) << c.what << "\n" << r.output;
    for (const auto& s : c.expect_in_message) EXPECT_NE(r.output.find(s), std::string::npos) << c.what << ": " << s << "\n" << r.output;
    EXPECT_NE(r.output.find("hint:"), std::string::npos) << c.what << "\n" << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << c.what;
    EXPECT_FALSE(fs::exists(store)) << c.what << ": the store was created for bad input";
  }
}

TEST(EvalCli, ReligionStoresOneRowPerItemAndARerunComputesNothing) {
  auto dir = test::temp_dir("cli-religion");
  std::string store = (dir / "r.sqlite").string(), json = (dir / "r.json").string();
  std::string cmd = kBin + " eval -m " + test::tiny_model() + " --bbq " + test::shared_data("bbq/Religion.jsonl") +
                    " --store " + store;
  auto first = test::run(cmd + " --json " + json);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(query_int(store, "SELECT COUNT(*) FROM results"), 1200);
  EXPECT_NE(first.output.find("overall"), std::string::npos);
  EXPECT_TRUE(fs::exists(json));
  auto second = test::run(cmd);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("1200 items were already in"), std::string::npos) << second.output;
  EXPECT_EQ(second.output.find("scored "), std::string::npos) << second.output;
  EXPECT_EQ(query_int(store, "SELECT COUNT(*) FROM results"), 1200);
  EXPECT_EQ(query_int(store, "SELECT COUNT(*) FROM runs"), 1);  // the second run had nothing to do
}

TEST(EvalCli, ResumesAfterSigkillWithNothingLostOrDuplicated) {
  auto dir = test::temp_dir("cli-kill");
  std::string store = (dir / "k.sqlite").string();
  // small batches so that the run commits many times before it is killed
  std::string args = " eval -q -m " + test::tiny_model() + " --bbq " + test::shared_data("bbq/Religion.jsonl") +
                     " --limit 600 --seqs 2 --batch 512 --store " + store;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + kBin + args + " >/dev/null 2>&1").c_str(), (char*)nullptr);
    _exit(127);
  }
  int64_t seen = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(store)) seen = query_int(store, "SELECT COUNT(*) FROM results");
    if (seen >= 50) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed; seen " << seen;
  int64_t after_kill = query_int(store, "SELECT COUNT(*) FROM results");
  EXPECT_GE(after_kill, 50);
  EXPECT_LT(after_kill, 600);
  EXPECT_EQ(integrity(store), "ok");
  auto r = test::run(kBin + args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query_int(store, "SELECT COUNT(*) FROM results"), 600);
  EXPECT_EQ(query_int(store, "SELECT COUNT(DISTINCT item_id) FROM results"), 600);
  EXPECT_EQ(integrity(store), "ok");
}

TEST(EvalCli, DefaultRunUsesTheGeneratedDemoModelAndSaysItsNumbersMeanNothing) {
  auto dir = test::temp_dir("cli-demo");
  auto r = test::run("cd " + dir.string() + " && QAUDIT_CACHE_DIR=" + dir.string() + "/cache " + kBin + " eval");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mean nothing"), std::string::npos);
  EXPECT_NE(r.output.find("demo — 54 items"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir / "qaudit.sqlite"));
}

TEST(EvalCli, CrowsPairsAndStereoSetScoreEverySentence) {
  auto dir = test::temp_dir("pairs");
  std::string store = (dir / "s.sqlite").string();
  auto r = test::run(kBin + " eval -q -m " + test::tiny_model("llama") + " --crows-pairs " +
                     test::shared_data("crows-pairs/crows_pairs_anonymized.csv") + " --limit 40 -s " + store + " --json " +
                     (dir / "crows.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("pct_stereotype"), std::string::npos) << r.output;
  std::ifstream f(dir / "crows.json");
  auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["metrics"]["overall"]["n"], 40);
  EXPECT_TRUE(j["metrics"].contains("direction:stereo"));
  double pct = j["metrics"]["overall"]["pct_stereotype"];
  EXPECT_GE(pct, 0.0);
  EXPECT_LE(pct, 1.0);
  EXPECT_EQ(query_int(store, "SELECT COUNT(*) FROM results WHERE mode='sentence-loglik'"), 40);
  r = test::run(kBin + " eval -q -m " + test::tiny_model("llama") + " --stereoset " +
                std::string(QAUDIT_TEST_SOURCE_DIR) + "/suites/fixtures/stereoset_small.json -s " + store);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ICAT"), std::string::npos) << r.output;
  EXPECT_EQ(query_int(store, "SELECT COUNT(*) FROM results WHERE suite='stereoset'"), 5);
  // Bad input: a CSV without the columns, a StereoSet example without its unrelated sentence.
  std::ofstream(dir / "bad.csv") << "a,b\n1,2\n";
  r = test::run(kBin + " eval -q --crows-pairs " + (dir / "bad.csv").string() + " -s " + store);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.csv:1: field 'sent_more': missing column"), std::string::npos) << r.output;
  std::ofstream(dir / "bad.json") << R"({"data": {"intrasentence": [{"id": "x", "target": "t", "bias_type": "b", "sentences": [{"sentence": "s", "gold_label": "stereotype"}]}]}})";
  r = test::run(kBin + " eval -q --stereoset " + (dir / "bad.json").string() + " -s " + store);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("anti-stereotype"), std::string::npos) << r.output;
}

TEST(EvalCli, AnItemLongerThanTheContextIsASkipThatIsCountedAndReported) {
  auto dir = test::temp_dir("too-long");
  std::ifstream in(test::shared_data("bbq/Religion.jsonl"));
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  auto j = nlohmann::json::parse(l2);
  std::string huge;
  for (int i = 0; i < 3000; ++i) huge += "The meeting went on and on. ";
  j["context"] = huge + j["context"].get<std::string>();
  std::ofstream(dir / "long.jsonl") << l1 << "\n" << j.dump() << "\n";
  std::string store = (dir / "s.sqlite").string();
  auto r = test::run(kBin + " eval -m " + test::tiny_model("llama") + " --bbq " + (dir / "long.jsonl").string() + " -s " + store +
                     " --json " + (dir / "out.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 items skipped: their prompt is longer than the model's context"), std::string::npos) << r.output;
  EXPECT_EQ(query_int(store, "SELECT COUNT(*) FROM results"), 1);
  std::ifstream f(dir / "out.json");
  auto out = nlohmann::json::parse(f);
  ASSERT_EQ(out["skipped_too_long"].size(), 1u);
}
