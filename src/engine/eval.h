// `eval` for multiple-choice suites in the exact letter-distribution mode: prompts every item
// that the store does not already hold, scores them in shared-prefix batches and commits each
// batch, so that an interrupted run resumes where it stopped.
#pragma once

#include <string>
#include <vector>

#include "backends/llama_backend.h"
#include "engine/letters.h"
#include "engine/sample.h"
#include "store/store.h"
#include "suites/item.h"

namespace qaudit::engine {

struct EvalOptions {
  // "letters": the exact letter distribution (one forward pass per item);
  // "sample": the study's sampled generation, one stored row per seed;
  // "loglik" / "loglik12": lm-evaluation-harness's multiple_choice scoring with the 3 options, or
  // with the two named options plus its 10 unknown phrasings.
  std::string mode = "letters";
  SampleSettings sample;      // mode "sample" (its temperature is `temperature`)
  backends::ContextSettings context;
  double temperature = 0.3;  // the study's; T = 1 is stored alongside
  int k = 5;                 // samples for P(at least one of k picks the stereotype)
  bool plain_prompt = false; // ignore the model's chat template
  bool share_prefix = true;
  bool quiet = false;
  std::string command;       // recorded with the run
  // Items are scored in fixed chunks of the suite's order (a chunk with any item missing from
  // the store is scored whole), so every row comes from the same batch layout whether the run
  // was interrupted, resumed or sharded: results are bit-for-bit those of one uninterrupted run.
  int chunk = 256;
  // This process scores only the chunks whose stable hash falls to shard `shard_index` of
  // `shard_count`.
  int shard_index = 0, shard_count = 1;
};

// Whether the chunk starting with `first_item_id` belongs to shard i of n (stable across machines).
bool chunk_in_shard(const std::string& suite, const std::string& first_item_id, int shard_index, int shard_count);

struct EvalSummary {
  std::string model_hash;
  std::string suite;
  std::string prompt_id;
  std::string mode = "letters";
  double temperature = 0;
  int n_items = 0;     // items in the suite (after role checks)
  int n_existing = 0;  // already in the store
  int n_computed = 0;  // scored in this run
  int n_other_shards = 0;  // left to other shards
  std::vector<std::string> too_long;  // items whose prompt exceeds the model's context: skipped, counted
  ScoreStats stats;
  double seconds = 0;
  bool plain_prompt = false;
};

// The study's prompt for every item, rendered as the model expects (chat template or plain).
// Exposed for tests and benchmarks.
std::vector<std::string> render_study_prompts(const backends::LlamaModel& model, const std::vector<suites::Item>& items,
                                              bool plain_prompt, std::string* prompt_id);

EvalSummary eval_letters(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                         store::Store& store, const EvalOptions& opt);

// The study's sampled generation: k seeds per item, each continuation parsed (prompts/parse.h);
// one row per (item, seed) with the raw text, the parsed answer and the rule that fired.
EvalSummary eval_sample(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                        store::Store& store, const EvalOptions& opt);

// Answer log-likelihood (modes "loglik" and "loglik12"); prompt "{context}\n\nQ: {question}\nA:"
// without a chat template and each option after a space, as lm-evaluation-harness's bbq tasks.
EvalSummary eval_loglik(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                        store::Store& store, const EvalOptions& opt);

// eval_letters, eval_sample or eval_loglik by opt.mode.
EvalSummary eval_suite(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                       store::Store& store, const EvalOptions& opt);

// Entropy (nats) and largest probability of a distribution renormalised to sum 1 (both 0 when
// it has no mass): the confidence stored with every answer.
struct Confidence {
  double entropy = 0, max_prob = 0;
};
Confidence confidence(const std::vector<double>& p);

// Fills a result row from a sampled text: the parsed answer as a one-hot distribution (none when
// the text gives no answer), the raw text and the parser rule.
void sample_result(const suites::Item& item, const std::string& text, store::ResultRow& row);

// Fills a result row from letter masses at T and T = 1 (pure; tested against direct softmax).
store::ResultRow letter_result(const suites::Item& item, const LetterMass& at_t, const LetterMass& at_1, int k);

}  // namespace qaudit::engine
