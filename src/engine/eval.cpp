#include "engine/eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <xxhash.h>

#include "common/progress.h"
#include "prompts/prompt.h"

namespace qaudit::engine {

std::vector<std::string> render_study_prompts(const backends::LlamaModel& model, const std::vector<suites::Item>& items,
                                              bool plain_prompt, std::string* prompt_id) {
  auto format = prompts::chat_format(model.chat_template(), plain_prompt);
  if (prompt_id) *prompt_id = prompts::prompt_id("study", format);
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& it : items) out.push_back(prompts::render(format, prompts::study_messages(it)));
  return out;
}

store::ResultRow letter_result(const suites::Item& item, const LetterMass& at_t, const LetterMass& at_1, int k) {
  store::ResultRow r;
  r.probs = at_t.p;
  r.probs_t1 = at_1.p;
  r.invalid = at_t.invalid;
  r.invalid_t1 = at_1.invalid;
  r.answer = int(std::max_element(at_1.p.begin(), at_1.p.end()) - at_1.p.begin());
  double s = 0;
  for (double p : at_1.p) s += p;
  r.entropy = 0;
  r.max_prob = 0;
  for (double p : at_1.p) {
    double q = s > 0 ? p / s : 0;
    if (q > 0) r.entropy -= q * std::log(q);
    r.max_prob = std::max(r.max_prob, q);
  }
  r.k = k;
  // A sample at temperature T lands on the stereotyped letter with probability p (invalid
  // samples count as not stereotyped), so P(at least one of k) = 1 - (1 - p)^k.
  double p = item.stereotyped >= 0 ? at_t.p[item.stereotyped] : 0;
  r.p_stereo_k = 1.0 - std::pow(1.0 - p, k);
  return r;
}

bool chunk_in_shard(const std::string& suite, const std::string& first_item_id, int shard_index, int shard_count) {
  if (shard_count <= 1) return true;
  std::string key = suite + "/" + first_item_id;
  return XXH3_64bits(key.data(), key.size()) % uint64_t(shard_count) == uint64_t(shard_index);
}

EvalSummary eval_letters(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                         store::Store& store, const EvalOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  EvalSummary sum;
  sum.model_hash = model_hash;
  sum.suite = suite.name;
  sum.temperature = opt.temperature;
  sum.n_items = int(suite.items.size());
  sum.plain_prompt = !model.chat_template() || opt.plain_prompt;

  std::vector<std::string> texts = render_study_prompts(model, suite.items, opt.plain_prompt, &sum.prompt_id);
  auto have = store.existing_items(model_hash, suite.name, sum.prompt_id, sum.mode, opt.temperature);
  std::vector<std::vector<size_t>> chunks;  // the chunks to score, each in suite order
  size_t chunk = size_t(std::max(1, opt.chunk)), n_todo = 0;
  for (size_t c = 0; c < suite.items.size(); c += chunk) {
    size_t end = std::min(suite.items.size(), c + chunk);
    int missing = 0;
    for (size_t i = c; i < end; ++i) missing += !have.count(suite.items[i].id);
    if (!chunk_in_shard(suite.name, suite.items[c].id, opt.shard_index, opt.shard_count)) {
      sum.n_other_shards += int(end - c);
      continue;
    }
    sum.n_existing += int(end - c) - missing;
    if (missing == 0) continue;
    chunks.emplace_back();
    for (size_t i = c; i < end; ++i) chunks.back().push_back(i);
    n_todo += end - c;
  }
  if (chunks.empty()) return sum;

  auto sets = letter_token_sets(model, 3);
  store.put_items(suite.name, suite.version, suite.items);
  store::ResultKey base{model_hash, suite.name, "", sum.prompt_id, sum.mode, opt.temperature, -1};
  std::string settings = backends::settings_text(opt.context);
  int64_t run_id = store.begin_run({model_hash, suite.name, opt.command, settings});

  std::vector<store::ResultRow> pending;
  Progress progress(fmt::format("eval {}", std::filesystem::path(model.path()).filename().string()), long(n_todo),
                    opt.quiet);
  int n_vocab = model.n_vocab();
  for (const auto& todo : chunks) {
    std::vector<ScoreRequest> reqs;
    reqs.reserve(todo.size());
    for (size_t i : todo) reqs.push_back({model.tokenize(texts[i])});
    ScoreStats st = score_next_token(
        model, opt.context, reqs, opt.share_prefix,
        [&](size_t r, const float* logits) {
          const auto& item = suite.items[todo[r]];
          auto at_t = letter_mass(logits, n_vocab, sets, opt.temperature);
          auto at_1 = letter_mass(logits, n_vocab, sets, 1.0);
          store::ResultRow row = letter_result(item, at_t, at_1, opt.k);
          row.key = base;
          row.key.item_id = item.id;
          row.n_tokens = long(reqs[r].tokens.size());
          row.settings = settings;
          row.run_id = run_id;
          pending.push_back(std::move(row));
        },
        [&] {
          sum.n_computed += store.put_results(pending);
          progress.advance(long(pending.size()));
          pending.clear();
        });
    sum.stats.prefix_tokens += st.prefix_tokens;
    sum.stats.decoded_tokens += st.decoded_tokens;
    sum.stats.prompt_tokens += st.prompt_tokens;
    sum.stats.decodes += st.decodes;
  }
  progress.finish();
  store.finish_run(run_id);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace qaudit::engine
