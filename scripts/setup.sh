#!/usr/bin/env bash
# Installs everything qaudit needs on Debian 12 and builds the pinned llama.cpp release once
# into a cache outside the build tree. Safe to run again: finished steps are skipped.
#
#   QAUDIT_CACHE_DIR   where the llama.cpp build is cached (default ~/.cache/qaudit)
#   QAUDIT_GPU=cuda    also build llama.cpp's CUDA backend (needs the CUDA toolkit)
#   --test             also install what only the tests need (a headless browser for the HTML report)
set -euo pipefail
with_test=0
[[ "${1:-}" == "--test" ]] && with_test=1

LLAMA_NPM_PACKAGE="node-llama-cpp@3.21.1"   # ships llama.cpp's release as a git bundle
LLAMA_RELEASE="0.4.0"                        # the release that bundle holds (llama.cpp.info.json)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${QAUDIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qaudit}"
gpu="${QAUDIT_GPU:-cpu}"
log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
packages=(build-essential cmake ninja-build ccache pkg-config git ca-certificates
          libcli11-dev nlohmann-json3-dev libfmt-dev libsqlite3-dev sqlite3 libtomlplusplus-dev
          libxxhash-dev libboost-math-dev libeigen3-dev libcsv-dev libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev libssl-dev)
((with_test)) && packages+=(chromium fonts-liberation)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm only fetches the pinned llama.cpp release; a machine with Node.js already has it.
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- pinned llama.cpp ------------------------------------------------------------------------
# The cache key holds the release, the backend and the CPU's feature flags, because the build
# uses native instructions: a cache copied to another CPU must not be reused.
cpu_key="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-10)"
prefix="$cache/llama.cpp-$LLAMA_RELEASE-$gpu-$cpu_key"
if [[ -f "$prefix/.complete" ]]; then
  log "llama.cpp $LLAMA_RELEASE ($gpu) cached at $prefix"
else
  log "building llama.cpp $LLAMA_RELEASE ($gpu) into $prefix (once; about 5-10 minutes on 2 cores)"
  rm -rf "$prefix"; mkdir -p "$prefix"
  work="$(mktemp -d "$cache/work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$LLAMA_NPM_PACKAGE" >/dev/null && tar xzf node-llama-cpp-*.tgz)
  got="$(sed -n 's/.*"tag": *"v\{0,1\}\([^"]*\)".*/\1/p' "$work/package/llama/llama.cpp.info.json")"
  [[ "$got" == "$LLAMA_RELEASE" ]] || { log "expected llama.cpp $LLAMA_RELEASE, package holds $got"; exit 1; }
  git clone -q "$work/package/llama/gitRelease.bundle" "$prefix/src" 2>/dev/null
  rm -rf "$prefix/src/.git"
  gpu_flags=()
  [[ "$gpu" == cuda ]] && gpu_flags=(-DGGML_CUDA=ON)
  cmake -S "$prefix/src" -B "$prefix/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_IS_DEV=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_TOOLS_INSTALL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    "${gpu_flags[@]}" >"$prefix/configure.log" 2>&1 || { tail -30 "$prefix/configure.log"; exit 1; }
  # The library, plus the reference tools that tests and benchmarks compare against.
  cmake --build "$prefix/build" -j"$(nproc)" --target llama ggml llama-quantize \
    llama-perplexity llama-imatrix llama-server >"$prefix/build.log" 2>&1 \
    || { tail -40 "$prefix/build.log"; exit 1; }
  cmake --install "$prefix/build" >/dev/null
  mkdir -p "$prefix/share/qaudit/vocab"
  cp "$prefix/src/models/"ggml-vocab-{llama-spm,qwen2,phi-3}.gguf "$prefix/share/qaudit/vocab/"
  touch "$prefix/.complete"
  trap - EXIT; rm -rf "$work"
fi
echo "$prefix" >"$here/.llama-prefix"
