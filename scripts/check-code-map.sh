#!/usr/bin/env bash
# ARCHITECTURE.md's code map names every .rs file of every crate; fails listing the missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=0
while IFS= read -r f; do
  if ! grep -qF -- "\`$f\`" ARCHITECTURE.md; then
    echo "code map: ARCHITECTURE.md does not list $f" >&2
    missing=1
  fi
done < <(git ls-files --cached --others --exclude-standard '*.rs')
exit "$missing"
