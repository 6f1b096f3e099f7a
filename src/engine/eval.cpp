#include "engine/eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <xxhash.h>

#include "common/error.h"
#include "engine/loglik.h"
#include "prompts/parse.h"
#include <nlohmann/json.hpp>

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

Confidence confidence(const std::vector<double>& p) {
  double s = 0;
  for (double x : p) s += x;
  Confidence c;
  if (s <= 0) return c;
  for (double x : p) {
    double q = x / s;
    if (q > 0) c.entropy -= q * std::log(q);
    c.max_prob = std::max(c.max_prob, q);
  }
  return c;
}

store::ResultRow letter_result(const suites::Item& item, const LetterMass& at_t, const LetterMass& at_1, int k) {
  store::ResultRow r;
  r.probs = at_t.p;
  r.probs_t1 = at_1.p;
  r.invalid = at_t.invalid;
  r.invalid_t1 = at_1.invalid;
  r.answer = int(std::max_element(at_1.p.begin(), at_1.p.end()) - at_1.p.begin());
  auto c = confidence(at_1.p);
  r.entropy = c.entropy;
  r.max_prob = c.max_prob;
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

namespace {

// The fixed chunks of the suite (in its order) that this shard must score: those with at least one
// item missing from `have`. Counts the rest into the summary.
std::vector<std::vector<size_t>> chunks_to_score(const suites::Suite& suite, const std::set<std::string>& have,
                                                 const EvalOptions& opt, EvalSummary& sum, size_t* n_todo) {
  std::vector<std::vector<size_t>> chunks;
  size_t chunk = size_t(std::max(1, opt.chunk));
  *n_todo = 0;
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
    *n_todo += end - c;
  }
  return chunks;
}

// A summary for one mode's pass over a suite.
EvalSummary new_summary(const std::string& model_hash, const suites::Suite& suite, const std::string& mode, double temperature) {
  EvalSummary sum;
  sum.model_hash = model_hash;
  sum.suite = suite.name;
  sum.mode = mode;
  sum.temperature = temperature;
  sum.n_items = int(suite.items.size());
  return sum;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

EvalSummary eval_letters(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                         store::Store& store, const EvalOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  EvalSummary sum = new_summary(model_hash, suite, "letters", opt.temperature);
  sum.plain_prompt = !model.chat_template() || opt.plain_prompt;

  std::vector<std::string> texts = render_study_prompts(model, suite.items, opt.plain_prompt, &sum.prompt_id);
  auto have = store.existing_items(model_hash, suite.name, sum.prompt_id, sum.mode, opt.temperature);
  size_t n_todo = 0;
  auto chunks = chunks_to_score(suite, have, opt, sum, &n_todo);
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
  const size_t max_tokens = model.n_ctx_train() > 0 ? size_t(model.n_ctx_train()) : SIZE_MAX;
  for (const auto& chunk_items : chunks) {
    std::vector<ScoreRequest> reqs;
    std::vector<size_t> todo;  // the chunk's items that fit the model's context
    reqs.reserve(chunk_items.size());
    for (size_t i : chunk_items) {
      auto toks = model.tokenize(texts[i]);
      if (toks.size() > max_tokens) {
        sum.too_long.push_back(suite.items[i].id);
        progress.advance();
        continue;
      }
      reqs.push_back({std::move(toks)});
      todo.push_back(i);
    }
    if (reqs.empty()) continue;
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
  sum.seconds = seconds_since(t0);
  return sum;
}

void sample_result(const suites::Item& item, const std::string& text, store::ResultRow& row) {
  auto parsed = prompts::parse_answer(text, int(item.options.size()));
  row.probs.assign(item.options.size(), 0.0);
  if (parsed.answer >= 0) row.probs[size_t(parsed.answer)] = 1.0;
  row.probs_t1 = row.probs;
  row.invalid = row.invalid_t1 = parsed.answer >= 0 ? 0.0 : 1.0;
  row.answer = parsed.answer;
  row.max_prob = 1.0;
  row.k = 1;
  row.p_stereo_k = parsed.answer >= 0 && parsed.answer == item.stereotyped ? 1.0 : 0.0;
  row.raw_text = text;
  row.parse_rule = prompts::parse_rule_name(parsed.rule);
}

EvalSummary eval_sample(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                        store::Store& store, const EvalOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  EvalSummary sum = new_summary(model_hash, suite, "sample", opt.temperature);
  sum.plain_prompt = !model.chat_template() || opt.plain_prompt;
  std::vector<std::string> texts = render_study_prompts(model, suite.items, opt.plain_prompt, &sum.prompt_id);
  // An item is done when every seed has its row.
  std::set<std::string> have;
  bool first = true;
  for (uint32_t seed : opt.sample.seeds) {
    auto got = store.existing_items(model_hash, suite.name, sum.prompt_id, sum.mode, opt.temperature, int64_t(seed));
    if (first) have = std::move(got);
    else
      for (auto it = have.begin(); it != have.end();) it = got.count(*it) ? std::next(it) : have.erase(it);
    first = false;
  }
  size_t n_todo = 0;
  auto chunks = chunks_to_score(suite, have, opt, sum, &n_todo);
  if (chunks.empty()) return sum;

  store.put_items(suite.name, suite.version, suite.items);
  std::string settings = backends::settings_text(opt.context) + fmt::format(" max_tokens={}", opt.sample.max_tokens);
  int64_t run_id = store.begin_run({model_hash, suite.name, opt.command, settings});
  SampleSettings ss = opt.sample;
  ss.temperature = opt.temperature;
  std::vector<store::ResultRow> pending;
  Progress progress(fmt::format("sample {}", std::filesystem::path(model.path()).filename().string()), long(n_todo),
                    opt.quiet);
  const size_t max_tokens = model.n_ctx_train() > 0 ? size_t(model.n_ctx_train()) : SIZE_MAX;
  for (const auto& chunk_items : chunks) {
    std::vector<std::vector<backends::Token>> prompts;
    std::vector<size_t> todo;
    for (size_t i : chunk_items) {
      auto toks = model.tokenize(texts[i]);
      if (toks.size() + size_t(ss.max_tokens) > max_tokens) {
        sum.too_long.push_back(suite.items[i].id);
        progress.advance();
        continue;
      }
      prompts.push_back(std::move(toks));
      todo.push_back(i);
    }
    if (prompts.empty()) continue;
    auto st = sample_continuations(
        model, opt.context, prompts, ss,
        [&](size_t r, size_t seed_index, const std::string& text, int n_generated) {
          const auto& item = suite.items[todo[r]];
          store::ResultRow row;
          row.key = {model_hash, suite.name, item.id, sum.prompt_id, sum.mode, opt.temperature, int64_t(ss.seeds[seed_index])};
          sample_result(item, text, row);
          row.n_tokens = long(prompts[r].size()) / long(ss.seeds.size()) + n_generated;
          row.settings = settings;
          row.run_id = run_id;
          pending.push_back(std::move(row));
        },
        [&] {
          sum.n_computed += store.put_results(pending);
          std::set<std::string> items;  // a group's rows: k per item
          for (const auto& r : pending) items.insert(r.key.item_id);
          progress.advance(long(items.size()));
          pending.clear();
        });
    sum.stats.prompt_tokens += st.prompt_tokens;
    sum.stats.decoded_tokens += st.prompt_tokens + st.generated_tokens;
    sum.stats.decodes += st.decodes;
  }
  progress.finish();
  store.finish_run(run_id);
  sum.seconds = seconds_since(t0);
  return sum;
}


EvalSummary eval_loglik(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                        store::Store& store, const EvalOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  EvalSummary sum = new_summary(model_hash, suite, opt.mode, 1.0);
  sum.plain_prompt = true;
  sum.prompt_id = "lmeval/plain";
  bool twelve = opt.mode == "loglik12";
  auto have = store.existing_items(model_hash, suite.name, sum.prompt_id, sum.mode, 1.0);
  size_t n_todo = 0;
  auto chunks = chunks_to_score(suite, have, opt, sum, &n_todo);
  if (chunks.empty()) return sum;
  store.put_items(suite.name, suite.version, suite.items);
  std::string settings = backends::settings_text(opt.context);
  int64_t run_id = store.begin_run({model_hash, suite.name, opt.command, settings});
  std::vector<store::ResultRow> pending;
  Progress progress(fmt::format("{} {}", opt.mode, std::filesystem::path(model.path()).filename().string()), long(n_todo),
                    opt.quiet);
  for (const auto& todo : chunks) {
    std::vector<LoglikRequest> reqs;
    std::vector<std::vector<std::string>> option_text(todo.size());
    std::vector<std::vector<int>> option_of(todo.size());  // scored option -> the item's option index
    for (size_t r = 0; r < todo.size(); ++r) {
      const auto& it = suite.items[todo[r]];
      std::string context = prompts::lmeval_context(it);
      for (size_t o = 0; o < it.options.size(); ++o)
        if (!twelve || int(o) != it.unknown) {
          option_text[r].push_back(it.options[o]);
          option_of[r].push_back(int(o));
        }
      if (twelve)
        for (const auto& u : prompts::lmeval_unknown_phrasings()) {
          option_text[r].push_back(u);
          option_of[r].push_back(it.unknown);
        }
      LoglikRequest q;
      q.context = model.tokenize(context);
      for (const auto& o : option_text[r]) q.continuations.push_back(continuation_tokens(model, q.context, context, " " + o));
      reqs.push_back(std::move(q));
    }
    auto st = score_continuations(
        model, opt.context, reqs,
        [&](size_t r, const std::vector<double>& ll) {
          const auto& it = suite.items[todo[r]];
          store::ResultRow row;
          row.key = {model_hash, suite.name, it.id, sum.prompt_id, sum.mode, 1.0, -1};
          // The answer distribution: softmax over the scored options, each credited to its item
          // option (the unknown phrasings all to the unknown option).
          double mx = *std::max_element(ll.begin(), ll.end()), z = 0;
          for (double x : ll) z += std::exp(x - mx);
          row.probs.assign(it.options.size(), 0.0);
          for (size_t o = 0; o < ll.size(); ++o) row.probs[option_of[r][o]] += std::exp(ll[o] - mx) / z;
          row.probs_t1 = row.probs;
          row.answer = option_of[r][std::max_element(ll.begin(), ll.end()) - ll.begin()];
          auto c = confidence(row.probs);
          row.entropy = c.entropy;
          row.max_prob = c.max_prob;
          row.k = 1;
          row.p_stereo_k = row.answer == it.stereotyped ? 1.0 : 0.0;
          nlohmann::json d;
          d["options"] = option_text[r];
          d["option_index"] = option_of[r];
          d["loglik"] = ll;
          std::vector<size_t> toks, bytes;
          for (size_t o = 0; o < ll.size(); ++o) {
            toks.push_back(reqs[r].continuations[o].size());
            bytes.push_back(option_text[r][o].size() + 1);
          }
          d["tokens"] = toks;
          d["bytes"] = bytes;
          row.detail = d.dump();
          long n = long(reqs[r].context.size());
          for (const auto& c : reqs[r].continuations) n += long(c.size());
          row.n_tokens = n;
          row.settings = settings;
          row.run_id = run_id;
          pending.push_back(std::move(row));
        },
        [&] {
          sum.n_computed += store.put_results(pending);
          progress.advance(long(pending.size()));
          pending.clear();
        });
    sum.stats.prompt_tokens += st.context_tokens + st.continuation_tokens;
    sum.stats.decoded_tokens += st.context_tokens + st.continuation_tokens;
    sum.stats.decodes += st.decodes;
  }
  progress.finish();
  store.finish_run(run_id);
  sum.seconds = seconds_since(t0);
  return sum;
}

EvalSummary eval_suite(const backends::LlamaModel& model, const std::string& model_hash, const suites::Suite& suite,
                       store::Store& store, const EvalOptions& opt) {
  if (opt.mode == "letters") return eval_letters(model, model_hash, suite, store, opt);
  if (opt.mode == "sample") return eval_sample(model, model_hash, suite, store, opt);
  if (opt.mode == "loglik" || opt.mode == "loglik12") return eval_loglik(model, model_hash, suite, store, opt);
  throw Error(ErrorSite{"", 0, "mode"}, fmt::format("unknown mode \"{}\"", opt.mode), "use letters, sample, loglik or loglik12");
}

}  // namespace qaudit::engine
