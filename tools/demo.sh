#!/usr/bin/env bash
# End-to-end demo on generated VOC-format data: generate data + splits, train
# each method with tools/dist_train.sh (NPROC processes, CPU or GPU), evaluate
# with tools/test.py (writing a few prediction overlays), print the mIoU table.
#
#   PYTHON=.venv/bin/python NPROC=2 bash tools/demo.sh      (or: make demo)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python}
NPROC=${NPROC:-2}
OUT=${DEMO_DIR:-work_dirs/demo}
DATA=data/synthetic_voc
VOC=$DATA/VOCdevkit/VOC2012
# name | what the model is trained with | config
RUNS=(
  "full|masks on all 400 trainaug images (upper bound)|configs/baselines/deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py"
  "boxfill|100 masks + 300 box-only images, boxes filled as masks|configs/baselines/boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py"
)
start=$(date +%s)
if [ ! -f "$VOC/ImageSets/Segmentation/aug.txt" ]; then
    "$PY" tools/dataset_converters/generate_synthetic_voc.py --out-dir "$DATA"
fi
"$PY" tools/dataset_converters/make_splits.py "$VOC" \
    --labeled-lists ImageSets/Segmentation/train.txt --sizes 1/8 1/4
mkdir -p "$OUT"
: > "$OUT/runs.tsv"
for run in "${RUNS[@]}"; do
    IFS='|' read -r name what config <<< "$run"
    wd="$OUT/$name"
    echo "=== [$name] train: $config"
    PYTHON="$PY" bash tools/dist_train.sh "$config" "$NPROC" --work-dir "$wd"
    ckpt=$(cat "$wd/last_checkpoint")
    echo "=== [$name] test: $ckpt"
    "$PY" tools/test.py "$config" "$ckpt" --work-dir "$wd/test" --show-dir vis
    printf '%s\t%s\t%s\t%s\n' "$name" "$what" "$config" "$wd/test" >> "$OUT/runs.tsv"
done
"$PY" tools/analysis_tools/collect_results.py "$OUT/runs.tsv" --out "$OUT/results.md"
echo "prediction overlays: $(ls -d "$OUT"/*/test/vis/vis_data/vis_image | tr '\n' ' ')"
echo "demo finished in $(( $(date +%s) - start )) s"
