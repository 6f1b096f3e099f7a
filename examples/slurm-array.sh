#!/usr/bin/env bash
# A sharded audit as a Slurm job array: each array task evaluates one shard into its own store;
# a dependent job merges the stores and writes the report.
#
#   sbatch examples/slurm-array.sh            # submits the array and the merge job
#
# qaudit reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN), so the
# tasks need no --shard flag. Quantize once before (qaudit quantize, same --cache) so that the
# tasks share the variant cache instead of building it N times.
#SBATCH --job-name=qaudit-shard
#SBATCH --array=0-7
#SBATCH --cpus-per-task=16
#SBATCH --mem=32G
#SBATCH --output=qaudit-shard-%a.log
set -euo pipefail
SPEC="${SPEC:-examples/audit.toml}"
OUT="${OUT:-qaudit-audit}"
QAUDIT="${QAUDIT:-./build/src/qaudit}"

if [[ -n "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  mkdir -p "$OUT/shards"
  "$QAUDIT" run --spec "$SPEC" --quiet --store "$OUT/shards/shard-$SLURM_ARRAY_TASK_ID.sqlite"
  # The last task to finish submits nothing; the merge job below waits for all of them.
  exit 0
fi

# Not inside the array: submit it, then the merge + report job that runs after every task succeeded.
array_id=$(sbatch --parsable "$0")
sbatch --dependency=afterok:"$array_id" --job-name=qaudit-report --cpus-per-task=4 --wrap \
  "$QAUDIT merge -o $OUT/qaudit.sqlite $OUT/shards/shard-*.sqlite && $QAUDIT run --spec $SPEC --store $OUT/qaudit.sqlite --gate"
