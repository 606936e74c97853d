#!/bin/bash
# cls-v16 on a lent GPU machine (one H200, 16 cores, no network; README.md beside this file): the union mix
# (cls-v7's daylight data + crops mined under conditions and from near and touching signs + the three new kinds of
# cls-v13), then two fine-tunes of cls-v13 side by side (lr0 5e-4 and 1e-4), 18 epochs each in 194 s.
# It ran from the repository root with a folder .gpu/ beside it (git-ignored, carried to the machine) holding:
#   .gpu/site/   ultralytics 8.4.190, thop and ultralytics_platform copied from .venv, and a two-line polars stand-in
#   .gpu/data/   ../shared/data's signs/png + INDEX.txt, fonts/, backgrounds/ and rtsd-meta/
#   .gpu/cls-v13.pt = benchmarks/experiments/cls-v13/weights/best.pt
# and wrote the weights and logs to $OUT. A dry run on this CPU: OUT=/tmp/o SCALE=0.1 MSCALE=0.005 DEVICE=cpu
# BUDGET_S=110 PY=.venv/bin/python bash .gpu/job.sh
set -u
T0=$(date +%s)
G=$PWD/.gpu
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
export PYTHONPATH=$G/site:$PWD ASTUTE_DATA=$G/data ASTUTE_HOME=/tmp/astute-home OMP_NUM_THREADS=1 ASTUTE_THREADS=1
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=${PY:-python3}
SCALE=${SCALE:-1}          # 1 on the GPU machine; a local dry run uses a small fraction
DEVICE=${DEVICE:-0}
D=${DS:-/tmp/ds}
rm -rf "$D" runs benchmarks/experiments/cls-v16a benchmarks/experiments/cls-v16b
mkdir -p "$D"
el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
el "start: $(nproc) cores"; nvidia-smi -L 2>/dev/null
$PY -c "import ultralytics, torch, cv2, numpy; print('ultralytics', ultralytics.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())" || exit 3

NEW=5_1,5_2,5_23_1,5_23_2,5_24_1,5_24_2,5_25,5_26,5_31,5_32
ADD=4_6,4_7,3_15
VALUED=3_11_n13,3_11_n17,3_11_n20,3_11_n23,3_11_n5,3_11_n8,3_11_n9,3_12_n10,3_12_n3,3_12_n5,3_12_n6,3_13_r2.5,3_13_r3,3_13_r3.3,3_13_r3.5,3_13_r3.7,3_13_r3.9,3_13_r4,3_13_r4.1,3_13_r4.2,3_13_r4.3,3_13_r4.5,3_13_r5,3_13_r5.2,3_14_r2.7,3_14_r3,3_14_r3.5,3_14_r3.7,3_24_n10,3_24_n20,3_24_n30,3_24_n40,3_24_n5,3_24_n50,3_24_n60,3_24_n70,3_24_n80,3_25_n20,3_25_n40,3_25_n50,3_25_n70,3_25_n80,6_2_n20,6_2_n40,6_2_n50,6_2_n60,6_2_n70
CONDS=clear,dusk,night,winter,rain,fog,glare
DET=astute_cli/models/detector.onnx
S="$PY -m astute_cli synth classifier"
n() { $PY -c "print(max(1, round($1 * $SCALE)))"; }
MSCALE=${MSCALE:-$SCALE}
m() { $PY -c "print(max(1, round($1 * $MSCALE)))"; }

# generated crops (as cls-v13's l40, l11, n41, o42; new seeds)
$S "$D/g60" --per-class "$(n 60)" --seed 60 --size 64 --workers 2 --extra-classes $NEW,$ADD > "$D/g60.log" 2>&1 &
$S "$D/l61" --per-class "$(n 500)" --seed 61 --size 64 --workers 1 --extra-classes $NEW,$ADD \
    --only-classes $NEW,background > "$D/l61.log" 2>&1 &
$S "$D/n62" --per-class "$(n 400)" --seed 62 --size 64 --workers 1 --extra-classes $NEW,$ADD --only-classes $ADD \
    --open-values 1.0 > "$D/n62.log" 2>&1 &
