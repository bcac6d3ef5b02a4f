#!/usr/bin/env bash
# Installs llama.cpp as tamp's test oracle and speed peer: the prebuilt CPU libraries of the npm package
# @node-llama-cpp/linux-x64 (pinned), the llama.h / ggml headers from the llama.cpp source bundled in the
# node-llama-cpp package of the same version, and oracle.c compiled against them by the machine's gcc.
#   scripts/llamacpp/install.sh [DIR]     DIR defaults to $TAMP_LLAMACPP_DIR or ~/.cache/tamp/llama.cpp-$VERSION
# Prints the directory holding `oracle` on success; idempotent (a finished install is reused at once).
# Exit 3 when npm, gcc or git is missing, 1 when a step fails; callers skip llama.cpp tests then, saying why.
set -euo pipefail
VERSION=3.22.1
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
dir="${1:-${TAMP_LLAMACPP_DIR:-$HOME/.cache/tamp/llama.cpp-$VERSION}}"
stamp="$dir/.installed-$(sha256sum "$here/oracle.c" | cut -c1-16)"
if [ -x "$dir/bin/oracle" ] && [ -f "$stamp" ]; then echo "$dir/bin"; exit 0; fi
for tool in npm gcc git tar; do
  command -v "$tool" >/dev/null || { echo "llama.cpp oracle: $tool not found" >&2; exit 3; }
done
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "llama.cpp oracle: prebuilt libraries only for Linux x86_64" >&2; exit 3; }
work="$(mktemp -d "${TMPDIR:-/tmp}/tamp-llamacpp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
# npm's cache makes the second fetch local; no install scripts run (the tarballs are only unpacked)
npm pack --silent "@node-llama-cpp/linux-x64@$VERSION" "node-llama-cpp@$VERSION" >/dev/null
tar xzf "node-llama-cpp-linux-x64-$VERSION.tgz" package/bins/linux-x64
mv package/bins/linux-x64 bin
tar xzf "node-llama-cpp-$VERSION.tgz" package/llama/gitRelease.bundle
git clone -q package/llama/gitRelease.bundle src 2>/dev/null
mkdir include
cp src/include/llama.h src/ggml/include/ggml*.h src/ggml/include/gguf.h include/
ln -s libllama.v0.5.0.so bin/libllama.so 2>/dev/null || true
ln -s libggml.v0.5.0.so bin/libggml.so 2>/dev/null || true
gcc -O2 -std=c11 -Wall -o bin/oracle "$here/oracle.c" -Iinclude -Lbin -lllama -lggml -lggml-base -Wl,-rpath,'$ORIGIN'
rm -rf "$dir.tmp" && mkdir -p "$(dirname "$dir")" && mkdir "$dir.tmp"
mv bin include "$dir.tmp/"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
touch "$dir/.installed-$(sha256sum "$here/oracle.c" | cut -c1-16)"
echo "$dir/bin"
