// The engine's throughput figures, each a ratio measured in one run on the same model and items:
//   ceiling   tokens/s of qaudit's letter scoring against raw llama_decode on as many tokens in
//             batches of the same size (no sampling, no softmax, no store)
//   naive     items/s of answer log-likelihood (3 options) against one item and one option at a
//             time with no shared prefix, as lm-evaluation-harness's GGUF backend asks a server
//   mc        items/s against llama-perplexity --multiple-choice on the same items written in its
//             binary task format, with both accuracies (per-token normalised, as it scores)
//   sampling  the exact letter distribution against the study's 5-seed sampling: model tokens and time
//   memory    peak RSS of `qaudit eval` against model file size + KV cache
//
//   modes_bench MODEL.gguf BBQ.jsonl N_ITEMS QAUDIT_BINARY LLAMA_BIN_DIR
#include <fmt/format.h>
#include <llama.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "backends/llama_backend.h"
#include "engine/eval.h"
#include "engine/letters.h"
#include "engine/loglik.h"
#include "engine/sample.h"
#include "prompts/prompt.h"
#include "suites/bbq.h"

using namespace qaudit;
namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;

namespace {

double since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

std::string capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) pclose(p);
  return out;
}

void put_string(std::string& out, const std::string& s) {
  uint32_t n = uint32_t(s.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out += s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    fmt::print(stderr, "usage: modes_bench MODEL.gguf BBQ.jsonl N_ITEMS QAUDIT_BINARY LLAMA_BIN_DIR\n");
    return 2;
  }
  std::string model_path = argv[1], bbq = argv[2], qaudit_bin = argv[4], llama_bin = argv[5];
  backends::backend_init(false);
  auto model = backends::LlamaModel::load(model_path);
  auto suite = suites::load_bbq({bbq});
  suite.items.resize(std::min<size_t>(std::atoi(argv[3]), suite.items.size()));
  const size_t n = suite.items.size();
  auto texts = engine::render_study_prompts(*model, suite.items, false, nullptr);
  std::vector<engine::ScoreRequest> reqs;
  for (const auto& t : texts) reqs.push_back({model->tokenize(t)});
  auto sets = engine::letter_token_sets(*model, 3);
  backends::ContextSettings def;
  std::string memory_table;
  // --- memory (first: RUSAGE_CHILDREN keeps the largest child, and llama-perplexity runs later) ---------------------------------------------------------------------------------
  {
    fs::path store = fs::temp_directory_path() / "qaudit-bench-mem.sqlite";
    fs::remove(store);
    capture(fmt::format("{} eval -q -m {} --bbq {} --limit {} -s {}", qaudit_bin, model_path, bbq, n, store.string()));
    struct rusage ru {};
    getrusage(RUSAGE_CHILDREN, &ru);
    double peak = double(ru.ru_maxrss) * 1024;
    double file = double(fs::file_size(model_path));
    // The letters context: n_batch + prefix cells, F16 K and V per layer.
    const llama_model* lm = model->get();
    double head_dim = double(llama_model_n_embd(lm)) / llama_model_n_head(lm);
    double kv = 2.0 * llama_model_n_layer(lm) * llama_model_n_head_kv(lm) * head_dim * 2 * (def.n_batch + 256);
    memory_table = fmt::format("### memory: peak RSS of `qaudit eval` against model file + KV cache\n\n"
               "| model file | KV cache (F16, {} cells) | sum | peak RSS | ratio |\n|---|---|---|---|---|\n", def.n_batch + 256);
    memory_table += fmt::format("| {:.0f} MiB | {:.0f} MiB | {:.0f} MiB | {:.0f} MiB | **{:.2f}** |\n\n", file / 1048576, kv / 1048576,
               (file + kv) / 1048576, peak / 1048576, peak / (file + kv));
    fs::remove(store);
  }

  // --- ceiling --------------------------------------------------------------------------------
  auto t0 = clk::now();
  auto st = engine::score_next_token(*model, def, reqs, true,
                                     [&](size_t, const float* l) { (void)engine::letter_mass(l, model->n_vocab(), sets, 0.3); },
                                     nullptr);
  double t_letters = since(t0);
  {
    int per_decode = int(std::lround(double(st.decoded_tokens) / st.decodes));
    backends::ContextSettings s = def;
    s.n_seq = 1;
    s.n_batch = std::max(per_decode, 32);
    backends::LlamaContext ctx(*model, s, s.n_batch + 8);
    std::vector<backends::Token> flat;
    for (const auto& r : reqs) flat.insert(flat.end(), r.tokens.begin(), r.tokens.end());
    long done = 0;
    auto t1 = clk::now();
    for (int d = 0; d < st.decodes; ++d) {
      ctx.clear();
      std::vector<backends::LlamaContext::Entry> batch;
      for (int k = 0; k < per_decode; ++k) batch.push_back({flat[(done + k) % flat.size()], k, {0}, k + 1 == per_decode});
      ctx.decode(batch);
      done += per_decode;
    }
    double t_raw = since(t1);
    fmt::print("### ceiling: qaudit's letter scoring against raw llama_decode\n\n| | tokens | seconds | tokens/s |\n|---|---|---|---|\n");
    fmt::print("| raw llama_decode, {} batches of {} tokens | {} | {:.1f} | {:.0f} |\n", st.decodes, per_decode, done, t_raw, done / t_raw);
    fmt::print("| qaudit letters ({} items, {} decodes) | {} | {:.1f} | {:.0f} |\n\n", n, st.decodes, st.decoded_tokens, t_letters,
               st.decoded_tokens / t_letters);
    fmt::print("ratio to the ceiling: **{:.2f}** (tokens/s)\n\n", (st.decoded_tokens / t_letters) / (done / t_raw));
  }

  // --- naive log-likelihood -------------------------------------------------------------------
  // lm-evaluation-harness's requests: its context, each option after a space.
  auto loglik_requests = [&] {
    std::vector<engine::LoglikRequest> out;
    for (const auto& it : suite.items) {
      std::string context = prompts::lmeval_context(it);
      engine::LoglikRequest q;
      q.context = model->tokenize(context);
      for (const auto& o : it.options) q.continuations.push_back(engine::continuation_tokens(*model, q.context, context, " " + o));
      out.push_back(std::move(q));
    }
    return out;
  };
  auto lreqs = loglik_requests();
  std::vector<std::vector<double>> fast_ll(n), naive_ll(n);
  t0 = clk::now();
  auto lst = engine::score_continuations(*model, def, lreqs, [&](size_t r, const std::vector<double>& ll) { fast_ll[r] = ll; }, nullptr);
  double t_fast = since(t0);
  backends::ContextSettings one = def;
  one.n_seq = 1;
  t0 = clk::now();
  long naive_tokens = 0;
  for (size_t r = 0; r < n; ++r)
    for (const auto& c : lreqs[r].continuations) {
      engine::LoglikRequest single{lreqs[r].context, {c}};
      naive_tokens += long(single.context.size() + c.size());
      engine::score_continuations(*model, one, {single}, [&](size_t, const std::vector<double>& ll) { naive_ll[r].push_back(ll[0]); }, nullptr);
    }
  double t_naive = since(t0);
  double worst = 0;
  for (size_t r = 0; r < n; ++r)
    for (size_t o = 0; o < fast_ll[r].size(); ++o) worst = std::max(worst, std::fabs(fast_ll[r][o] - naive_ll[r][o]) / std::fabs(naive_ll[r][o]));
  fmt::print("### naive: answer log-likelihood (3 options) against one item and one option at a time\n\n"
             "| | tokens decoded | seconds | items/s |\n|---|---|---|---|\n");
  fmt::print("| one option per request, context decoded each time | {} | {:.1f} | {:.2f} |\n", naive_tokens, t_naive, n / t_naive);
  fmt::print("| qaudit loglik: context once per item, options side by side | {} | {:.1f} | {:.2f} |\n\n",
             lst.context_tokens + lst.continuation_tokens, t_fast, n / t_fast);
  fmt::print("speed-up: **{:.2f}x** items/s; largest relative log-likelihood difference: {:.1e}\n\n", t_naive / t_fast, worst);

  // --- llama-perplexity --multiple-choice -------------------------------------------------------
  {
    std::string tasks_blob;
    std::vector<uint32_t> pos;
    std::string body;
    uint32_t header = 4 + 4 * uint32_t(n);
    int ours_correct = 0;
    for (size_t r = 0; r < n; ++r) {
      const auto& it = suite.items[r];
      pos.push_back(header + uint32_t(body.size()));
      put_string(body, prompts::lmeval_context(it));
      uint32_t k = uint32_t(it.options.size());
      body.append(reinterpret_cast<const char*>(&k), 4);
      for (const auto& o : it.options) put_string(body, o);
      for (uint32_t o = 0; o < k; ++o) {
        int label = int(o) == it.label;
        body.append(reinterpret_cast<const char*>(&label), 4);
      }
      uint32_t zero = 0;
      body.append(reinterpret_cast<const char*>(&zero), 4);  // mc2: none
      // Ours, scored as llama-perplexity scores: mean log-probability per token.
      size_t best = 0;
      double best_v = -1e300;
      for (size_t o = 0; o < fast_ll[r].size(); ++o) {
        double v = fast_ll[r][o] / double(lreqs[r].continuations[o].size());
        if (v > best_v) {
          best_v = v;
          best = o;
        }
      }
      ours_correct += int(best) == it.label;
    }
    uint32_t nt = uint32_t(n);
    tasks_blob.append(reinterpret_cast<const char*>(&nt), 4);
    tasks_blob.append(reinterpret_cast<const char*>(pos.data()), pos.size() * 4);
    tasks_blob += body;
    fs::path file = fs::temp_directory_path() / "qaudit-bench-mc.bin";
    std::ofstream(file, std::ios::binary) << tasks_blob;
    auto t1 = clk::now();
    std::string out = capture(fmt::format("{}/llama-perplexity -m {} -bf {} --multiple-choice -c 2048 -b 2048 -t {} --no-warmup",
                                          llama_bin, model_path, file.string(), std::thread::hardware_concurrency()));
    double t_llama = since(t1);
    std::smatch m;
    std::regex final_re(R"(Final result: ([0-9.]+))");
    double llama_acc = std::regex_search(out, m, final_re) ? std::stod(m[1]) : NAN;
    // qaudit's whole mode, tokenization included, for a fair wall-clock comparison.
    t1 = clk::now();
    auto again = loglik_requests();
    engine::score_continuations(*model, def, again, [](size_t, const std::vector<double>&) {}, nullptr);
    double t_ours = since(t1);
    fmt::print("### mc: against llama-perplexity --multiple-choice (same items, its binary task format)\n\n"
               "| | seconds | items/s | accuracy (per-token normalised) |\n|---|---|---|---|\n");
    fmt::print("| llama-perplexity --multiple-choice (process wall time, model load included) | {:.1f} | {:.2f} | {:.2f}% |\n", t_llama,
               n / t_llama, llama_acc);
    fmt::print("| qaudit loglik (tokenize + score, model already loaded) | {:.1f} | {:.2f} | {:.2f}% |\n\n", t_ours, n / t_ours,
               100.0 * ours_correct / n);
    fmt::print("speed-up: **{:.2f}x** items/s\n\n", t_llama / t_ours);
  }

  // --- letters against 5-seed sampling --------------------------------------------------------
  {
    engine::SampleSettings ss;
    std::vector<std::vector<backends::Token>> prompts;
    for (const auto& r : reqs) prompts.push_back(r.tokens);
    t0 = clk::now();
    auto sst = engine::sample_continuations(*model, def, prompts, ss, [](size_t, size_t, const std::string&, int) {}, nullptr);
    double t_sample = since(t0);
    long sample_tokens = sst.prompt_tokens + sst.generated_tokens;
    // As the study ran it: each seed a separate generation, the prompt decoded every time.
    long study_tokens = 0;
    t0 = clk::now();
    for (uint32_t seed : ss.seeds) {
      engine::SampleSettings one_seed = ss;
      one_seed.seeds = {seed};
      auto r = engine::sample_continuations(*model, def, prompts, one_seed, [](size_t, size_t, const std::string&, int) {}, nullptr);
      study_tokens += r.prompt_tokens + r.generated_tokens;
    }
    double t_study = since(t0);
    fmt::print("### sampling: exact letter distribution against the study's 5-seed sampling\n\n"
               "| | model tokens | seconds | items/s |\n|---|---|---|---|\n");
    fmt::print("| 5 seeds as the study ran them (each seed its own generation, prompt decoded 5 times) | {} | {:.1f} | {:.2f} |\n",
               study_tokens, t_study, n / t_study);
    fmt::print("| 5 seeds, qaudit's sampling mode (the seeds share the prompt's KV cells) | {} | {:.1f} | {:.2f} |\n", sample_tokens,
               t_sample, n / t_sample);
    fmt::print("| letters (one forward pass, prefix tree) | {} | {:.1f} | {:.2f} |\n\n", st.decoded_tokens, t_letters, n / t_letters);
    fmt::print("letters against the study's sampling: **{:.1f}x** fewer model tokens, **{:.1f}x** less time; "
               "against qaudit's shared-prompt sampling: {:.1f}x fewer tokens, {:.1f}x less time\n\n",
               double(study_tokens) / st.decoded_tokens, t_study / t_letters, double(sample_tokens) / st.decoded_tokens,
               t_sample / t_letters);
  }

  fmt::print("{}", memory_table);
  return 0;
}
