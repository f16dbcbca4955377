#!/usr/bin/env bash
# On the GPU machine, after gpu_setup.sh: start training in its own process session, so
# that it outlives this call. RUN (default /root/run) is the run's folder; training resumes
# from it if it holds a checkpoint, else from FROM's checkpoint when FROM names a folder.
# CONFIG (default configs/train.yaml) is the recipe; options after it override it.
# Usage: [RUN=/root/runB FROM=/root/run CONFIG=configs/train_v2.yaml] bash tools/gpu_start.sh [EXTRA TRAIN OPTIONS...]
set -eu
run=${RUN:-/root/run}
export PYTHONPATH=/root/site:/root/src PYTHONUNBUFFERED=1
mkdir -p "$run"
if [ ! -f "$run/state.json" ] && [ -n "${FROM:-}" ]; then
  cp "$FROM"/*.fp32.safetensors "$FROM"/state.json "$FROM"/loss.csv "$run"/
fi
cd /root/src
args=(--config "${CONFIG:-configs/train.yaml}" --data /root/data --out "$run")
if [ -f "$run/state.json" ]; then args+=(--resume "$run"); fi
if [ -f /root/vgg_scales.safetensors ]; then args+=(--vgg-scales /root/vgg_scales.safetensors); fi
setsid nohup python3 -m sanet_video.train "${args[@]}" "$@" > "$run.log" 2>&1 < /dev/null &
echo "started training in $run, pid $!"
