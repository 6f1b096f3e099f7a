#!/usr/bin/env bash
# Sets everything up, builds qaudit, and runs the main job on its built-in default: the audit of a
# generated model's default ladder (Q8_0, Q6_K, Q4_K_M, Q3_K_M, Q2_K) on the built-in demo suite,
# reports in ./qaudit-audit. Extra arguments go to `qaudit run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build.sh release
./build/src/qaudit run "$@"
