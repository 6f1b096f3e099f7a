#!/usr/bin/env bash
# Runs the benchmarks on the realistic-shape generated model (Qwen2.5-0.5B shapes, F16) and
# writes their tables into bench/README.md between the RESULTS markers.
#   bench/run.sh [N_ITEMS]   (default 120 BBQ Religion items)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-120}"
source bench/common.sh
out="$(mktemp)"
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "$(./build/src/qaudit --version), model: generated qwen2 with Qwen2.5-0.5B shapes (F16), $n items of $(basename "$bbq")."
  echo "Command: \`bench/run.sh $n\`"
  echo
  ./build/bench/eval_bench "$model" "$bbq" "$n"
} >"$out"
modes="$(mktemp)"
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(./build/src/qaudit --version), same model, $n items of $(basename "$bbq")."
  echo "Command: \`bench/run.sh $n\` (runs \`build/bench/modes_bench\`)"
  echo
  ./build/bench/modes_bench "$model" "$bbq" "$n" ./build/src/qaudit "$(cat .llama-prefix)/build/bin"
} >"$modes"
cat "$modes"
cat "$out"
awk -v f="$out" '/<!-- RESULTS:eval -->/{print; while((getline l < f)>0) print l; skip=1; next} /<!-- \/RESULTS:eval -->/{skip=0} !skip' \
  bench/README.md >bench/README.md.new && mv bench/README.md.new bench/README.md
awk -v f="$modes" '/<!-- RESULTS:modes -->/{print; while((getline l < f)>0) print l; skip=1; next} /<!-- \/RESULTS:modes -->/{skip=0} !skip' \
  bench/README.md >bench/README.md.new && mv bench/README.md.new bench/README.md
