#!/usr/bin/env bash
# items/s of the letters mode over HTTP (llama-server from the pinned release on 127.0.0.1)
# against in-process on the same model and items, and the scaling from one server process to two
# (the same cores split between them). Writes its table into bench/README.md.
#   bench/http_bench.sh [N_ITEMS]   (default 40 BBQ Religion items)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-40}"
source bench/common.sh
bin="$(cat .llama-prefix)/build/bin"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
cores="$(nproc)"
serve() {  # port threads slots
  "$bin/llama-server" -m "$model" --host 127.0.0.1 --port "$1" -t "$2" -np "$3" -c $((4096 * $3)) >"$tmp/server-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do
    if ./build/src/qaudit eval -q -m "http://127.0.0.1:$1/v1" --limit 1 --mode sample --seeds 1 --retries 0 -s "$tmp/probe.sqlite" >/dev/null 2>&1; then return; fi
    sleep 0.2
  done
  echo "llama-server on port $1 did not start" >&2; exit 1
}
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
calc() { awk "BEGIN { print $* }"; }
timed() {  # prints seconds
  local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); calc "$t1 - $t0"
}
t_local=$(timed ./build/src/qaudit eval -q -m "$model" --bbq "$bbq" --limit "$n" -s "$tmp/local.sqlite")
serve 18190 "$cores" 4
t_one=$(timed ./build/src/qaudit eval -q -m "http://127.0.0.1:18190/v1" --bbq "$bbq" --limit "$n" --concurrency 4 -s "$tmp/one.sqlite")
stop_all
serve 18191 $((cores / 2 > 0 ? cores / 2 : 1)) 2
serve 18192 $((cores / 2 > 0 ? cores / 2 : 1)) 2
t_two=$(timed ./build/src/qaudit eval -q -m "http://127.0.0.1:18191/v1,http://127.0.0.1:18192/v1" --bbq "$bbq" --limit "$n" --concurrency 4 -s "$tmp/two.sqlite")
stop_all
out="$tmp/table.md"
{
  echo "Measured $(date -u +%Y-%m-%d) on $cores cores, $(./build/src/qaudit --version), Qwen2.5-0.5B-shape generated model (F16), $n items of $(basename "$bbq"), letters mode."
  echo "Command: \`bench/http_bench.sh $n\`"
  echo
  echo "| | seconds | items/s | ratio |"
  echo "|---|---|---|---|"
  printf "| in-process (libllama, prefix tree) | %.1f | %.2f | 1.00 |\n" "$t_local" "$(calc "$n / $t_local")"
  printf "| HTTP, one llama-server (%s threads, 4 slots) | %.1f | %.2f | %.2f |\n" "$cores" "$t_one" "$(calc "$n / $t_one")" "$(calc "$t_local / $t_one")"
  printf "| HTTP, two llama-servers (%s thread(s) each, 2 slots each) | %.1f | %.2f | %.2f |\n" "$((cores / 2))" "$t_two" "$(calc "$n / $t_two")" "$(calc "$t_local / $t_two")"
  echo
  printf "Scaling from one server process to two on the same %s cores: **%.2fx** items/s.\n" "$cores" "$(calc "$t_one / $t_two")"
} >"$out"
cat "$out"
awk -v f="$out" '/<!-- RESULTS:http -->/{print; while((getline l < f)>0) print l; skip=1; next} /<!-- \/RESULTS:http -->/{skip=0} !skip' \
  bench/README.md >bench/README.md.new && mv bench/README.md.new bench/README.md
