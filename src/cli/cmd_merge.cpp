#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "store/store.h"

namespace qaudit::cli {

Runner add_merge(CLI::App& app) {
  struct Args {
    std::string out;
    std::vector<std::string> inputs;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "Combines result stores (e.g. the shards of `qaudit run --shard i/N`) into one. Rows are keyed by model, suite,\n"
      "item, prompt, mode, temperature and seed; a row already in the output is kept, so merging is idempotent.\n"
      "Example:\n"
      "  qaudit merge -o merged.sqlite shard0.sqlite shard1.sqlite shard2.sqlite shard3.sqlite\n"
      "  qaudit run --spec audit.toml --store merged.sqlite      # the report; nothing is recomputed");
  app.add_option("-o,--out", a->out, "output store (created if missing)")->required();
  app.add_option("inputs", a->inputs, "stores to merge")->required()->expected(1, -1);
  return [a] {
    store::Store out(a->out);
    int64_t added = 0, conflicts = 0;
    for (const auto& in : a->inputs) {
      auto st = out.merge_from(in);
      fmt::print("{}: {} results added, {} already present{}\n", in, st.results_added, st.results_present,
                 st.conflicts ? fmt::format(" ({} with different values; kept the existing)", st.conflicts) : "");
      added += st.results_added;
      conflicts += st.conflicts;
    }
    fmt::print("{}: {} results in total ({} added)\n", a->out, out.count_results(), added);
    return 0;
  };
}

}  // namespace qaudit::cli
