#!/usr/bin/env bash
# End-to-end demo on generated VOC-format data: generate data + splits, train
# each run with tools/dist_train.sh (NPROC processes, CPU or GPU), evaluate it
# with tools/test.py (writing a few prediction overlays), print the mIoU table.
#
#   PYTHON=.venv/bin/python NPROC=2 bash tools/demo.sh [SET ...]   (or: make demo)
#
# A SET is a run list configs/demo/<SET>.txt (default: baselines): lines
#   name | description | config | train options | test options
# ({work} = the demo folder, {voc} = the generated VOC root, {python}; train
# options "@run" / "@run/iter_N.pth" evaluate that run's last / given
# checkpoint instead of training; config "!" runs the train options as a
# command, scored when it writes {work}/<name>/test/metrics.json).
# DEMO_REUSE=1 reuses a run's existing checkpoint instead of retraining.
# Every run is seeded (DEMO_SEED, default 0; a row's own randomness.seed
# wins), so that two fresh demos give the same table.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python}
NPROC=${NPROC:-2}
SEED=${DEMO_SEED:-0}
OUT=${DEMO_DIR:-work_dirs/demo}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)  # absolute: {work} in any option
DATA=data/synthetic_voc
VOC=$DATA/VOCdevkit/VOC2012
SETS=("$@")
[ ${#SETS[@]} -gt 0 ] || SETS=(baselines)
start=$(date +%s)
if [ ! -f "$VOC/ImageSets/Segmentation/aug.txt" ]; then
    "$PY" tools/dataset_converters/generate_synthetic_voc.py --out-dir "$DATA"
fi
"$PY" tools/dataset_converters/make_splits.py "$VOC" \
    --labeled-lists ImageSets/Segmentation/train.txt --sizes 1/8 1/4
"$PY" tools/dataset_converters/make_splits.py "$VOC" \
    --pool ImageSets/Segmentation/train.txt --sizes 1/2 \
    --out-dir ImageSets/Segmentation/splits/train
mkdir -p "$OUT"
for set in "${SETS[@]}"; do
    list=configs/demo/$set.txt
    [ -f "$list" ] || { echo "no run list $list" >&2; exit 2; }
    : > "$OUT/$set.tsv"
    while IFS='|' read -r name what config extra test_extra; do
        case "$name" in ''|'#'*) continue ;; esac
        wd="$OUT/$name"
        extra=${extra//\{work\}/$OUT}
        extra=${extra//\{voc\}/$VOC}
        extra=${extra//\{python\}/$PY}
        t0=$(date +%s)
        if [ "$config" = '!' ]; then  # a command (CAMs, pseudo-masks...)
            echo "=== [$set/$name] run: $extra"
            mkdir -p "$wd"
            eval "$extra" < /dev/null
            echo "=== [$set/$name] done in $(( $(date +%s) - t0 )) s"
            # a command that scores its output writes $wd/test/metrics.json
            if [ -f "$wd/test/metrics.json" ]; then
                printf '%s\t%s\t%s\t%s\n' "$name" "$what" '-' "$wd/test" >> "$OUT/$set.tsv"
            fi
            continue
        fi
        if [[ "$extra" == @*/* ]]; then  # another run's given checkpoint
            ckpt="$OUT/${extra#@}"
        elif [[ "$extra" == @* ]]; then  # another run's last checkpoint
            ckpt=$(cat "$OUT/${extra#@}/last_checkpoint")
        elif [ -n "${DEMO_REUSE:-}" ] && [ -f "$wd/last_checkpoint" ] && \
                [ -f "$(cat "$wd/last_checkpoint")" ]; then
            ckpt=$(cat "$wd/last_checkpoint")
            echo "=== [$set/$name] reusing $ckpt (DEMO_REUSE)"
        else
            echo "=== [$set/$name] train: $config $extra"
            # shellcheck disable=SC2086  # extra holds several options
            PYTHON="$PY" bash tools/dist_train.sh "$config" "$NPROC" --work-dir "$wd" \
                --cfg-options randomness.seed="$SEED" $extra
            ckpt=$(cat "$wd/last_checkpoint")
        fi
        echo "=== [$set/$name] test: $ckpt $test_extra"
        # shellcheck disable=SC2086  # test_extra holds several options
        "$PY" tools/test.py "$config" "$ckpt" --work-dir "$wd/test" --show-dir vis $test_extra
        echo "=== [$set/$name] done in $(( $(date +%s) - t0 )) s"
        printf '%s\t%s\t%s\t%s\n' "$name" "$what" "$config" "$wd/test" >> "$OUT/$set.tsv"
    done < "$list"
    echo "--- $set"
    "$PY" tools/analysis_tools/collect_results.py "$OUT/$set.tsv" --out "$OUT/$set.md"
done
echo "prediction overlays: $OUT/<run>/test/vis/vis_data/vis_image/"
echo "demo finished in $(( $(date +%s) - start )) s"
