#!/usr/bin/env bash
# Installs the Debian packages (if missing), configures and builds Parallax into build/.
# Sourced or run by the two quick-start commands; safe to run again (incremental).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/packaging/install-deps.sh"
cd "$root"
export CCACHE_DIR="${CCACHE_DIR:-$root/.ccache}"
if [ ! -f build/build.ninja ]; then
  cmake --preset default
fi
cmake --build build --parallel "$(nproc)"
