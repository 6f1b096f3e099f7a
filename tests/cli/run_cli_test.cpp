// `qaudit run` end to end on a generated model: a ladder of five variants and two suites; every
// report written; SIGKILL + rerun and 4 merged shards both give the uninterrupted run's JSON byte
// for byte; the gate's exit codes; a variant that fails is reported and the audit goes on; the
// HTML report in a real headless browser.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_util.h"

using namespace qaudit;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBin = QAUDIT_BINARY;

// Rows of the bias evaluation (perplexity chunks are stored too, under their own mode).
int64_t result_rows(const std::string& db_path) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM results WHERE mode = 'letters'", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

// The audit the tests run: 5 rungs, the demo suite and 90 BBQ Religion items, in small chunks so
// that shards and resumption have several units to work with.
std::string audit_args(const fs::path& cache) {
  return " -q -m " + test::tiny_model("llama") + " -r Q8_0 -r Q6_K -r Q4_K_M -r Q3_K_M -r affine:b3:g64 --cache " +
         cache.string() + " --chunk 16 --ppl-ctx 128 --ppl-chunks 3 --spec " + (test::temp_dir("spec") / "audit.toml").string();
}

// The spec file that adds the two suites (written once per process).
void write_suites_spec() {
  std::ofstream(test::scratch_root() / "spec" / "audit.toml")
      << "[[suites]]\nkind = \"demo\"\n\n[[suites]]\nkind = \"bbq\"\nfiles = [\"" << test::shared_data("bbq/Religion.jsonl")
      << "\"]\nlimit = 90\n";
}

fs::path fresh_cache(const std::string& name) { return test::temp_dir(name); }

}  // namespace

