#!/usr/bin/env bash
# On the GPU machine, after gpu_start.sh's install step: compare eager and compiled
# training speed for a few hundred iterations each. Prints the it/s lines.
set -u
export PYTHONPATH=/root/site:/root/src PYTHONUNBUFFERED=1
cd /root/src
python3 -m sanet_video.vgg_stats /root/data /root/vgg_scales.safetensors 2>&1 | grep -v "VGG channel means"
for c in false true; do
  start=$(date +%s)
  python3 -m sanet_video.train --config configs/train.yaml --data /root/data --out /tmp/probe_$c \
    --vgg-scales /root/vgg_scales.safetensors --iterations 400 --checkpoint-every 100000 \
    --sample-every 100000 --compile $c 2>&1 | grep -E "^it (100|200|300|400)/|Error|error" | tail -n 4
  echo "compile=$c wall $(( $(date +%s) - start )) s"
done
