#!/usr/bin/env bash
# Installs the Debian 12 packages Parallax builds and runs with (DESIGN §8).
# Idempotent: packages already present are skipped, so a second run is a no-op.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git file
  # GUI: Qt 6 Widgets + OpenGL widgets, VTK 9 (without its Qt 5 module), Mesa for Xvfb
  qt6-base-dev libqt6opengl6-dev libgl-dev libglx-dev libvtk9-dev
  xvfb xauth libgl1-mesa-dri mesa-utils
  # engine
  libeigen3-dev libceres-dev libopencv-dev libassimp-dev libopen3d-dev
  libexiv2-dev libsqlite3-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  # the visibility mesher: Delaunay tetrahedra (CGAL) and max-flow (Boost.Graph)
  libcgal-dev libboost-graph-dev
  # textured meshes exported as binary glTF
  libtinygltf-dev
  # plugins; OpenBLAS (the OpenMP build, as LibTorch threads with OpenMP) becomes the
  # system's libblas.so.3, twice as fast as Debian's generic ATLAS for the networks
  libtorch-dev libopenblas0-openmp
  # tests and benchmarks: COLMAP 3.8, the reference our databases and models must open in
  colmap time
)
# The Khronos glTF validator (an npm package, installed by setup.sh) runs on Node.js;
# a Node.js that is already installed (Debian's or NodeSource's, which bundles npm) will do.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
