#!/usr/bin/env bash
# On the GPU machine: wait, then copy a training run's latest files to $OUT.
# Usage: [RUN=/root/run NAME=sanet_v2 ALPHAS=1,0.8 PAIRS=8] bash tools/gpu_collect.sh SECONDS [stop|eval]
# 'stop' ends that run with a final checkpoint; 'stop' and 'eval' then export it to fp16 weights
# named NAME (default sanet_<run folder>) and run the held-out evaluation on the GPU at the
# strengths ALPHAS over PAIRS x PAIRS pairs: one tar, $OUT/<run folder>.tar, comes back with the
# fp16 weights, their meta, metrics.json, gallery.jpg, loss.csv and the log, instead of the
# fp32 shards.
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
grep -v "VGG channel means" "$run.log" | tail -n 300 > train.log
if [ -n "${2:-}" ]; then
  stem=${NAME:-sanet_$name}
  src=/root/src-$name; rm -rf "$src"; cp -r /root/src "$src"
  weights=$src/sanet_video/weights/$stem.safetensors
  (export PYTHONPATH=/root/site:$src; cd "$src" && python3 -m sanet_video.export_weights "$run" --name "$stem" \
    && python3 -m sanet_video.evaluate --data /root/data --weights "$weights" --out "$run/eval" \
         --alphas "${ALPHAS:-1}" --pairs "${PAIRS:-5}" --gallery "$run/eval/gallery.jpg" 2>&1 \
    | grep -v "it/s\]\|img/s\]\|photo/s\]" | tail -n 3 \
    && python3 -m sanet_video.export_weights "$run" --name "$stem" --metrics "$run/eval/metrics.json") \
  && tar -cf "$OUT/$name.tar" -C "$src/sanet_video/weights" "$stem.safetensors" "$stem.json" \
       -C "$run/eval" metrics.json gallery.jpg -C "$run" loss.csv train.log
else
  cp -- *.fp32.safetensors state.json loss.csv loss.png samples.png train.log "$OUT"/ 2>/dev/null
fi
