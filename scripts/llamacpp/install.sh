#!/usr/bin/env bash
# Installs llama.cpp as tamp's test oracle and speed peer: the prebuilt CPU libraries of the npm package
# @node-llama-cpp/linux-x64 (pinned), the llama.h / ggml headers from the llama.cpp source bundled in the
# node-llama-cpp package of the same version, and oracle.c compiled against them by the machine's gcc.
#   scripts/llamacpp/install.sh [DIR]     DIR defaults to $TAMP_LLAMACPP_DIR or ~/.cache/tamp/llamacpp/$VERSION
# Prints the path of the oracle binary on success. Idempotent: the libraries are fetched once; the binary is
# named by oracle.c's hash, so checkouts with different oracle.c versions share one install without clashing.
# Exit 3 when npm, gcc or git is missing, 1 when a step fails; callers skip llama.cpp tests then, saying why.
set -euo pipefail
VERSION=3.22.1
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
dir="${1:-${TAMP_LLAMACPP_DIR:-$HOME/.cache/tamp/llamacpp/$VERSION}}"
oracle="$dir/bin/oracle-$(sha256sum "$here/oracle.c" | cut -c1-12)"
if [ -x "$oracle" ]; then echo "$oracle"; exit 0; fi
for tool in npm gcc git tar; do
  command -v "$tool" >/dev/null || { echo "llama.cpp oracle: $tool not found" >&2; exit 3; }
done
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "llama.cpp oracle: prebuilt libraries only for Linux x86_64" >&2; exit 3; }
if [ ! -f "$dir/.libraries-installed" ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/tamp-llamacpp.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    # npm's cache makes a second fetch local; nothing is installed or run from the tarballs, they are only unpacked
    npm pack --silent "@node-llama-cpp/linux-x64@$VERSION" "node-llama-cpp@$VERSION" >/dev/null
    tar xzf "node-llama-cpp-linux-x64-$VERSION.tgz" package/bins/linux-x64
    mkdir -p lib/include
    mv package/bins/linux-x64 lib/bin
    tar xzf "node-llama-cpp-$VERSION.tgz" package/llama/gitRelease.bundle
    git clone -q package/llama/gitRelease.bundle src 2>/dev/null
    cp src/include/llama.h src/ggml/include/ggml*.h src/ggml/include/gguf.h lib/include/
    ln -s libllama.v0.5.0.so lib/bin/libllama.so
    ln -s libggml.v0.5.0.so lib/bin/libggml.so
    touch lib/.libraries-installed
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir.partial" && mv lib "$dir.partial" && rm -rf "$dir" && mv "$dir.partial" "$dir"
  )
fi
tmp="$oracle.$$"
gcc -O2 -std=c11 -Wall -o "$tmp" "$here/oracle.c" -I"$dir/include" -L"$dir/bin" -lllama -lggml -lggml-base -Wl,-rpath,'$ORIGIN'
mv "$tmp" "$oracle"
echo "$oracle"