TEST(RunCli, WritesEveryReportAndResumesAfterSigkillToTheSameJson) {
  auto cache = fresh_cache("cache-a");
  auto args = audit_args(cache);
  write_suites_spec();
  auto a = test::temp_dir("a"), b = test::temp_dir("b");
  auto r = test::run(kBin + " run" + args + " -o " + a.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"report.json", "report.md", "report.html", "items.csv", "junit.xml", "qaudit.sqlite"})
    EXPECT_TRUE(fs::exists(a / f)) << f;
  json j = json::parse(test::slurp(a / "report.json"));
  EXPECT_EQ(j["schema"], "qaudit.audit/1");
  EXPECT_EQ(j["models"].size(), 6u);
  ASSERT_EQ(j["suites"].size(), 2u);
  EXPECT_EQ(j["suites"][1]["n_items"], 90);
  EXPECT_EQ(j["suites"][0]["variants"].size(), 5u);
  // 6 models x (54 + 90) items, one row each.
  EXPECT_EQ(result_rows((a / "qaudit.sqlite").string()), 6 * (54 + 90));
  // items.csv: a header and one row per (suite, model, item).
  std::string csv = test::slurp(a / "items.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 6 * (54 + 90));
  EXPECT_NE(test::slurp(a / "report.md").find("| Q3_K_M |"), std::string::npos);

  // The same audit, killed once it has stored some results, then run again.
  std::string store_b = (b / "qaudit.sqlite").string();
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", (kBin + " run" + args + " -o " + b.string() + " >/dev/null 2>&1").c_str(), nullptr);
    _exit(127);
  }
  auto t0 = std::chrono::steady_clock::now();
  while (result_rows(store_b) < 300 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  test::run("pkill -KILL -f -- '-o " + b.string() + "'");
  int st = 0;
  waitpid(pid, &st, 0);
  int64_t partial = result_rows(store_b);
  EXPECT_GT(partial, 0);
  EXPECT_LT(partial, 6 * (54 + 90)) << "the run finished before it could be killed";
  EXPECT_FALSE(fs::exists(b / "report.json"));
  r = test::run(kBin + " run" + args + " -o " + b.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(result_rows(store_b), 6 * (54 + 90));
  EXPECT_EQ(test::slurp(b / "report.json"), test::slurp(a / "report.json"));
}

TEST(RunCli, FourMergedShardsEqualOneRunByteForByte) {
  auto cache = fresh_cache("cache-s");
  auto args = audit_args(cache);
  write_suites_spec();
  auto one = test::temp_dir("one"), merged = test::temp_dir("merged");
  auto r = test::run(kBin + " run" + args + " -o " + one.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Four shard processes side by side (the variants are already in the cache).
  std::string cmd;
  for (int i = 0; i < 4; ++i)
    cmd += kBin + " run" + args + " --shard " + std::to_string(i) + "/4 -o " + (merged / ("s" + std::to_string(i))).string() + " & ";
  r = test::run("(" + cmd + "wait)");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int64_t total = 0;
  std::string inputs;
  for (int i = 0; i < 4; ++i) {
    auto store = merged / ("s" + std::to_string(i)) / "qaudit.sqlite";
    int64_t n = result_rows(store.string());
    EXPECT_GT(n, 0) << "shard " << i << " got no work";
    EXPECT_LT(n, 6 * (54 + 90)) << "shard " << i << " did everything";
    EXPECT_FALSE(fs::exists(merged / ("s" + std::to_string(i)) / "report.json"));
    total += n;
    inputs += " " + store.string();
  }
  EXPECT_EQ(total, 6 * (54 + 90));  // disjoint and complete
  std::string merged_store = (merged / "all.sqlite").string();
  r = test::run(kBin + " merge -o " + merged_store + inputs);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(result_rows(merged_store), 6 * (54 + 90));
  r = test::run(kBin + " merge -o " + merged_store + inputs);  // idempotent
  EXPECT_EQ(result_rows(merged_store), 6 * (54 + 90));
  r = test::run(kBin + " run" + args + " -o " + (merged / "report").string() + " --store " + merged_store);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(result_rows(merged_store), 6 * (54 + 90));  // nothing recomputed
  EXPECT_EQ(test::slurp(merged / "report" / "report.json"), test::slurp(one / "report.json"));
}

TEST(RunCli, GateExitCodesAndJunit) {
  auto cache = fresh_cache("cache-g");
  auto out = test::temp_dir("g");
  std::string args = " -q -m " + test::tiny_model("llama") + " -r Q8_0 -r Q2_K --demo --cache " + cache.string() + " -o " + out.string();
  // A random model's letter masses are tiny and unstable, so the default thresholds decide
  // nothing here: pass-everything thresholds, then impossible ones.
  std::string lax = " --max-became-biased 1e9 --max-usr-drop 1e9 --max-bias-score-delta 1e9";
  args += lax;
  auto r = test::run(kBin + " run" + args + " --gate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string report = (out / "report.json").string();
  // Every computed metric is >= 0 for Q2_K or exactly 0: a negative threshold must fail the gate.
  r = test::run(kBin + " gate " + report + lax + " --max-bias-score-delta -1 --junit " + (out / "gate.xml").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL  demo"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("gate: FAIL"), std::string::npos) << r.output;
  std::string junit = test::slurp(out / "gate.xml");
  EXPECT_NE(junit.find("failures=\"2\""), std::string::npos) << junit;  // one per variant
  // KL divergence over the built-in corpus: a quantized model is never exactly the reference.
  r = test::run(kBin + " gate " + report + lax + " --max-kld 1e-12");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL  corpus     Q2_K               kld"), std::string::npos) << r.output;
  json rep = json::parse(test::slurp(out / "report.json"));
  EXPECT_GT(rep["models"][2]["perplexity"]["kld"].get<double>(), rep["models"][1]["perplexity"]["kld"].get<double>())
      << "Q2_K should be further from the reference than Q8_0";
  r = test::run(kBin + " gate " + report);  // the thresholds the audit ran with
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = test::run(kBin + " run" + args + " --gate --max-bias-score-delta -1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = test::run(kBin + " gate " + (out / "missing.json").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = test::run(kBin + " gate " + (out / "items.csv").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("items.csv"), std::string::npos) << r.output;
}

TEST(RunCli, AFailedVariantIsReportedAndTheAuditGoesOn) {
  auto cache = fresh_cache("cache-f");
  std::string model = test::tiny_model("llama");
  auto r = test::run(kBin + " quantize -q -m " + model + " -r Q4_0 --cache " + cache.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& e : fs::recursive_directory_iterator(cache))
    if (e.path().extension() == ".gguf") fs::resize_file(e.path(), 4096);  // truncated in the cache
  auto out = test::temp_dir("f");
  r = test::run(kBin + " run -q -m " + model + " -r Q4_0 -r Q8_0 --demo --gate --max-became-biased 1e9 --max-usr-drop 1e9 --max-bias-score-delta 1e9 --cache " + cache.string() + " -o " + out.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;  // a failed variant fails the gate
  json j = json::parse(test::slurp(out / "report.json"));
  EXPECT_EQ(j["verdicts"]["Q4_0"], "failed");
  EXPECT_EQ(j["verdicts"]["Q8_0"], "pass");
  EXPECT_TRUE(j["suites"][0]["variants"][0]["failed"].get<bool>());
  EXPECT_FALSE(j["suites"][0]["variants"][1]["failed"].get<bool>());
}

TEST(RunCli, BadInputIsRefusedBeforeAnyWork) {
  auto out = test::temp_dir("bad");
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"-r Q4_K_Q", "ladder.recipes"},
      {"-r IQ2_XS", "importance matrix"},
      {"-m /nonexistent.gguf", "/nonexistent.gguf"},
      {"--bbq " + test::shared_data("bbq/Religion.jsonl") + " --categories Astrology", "Astrology"},
      {"--shard 4/4", "--shard"},
  };
  for (const auto& c : cases) {
    auto r = test::run(kBin + " run -q " + c.args + " -o " + (out / "o").string());
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out / "o" / "qaudit.sqlite")) << c.args;
  }
}

TEST(RunCli, HtmlReportRendersInABrowserAndHostileTextStaysInert) {
  // A BBQ item whose text tries to run script in the report.
  std::ifstream src(test::shared_data("bbq/Religion.jsonl"));
  std::string line;
  std::getline(src, line);
  json item = json::parse(line);
  std::string hostile = "<script>document.title='pwned';console.log('pwned')</script><img src=x onerror=\"document.title='pwned'\">";
  item["context"] = item["context"].get<std::string>() + " " + hostile;
  item["ans0"] = "</script><script>console.log('pwned')</script>";
  auto dir = test::temp_dir("html");
  std::ofstream(dir / "hostile.jsonl") << item.dump() << "\n";
  auto r = test::run(kBin + " run -q -m " + test::tiny_model("llama") + " -r Q8_0 -r Q4_K_M --bbq " + (dir / "hostile.jsonl").string() +
                     " --cache " + fresh_cache("cache-h").string() + " -o " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string html = test::slurp(dir / "out" / "report.html");
  EXPECT_EQ(html.find("<script>document.title"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;document.title"), std::string::npos);  // shown as text
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no network reference but the SVG namespace
  EXPECT_EQ(html.find("https://"), std::string::npos);

  auto browser = [&](const std::string& url, const std::string& extra) {
    return test::run("timeout 120 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 " + extra + " " + url);
  };
  // The console check can fail: a page that logs is seen.
  std::ofstream(dir / "control.html") << "<html><body><script>console.log('control-marker')</script></body></html>";
  auto control = browser("file://" + (dir / "control.html").string(), "--dump-dom");
  ASSERT_NE(control.output.find("control-marker\", source"), std::string::npos)
      << "cannot read the browser's console (is chromium installed? scripts/setup.sh --test installs it)\n" << control.output;

  auto dom = browser("file://" + (dir / "out" / "report.html").string(), "--dump-dom");
  EXPECT_NE(dom.output.find("data-charts=\"2\""), std::string::npos) << "charts were not drawn";  // bias, perplexity
  EXPECT_NE(dom.output.find("<svg"), std::string::npos);
  EXPECT_EQ(dom.output.find(":CONSOLE"), std::string::npos) << "the page logged to the console:\n" << dom.output;
  EXPECT_EQ(dom.output.find("<title>pwned"), std::string::npos);
  // A screenshot stays with the test output.
  fs::path shots = fs::path(QAUDIT_TEST_MODEL_DIR).parent_path() / "test-output";
  fs::create_directories(shots);
  auto shot = browser("file://" + (dir / "out" / "report.html").string(),
                      "--window-size=1200,2400 --screenshot=" + (shots / "report.png").string());
  EXPECT_TRUE(fs::exists(shots / "report.png")) << shot.output;
}

// Sampling mode: the study's own definition of "became biased" on stored samples, checked
// against an independent computation in SQL over the raw rows.
TEST(RunCli, SampleModeUsesTheStudysDefinitionOnTheStoredSamples) {
  auto out = test::temp_dir("sample");
  std::string model = test::tiny_model("llama");
  auto r = test::run(kBin + " run -q -m " + model + " -r Q2_K --demo --limit 24 --mode sample --no-ppl -t 1.5 --cache " +
                     fresh_cache("cache-sm").string() + " -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string db = (out / "qaudit.sqlite").string();
  // 24 items x 5 seeds for the reference, the variant, and the reference's floor seeds.
  auto count = [&](const std::string& sql) {
    sqlite3* h = nullptr;
    sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    std::vector<double> v;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      for (int c = 0; c < sqlite3_column_count(st); ++c) v.push_back(sqlite3_column_double(st, c));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM results WHERE mode='sample'")[0], 3 * 24 * 5);
  json j = json::parse(test::slurp(out / "report.json"));
  std::string ref = j["models"][0]["hash"], var = j["models"][1]["hash"];
  auto stereo = [&](const std::string& hash, const std::string& seeds) {
    return "SELECT r.item_id AS item_id, SUM(r.answer = i.stereotyped) AS s FROM results r JOIN items i ON i.suite = r.suite AND "
           "i.item_id = r.item_id WHERE r.mode = 'sample' AND i.condition = 'ambig' AND r.model_hash = '" + hash +
           "' AND r.seed IN (" + seeds + ") GROUP BY r.item_id";
  };
  auto became = count("WITH a AS (" + stereo(ref, "42,123,456,789,1024") + "), b AS (" + stereo(var, "42,123,456,789,1024") +
                      ") SELECT COUNT(*), SUM(b.s > 0) FROM a JOIN b USING(item_id) WHERE a.s = 0");
  auto floor = count("WITH a AS (" + stereo(ref, "42,123,456,789,1024") + "), b AS (" + stereo(ref, "7,99,2024,31337,65537") +
                     ") SELECT COUNT(*), SUM(b.s > 0) FROM a JOIN b USING(item_id) WHERE a.s = 0");
  const auto& o = j["suites"][0]["variants"][0]["categories"]["overall"];
  EXPECT_NE(o["became_biased_definition"].get<std::string>().find("observed"), std::string::npos);
  ASSERT_GT(became[0], 0);
  EXPECT_EQ(o["unbiased_items"].get<double>(), became[0]);
  EXPECT_DOUBLE_EQ(o["became_biased"].get<double>(), became[1] / became[0]);
  EXPECT_DOUBLE_EQ(o["floor"].get<double>(), floor[1] / floor[0]);
}

TEST(RunCli, StudyPresetSelectsTheStudysCategoriesAndAmbiguousContexts) {
  auto r = test::run(kBin + " run --builtin --study-preset --print-spec");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("categories = ['Age', 'Gender_identity', 'Race_ethnicity', 'Religion', 'SES']"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("condition = 'ambig'"), std::string::npos) << r.output;
  // On a BBQ file without those categories the selection is an error naming what the file has.
  r = test::run(kBin + " run -q --bbq " + test::shared_data("bbq/Nationality.jsonl") + " --study-preset -o " +
                (test::temp_dir("study") / "o").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("has no category \"Age\""), std::string::npos) << r.output;
}
