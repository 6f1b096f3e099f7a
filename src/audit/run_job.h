// `qaudit run`: the audit end to end. Checks all input first, then quantizes the ladder (cached),
// evaluates the reference and every variant on every suite (resumable from the store), pairs
// each variant with the reference, and writes report.json, report.md, report.html, items.csv and
// junit.xml into the output directory.
#pragma once

#include <string>

#include "audit/spec.h"

namespace qaudit::audit {

struct RunOptions {
  RunSpec spec;
  bool gate = false;        // exit 1 when a gate check fails
  bool quiet = false;
  int shard_index = 0, shard_count = 1;  // evaluate only this shard's chunks; no report
  std::string command;      // recorded with each run
};

// Returns the exit code: 0, or 1 when gating and a check failed. Throws Error on bad input.
int run_audit(const RunOptions& o);

// Parses "i/N" (0-based i), or reads SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or Kubernetes'
// JOB_COMPLETION_INDEX (with QAUDIT_SHARD_COUNT) when `text` is empty. False when no sharding.
bool parse_shard(const std::string& text, int* index, int* count);

}  // namespace qaudit::audit
