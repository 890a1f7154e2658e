#!/usr/bin/env bash
# Sparse reconstruction, Parallax vs COLMAP 3.8 (CPU, defaults, exhaustive matching),
# same photos, same machine, same run: registered photos, pose accuracy (AUC of the
# relative-pose error, median rotation error), wall time and peak memory.
# Usage: sparse_vs_colmap.sh PARALLAX_CLI [DATASET...]   (data from $PARALLAX_DATA)
set -uo pipefail
cli=$1; shift
data=${PARALLAX_DATA:-$(dirname "$0")/../../shared/data}
datasets=("$@")
[ ${#datasets[@]} -eq 0 ] && datasets=(middlebury_templeSparseRing strecha_fountain-P11)
command -v colmap >/dev/null || { echo "colmap is not installed (packaging/install-deps.sh)"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen

# seconds and peak KB of a command, appended to $work/usage
measure() { /usr/bin/time -f "%e %M" -a -o "$work/usage" "$@" >>"$work/log" 2>&1; }
sum_usage() { awk '{t+=$1; if ($2>m) m=$2} END {printf "%.1f %.2f", t, m/1048576}' "$work/usage"; }
score() {  # registered auc1 auc5 rot
  "$cli" evaluate-poses "$1" --gt "$2" --format "$3" --json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); a=d["auc"]; print("%d/%d %.3f %.3f %.3f %.3f" % (d["registered"], d["total"], a["1"], a["5"], a["10"], d["median_rotation_error_deg"]))'
}

printf "%-28s %-9s %-8s %-7s %-7s %-7s %-9s %-8s %-7s\n" dataset tool registered AUC@1 AUC@5 AUC@10 "rot.err" "wall s" "peak GB"
status=0
for ds in "${datasets[@]}"; do
  case $ds in
    middlebury_*) images=$data/$ds; gt=$data/$ds; fmt=middlebury ;;
    strecha_*) images=$data/$ds/images; gt=$data/$ds; fmt=strecha ;;
    *) echo "unknown dataset $ds"; continue ;;
  esac
  # Parallax: import to sparse model, one command.
  : > "$work/usage"
  measure "$cli" reconstruct "$images" "$work/$ds-parallax" --until sparse || status=1
  read -r pt pm < <(sum_usage)
  read -r preg pa1 pa5 pa10 prot < <(score "$work/$ds-parallax" "$gt" "$fmt")
  # COLMAP: extractor, exhaustive matcher, mapper (the GUI's automatic reconstruction steps).
  : > "$work/usage"
  db=$work/$ds-colmap.db; out=$work/$ds-colmap; mkdir -p "$out"
  measure colmap feature_extractor --database_path "$db" --image_path "$images" --SiftExtraction.use_gpu 0
  measure colmap exhaustive_matcher --database_path "$db" --SiftMatching.use_gpu 0
  measure colmap mapper --database_path "$db" --image_path "$images" --output_path "$out"
  read -r ct cm < <(sum_usage)
  read -r creg ca1 ca5 ca10 crot < <(score "$out/0" "$gt" "$fmt" || echo "0/0 0 0 0 nan")
  printf "%-28s %-9s %-8s %-7s %-7s %-7s %-9s %-8s %-7s\n" "$ds" parallax "$preg" "$pa1" "$pa5" "$pa10" "$prot" "$pt" "$pm"
  printf "%-28s %-9s %-8s %-7s %-7s %-7s %-9s %-8s %-7s\n" "$ds" colmap "$creg" "$ca1" "$ca5" "$ca10" "$crot" "$ct" "$cm"
  awk -v a="$pt" -v b="$ct" 'BEGIN {printf "%-28s time ratio parallax/colmap %.2f\n", "", a/b}'
done
exit $status
