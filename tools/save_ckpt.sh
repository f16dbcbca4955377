#!/usr/bin/env bash
# Here: keep the files a GPU call brought back (argument: its files_at folder) in
# runs/ckpt, if their checkpoint is newer than the one kept.
set -eu
src=$1; dst=runs/ckpt
mkdir -p "$dst"
iter() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['iteration'])" "$1" 2>/dev/null || echo -1; }
new=$(iter "$src/state.json"); old=$(iter "$dst/state.json")
if [ "$new" -gt "$old" ]; then
  for f in sa merge decoder; do
    meta=$(python3 -c "import json,struct,sys; b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; print(json.loads(b[8:8+n])['__metadata__']['iteration'])" "$src/$f.fp32.safetensors")
    [ "$meta" = "$new" ] || { echo "shard $f is at $meta, state at $new: not kept"; exit 1; }
  done
  cp "$src"/*.fp32.safetensors "$src"/state.json "$src"/loss.csv "$dst"/
  for f in loss.png samples.png train.log metrics.json gallery.jpg; do [ -f "$src/$f" ] && cp "$src/$f" "$dst/"; done
  echo "kept iteration $new (was $old)"
else
  echo "not newer: $new <= $old"
fi
