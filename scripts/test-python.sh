#!/usr/bin/env bash
# Builds the Python bindings (bindings/python) into a fresh virtual environment with
# maturin and runs their pytest suite. Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Share the workspace's build of the runtime crates (the bindings are not a member).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${RTFS_PY_VENV:-$(mktemp -d)/venv}"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "maturin>=1.5,<2" pytest
(cd bindings/python && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$venv/bin/maturin" develop --quiet)
"$venv/bin/python" -m pytest -q bindings/python/tests
