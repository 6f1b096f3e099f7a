// Each subcommand registers its flags on the app and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace qaudit::cli {

using Runner = std::function<int()>;

Runner add_eval(CLI::App& app);
Runner add_testmodel(CLI::App& app);
Runner add_quantize(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_merge(CLI::App& app);
Runner add_gate(CLI::App& app);
Runner add_ppl(CLI::App& app);
Runner add_suites(CLI::App& app);
Runner add_import(CLI::App& app);
Runner add_imatrix(CLI::App& app);

}  // namespace qaudit::cli
