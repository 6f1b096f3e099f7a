#include <fmt/format.h>

#include <map>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "common/error.h"
#include "suites/bbq.h"
#include "suites/builtin.h"
#include "suites/corpus.h"
#include "suites/demo.h"
#include "suites/pairs.h"

namespace qaudit::cli {
namespace {

std::string category_counts(const std::vector<suites::Item>& items) {
  std::map<std::string, int> n;
  for (const auto& it : items) n[it.category]++;
  std::string out;
  for (const auto& [c, k] : n) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", c, k);
  return out;
}

void show_item(const suites::Item& it) {
  fmt::print("{}  [{} / {} / {}]  ({})\n  {}\n  Q: {}\n", it.id, it.category, suites::condition_name(it.condition),
             suites::polarity_name(it.polarity), it.source, it.context, it.question);
  for (size_t o = 0; o < it.options.size(); ++o)
    fmt::print("    {}) {:<40} {}{}\n", char('A' + o), it.options[o], suites::role_name(it.roles[o]), int(o) == it.label ? "  (correct)" : "");
  fmt::print("\n");
}

}  // namespace

Runner add_suites(CLI::App& app) {
  struct Args {
    std::string name, file;
    int n = 3;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "Examples:\n"
      "  qaudit suites                                  # what qaudit can evaluate, with counts\n"
      "  qaudit suites show demo -n 5\n"
      "  qaudit suites show bbq --file BBQ/data/Religion.jsonl\n"
      "  qaudit suites show crows-pairs --file crows_pairs_anonymized.csv\n"
      "  qaudit suites show stereoset --file dev.json\n"
      "  qaudit suites show corpus                       # the built-in perplexity corpus");
  auto show = app.add_subcommand("show", "Print a few items of a suite.");
  show->add_option("name", a->name, "builtin, demo, bbq, crows-pairs, stereoset or corpus")
      ->required()->check(CLI::IsMember({"builtin", "demo", "bbq", "crows-pairs", "stereoset", "corpus"}));
  show->add_option("--file", a->file, "the suite's file (bbq, crows-pairs, stereoset; corpus: default built in)");
  show->add_option("-n", a->n, "how many items")->capture_default_str()->check(CLI::PositiveNumber);
  return [a, show] {
    if (!show->parsed()) {
      auto demo = suites::load_demo_suite();
      auto builtin = suites::load_builtin_suite();
      fmt::print("{:<13} {:<26} {:>6}  {}\n", "suite", "source", "items", "notes");
      fmt::print("{:<13} {:<26} {:>6}  version {}, {} templates; {}\n", "builtin", "built in", builtin.items.size(), builtin.version,
                 suites::builtin_templates().size(), category_counts(builtin.items));
      fmt::print("{:<13} {:<26} {:>6}  version {}; {}\n", "demo", "built in", demo.items.size(), demo.version, category_counts(demo.items));
      auto words = [](const std::string& t) {
        size_t n = 0;
        bool in = false;
        for (char c : t) {
          bool sp = c == ' ' || c == '\n';
          n += !sp && !in;
          in = !sp;
        }
        return n;
      };
      fmt::print("{:<13} {:<26} {:>6}  original prose for perplexity / KL divergence ({} words)\n", "corpus", "built in", "-",
                 words(suites::builtin_corpus_text()));
      fmt::print("{:<13} {:<26} {:>6}  BBQ JSONL as distributed (all 11 categories, intersectional ones included)\n", "bbq",
                 "--bbq FILE.jsonl ...", "-");
      fmt::print("{:<13} {:<26} {:>6}  CrowS-Pairs CSV as distributed: pct_stereotype, likelihood_diff\n", "crows-pairs",
                 "--crows-pairs FILE.csv", "-");
      fmt::print("{:<13} {:<26} {:>6}  StereoSet dev.json (intrasentence): SS, LMS, ICAT\n", "stereoset", "--stereoset dev.json", "-");
      fmt::print("{:<13} {:<26} {:>6}  plain text or chat JSONL for perplexity / KL divergence\n", "corpus", "--corpus FILE", "-");
      return 0;
    }
    auto need_file = [&] {
      if (a->file.empty())
        throw Error(ErrorSite{"", 0, "--file"}, fmt::format("the {} suite is read from a file", a->name), "pass --file PATH");
    };
    if (a->name == "demo" || a->name == "bbq" || a->name == "builtin") {
      if (a->name == "bbq") need_file();
      auto s = a->name == "demo" ? suites::load_demo_suite() : a->name == "builtin" ? suites::load_builtin_suite() : suites::load_bbq({a->file});
      if (a->name == "builtin")
        for (const auto& t : suites::builtin_templates())
          if (int(&t - &suites::builtin_templates()[0]) < a->n)
            fmt::print("template {} ({}): targets {}; probes: {}\n", t.id, t.category, fmt::join(t.targets, ", "), t.note);
      fmt::print("{}: {} items ({}), {} skipped\n\n", s.name, s.items.size(), category_counts(s.items), s.skipped.size());
      for (size_t i = 0; i < s.items.size() && int(i) < a->n; ++i) show_item(s.items[i]);
    } else if (a->name == "corpus") {
      auto c = suites::load_corpus(a->file);
      std::string text = c.chat ? fmt::format("{} dialogues", c.dialogues.size()) : c.text.substr(0, 600);
      fmt::print("{} ({}):\n{}{}\n", c.name, c.source, text, !c.chat && c.text.size() > 600 ? " ..." : "");
    } else {
      need_file();
      auto s = a->name == "crows-pairs" ? suites::load_crows_pairs(a->file) : suites::load_stereoset(a->file);
      std::map<std::string, int> n;
      for (const auto& it : s.items) n[it.category]++;
      fmt::print("{}: {} items\n", s.name, s.items.size());
      for (const auto& [c, k] : n) fmt::print("  {:<24} {}\n", c, k);
      fmt::print("\n");
      const char* labels_crows[] = {"more stereotyping", "less stereotyping"};
      const char* labels_ss[] = {"stereotype", "anti-stereotype", "unrelated"};
      for (size_t i = 0; i < s.items.size() && int(i) < a->n; ++i) {
        const auto& it = s.items[i];
        fmt::print("{}  [{}{}{}]  ({})\n", it.id, it.category, it.target.empty() ? "" : ", target " + it.target,
                   it.direction.empty() ? "" : ", " + it.direction, it.source);
        for (size_t k = 0; k < it.sentences.size(); ++k)
          fmt::print("    {:<18} {}\n", s.name == "crows-pairs" ? labels_crows[k] : labels_ss[k], it.sentences[k]);
        fmt::print("\n");
      }
    }
    return 0;
  };
}

}  // namespace qaudit::cli
