// The served-model backend against a real llama-server (built from the pinned release) on
// 127.0.0.1 with a generated model: first-token probabilities agree with the in-process backend,
// sampled answers repeat with the same seed, a mode the server cannot serve is refused, and a
// server killed mid-run loses and duplicates nothing once the run is repeated.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "backends/http_backend.h"
#include "backends/http_client.h"
#include "backends/llama_backend.h"
#include "prompts/prompt.h"
#include "suites/demo.h"
#include "test_util.h"

using namespace qaudit;
namespace fs = std::filesystem;

namespace {

const std::string kBin = QAUDIT_BINARY;
const std::string kLlamaBin = QAUDIT_LLAMA_BIN_DIR;

bool port_open(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

// A llama-server child process on 127.0.0.1.
struct Server {
  pid_t pid = -1;
  int port;
  std::string model;
  Server(std::string m, int p) : port(p), model(std::move(m)) { start(); }
  void start() {
    pid = fork();
    if (pid == 0) {
      std::string log = (test::scratch_root() / ("server-" + std::to_string(port) + ".log")).string();
      freopen(log.c_str(), "a", stdout);
      freopen(log.c_str(), "a", stderr);
      std::string srv = kLlamaBin + "/llama-server", ps = std::to_string(port);
      execl(srv.c_str(), srv.c_str(), "-m", model.c_str(), "--host", "127.0.0.1", "--port", ps.c_str(), "-np", "2", "-c", "4096",
            "-t", "2", (char*)nullptr);
      _exit(127);
    }
    // Ready when /health answers 200 (llama-server answers 503 while it loads the model).
    backends::HttpOptions quick;
    quick.retries = 0;
    quick.timeout_s = 2;
    backends::HttpClient probe(quick);
    auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
      if (port_open(port)) try {
          if (probe.get("http://127.0.0.1:" + std::to_string(port) + "/health").value("status", "") == "ok") return;
        } catch (const std::exception&) {
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "llama-server did not start";
  }
  void kill() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/v1"; }
  ~Server() { kill(); }
};

int free_port() { return 20000 + int(getpid() % 20000); }

double query(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_busy_timeout(h, 2000);
  sqlite3_stmt* st = nullptr;
  double v = -1;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

}  // namespace

TEST(HttpBackend, FirstTokenProbabilitiesMatchTheInProcessBackend) {
  std::string model = test::tiny_model("qwen2");
  Server server(model, free_port());
  backends::HttpBackend http(backends::parse_server_spec(server.url()), {});
  auto info = http.probe();
  EXPECT_TRUE(info.top_logprobs);
  EXPECT_FALSE(info.prompt_logprobs);  // llama-server has no echo / prompt_logprobs
  EXPECT_EQ(info.slots, 2);
  backends::backend_init(false);
  auto m = backends::LlamaModel::load(model);
  backends::ContextSettings exact;
  exact.exact = true;
  exact.n_seq = 1;
  auto suite = suites::load_demo_suite();
  auto fmt = prompts::chat_format(m->chat_template(), false);
  for (int i = 0; i < 3; ++i) {
    auto msgs = prompts::study_messages(suite.items[size_t(i)]);
    auto top = http.first_token_top(msgs, 10);
    ASSERT_EQ(top.size(), 10u);
    auto toks = m->tokenize(prompts::render(fmt, msgs));
    backends::LlamaContext ctx(*m, exact, int(toks.size()) + 8);
    std::vector<backends::LlamaContext::Entry> batch;
    for (size_t j = 0; j < toks.size(); ++j) batch.push_back({toks[j], int32_t(j), {0}, j + 1 == toks.size()});
    ctx.decode(batch);
    const float* lg = ctx.logits(int(toks.size()) - 1);
    double mx = -1e300, z = 0;
    for (int v = 0; v < m->n_vocab(); ++v) mx = std::max(mx, double(lg[v]));
    for (int v = 0; v < m->n_vocab(); ++v) z += std::exp(double(lg[v]) - mx);
    double covered = 0;
    for (const auto& t : top) {
      double p_local = std::exp(double(lg[t.id]) - mx) / z;
      EXPECT_NEAR(std::exp(t.logprob), p_local, 1e-3) << "item " << i << " token " << t.id;
      covered += std::exp(t.logprob);
    }
    EXPECT_GT(covered, 0.0);
  }
}

TEST(HttpCli, SampledAnswersRepeatUnsupportedModesAreRefusedAndAKilledServerLosesNothing) {
  Server server(test::tiny_model("qwen2"), free_port() + 1);
  auto dir = test::temp_dir("http");
  std::string a = (dir / "a.sqlite").string(), b = (dir / "b.sqlite").string();
  // One request at a time: llama-server batches concurrent requests together, and a different
  // batch may change the last bits of the logits (and so a sampled token).
  std::string base = kBin + " eval -q -m " + server.url() + " --limit 10 --mode sample --seeds 42,123 --concurrency 1 ";
  auto r = test::run(base + "-s " + a);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run(base + "-s " + b);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query(a, "SELECT COUNT(*) FROM results WHERE mode='sample'"), 20);
  // Same seed, same text.
  sqlite3* h = nullptr;
  sqlite3_open(a.c_str(), &h);
  sqlite3_exec(h, ("ATTACH '" + b + "' AS b").c_str(), nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h,
                     "SELECT COUNT(*), SUM(x.raw_text = y.raw_text) FROM main.results x JOIN b.results y USING(item_id, seed, mode)",
                     -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 20);
  EXPECT_EQ(sqlite3_column_int(st, 1), 20);
  sqlite3_finalize(st);
  sqlite3_close(h);
  // A mode the server cannot serve.
  r = test::run(kBin + " eval -q -m " + server.url() + " --mode loglik -s " + a);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("log-probabilities of prompt tokens"), std::string::npos) << r.output;
  // The API key comes from the environment only.
  r = test::run(kBin + " eval -q -m " + server.url() + " --api-key-env QAUDIT_TEST_UNSET_KEY -s " + a);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("QAUDIT_TEST_UNSET_KEY is not set"), std::string::npos) << r.output;

