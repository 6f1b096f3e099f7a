#!/usr/bin/env bash
# Sets everything up, builds qaudit, and runs the main job on its built-in default: a generated
# model on the built-in demo suite. Extra arguments go to `qaudit eval`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build.sh release
./build/src/qaudit eval "$@"
