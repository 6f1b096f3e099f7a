# Shared by the benchmark scripts: builds qaudit, generates the realistic-shape model once, and
# names the BBQ file. Sourced from the repository root.
bash scripts/build.sh release >/dev/null
model="${QAUDIT_BENCH_MODEL:-build/bench-qwen2.5-0.5b.gguf}"
[[ -f "$model" ]] || ./build/src/qaudit testmodel --preset qwen2.5-0.5b -o "$model"
bbq="${QAUDIT_BENCH_BBQ:-../shared/data/bbq/Religion.jsonl}"
