#!/usr/bin/env bash
# Installs the optional benchmarking tools:
#   - Lua 5.4, LuaJIT and hyperfine for `benches/compare` (cross-language comparison);
#   - valgrind and iai-callgrind-runner for `cargo bench --bench iai` and
#     `cargo bench --bench iai_startup` (instruction counts).
# Benchmarking only: no test needs them.
#
# Idempotent: a tool already on PATH is left alone, apt-get runs only when a Debian
# package is missing, and `cargo install` runs only when cargo has not installed
# iai-callgrind-runner at the version pinned below (another version is replaced). Needs root (or sudo) and
# Debian/Ubuntu's apt-get for the Debian packages, and cargo for the runner.
#
# Usage: scripts/install-bench-tools.sh
set -euo pipefail

# The runner's version must equal the iai-callgrind dev-dependency's (Cargo.lock).
IAI_RUNNER_VERSION=0.16.1

# command on PATH -> Debian package providing it
declare -A PACKAGE_FOR=(
  [lua5.4]=lua5.4
  [luajit]=luajit
  [hyperfine]=hyperfine
  [valgrind]=valgrind
)

missing=()
for cmd in "${!PACKAGE_FOR[@]}"; do
  if command -v "$cmd" >/dev/null 2>&1; then
    echo "ok: $cmd already installed ($(command -v "$cmd"))"
  else
    missing+=("${PACKAGE_FOR[$cmd]}")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: apt-get not found; install manually: ${missing[*]}" >&2
    exit 1
  fi
  # Use sudo only when not already root.
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The runner has no --version flag; cargo's install list records what it installed,
# e.g. "iai-callgrind-runner v0.16.1:".
runner_installed() {
  command -v iai-callgrind-runner >/dev/null 2>&1 \
    && command -v cargo >/dev/null 2>&1 \
    && cargo install --list | grep -qx "iai-callgrind-runner v$IAI_RUNNER_VERSION:"
}

if runner_installed; then
  echo "ok: iai-callgrind-runner $IAI_RUNNER_VERSION already installed ($(command -v iai-callgrind-runner))"
else
  if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; needed to install iai-callgrind-runner $IAI_RUNNER_VERSION" >&2
    exit 1
  fi
  echo "installing: iai-callgrind-runner $IAI_RUNNER_VERSION (cargo install, a few minutes)"
  cargo install iai-callgrind-runner --version "$IAI_RUNNER_VERSION" --locked
fi

echo "all benchmark tools present"
