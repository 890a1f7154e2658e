#!/usr/bin/env bash
# Quick start (a): set up, generate the bundled synthetic sample, reconstruct it,
# export the results, and open them in the GUI. Without a display the paths of
# the results are printed and a screenshot of the window is rendered with Xvfb.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/packaging/setup.sh"
bin="$root/build/bin"
out="${PARALLAX_OUT:-$root/out}"
photos="$out/statue"
project="$out/statue-project"
exports="$project/exports"
# Learned stages (PatchmatchNet) find their weights here when ../shared is beside the
# project; without them the classical path runs and says which file is missing.
if [ -z "${PARALLAX_MODELS:-}" ] && [ -d "$root/../shared/models" ]; then
  export PARALLAX_MODELS="$(cd "$root/../shared/models" && pwd)"
fi

if [ ! -f "$photos/sample.json" ]; then
  "$bin/parallax-cli" sample statue "$photos"
fi
"$bin/parallax-cli" reconstruct "$photos/images" "$project"
mkdir -p "$exports"
"$bin/parallax-cli" export "$project" --what textured --format glb "$exports/textured.glb"
"$bin/parallax-cli" export "$project" --what textured --format obj "$exports/textured.obj"
"$bin/parallax-cli" export "$project" --what mesh --format glb "$exports/mesh.glb"
"$bin/parallax-cli" export "$project" --what mesh --format obj "$exports/mesh.obj"
"$bin/parallax-cli" export "$project" --what mesh --format ply "$exports/mesh.ply"
"$bin/parallax-cli" export "$project" --what sparse --format ply "$exports/sparse-points.ply"
"$bin/parallax-cli" export "$project" --what dense --format ply "$exports/dense-points.ply"
"$bin/parallax-cli" export "$project" --what sparse --format colmap "$exports/colmap"

echo
echo "Photos:         $photos/images"
echo "Project:        $project   (COLMAP layout: database.db, sparse/0, dense/fused.ply, dense/meshed-delaunay.ply)"
echo "Exports:        $exports   (textured.glb, textured.obj + .mtl + _0.png, mesh.glb, mesh.obj, mesh.ply, sparse-points.ply, dense-points.ply, colmap/)"
if [ -n "${DISPLAY:-}" ] && [ -z "${PARALLAX_SCREENSHOT:-}" ]; then
  echo "Opening the project in Parallax…"
  exec "$bin/parallax" "$project"
fi
shot="${PARALLAX_SCREENSHOT:-$exports/screenshot.png}"
if [ -n "${DISPLAY:-}" ]; then
  QT_QPA_PLATFORM=xcb "$bin/parallax" --screenshot "$shot" "$project"
else
  echo "No display: rendering the window under Xvfb instead."
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" "$bin/parallax" --screenshot "$shot" "$project"
fi
echo "Screenshot:     $shot"
echo "To explore it interactively on a desktop: $bin/parallax $project"
