#!/usr/bin/env bash
# Dense reconstruction on the CPU: Parallax's undistort -> mvs -> fusion -> mesh on
# real photo sets, stage by stage, with wall time and peak memory; COLMAP 3.8 side
# by side where it does the same job on the CPU (stereo_fusion and poisson_mesher on
# Parallax's depth maps; its patch_match_stereo needs CUDA, which is shown).
# Also: the exported GLB through the Khronos glTF validator, the share of points
# inside the object masks (DTU), and a screenshot of each result in the GUI.
# Usage: dense.sh PARALLAX_CLI PARALLAX_GUI [DATASET...]   (data from $PARALLAX_DATA,
# weights from $PARALLAX_MODELS, screenshots and reports into $PARALLAX_BENCH_OUT)
set -uo pipefail
cli=$1; gui=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
data=${PARALLAX_DATA:-$here/../../shared/data}
export PARALLAX_MODELS=${PARALLAX_MODELS:-$here/../../shared/models}
out=${PARALLAX_BENCH_OUT:-$PWD/bench-dense}
mkdir -p "$out"
datasets=("$@")
# dtu_scan24 runs without its masks (a scene's default: the visibility mesher);
# dtu_scan24+masks with them (masked photos: Poisson, closed).
[ ${#datasets[@]} -eq 0 ] && datasets=(middlebury_templeSparseRing strecha_fountain-P11 dtu_scan24 dtu_scan24+masks)
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen
validator="$here/../packaging/gltf-validate.js"
export NODE_PATH=${NODE_PATH:-$here/../.tools/node_modules}

# seconds and peak KB of a command, appended to $work/usage
measure() { /usr/bin/time -f "%e %M" -a -o "$work/usage" "$@" >>"$work/log" 2>&1; }
usage_line() { tail -n 1 "$work/usage"; }
output() {  # output() PROJECT STAGE KEY
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]+"/parallax.json"))["stages"].get(sys.argv[2],{}); print(s.get("outputs",{}).get(sys.argv[3],0))' "$@"
}
row() { printf "%-28s %-9s %-14s %-8s %-9s %-34s %-8s %-9s %-9s\n" "$@"; }

