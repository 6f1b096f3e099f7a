#include "audit/spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <set>
#include <toml++/toml.h>

#include "common/files.h"

namespace qaudit::audit {
namespace fs = std::filesystem;
namespace {

// Reads one table's keys into typed fields, rejecting keys it does not know.
class Reader {
 public:
  Reader(const toml::table& t, std::string file, std::string prefix)
      : t_(t), file_(std::move(file)), prefix_(std::move(prefix)) {}

  ErrorSite site(const std::string& key, const toml::node* n = nullptr) const {
    long line = n ? long(n->source().begin.line) : long(t_.source().begin.line);
    return ErrorSite{file_, line, prefix_ + key};
  }
  template <class T>
  void get(const std::string& key, T& out, const char* type_name) {
    known_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return;
    if constexpr (std::is_same_v<T, double>) {
      if (auto v = n->value<double>()) {
        out = *v;
        return;
      }
    } else if constexpr (std::is_same_v<T, int>) {
      if (auto v = n->value<int64_t>()) {
        out = int(*v);
        return;
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto v = n->value<bool>()) {
        out = *v;
        return;
      }
    } else {
      if (auto v = n->value<std::string>()) {
        out = *v;
        return;
      }
    }
    throw Error(site(key, n), fmt::format("expected {}", type_name), "see `qaudit run --print-spec` for every key and its type");
  }
  void strings(const std::string& key, std::vector<std::string>& out) {
    known_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) throw Error(site(key, n), "expected an array of strings", "write it as [\"a\", \"b\"]");
    out.clear();
    for (const auto& e : *a) {
      auto v = e.value<std::string>();
      if (!v) throw Error(site(key, &e), "expected an array of strings", "write it as [\"a\", \"b\"]");
      out.push_back(*v);
    }
  }
  void ints(const std::string& key, std::vector<int>& out) {
    known_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) throw Error(site(key, n), "expected an array of integers", "write it as [42, 123]");
    out.clear();
    for (const auto& e : *a) {
      auto v = e.value<int64_t>();
      if (!v || *v < 0) throw Error(site(key, &e), "expected an array of non-negative integers", "write it as [42, 123]");
      out.push_back(int(*v));
    }
  }
  const toml::table* table(const std::string& key) {
    known_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) throw Error(site(key, n), "expected a table", fmt::format("write it as [{}{}]", prefix_, key));
    return n->as_table();
  }
  const toml::array* tables(const std::string& key) {
    known_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return nullptr;
    if (!n->is_array_of_tables()) throw Error(site(key, n), "expected an array of tables", fmt::format("write each as [[{}]]", key));
    return n->as_array();
  }
  // Any key not read is a mistake (a typo would otherwise be ignored silently).
  void finish() const {
    for (const auto& [k, v] : t_)
      if (!known_.count(std::string(k.str())))
        throw Error(site(std::string(k.str()), &v), "unknown key",
                    fmt::format("known keys here: {}", fmt::join(known_, ", ")));
  }

 private:
  const toml::table& t_;
  std::string file_, prefix_;
  std::set<std::string> known_;
};

std::string resolve(const std::string& dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(dir) / p).lexically_normal().string();
}

}  // namespace

std::string store_path(const RunSpec& spec) {
  return spec.store.empty() ? (fs::path(spec.out) / "qaudit.sqlite").string() : spec.store;
}

