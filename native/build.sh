#!/usr/bin/env bash
# Builds libtampkernels.so with the machine's gcc, run by Maven (exec-maven-plugin) at generate-resources:
#   native/build.sh OUT_DIR
# Each ISA variant is compiled with its own -m flags into one library; the variant is chosen at run time from the
# CPU's features. Without gcc (or JDK headers, or on a CPU family with no variant here) it prints one warning and
# exits 0: the build passes and tamp runs its Java kernels.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT_DIR}"
src="$here/src/main/c"
cc="${CC:-gcc}"
warn() { echo "[WARNING] tamp-native: $1; the Java kernels will run" >&2; exit 0; }
command -v "$cc" > /dev/null 2>&1 || warn "no C compiler ($cc) found"
[ "$(uname -s)" = Linux ] || warn "native kernels are built for Linux only"
arch="$(uname -m)"
[ "$arch" = x86_64 ] || warn "no kernels for $arch yet"
jhome="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac || command -v java)")")")}"
[ -f "$jhome/include/jni.h" ] || warn "no jni.h under $jhome/include (set JAVA_HOME to a JDK)"
obj="$(mktemp -d)"
trap 'rm -rf "$obj"' EXIT
flags=(-O3 -fPIC -std=c11 -Wall -Wextra -Werror -fno-strict-aliasing -I"$src" -I"$jhome/include" -I"$jhome/include/linux")
"$cc" "${flags[@]}" -c "$src/plan.c" -o "$obj/plan.o"
"$cc" "${flags[@]}" -c "$src/jni.c" -o "$obj/jni.o"
"$cc" "${flags[@]}" -mavx2 -mfma -c "$src/kernels_avx2.c" -o "$obj/avx2.o"
"$cc" "${flags[@]}" -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -c "$src/kernels_avx512.c" -o "$obj/avx512.o"
"$cc" "${flags[@]}" -mavx512f -mfma -c "$src/rowops_avx512.c" -o "$obj/rowops_avx512.o"
mkdir -p "$out/dev/tamp/nativekernels/linux-x86_64"
lib="$out/dev/tamp/nativekernels/linux-x86_64/libtampkernels.so"
"$cc" -shared -o "$lib.tmp" "$obj"/*.o -lm
mv "$lib.tmp" "$lib"
echo "tamp-native: built $lib" >&2
