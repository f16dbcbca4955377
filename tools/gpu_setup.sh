#!/usr/bin/env bash
# On the GPU machine: copy whatever this call carried out of the synced tree into /root:
# wheels (.whl, .whl2, .gpu/whl*, installed into /root/site), training data (.gpu/data), a snapshot
# of the committed code (.gpu/src, made by `git archive`; else the synced tree's code goes
# to /root/src), a checkpoint (runs/ckpt). Pieces may come in separate calls.
set -eu
for wheels in .whl .whl2 .gpu/whl*; do
  if ls $wheels/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /root/site $wheels/*.whl
  fi
done
if [ -d .gpu/data ]; then rm -rf /root/data; cp -r .gpu/data /root/data; fi
mkdir -p /root/run
if [ -d .gpu/src ]; then
  rm -rf /root/src && cp -r .gpu/src /root/src
elif [ ! -d /root/src ]; then
  mkdir -p /root/src && cp -r sanet_video flow configs /root/src/
fi
if [ -f runs/ckpt/state.json ]; then cp runs/ckpt/*.fp32.safetensors runs/ckpt/state.json runs/ckpt/loss.csv /root/run/; fi
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader
echo "setup: data=[$(ls /root/data 2>/dev/null | tr '\n' ' ')] site=[$(ls /root/site 2>/dev/null | head -3 | tr '\n' ' ')] run=[$(ls /root/run | tr '\n' ' ')]"