void load_spec(const std::string& path, RunSpec& s) {
  std::string text = read_file_checked(path, "audit spec");
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorSite{path, long(e.source().begin.line), ""}, std::string(e.description()),
                "fix the TOML syntax; `qaudit run --print-spec` shows a valid spec");
  }
  std::string dir = fs::path(path).parent_path().string();
  Reader r(root, path, "");
  r.get("out", s.out, "a string (directory)");
  r.get("store", s.store, "a string (path)");
  r.strings("imported", s.imported);
  s.out = resolve(dir, s.out);
  s.store = resolve(dir, s.store);
  if (auto t = r.table("reference")) {
    Reader rr(*t, path, "reference.");
    rr.get("model", s.reference, "a string (GGUF path)");
    s.reference = resolve(dir, s.reference);
    rr.finish();
  }
  if (auto t = r.table("ladder")) {
    Reader rr(*t, path, "ladder.");
    rr.strings("recipes", s.recipes);
    rr.get("cache", s.cache, "a string (directory)");
    s.cache = resolve(dir, s.cache);
    rr.finish();
  }
  if (auto a = r.tables("suites")) {
    s.suites.clear();
    int i = 0;
    for (const auto& node : *a) {
      const auto& t = *node.as_table();
      std::string prefix = fmt::format("suites[{}].", i++);
      Reader rr(t, path, prefix);
      SuiteSpec ss;
      ss.site = ErrorSite{path, long(t.source().begin.line), prefix};
      rr.get("kind", ss.kind, "a string (\"builtin\", \"demo\" or \"bbq\")");
      if (ss.kind != "demo" && ss.kind != "bbq" && ss.kind != "builtin")
        throw Error(rr.site("kind", t.get("kind")), fmt::format("unknown suite kind \"{}\"", ss.kind),
                    "use \"builtin\", \"demo\" or \"bbq\"");
      rr.strings("files", ss.files);
      for (auto& f : ss.files) f = resolve(dir, f);
      if (ss.kind == "bbq" && ss.files.empty())
        throw Error(rr.site("files"), "a bbq suite needs its JSONL files", "add files = [\"BBQ/data/Religion.jsonl\", ...]");
      rr.strings("categories", ss.filter.categories);
      rr.get("condition", ss.filter.condition, "a string (\"ambig\" or \"disambig\")");
      rr.get("polarity", ss.filter.polarity, "a string (\"neg\" or \"nonneg\")");
      rr.get("sample", ss.filter.sample, "a number in (0, 1]");
      rr.get("limit", ss.filter.limit, "an integer");
      rr.finish();
      s.suites.push_back(std::move(ss));
    }
  }
  if (auto t = r.table("eval")) {
    Reader rr(*t, path, "eval.");
    rr.get("temperature", s.temperature, "a number");
    rr.get("k", s.k, "an integer");
    rr.get("mode", s.mode, "a string (\"letters\" or \"sample\")");
    if (s.mode != "letters" && s.mode != "sample")
      throw Error(rr.site("mode", t->get("mode")), fmt::format("unknown mode \"{}\"", s.mode), "use \"letters\" or \"sample\"");
    rr.ints("seeds", s.seeds);
    rr.ints("floor_seeds", s.floor_seeds);
    rr.get("max_tokens", s.max_tokens, "an integer");
    rr.get("exact", s.exact, "true or false");
    rr.get("plain_prompt", s.plain_prompt, "true or false");
    rr.get("threads", s.threads, "an integer");
    rr.get("gpu_layers", s.gpu_layers, "an integer");
    rr.get("seqs", s.seqs, "an integer");
    rr.get("batch", s.batch, "an integer");
    rr.get("chunk", s.chunk, "an integer");
    rr.finish();
    if (!(s.temperature > 0)) throw Error(rr.site("temperature"), "must be positive", "the study used 0.3");
    if (s.chunk < 1) throw Error(rr.site("chunk"), "must be at least 1", "the default is 256");
    if (s.k < 1) throw Error(rr.site("k"), "must be at least 1", "the study used 5 seeds");
  }
  if (auto t = r.table("perplexity")) {
    Reader rr(*t, path, "perplexity.");
    rr.get("enabled", s.perplexity.enabled, "true or false");
    rr.get("corpus", s.perplexity.corpus, "a string (path; empty: built in)");
    s.perplexity.corpus = resolve(dir, s.perplexity.corpus);
    rr.get("ctx", s.perplexity.ctx, "an integer (tokens per chunk)");
    rr.get("chunks", s.perplexity.chunks, "an integer (0: all)");
    rr.finish();
    if (s.perplexity.ctx < 16) throw Error(rr.site("ctx"), "must be at least 16", "llama-perplexity's usual is 512");
  }
  if (auto t = r.table("gate")) {
    Reader rr(*t, path, "gate.");
    rr.get("max_became_biased", s.gate.max_became_biased, "a number (share, e.g. 0.05)");
    rr.get("max_usr_drop", s.gate.max_usr_drop, "a number (relative drop, e.g. 0.10)");
    rr.get("max_bias_score_delta", s.gate.max_bias_score_delta, "a number (e.g. 0.05)");
    rr.get("max_kld", s.gate.max_kld, "a number (0: not gated)");
    rr.finish();
  }
  r.finish();
}