status=0
summary=()
for ds in "${datasets[@]}"; do
  sets=()
  name=$ds; ds=${ds%+masks}; tag=${name/+/-}
  case $name in
    middlebury_*) images=$data/$ds ;;
    strecha_*) images=$data/$ds/images; sets=(--set undistort.max_image_size=1536) ;;
    dtu_*+masks) images=$data/$ds/images; sets=(--set "undistort.mask_path=$data/$ds/mask") ;;
    dtu_*) images=$data/$ds/images ;;
    *) echo "unknown dataset $ds"; continue ;;
  esac
  [ -d "$images" ] || { echo "$ds: $images is missing"; status=1; continue; }
  project=$work/$tag
  echo "== $name: sparse (not timed here; see sparse_vs_colmap.sh)"
  if ! "$cli" reconstruct "$images" "$project" --until sparse "${sets[@]}" >>"$work/log" 2>&1; then
    echo "$ds: sparse failed"; tail -n 5 "$work/log"; status=1; continue
  fi
  registered=$(output "$project" sparse registered)
  # The dense stages one by one: time and peak memory of each worker.
  : > "$work/usage"
  times=()
  failed=0
  for stage in undistort mvs fusion mesh; do
    if ! measure "$cli" run-stage "$project" "$stage"; then failed=1; fi
    read -r t kb < <(usage_line)
    times+=("$t")
    stage_gb=$(awk -v k="$kb" 'BEGIN {printf "%.2f", k/1048576}')
    [ $failed -eq 1 ] && { echo "$ds: $stage failed"; tail -n 5 "$work/log"; status=1; break; }
  done
  [ $failed -eq 1 ] && continue
  dense_s=$(awk '{t+=$1} END {printf "%.0f", t}' "$work/usage")
  peak_gb=$(awk '{if ($2>m) m=$2} END {printf "%.2f", m/1048576}' "$work/usage")
  method=$(output "$project" mvs method)
  per_map=$(printf "%.1f" "$(output "$project" mvs seconds_per_map)")
  maps=$(output "$project" mvs depth_maps)
  points=$(output "$project" fusion points)
  faces=$(output "$project" mesh faces)
  mesher=$(output "$project" mesh method)
  unsupported=$(python3 -c 'import sys; print("%.1f" % (100*float(sys.argv[1])))' "$(output "$project" mesh unsupported_area_1pct)")
  size="$(output "$project" undistort width)x$(output "$project" undistort height)"
  stages="${times[0]}/${times[1]}/${times[2]}/${times[3]}"

  # COLMAP on the same depth maps (its fusion and Poisson mesher run on the CPU).
  colmap_row=""
  if command -v colmap >/dev/null; then
    : > "$work/usage"
    measure colmap stereo_fusion --workspace_path "$project/dense" --input_type photometric \
      --output_path "$work/$tag-colmap-fused.ply" || { echo "$ds: COLMAP stereo_fusion failed"; tail -n 3 "$work/log"; }
    read -r cf cfm < <(usage_line)
    measure colmap poisson_mesher --input_path "$work/$tag-colmap-fused.ply" \
      --output_path "$work/$tag-colmap-mesh.ply" || echo "$ds: COLMAP poisson_mesher failed"
    read -r cm cmm < <(usage_line)
    cpoints=$(head -c 2000 "$work/$tag-colmap-fused.ply" 2>/dev/null | grep -a -m1 "element vertex" | awk '{print $3}')
    cfaces=$(head -c 2000 "$work/$tag-colmap-mesh.ply" 2>/dev/null | grep -a -m1 "element face" | awk '{print $3}')
    cstereo=$(colmap patch_match_stereo --workspace_path "$project/dense" 2>&1 | grep -m1 -i "cuda" || true)
    colmap_row=$(printf "%s" "fusion ${cf}s, ${cpoints:-0} points; poisson_mesher ${cm}s, ${cfaces:-0} faces; peak $(awk -v a="${cfm:-0}" -v b="${cmm:-0}" 'BEGIN {printf "%.2f", (a>b?a:b)/1048576}') GB")
  fi

  # Exports: GLB through the Khronos validator.
  glb="$out/$tag-mesh.glb"
  "$cli" export "$project" --what mesh --format glb "$glb" >>"$work/log" 2>&1 || status=1
  gltf=$(node "$validator" "$glb" 2>&1 | python3 -c 'import json,sys
try:
  r=json.loads(sys.stdin.read()); print("%d errors, %d warnings" % (r["errors"], r["warnings"]))
except Exception as e: print("not validated")')
  case $gltf in 0\ errors*) ;; *) status=1 ;; esac

  # Masks (DTU): the share of points that fall inside the object in every photo.
  inside=""
  if [ "${ds#dtu_}" != "$ds" ]; then
    inside=$("$cli" evaluate-geometry "$project" --masks "$data/$ds/mask" --json 2>>"$work/log" |
      python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f%% of fused points, %.1f%% of mesh vertices inside the masks of every photo" % (100*d["fused"]["inside_masks"], 100*d["mesh"]["inside_masks"]))')
  fi

  # The result in the GUI.
  shot="$out/$tag.png"
  if command -v xvfb-run >/dev/null; then
    QT_QPA_PLATFORM=xcb timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" "$gui" --screenshot "$shot" --layers mesh "$project" >>"$work/log" 2>&1 || shot="(no screenshot)"
  fi

  row dataset photos size method "s/map" "dense s (undist/mvs/fus/mesh)" "peak GB" points faces
  row "$name" "$registered reg." "$size" "$method" "$per_map" "$dense_s ($stages)" "$peak_gb" "$points" "$faces"
  echo "  depth maps: $maps; mesh: $mesher (${times[3]} s, peak $stage_gb GB), ${unsupported}% of its area farther than 1% of the scene from any fused point; GLB: $gltf; screenshot: $shot"
  [ -n "$inside" ] && echo "  masks: $inside"
  [ -n "$colmap_row" ] && echo "  COLMAP 3.8 on these depth maps: $colmap_row"
  [ -n "${cstereo:-}" ] && echo "  COLMAP patch_match_stereo: $cstereo"
  echo
done
exit $status
