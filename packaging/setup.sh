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
# The Khronos glTF validator, which the tests of every build tree (build/, build-headless/)
# run on exported GLB files (pinned version), in .tools/ beside them.
validator=.tools/node_modules/gltf-validator/package.json
if [ ! -f "$validator" ]; then
  npm install --prefix .tools --no-audit --no-fund --loglevel=error gltf-validator@2.0.0-dev.3.10 ||
    echo "setup: could not install gltf-validator from the npm registry; GLB validation will be skipped (CI fails)" >&2
fi
