#!/usr/bin/env bash
# Textured meshes on the CPU: the texture stage after the default pipeline, with its
# time and peak memory beside the mesh stage's, and how well each mesh renders the
# photos (parallax-cli evaluate-texture: PSNR and SSIM from every photo's camera on the
# pixels the mesh covers): the full Poisson mesh with vertex colours (the issue's
# yardstick), the default mesh with vertex colours, the decimated mesh with vertex
# colours, and the decimated mesh with its texture; seams (colour step across chart
# borders against inside charts), atlas pages, GLB size and the Khronos validator.
# Usage: texture.sh PARALLAX_CLI [DATASET...]   (sample_statue or a folder of
# $PARALLAX_DATA; weights from $PARALLAX_MODELS; reports into $PARALLAX_BENCH_OUT)
set -uo pipefail
cli=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
data=${PARALLAX_DATA:-$here/../../shared/data}
export PARALLAX_MODELS=${PARALLAX_MODELS:-$here/../../shared/models}
out=${PARALLAX_BENCH_OUT:-$PWD/bench-texture}
mkdir -p "$out"
datasets=("$@")
[ ${#datasets[@]} -eq 0 ] && datasets=(sample_statue middlebury_templeSparseRing strecha_fountain-P11 dtu_scan24+masks)
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
validator="$here/../packaging/gltf-validate.js"
export NODE_PATH=${NODE_PATH:-$here/../.tools/node_modules}

stage() {  # stage PROJECT STAGE KEY: a stage's output (or elapsed_s)
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]+"/parallax.json"))["stages"].get(sys.argv[2],{}); k=sys.argv[3]; v=s.get(k) if k=="elapsed_s" else s.get("outputs",{}).get(k,0); print(v if not isinstance(v,list) else len(v))' "$@"
}
rows() {  # rows JSON: "faces psnr ssim" for each row of evaluate-texture
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in ("full_vertex_colours","light_vertex_colours","textured"): r=d[k]; print(k, r["faces"], "%.2f" % r["psnr"], "%.3f" % r["ssim"])
s=d["textured"]["seams"]; print("seams %.1f %.1f" % (s["border_step"], s["interior_step"]))' "$1"
}

status=0
for name in "${datasets[@]}"; do
  ds=${name%+masks}; tag=${name/+/-}; sets=()
  case $name in
    sample_statue) "$cli" sample statue "$work/statue" >/dev/null; images=$work/statue/images ;;
    middlebury_*) images=$data/$ds ;;
    strecha_*) images=$data/$ds/images; sets=(--set undistort.max_image_size=1536) ;;
    dtu_*+masks) images=$data/$ds/images; sets=(--set "undistort.mask_path=$data/$ds/mask") ;;
    dtu_*) images=$data/$ds/images ;;
    *) echo "unknown dataset $name"; status=1; continue ;;
  esac
  [ -d "$images" ] || { echo "$name: $images is missing"; status=1; continue; }
  project=$work/$tag
  echo "== $name: reconstruct to the mesh (not timed here; see dense.sh)"
  if ! "$cli" reconstruct "$images" "$project" --until mesh "${sets[@]}" >>"$work/log" 2>&1; then
    echo "$name: reconstruction failed"; tail -n 5 "$work/log"; status=1; continue
  fi
  if ! /usr/bin/time -f "%e %M" -o "$work/usage" "$cli" run-stage "$project" texture >>"$work/log" 2>&1; then
    echo "$name: texture failed"; tail -n 5 "$work/log"; status=1; continue
  fi
  read -r tex_s tex_kb < "$work/usage"
  mesh_s=$(stage "$project" mesh elapsed_s)
  mesher=$(stage "$project" mesh method)
  "$cli" evaluate-texture "$project" --json > "$out/$tag-texture.json" 2>>"$work/log" || { echo "$name: evaluate-texture failed"; status=1; continue; }
  # The issue's yardstick: the whole Poisson mesh with vertex colours.
  poisson="$mesher (the default)"
  if [ "$mesher" != poisson ]; then
    cp -r "$project" "$work/$tag-poisson"
    "$cli" run-stage "$work/$tag-poisson" mesh --set mesh.method=poisson >>"$work/log" 2>&1 &&
      "$cli" run-stage "$work/$tag-poisson" texture >>"$work/log" 2>&1 &&
      "$cli" evaluate-texture "$work/$tag-poisson" --json > "$out/$tag-poisson.json" 2>>"$work/log" &&
      poisson=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["full_vertex_colours"]; print("%d faces, PSNR %.2f dB, SSIM %.3f" % (r["faces"], r["psnr"], r["ssim"]))' "$out/$tag-poisson.json")
    rm -rf "$work/$tag-poisson"
  fi
  "$cli" export "$project" --what textured --format glb "$out/$tag-textured.glb" >>"$work/log" 2>&1
  glb_mb=$(du -m "$out/$tag-textured.glb" | cut -f1)
  verdict=$(node "$validator" "$out/$tag-textured.glb" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d errors, %d warnings" % (d["errors"], d["warnings"]))' 2>/dev/null || echo "validator did not run")
  echo "texture stage: $(printf '%.1f' "$tex_s") s, peak $(awk -v k="$tex_kb" 'BEGIN {printf "%.2f", k/1048576}') GB (mesh stage: $(printf '%.1f' "$mesh_s") s, $mesher);" \
       "$(stage "$project" texture charts) charts on $(stage "$project" texture pages) page(s), $(python3 -c 'import sys; print("%.2f%%" % (100*float(sys.argv[1])/max(1,float(sys.argv[2]))))' "$(stage "$project" texture untextured_faces)" "$(stage "$project" texture faces)") of the faces untextured"
  echo "Poisson mesh, vertex colours:   $poisson"
  rows "$out/$tag-texture.json" | while read -r what faces psnr ssim; do
    case $what in
      full_vertex_colours) echo "$mesher mesh, vertex colours: $faces faces, PSNR $psnr dB, SSIM $ssim" ;;
      light_vertex_colours) echo "decimated, vertex colours:     $faces faces, PSNR $psnr dB, SSIM $ssim" ;;
      textured) echo "decimated, textured:           $faces faces, PSNR $psnr dB, SSIM $ssim" ;;
      seams) echo "seams: colour step $faces at chart borders, $psnr inside charts (0-255)" ;;
    esac
  done
  echo "GLB: $glb_mb MB, $verdict ($out/$tag-textured.glb)"
done
exit $status
