#include "engine/http_eval.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/progress.h"
#include "engine/letters.h"
#include "prompts/parse.h"
#include "prompts/prompt.h"

namespace qaudit::engine {

double letters_from_top(const std::vector<backends::TopToken>& top, double temperature, store::ResultRow& row) {
  row.probs_t1.assign(3, 0.0);
  row.probs.assign(3, 0.0);
  double covered = 0, z_t = 0;
  for (const auto& t : top) {
    double p = std::exp(t.logprob);
    covered += p;
    z_t += std::pow(p, 1.0 / temperature);
  }
  for (const auto& t : top) {
    int l = answer_letter_of_piece(t.token, 3);
    if (l < 0) continue;
    double p = std::exp(t.logprob);
    row.probs_t1[size_t(l)] += p;
    if (z_t > 0) row.probs[size_t(l)] += std::pow(p, 1.0 / temperature) / z_t;
  }
  double letters1 = row.probs_t1[0] + row.probs_t1[1] + row.probs_t1[2];
  double letters_t = row.probs[0] + row.probs[1] + row.probs[2];
  row.invalid_t1 = std::max(0.0, covered - letters1);
  row.invalid = std::max(0.0, 1.0 - letters_t);
  return std::max(0.0, 1.0 - covered);
}

HttpEvalSummary eval_http(const std::vector<backends::ServerSpec>& specs, const HttpEvalOptions& opt, const suites::Suite& suite,
                          store::Store& store) {
  auto t0 = std::chrono::steady_clock::now();
  HttpEvalSummary out;
  const auto& spec = specs.at(0);
  int total_slots = 0;
  for (size_t e = 0; e < specs.size(); ++e) {
    backends::HttpBackend probe_backend(specs[e], opt.http);
    auto info = probe_backend.probe();
    total_slots += info.slots;
    if (e == 0) {
      out.server = info;
    } else if (info.identity != out.server.identity) {
      throw Error(ErrorSite{specs[e].base, 0, {}}, fmt::format("serves another model than {} ({} vs {})", spec.base, info.description,
                                                               out.server.description),
                  "spread one audit only over servers of the same model and build");
    }
  }
  out.server.slots = total_slots;
  const auto& mode = opt.eval.mode;
  if (mode == "letters" && !out.server.top_logprobs)
    throw Error(ErrorSite{spec.base, 0, "mode"},
                "the letters mode needs the top log-probabilities of the first generated token (logprobs/top_logprobs), "
                "which this server does not return",
                "use --mode sample with this server");
  if ((mode == "loglik" || mode == "loglik12") && !out.server.prompt_logprobs)
    throw Error(ErrorSite{spec.base, 0, "mode"},
                "answer log-likelihood needs log-probabilities of prompt tokens (completions with echo + logprobs, or "
                "prompt_logprobs), which this server does not provide; scoring without them would give wrong numbers",
                "use --mode letters or --mode sample with this server");
  if (mode != "letters" && mode != "sample")
    throw Error(ErrorSite{spec.base, 0, "mode"}, fmt::format("mode {} is not served over HTTP yet", mode), "use letters or sample");
  auto& sum = out.sum;
  sum.model_hash = out.server.identity;
  sum.suite = suite.name;
  sum.mode = mode;
  sum.temperature = opt.eval.temperature;
  sum.n_items = int(suite.items.size());
  sum.prompt_id = "study/server";  // the server's chat template
  store.put_model({out.server.identity, spec.base + "#" + out.server.model, 0, "server", out.server.description, 0});

  // The tasks: (item, seed index); seed index -1 in letters mode.
  std::vector<int64_t> seeds;
  if (mode == "sample")
    for (uint32_t s : opt.eval.sample.seeds) seeds.push_back(int64_t(s));
  else
    seeds.push_back(-1);
  std::vector<std::pair<size_t, size_t>> tasks;
  for (size_t si = 0; si < seeds.size(); ++si) {
    auto have = store.existing_items(sum.model_hash, suite.name, sum.prompt_id, mode, opt.eval.temperature, seeds[si]);
    for (size_t i = 0; i < suite.items.size(); ++i)
      if (!have.count(suite.items[i].id)) tasks.push_back({i, si});
  }
  sum.n_existing = int(suite.items.size() * seeds.size() - tasks.size()) / int(seeds.size());
  if (tasks.empty()) return out;
  store.put_items(suite.name, suite.version, suite.items);
  std::string bases;
  for (const auto& sp : specs) bases += (bases.empty() ? "" : ",") + sp.base;
  std::string settings = fmt::format("server={} top_k={} concurrency={}", bases, opt.top_k, opt.concurrency);
  int64_t run_id = store.begin_run({sum.model_hash, suite.name, opt.eval.command, settings});

  int workers = opt.concurrency > 0 ? opt.concurrency : (out.server.slots > 0 ? out.server.slots : 4);
  workers = std::max(1, std::min<int>(workers, int(tasks.size())));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<store::ResultRow> pending;
  std::atomic<size_t> next{0};
  // Consecutive failures across the workers: when the server is gone, stop asking (the rest
  // counts as failed and a rerun asks again) instead of retrying every remaining item.
  std::atomic<int> consecutive_failures{0};
  std::atomic<bool> gave_up{false};
  int running = workers;
  Progress progress(fmt::format("{} {}", mode, out.server.model), long(tasks.size()), opt.eval.quiet);
  auto work = [&](size_t endpoint) {
    backends::HttpBackend b(specs[endpoint % specs.size()], opt.http);
    b.probe_model_only(out.server.model);
    for (size_t t; !gave_up && (t = next.fetch_add(1)) < tasks.size();) {
      const auto& item = suite.items[tasks[t].first];
      auto msgs = prompts::study_messages(item);
      store::ResultRow row;
      row.key = {sum.model_hash, suite.name, item.id, sum.prompt_id, mode, opt.eval.temperature, seeds[tasks[t].second]};
      row.settings = settings;
      row.run_id = run_id;
      try {
        if (mode == "letters") {
          auto top = b.first_token_top(msgs, opt.top_k);
          double unaccounted = letters_from_top(top, opt.eval.temperature, row);
          row.answer = int(std::max_element(row.probs_t1.begin(), row.probs_t1.end()) - row.probs_t1.begin());
          auto c = confidence(row.probs_t1);
          row.entropy = c.entropy;
          row.max_prob = c.max_prob;
          row.k = opt.eval.k;
          double p = item.stereotyped >= 0 ? row.probs[size_t(item.stereotyped)] : 0;
          row.p_stereo_k = 1 - std::pow(1 - p, opt.eval.k);
          row.detail = nlohmann::json{{"top_k", opt.top_k}, {"unaccounted", unaccounted}}.dump();
        } else {
          std::string text = b.generate(msgs, opt.eval.temperature, uint32_t(seeds[tasks[t].second]), opt.eval.sample.max_tokens);
          sample_result(item, text, row);
        }
        consecutive_failures = 0;
        std::lock_guard<std::mutex> lock(mu);
        pending.push_back(std::move(row));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (out.failed++ == 0) out.first_failure = e.what();
        if (++consecutive_failures >= 3 * workers) gave_up = true;
      }
      cv.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu);
    --running;
    cv.notify_one();
  };
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) pool.emplace_back(work, size_t(w));
  // The store is written from this thread only, in small transactions.
  for (;;) {
    std::vector<store::ResultRow> batch;
    bool done = false;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return pending.size() >= 16 || running == 0; });
      batch.swap(pending);
      done = running == 0 && pending.empty();
    }
    if (!batch.empty()) {
      sum.n_computed += store.put_results(batch);
      progress.advance(long(batch.size()));
    }
    if (done) break;
  }
  for (auto& t : pool) t.join();
  if (gave_up) {
    size_t dispatched = std::min(next.load(), tasks.size());
    out.failed += int(tasks.size() - dispatched);
    out.first_failure += fmt::format(" (stopped after {} failures in a row; {} requests not sent)", 3 * workers, tasks.size() - dispatched);
  }
  {
    std::vector<store::ResultRow> rest;
    rest.swap(pending);
    sum.n_computed += store.put_results(rest);
  }
  progress.finish();
  store.finish_run(run_id);
  if (mode == "sample") sum.n_computed /= int(seeds.size());
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace qaudit::engine
