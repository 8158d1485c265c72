#!/usr/bin/env bash
# build.sh: configures and builds Kiln (compiler, runtimes, examples, tests) in build/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$root/build" all kiln-test-deps