$S "$D/o63" --per-class "$(n 60)" --seed 63 --size 64 --workers 1 --open-values 1.0 --only-classes $VALUED \
    > "$D/o63.log" 2>&1 &
# crops det-v5 cuts: clear city streets, half without a sign (as cls-v7's m24); streets under conditions (as m36);
# near and touching signs under conditions (as m37)
$S "$D/m64" --per-class 0 --seed 64 --size 64 --workers 4 --mine-with $DET --mine-frames "$(m 1500)" --mine-conf 0.05 \
    --mine-empty 0.5 --urban > "$D/m64.log" 2>&1 &
$S "$D/m65" --per-class 0 --seed 65 --size 64 --workers 6 --mine-with $DET --mine-frames "$(m 2400)" --mine-conf 0.05 \
    --mine-empty 0.5 --urban --conditions $CONDS > "$D/m65.log" 2>&1 &
$S "$D/m66" --per-class 0 --seed 66 --size 64 --workers 3 --mine-with $DET --mine-frames "$(m 900)" --mine-conf 0.05 \
    --mine-empty 0.2 --urban --layouts big,touching --conditions $CONDS > "$D/m66.log" 2>&1 &
wait
for f in "$D"/*.log; do echo "== $f"; tail -2 "$f"; done
el "data made"
$PY -m astute_cli combine "$D/mix" "$D/g60" "$D/l61" "$D/n62" "$D/o63" "$D/m64" "$D/m65" "$D/m66" \
    --max-per-class 12000 | tail -3
# the mix must hold exactly cls-v13's 193 classes (same sorted order, so its head carries over)
$PY - "$D/mix" "$G/cls-v13.pt" <<'PYEOF' || exit 4
import shutil, sys
from pathlib import Path
import torch
mix, weights = Path(sys.argv[1]), sys.argv[2]
names = set(torch.load(weights, weights_only=False)["model"].names.values())
for split in ("train", "val"):
    have = {p.name for p in (mix / split).iterdir() if p.is_dir()}
    for extra in sorted(have - names):
        print("dropping", split, extra, len(list((mix / split / extra).iterdir())))
        shutil.rmtree(mix / split / extra)
    missing = names - have
    if missing:
        sys.exit(f"{split} lacks {sorted(missing)}")
    print(split, sum(len(list((mix / split / c).iterdir())) for c in names), "crops")
PYEOF
cp "$D/mix/manifest.json" "$OUT/cls-v16-mix-manifest.json"
el "mix ready"
LEFT=$(( ${BUDGET_S:-520} - ($(date +%s) - T0) - 50 ))
HOURS=$($PY -c "print(round(max(60, $LEFT) / 3600, 4))")
el "training for $HOURS h each"
T="$PY -m astute_cli train $D/mix --task classify --model $G/cls-v13.pt --imgsz 64 --batch 256 --workers 7
   --device $DEVICE --time-budget-h $HOURS --set cache=ram --set warmup_epochs=0 --set optimizer=AdamW --set cos_lr=True
   --set plots=False --set patience=1000"
( sleep $(( LEFT + 90 )); for r in a b; do cp runs/cls-v16$r/weights/best.pt "$OUT/cls-v16$r.pt"; done; echo "safety copy" ) &
SAFETY=$!
$T --name cls-v16a --set lr0=0.0005 > "$OUT/train-a.log" 2>&1 &
PA=$!
$T --name cls-v16b --set lr0=0.0001 > "$OUT/train-b.log" 2>&1 &
PB=$!
wait $PA $PB
kill $SAFETY 2>/dev/null
el "trained"
for r in a b; do
  cp "runs/cls-v16$r/weights/best.pt" "$OUT/cls-v16$r.pt"
  cp "runs/cls-v16$r/results.csv" "$OUT/cls-v16$r-results.csv"
done
tar czf "$OUT/experiments.tgz" --exclude='*.pt' benchmarks/experiments/cls-v16a benchmarks/experiments/cls-v16b \
    runs/cls-v16a/args.yaml runs/cls-v16b/args.yaml "$D"/*.log "$D"/*/manifest.json "$D"/*/mined_manifest.json 2>/dev/null
ls -la "$OUT"
el "done"
