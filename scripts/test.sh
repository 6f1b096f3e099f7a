#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite; then builds qaudit's own code with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the unit tests there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
bash scripts/build.sh release
ctest --preset release -j"$(nproc)"
bash scripts/build.sh asan
ctest --preset asan -j"$(nproc)"
