#!/usr/bin/env bash
# Sparse reconstruction, Parallax vs COLMAP 3.8 (CPU, defaults, exhaustive matching),
# same photos, same machine, same run: registered photos, pose accuracy (AUC of the
# relative-pose error, median rotation error), wall time and peak memory.
# Usage: sparse_vs_colmap.sh PARALLAX_CLI [DATASET...]   (data from $PARALLAX_DATA)
set -uo pipefail
cli=$1; shift
data=${PARALLAX_DATA:-$(dirname "$0")/../../shared/data}
datasets=("$@")
[ ${#datasets[@]} -eq 0 ] && datasets=(middlebury_templeSparseRing strecha_fountain-P11 dtu_scan24)
command -v colmap >/dev/null || { echo "colmap is not installed (packaging/install-deps.sh)"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)"; exit 1; }
. "$(dirname "$0")/common.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen

# seconds and peak KB of a command, appended to $work/usage
measure() { /usr/bin/time -f "%e %M" -a -o "$work/usage" "$@" >>"$work/log" 2>&1; }
sum_usage() { awk '{t+=$1; if ($2>m) m=$2} END {printf "%.1f %.2f", t, m/1048576}' "$work/usage"; }
# Per-stage wall seconds, features/matching/mapping. Parallax: the stage records (import
# counts with features); COLMAP: the three commands' lines in $work/usage.
parallax_stages() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stages"]; e=lambda k: s.get(k,{}).get("elapsed_s",0); print("%.1f/%.1f/%.1f" % (e("import")+e("features"), e("matching"), e("sparse")))' "$1/parallax.json"
}
colmap_stages() { awk '{printf "%s%.1f", (NR>1?"/":""), $1} END {print ""}' "$work/usage"; }

row() { printf "%-28s %-9s %-10s %-6s %-6s %-6s %-6s %-8s %-7s %-17s %-7s\n" "$@"; }
row dataset tool registered AUC@1 AUC@3 AUC@5 AUC@10 "rot.deg" "wall s" "feat/match/map s" "peak GB"
status=0
for ds in "${datasets[@]}"; do
  dataset_paths "$ds" || continue
  # Parallax: import to sparse model, one command.
  : > "$work/usage"
  measure "$cli" reconstruct "$images" "$work/$ds-parallax" --until sparse || status=1
  read -r pt pm < <(sum_usage)
  read -r preg pa1 pa3 pa5 pa10 prot < <(score "$work/$ds-parallax" "$gt" "$fmt")
  pstages=$(parallax_stages "$work/$ds-parallax")
  # COLMAP: extractor, exhaustive matcher, mapper (the GUI's automatic reconstruction steps).
  : > "$work/usage"
  db=$work/$ds-colmap.db; out=$work/$ds-colmap; mkdir -p "$out"
  measure colmap feature_extractor --database_path "$db" --image_path "$images" --SiftExtraction.use_gpu 0
  measure colmap exhaustive_matcher --database_path "$db" --SiftMatching.use_gpu 0
  measure colmap mapper --database_path "$db" --image_path "$images" --output_path "$out"
  read -r ct cm < <(sum_usage)
  cstages=$(colmap_stages)
  read -r creg ca1 ca3 ca5 ca10 crot < <(score "$out/0" "$gt" "$fmt" || echo "0/0 0 0 0 0 nan")
  row "$ds" parallax "$preg" "$pa1" "$pa3" "$pa5" "$pa10" "$prot" "$pt" "$pstages" "$pm"
  row "$ds" colmap "$creg" "$ca1" "$ca3" "$ca5" "$ca10" "$crot" "$ct" "$cstages" "$cm"
  awk -v a="$pt" -v b="$ct" -v m="$pm" -v n="$cm" \
    'BEGIN {printf "%-28s parallax/colmap: time %.2f, peak memory %.2f\n", "", a/b, (n > 0 ? m/n : 0)}'
done
exit $status
