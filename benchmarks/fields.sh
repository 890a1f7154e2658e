#!/usr/bin/env bash
# Neural fields on this machine's CPU (field_nerf plugin):
#  1. the fused hash-grid kernel against the same encoding built from tensor operations
#     (points/s, forward + backward);
#  2. NeRF on nerf_synthetic_lego_train at 200x200: every 8th photo held out, 10 minutes of
#     training, held-out PSNR and SSIM, and the PSNR of the first held-out view over time.
# Usage: fields.sh PARALLAX_CLI [SECONDS]   (data from $PARALLAX_DATA)
set -uo pipefail
cli=$1
budget=${2:-600}
data=${PARALLAX_DATA:-$(dirname "$0")/../../shared/data}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
status=0
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)"; exit 1; }

echo "== Hash-grid encoding (16 levels x 2 features, 2^19 entries per level; points along rays)"
"$cli" benchmark-hashgrid --points 262144 || status=1

lego=$data/nerf_synthetic_lego_train
if [ ! -f "$lego/transforms_train.json" ]; then
  echo "nerf_synthetic_lego_train not found under $data"; exit 1
fi
echo
echo "== NeRF on lego, 200x200, every 8th photo held out, ${budget} s of training"
p=$work/lego
"$cli" new "$p" "$lego/train" >/dev/null && "$cli" run-stage "$p" import >/dev/null || exit 1
"$cli" set "$p" field.enabled=true field.poses="$lego/transforms_train.json" field.max_image_size=200 \
  field.time_budget_s="$budget" field.curve_interval_s=60 >/dev/null || exit 1
/usr/bin/time -f "peak memory %M KB, wall %e s" "$cli" run-stage "$p" field 2>&1 | grep -v "^frame" | tail -3 || status=1
python3 - "$p/fields/nerf/training.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("iterations %d in %.0f s (march %.0f s, density pass %.0f s, training pass %.0f s, Adam %.0f s)" % (
    d["iterations"], d["train_seconds"], d["seconds_in"]["march"], d["seconds_in"]["first_pass"],
    d["seconds_in"]["train_pass"], d["seconds_in"]["adam"]))
print("PSNR of the first held-out view over training time:")
print("  seconds  iteration  PSNR dB")
for c in d["psnr_curve"]:
    print("  %7.0f  %9d  %7.2f" % (c["seconds"], c["iteration"], c["psnr"]))
PY
"$cli" evaluate-field "$p" || status=1
exit $status
