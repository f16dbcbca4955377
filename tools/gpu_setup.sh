#!/usr/bin/env bash
# On the GPU machine: copy whatever this call carried out of the synced tree into /root:
# wheels (.whl, installed into /root/site), training data (.gpu/data), a checkpoint
# (runs/ckpt); always refresh the code in /root/src. Pieces may come in separate calls.
set -eu
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /root/site .whl/*.whl
fi
if [ -d .gpu/data ]; then rm -rf /root/data; cp -r .gpu/data /root/data; fi
rm -rf /root/src && mkdir -p /root/src /root/run && cp -r sanet_video configs /root/src/
if [ -f runs/ckpt/state.json ]; then cp runs/ckpt/*.fp32.safetensors runs/ckpt/state.json runs/ckpt/loss.csv /root/run/; fi
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader
echo "setup: data=[$(ls /root/data 2>/dev/null | tr '\n' ' ')] site=[$(ls /root/site 2>/dev/null | head -3 | tr '\n' ' ')] run=[$(ls /root/run | tr '\n' ' ')]"
