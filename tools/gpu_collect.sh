#!/usr/bin/env bash
# On the GPU machine: wait, then copy the training run's latest files to $OUT.
# Usage: bash tools/gpu_collect.sh SECONDS [stop]   ('stop' ends training with a final checkpoint first)
sleep "${1:-0}"
if [ "${2:-}" = stop ]; then
  pkill -TERM -f sanet_video.train && while pgrep -f sanet_video.train >/dev/null; do sleep 1; done
fi
grep -v "VGG channel means" /root/train.log | tail -n 6
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
pgrep -f sanet_video.train >/dev/null && echo "training: running" || echo "training: NOT running"
cd /root/run && cp -- *.fp32.safetensors state.json loss.csv loss.png samples.png "$OUT"/ 2>/dev/null
grep -v "VGG channel means" /root/train.log | tail -n 400 > "$OUT"/train.log
grep -o '"iteration": [0-9]*' "$OUT"/state.json
