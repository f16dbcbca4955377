#!/usr/bin/env bash
# On the GPU machine, after gpu_setup.sh: start training (resuming from /root/run if it
# holds a checkpoint) in its own process session, so that it outlives this call.
# Usage: bash tools/gpu_start.sh [EXTRA TRAIN OPTIONS...]
set -eu
export PYTHONPATH=/root/site:/root/src PYTHONUNBUFFERED=1
cd /root/src
args=(--config configs/train.yaml --data /root/data --out /root/run)
if [ -f /root/run/state.json ]; then args+=(--resume /root/run); fi
if [ -f /root/vgg_scales.safetensors ]; then args+=(--vgg-scales /root/vgg_scales.safetensors); fi
setsid nohup python3 -m sanet_video.train "${args[@]}" "$@" > /root/train.log 2>&1 < /dev/null &
echo "started training, pid $!"
