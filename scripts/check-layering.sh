#!/usr/bin/env bash
# The layering check (ARCHITECTURE.md, "Layers"): the pure core crates may not depend, even
# indirectly, on a network, file-system, environment, process, terminal, command-line or
# async-runtime crate, nor on a host-layer crate of this workspace. Dev- and build-
# dependencies are not counted (`cargo tree -e normal`); every target platform is.
#
# Usage: scripts/check-layering.sh        exit 0 clean, 1 a core crate broke the rule
set -euo pipefail
cd "$(dirname "$0")/.."

CORE=(rtfs-ir rtfs-compiler rtfs-stdlib rtfs-jit rtfs-security rtfs-delegation rtfs-mesh rtfs-chain)

DENY=(
  # async runtimes and their I/O layers
  tokio tokio-util async-std smol async-io async-net async-process mio
  # HTTP, sockets, TLS, RPC
  reqwest hyper hyper-util h2 h3 http-body-util axum axum-core tower tower-http ureq curl
  isahc socket2 rustls native-tls openssl tonic quinn libp2p
  # git
  gix git2
  # files, directories, watching, memory-mapped files of the host
  tempfile dirs dirs-sys directories home notify walkdir fs2 fs-err fs4 same-file
  # processes, environment, terminals, command lines
  which nix subprocess duct dotenvy envy clap rustyline crossterm termion
  # the host layer of this workspace
  rtfs rtfs-runtime rtfs-models rtfs-mesh-io rtfs-io-runtime rtfs-examples
)

status=0
for crate in "${CORE[@]}"; do
  deps=$(cargo tree --locked -q -e normal --target all -p "$crate" --prefix none --format '{p}' |
    awk '{print $1}' | sort -u)
  for bad in "${DENY[@]}"; do
    if grep -qx -- "$bad" <<<"$deps"; then
      echo "layering: core crate $crate depends on $bad; path:" >&2
      cargo tree --locked -q -e normal --target all -p "$crate" -i "$bad" >&2 || true
      status=1
    fi
  done
done
if [ "$status" -eq 0 ]; then
  echo "layering: ${#CORE[@]} core crates free of ${#DENY[@]} denied crates"
fi
exit "$status"
