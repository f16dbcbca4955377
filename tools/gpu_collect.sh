#!/usr/bin/env bash
# On the GPU machine: wait, then copy the training run's latest files to $OUT.
# Usage: bash tools/gpu_collect.sh SECONDS [stop]
# 'stop' ends training with a final checkpoint, then exports it and runs the held-out
# evaluation on the GPU (metrics.json and gallery.jpg come back instead of the PNGs).
sleep "${1:-0}"
cd /root/run
if [ "${2:-}" = stop ]; then
  pkill -TERM -f sanet_video.train && while pgrep -f sanet_video.train >/dev/null; do sleep 1; done
  (export PYTHONPATH=/root/site:/root/src; cd /root/src && python3 -m sanet_video.export_weights /root/run \
    && python3 -m sanet_video.evaluate --data /root/data --out /root/eval --gallery /root/eval/gallery.jpg 2>&1 \
    | grep -v "it/s\]\|img/s\]\|photo/s\]" | tail -n 3) && cp /root/eval/metrics.json /root/eval/gallery.jpg "$OUT"/
  pngs=""
else
  pngs="loss.png samples.png"
fi
grep -v "VGG channel means" /root/train.log | tail -n 6
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
pgrep -f sanet_video.train >/dev/null && echo "training: running" || echo "training: NOT running"
cp -- *.fp32.safetensors state.json loss.csv $pngs "$OUT"/ 2>/dev/null
grep -v "VGG channel means" /root/train.log | tail -n 400 > "$OUT"/train.log
grep -o '"iteration": [0-9]*' "$OUT"/state.json
