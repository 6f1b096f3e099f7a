#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "engine/eval.h"
#include "store/store.h"
#include "suites/bbq.h"
#include "suites/builtin.h"
#include "suites/demo.h"
#include "suites/imported.h"

namespace qaudit::cli {

Runner add_import(CLI::App& app) {
  struct Args {
    std::string format, file, name, store = "qaudit.sqlite";
    std::vector<std::string> columns, bbq;
    bool builtin = false, demo = false;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "Per-item answers produced elsewhere become variants in the store, analysed like qaudit's own runs\n"
      "(qaudit run --imported REFERENCE,VARIANT,...). Text answers are read as lm-evaluation-harness's generate\n"
      "task reads them; answers matching no option are counted.\n"
      "Examples:\n"
      "  qaudit import bbq-columns BBQ/results/UnifiedQA/Religion_predictions.jsonl\n"
      "  qaudit import lmeval samples_bbq_2025-01-01.jsonl --name llama-q4\n"
      "  qaudit import csv answers.csv --builtin          # item_id,variant,answer (or p0,p1,p2)\n"
      "  qaudit run --imported f16,q8,q4 --bbq BBQ/data/Religion.jsonl --no-ppl");
  app.add_option("format", a->format, "bbq-columns, lmeval or csv")->required()->check(CLI::IsMember({"bbq-columns", "lmeval", "csv"}));
  app.add_option("file", a->file, "the predictions file")->required();
  app.add_option("--column", a->columns, "bbq-columns: prediction columns to import (default: every non-BBQ string field)");
  app.add_option("--name", a->name, "lmeval: the variant's name (default: the file name)");
  app.add_option("--bbq", a->bbq, "csv: the BBQ files the item ids refer to")->expected(1, -1);
  app.add_flag("--builtin", a->builtin, "csv: the ids refer to the built-in suite");
  app.add_flag("--demo", a->demo, "csv: the ids refer to the demo suite");
  app.add_option("-s,--store", a->store, "SQLite results store")->capture_default_str();
  return [a] {
    suites::Imported im;
    if (a->format == "bbq-columns") {
      im = suites::import_bbq_columns(a->file, a->columns);
    } else if (a->format == "lmeval") {
      im = suites::import_lmeval_samples(a->file, a->name);
    } else {
      if (a->bbq.empty() && !a->builtin && !a->demo)
        throw Error(ErrorSite{"", 0, "--bbq/--builtin/--demo"}, "a CSV of predictions needs the suite its item ids refer to",
                    "pass --bbq FILES, --builtin or --demo");
      auto suite = !a->bbq.empty() ? suites::load_bbq(a->bbq) : a->builtin ? suites::load_builtin_suite() : suites::load_demo_suite();
      im = suites::import_csv(a->file, suite);
    }
    store::Store store(a->store);
    store.put_items(im.suite.name, im.suite.version, im.suite.items);
    std::map<std::string, const suites::Item*> by_id;
    for (const auto& it : im.suite.items) by_id[it.id] = &it;
    for (const auto& v : im.variants) {
      std::string hash = "imported:" + v.name;
      store.put_model({hash, std::filesystem::absolute(a->file).string(), 0, "imported", im.format, 0});
      int64_t run_id = store.begin_run({hash, im.suite.name, "qaudit import " + a->format + " " + a->file, "imported"});
      std::vector<store::ResultRow> rows;
      for (const auto& ans : v.answers) {
        store::ResultRow r;
        r.key = {hash, im.suite.name, ans.item_id, "import", "imported", 1.0, -1};
        r.probs = ans.probs;
        r.probs_t1 = ans.probs;
        double s = 0;
        for (double p : ans.probs) s += p;
        r.invalid = r.invalid_t1 = std::max(0.0, 1.0 - s);
        r.answer = ans.answer;
        r.raw_text = ans.raw;
        r.parse_rule = ans.rule;
        r.k = 1;
        const auto* it = by_id[ans.item_id];
        r.p_stereo_k = it && it->stereotyped >= 0 ? ans.probs[size_t(it->stereotyped)] : 0;
        auto c = engine::confidence(ans.probs);
        r.entropy = c.entropy;
        r.max_prob = c.max_prob;
        r.run_id = run_id;
        rows.push_back(std::move(r));
      }
      int added = store.put_results(rows);
      store.finish_run(run_id);
      fmt::print("{:<32} {:>6} answers ({} new), {} matched no option\n", v.name, v.answers.size(), added, v.unmatched);
    }
    fmt::print("suite {}: {} items, {} skipped (option roles undecidable); store {}\n", im.suite.name, im.suite.items.size(),
               im.suite.skipped.size(), a->store);
    return 0;
  };
}

}  // namespace qaudit::cli
