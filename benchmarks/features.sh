#!/usr/bin/env bash
# Every installed features method (SIFT and the learned ones the plugins add) side by
# side, two ways:
#  1. the ports checked without upstream code: real photos warped by known random
#     homographies (viewpoint and illumination, as HPatches), repeatability and mean
#     matching accuracy (MMA) at 1/3/5 px with mutual nearest neighbours;
#  2. reconstruction with each feature type (Parallax's matcher and mapper; COLMAP 3.8's
#     SIFT pipeline beside it): registered photos, pose AUC@1/3/5/10, extraction time.
# Usage: features.sh PARALLAX_CLI [DATASET...]   (data from $PARALLAX_DATA, weights from $PARALLAX_MODELS)
set -uo pipefail
cli=$1; shift
data=${PARALLAX_DATA:-$(dirname "$0")/../../shared/data}
export PARALLAX_MODELS=${PARALLAX_MODELS:-$(dirname "$0")/../../shared/models}
datasets=("$@")
[ ${#datasets[@]} -eq 0 ] && datasets=(middlebury_templeSparseRing strecha_fountain-P11)
. "$(dirname "$0")/common.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen
status=0

echo "== Warped photos (30 pairs from templeSparseRing, fountain-P11, DTU scan24; 640 px; mutual NN)"
"$cli" evaluate-features "$data/middlebury_templeSparseRing" "$data/strecha_fountain-P11/images" \
  "$data/dtu_scan24/images" --pairs 30 || status=1

echo
methods=$(python3 -c 'import json,sys; print(" ".join(m["name"] for s in json.load(sys.stdin) if s["stage"] == "features" for m in s["methods"]))' < <("$cli" params features --json))
echo "== Reconstruction (exhaustive matching, defaults; extraction time per photo on this machine)"
stage_s() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stages"]; print("%.2f" % s.get(sys.argv[2],{}).get("elapsed_s",0))' "$1/parallax.json" "$2"; }
row() { printf "%-28s %-16s %-10s %-6s %-6s %-6s %-6s %-8s %-13s %-9s\n" "$@"; }
row dataset features registered AUC@1 AUC@3 AUC@5 AUC@10 "rot.deg" "extract s/img" "match s"
for ds in "${datasets[@]}"; do
  dataset_paths "$ds" || continue
  n=$(find "$images" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' \) | wc -l)
  for m in $methods; do
    p=$work/$ds-$m
    "$cli" reconstruct "$images" "$p" --until sparse --set features.method=$m >"$work/log" 2>&1 || { status=1; tail -3 "$work/log"; }
    grep -q "unavailable:" "$work/log" && { echo "$m: unavailable ($(grep -o 'unavailable:.*' "$work/log" | head -1))"; status=1; }
    read -r reg a1 a3 a5 a10 rot < <(score "$p" "$gt" "$fmt" || echo "0/0 0 0 0 0 nan")
    fs=$(stage_s "$p" features); ms=$(stage_s "$p" matching)
    per=$(awk -v t="$fs" -v n="$n" 'BEGIN {printf "%.3f", t / n}')
    label=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT type FROM parallax_features LIMIT 1").fetchone()[0])' "$p/database.db" 2>/dev/null || echo "$m")
    row "$ds" "$label" "$reg" "$a1" "$a3" "$a5" "$a10" "$rot" "$per" "$ms"
  done
  if command -v colmap >/dev/null; then
    db=$work/$ds-colmap.db; out=$work/$ds-colmap; mkdir -p "$out"
    start=$(date +%s.%N)
    colmap feature_extractor --database_path "$db" --image_path "$images" --SiftExtraction.use_gpu 0 >/dev/null 2>&1
    fe=$(awk -v s="$start" -v e="$(date +%s.%N)" -v n="$n" 'BEGIN {printf "%.3f", (e - s) / n}')
    start=$(date +%s.%N)
    colmap exhaustive_matcher --database_path "$db" --SiftMatching.use_gpu 0 >/dev/null 2>&1
    me=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
    colmap mapper --database_path "$db" --image_path "$images" --output_path "$out" >/dev/null 2>&1
    read -r reg a1 a3 a5 a10 rot < <(score "$out/0" "$gt" "$fmt" || echo "0/0 0 0 0 0 nan")
    row "$ds" "colmap 3.8 sift" "$reg" "$a1" "$a3" "$a5" "$a10" "$rot" "$fe" "$me"
  fi
done
exit $status
