// Helpers shared by the tests: temporary directories, generated models, running the binary.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "testmodel/testmodel.h"

namespace qaudit::test {

// This process's scratch directory, removed when the test process exits.
inline std::filesystem::path scratch_root() {
  static struct Root {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("qaudit-test-" + std::to_string(getpid()));
    ~Root() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } root;
  return root.path;
}

inline std::filesystem::path temp_dir(const std::string& name) {
  auto dir = scratch_root() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A whole file's bytes ("" when unreadable).
inline std::string slurp(const std::filesystem::path& p) {
  FILE* f = std::fopen(p.c_str(), "rb");
  std::string out;
  if (!f) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

inline std::string shared_data(const std::string& rel) { return std::string(QAUDIT_SHARED_DATA) + "/" + rel; }

// A tiny generated model, shared by all test processes of this build (generation is
// deterministic and the file appears atomically, so concurrent tests can share it).
inline std::string tiny_model(const std::string& arch = "qwen2", uint64_t seed = 1) {
  auto dir = std::filesystem::path(QAUDIT_TEST_MODEL_DIR);
  std::filesystem::create_directories(dir);
  auto path = dir / (arch + "-" + std::to_string(seed) + ".gguf");
  if (!std::filesystem::exists(path)) {
    testmodel::Options o;
    o.arch = arch;
    o.seed = seed;
    testmodel::write_test_model(o, path.string());
  }
  return path.string();
}

struct RunResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing its output.
inline RunResult run(const std::string& cmd) {
  RunResult r{-1, {}};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace qaudit::test