  // Letters on the 2,592-item built-in suite; the server is killed once rows arrive.
  std::string c = (dir / "c.sqlite").string();
  std::string letters = kBin + " eval -q -m " + server.url() + " --builtin --limit 300 --retries 2 --timeout 30 -s " + c;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", (letters + " >/dev/null 2>&1").c_str(), (char*)nullptr);
    _exit(127);
  }
  auto t0 = std::chrono::steady_clock::now();
  while (query(c, "SELECT COUNT(*) FROM results") < 20 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(300) &&
         waitpid(pid, nullptr, WNOHANG) == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  server.kill();
  waitpid(pid, nullptr, 0);
  double partial = query(c, "SELECT COUNT(*) FROM results");
  EXPECT_GT(partial, 0);
  EXPECT_LT(partial, 300) << "the run finished before the server was killed";
  server.start();
  r = test::run(letters);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query(c, "SELECT COUNT(*) FROM results"), 300);
  EXPECT_EQ(query(c, "SELECT COUNT(DISTINCT item_id) FROM results"), 300);
}

TEST(HttpCli, SeveralEndpointsOfOneModelShareTheWork) {
  std::string model = test::tiny_model("qwen2");
  Server a(model, free_port() + 2), b(model, free_port() + 3), other(test::tiny_model("llama"), free_port() + 4);
  auto dir = test::temp_dir("http-multi");
  std::string store = (dir / "s.sqlite").string();
  auto r = test::run(kBin + " eval -q -m " + a.url() + "," + b.url() + " --limit 24 --concurrency 4 -s " + store);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query(store, "SELECT COUNT(*) FROM results"), 24);
  EXPECT_EQ(query(store, "SELECT COUNT(DISTINCT model_hash) FROM results"), 1);  // one model, two endpoints
  r = test::run(kBin + " eval -q -m " + a.url() + "," + other.url() + " --limit 4 -s " + store);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("serves another model"), std::string::npos) << r.output;
}