std::string spec_toml(const RunSpec& s) {
  auto q = [](const std::string& v) {
    toml::value<std::string> tv(v);
    std::ostringstream os;
    os << tv;
    return os.str();
  };
  auto list = [&](const std::vector<std::string>& v) {
    std::vector<std::string> o;
    for (const auto& x : v) o.push_back(q(x));
    return fmt::format("[{}]", fmt::join(o, ", "));
  };
  std::string out;
  out += fmt::format("out = {}\nstore = {}\n\n", q(s.out), q(store_path(s)));
  if (!s.imported.empty()) out += fmt::format("imported = {}\n\n", list(s.imported));
  out += fmt::format("[reference]\nmodel = {}  # empty: the generated demo model\n\n", q(s.reference));
  out += fmt::format("[ladder]\nrecipes = {}\ncache = {}\n\n", list(s.recipes), q(s.cache));
  std::vector<SuiteSpec> suites = s.suites;
  if (suites.empty()) suites.push_back(SuiteSpec{});
  for (const auto& ss : suites) {
    out += fmt::format("[[suites]]\nkind = {}\n", q(ss.kind));
    if (!ss.files.empty()) out += fmt::format("files = {}\n", list(ss.files));
    if (!ss.filter.categories.empty()) out += fmt::format("categories = {}\n", list(ss.filter.categories));
    if (!ss.filter.condition.empty()) out += fmt::format("condition = {}\n", q(ss.filter.condition));
    if (!ss.filter.polarity.empty()) out += fmt::format("polarity = {}\n", q(ss.filter.polarity));
    if (ss.filter.sample < 1) out += fmt::format("sample = {}\n", ss.filter.sample);
    if (ss.filter.limit > 0) out += fmt::format("limit = {}\n", ss.filter.limit);
    out += "\n";
  }
  out += fmt::format("[eval]\nmode = {}  # letters | sample\nseeds = [{}]\nfloor_seeds = [{}]\nmax_tokens = {}\n", q(s.mode),
                     fmt::join(s.seeds, ", "), fmt::join(s.floor_seeds, ", "), s.max_tokens);
  out += fmt::format("temperature = {}\nk = {}\nexact = {}\nplain_prompt = {}\nthreads = {}\ngpu_layers = {}\nseqs = {}\nbatch = {}\nchunk = {}\n\n",
                     s.temperature, s.k, s.exact, s.plain_prompt, s.threads, s.gpu_layers, s.seqs, s.batch, s.chunk);
  out += fmt::format("[perplexity]\nenabled = {}\ncorpus = {}  # empty: the built-in corpus\nctx = {}\nchunks = {}\n\n",
                     s.perplexity.enabled, q(s.perplexity.corpus), s.perplexity.ctx, s.perplexity.chunks);
  out += fmt::format("[gate]\nmax_became_biased = {}\nmax_usr_drop = {}\nmax_bias_score_delta = {}\nmax_kld = {}  # 0: not gated\n",
                     s.gate.max_became_biased, s.gate.max_usr_drop, s.gate.max_bias_score_delta, s.gate.max_kld);
  return out;
}

}  // namespace qaudit::audit
