# Shared by the sparse benchmarks (sourced; $cli is parallax-cli, $data the data folder).

# Where a dataset's photos and ground truth are: sets images, gt, fmt; fails for an unknown name.
dataset_paths() {
  case $1 in
    middlebury_*) images=$data/$1; gt=$data/$1; fmt=middlebury ;;
    strecha_*) images=$data/$1/images; gt=$data/$1; fmt=strecha ;;
    dtu_*) images=$data/$1/images; gt=$data/$1; fmt=dtu ;;
    *) echo "unknown dataset $1"; return 1 ;;
  esac
}

# Pose accuracy of a model against ground truth: registered auc1 auc3 auc5 auc10 rot
score() {
  "$cli" evaluate-poses "$1" --gt "$2" --format "$3" --json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); a=d["auc"]; print("%d/%d %.3f %.3f %.3f %.3f %.3f" % (d["registered"], d["total"], a["1"], a["3"], a["5"], a["10"], d["median_rotation_error_deg"]))'
}
