#!/usr/bin/env bash
# NeuS on this machine's CPU (field_neus plugin), the issue's two surface measurements:
#  1. the synthetic statue sample (16 photos at 640x480, trained at 400x300 on the cameras
#     and sparse points of the project's own structure from motion), 15 minutes of
#     training: held-out PSNR and the Chamfer distance of the extracted surface to the true
#     mesh, the project aligned onto the sample's cameras (completeness over the truth two
#     or more photos see);
#  2. DTU scan24 at 800x600 with its masks, 30 minutes, on DTU's cameras and the project's
#     own sparse points aligned onto them: held-out PSNR, the mesh's components and
#     boundary edges (closed or not: the whole object, unseen underside included, so
#     field.mesh_seen_only is off), and a screenshot of it in the GUI.
# Usage: neus.sh PARALLAX_CLI [STATUE_SECONDS] [DTU_SECONDS]   (data from $PARALLAX_DATA)
set -uo pipefail
cli=$1
statueBudget=${2:-900}
dtuBudget=${3:-1800}
bin=$(dirname "$cli")
data=${PARALLAX_DATA:-$(dirname "$0")/../../shared/data}
out=${PARALLAX_BENCH_OUT:-$(mktemp -d)}
mkdir -p "$out"
status=0
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)"; exit 1; }

summary() {  # training.json -> one paragraph
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = d.get("mesh", {})
print("iterations %d in %.0f s; final sharpness %.0f; mesh %d faces, %d component(s), %d boundary edges%s" % (
    d["iterations"], d["train_seconds"], d["model"].get("sharpness", 0), m.get("faces", 0),
    m.get("components", 0), m.get("boundary_edges", 0), " (closed)" if m.get("closed") else ""))
print("PSNR of the probe view %s over training time:" % d.get("psnr_curve_view", ""))
for c in d["psnr_curve"]:
    print("  %7.0f s  %6d it  %6.2f dB" % (c["seconds"], c["iteration"], c["psnr"]))
PY
}

echo "== NeuS on the synthetic statue sample, ${statueBudget} s (the project's own cameras and sparse points)"
sample=$out/statue
[ -f "$sample/sample.json" ] || "$cli" sample statue "$sample" >/dev/null || exit 1
p=$out/statue-neus
rm -rf "$p"
"$cli" new "$p" "$sample/images" >/dev/null || exit 1
for stage in import features matching sparse ground_truth; do
  "$cli" run-stage "$p" $stage 2>&1 | tail -1 || exit 1
done
"$cli" set "$p" field.enabled=true field.method=neus \
  field.time_budget_s="$statueBudget" field.curve_interval_s=60 >/dev/null || exit 1
/usr/bin/time -f "peak memory %M KB, wall %e s" "$cli" run-stage "$p" field 2>&1 | grep -v "^frame" | tail -2 || status=1
summary "$p/fields/neus/training.json"
"$cli" evaluate-field "$p" --gt-mesh "$sample/ground_truth/mesh.ply" | tail -4 || status=1

dtu=$data/dtu_scan24
if [ ! -f "$dtu/cameras_sphere.npz" ]; then
  echo "dtu_scan24 not found under $data"; exit 1
fi
echo
echo "== NeuS on DTU scan24, 800x600 with masks, ${dtuBudget} s"
p=$out/dtu-neus
rm -rf "$p"
"$cli" new "$p" "$dtu/images" >/dev/null || exit 1
for stage in import features matching sparse; do
  "$cli" run-stage "$p" $stage 2>&1 | tail -1 || exit 1
done
"$cli" set "$p" field.enabled=true field.method=neus field.poses="$dtu/cameras_sphere.npz" \
  field.max_image_size=800 field.time_budget_s="$dtuBudget" field.curve_interval_s=120 \
  field.mesh_seen_only=false >/dev/null || exit 1
/usr/bin/time -f "peak memory %M KB, wall %e s" "$cli" run-stage "$p" field 2>&1 | grep -v "^frame" | tail -2 || status=1
summary "$p/fields/neus/training.json"
"$cli" evaluate-field "$p" | tail -2 || status=1
if command -v xvfb-run >/dev/null && [ -x "$bin/parallax" ]; then
  xvfb-run -a -s "-screen 0 1600x1000x24" "$bin/parallax" "$p" --screenshot "$out/dtu-neus.png" --layers mesh \
    >/dev/null 2>&1 && echo "screenshot: $out/dtu-neus.png"
fi
exit $status
