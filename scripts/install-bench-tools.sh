#!/usr/bin/env bash
# Installs the optional tools used by `benches/compare` (cross-language benchmark
# comparison): Lua 5.4, LuaJIT and hyperfine. Benchmarking only: no test needs them.
#
# Idempotent: a tool already on PATH is left alone, and apt-get runs only when
# something is missing. Needs root (or sudo) and Debian/Ubuntu's apt-get.
#
# Usage: scripts/install-bench-tools.sh
set -euo pipefail

# command on PATH -> Debian package providing it
declare -A PACKAGE_FOR=(
  [lua5.4]=lua5.4
  [luajit]=luajit
  [hyperfine]=hyperfine
)

missing=()
for cmd in "${!PACKAGE_FOR[@]}"; do
  if command -v "$cmd" >/dev/null 2>&1; then
    echo "ok: $cmd already installed ($(command -v "$cmd"))"
  else
    missing+=("${PACKAGE_FOR[$cmd]}")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "all benchmark tools present"
  exit 0
fi

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
echo "done"
