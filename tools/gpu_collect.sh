#!/usr/bin/env bash
# On the GPU machine: wait, then copy a training run's latest files to $OUT.
# Usage: [RUN=/root/run] bash tools/gpu_collect.sh SECONDS [stop|eval]
# 'stop' ends that run with a final checkpoint; 'stop' and 'eval' then export it to fp16 and
# run the held-out evaluation on the GPU: the fp16 weights, their meta, metrics.json and
# gallery.jpg come back instead of the fp32 shards.
sleep "${1:-0}"
run=${RUN:-/root/run}
name=$(basename "$run")
cd "$run"
if [ "${2:-}" = stop ]; then
  pkill -TERM -f "out $run " && while pgrep -f "out $run " >/dev/null; do sleep 1; done
fi
grep -v "VGG channel means" "$run.log" | tail -n 4
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
pgrep -f "out $run " >/dev/null && echo "$name: running" || echo "$name: NOT running"
grep -o '"iteration": [0-9]*' state.json
if [ -n "${2:-}" ]; then
  src=/root/src-$name; rm -rf "$src"; cp -r /root/src "$src"
  (export PYTHONPATH=/root/site:$src; cd "$src" && python3 -m sanet_video.export_weights "$run" \
    && python3 -m sanet_video.evaluate --data /root/data --out "$run/eval" --gallery "$run/eval/gallery.jpg" 2>&1 \
    | grep -v "it/s\]\|img/s\]\|photo/s\]" | tail -n 3 \
    && python3 -m sanet_video.export_weights "$run" --metrics "$run/eval/metrics.json") \
  && cp "$src"/sanet_video/weights/sanet_v1.safetensors "$src"/sanet_video/weights/sanet_v1.json \
        "$run"/eval/metrics.json "$run"/eval/gallery.jpg "$OUT"/
  cp loss.csv "$OUT"/
else
  cp -- *.fp32.safetensors state.json loss.csv loss.png samples.png "$OUT"/ 2>/dev/null
fi
grep -v "VGG channel means" "$run.log" | tail -n 300 > "$OUT"/train.log
