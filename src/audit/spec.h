// The audit spec: what `qaudit run` audits and how, read from TOML (every field also settable by
// flag). Relative paths in a spec file are relative to the file's directory.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "suites/filter.h"

namespace qaudit::audit {

struct SuiteSpec {
  std::string kind = "builtin";     // "builtin" (qaudit's suite), "demo" (54 items) or "bbq"
  std::vector<std::string> files;   // bbq: JSONL files
  suites::Filter filter;
  ErrorSite site;                   // where it was declared, for errors
};

struct GateSpec {
  // Expected share of previously unbiased items that became biased, above the noise floor.
  double max_became_biased = 0.05;
  // Relative drop of the unknown-selection rate: (USR_ref - USR_var) / USR_ref.
  double max_usr_drop = 0.10;
  // |Δ| of lm-evaluation-harness's ambiguous bias score.
  double max_bias_score_delta = 0.05;
  // Mean KL divergence of the variant from the reference over the corpus; 0: not gated.
  double max_kld = 0;
};

struct PerplexitySpec {
  bool enabled = true;
  std::string corpus;  // plain text or chat JSONL; empty: the built-in corpus
  int ctx = 256;       // tokens per chunk
  int chunks = 0;      // at most this many chunks (0: all)
};

struct RunSpec {
  std::string reference;  // GGUF (F32/F16/BF16); empty: the generated demo model
  std::vector<std::string> recipes{"Q8_0", "Q6_K", "Q4_K_M", "Q3_K_M", "Q2_K"};
  std::string cache;      // variant cache; empty: ~/.cache/qaudit/variants
  std::vector<SuiteSpec> suites;  // empty: the built-in suite (with `imported`: the store's bbq suite)
  // Variants imported with `qaudit import` instead of a model and a ladder: the reference first,
  // each "NAME" or "NAME:BITS" (bits per weight order the ladder; default: the order given).
  std::vector<std::string> imported;
  double temperature = 0.3;
  int k = 5;
  std::string mode = "letters";  // "letters" (exact distributions) or "sample" (the study's sampling)
  std::vector<int> seeds{42, 123, 456, 789, 1024};
  std::vector<int> floor_seeds{7, 99, 2024, 31337, 65537};  // sample mode: the reference again, for the floor
  int max_tokens = 5;
  bool exact = false;
  bool plain_prompt = false;
  int threads = 0, gpu_layers = 0, seqs = 16, batch = 2048;
  int chunk = 256;        // items per fixed scoring chunk (the unit of resumption and sharding)
  GateSpec gate;
  PerplexitySpec perplexity;
  std::string out = "qaudit-audit";  // report directory
  std::string store;                 // empty: <out>/qaudit.sqlite
};

// Reads a spec file over `base`. Throws an Error naming file, line and key for bad TOML, an
// unknown key or a value of the wrong type.
void load_spec(const std::string& path, RunSpec& base);

// The spec as TOML (what --print-spec shows; load_spec reads it back to the same spec).
std::string spec_toml(const RunSpec& spec);

std::string store_path(const RunSpec& spec);

}  // namespace qaudit::audit
