#!/usr/bin/env bash
# The benchmark suite of docs/PERFORMANCE.md on a CUDA machine, about 8 minutes on an H100.
# Usage: bash benchmarks/gpu_suite.sh [OUT_DIR [PARTS]]   (default: bench-out, "model e2e batch";
# JSON merged into OUT_DIR/suite.json). Parts: "model", eager and compiled model throughput (each
# compiled shape in its own process, as a video run compiles one frame size); "e2e", end to end
# at 1080p with the default smoothing; "batch", the batch command on 8 clips on one GPU.
set -u
out=${1:-bench-out}
parts=${2:-model e2e batch}
mkdir -p "$out/parts"
stylize=benchmarks/bench_stylize.py
if [[ $parts == *model* ]]; then
python3 $stylize --sizes 480p,720p,1080p --batches 1,8 --styles 512 --repeats 10 \
  --json "$out/parts/stylize_eager.json" 2>&1 | grep "frames/s\|guard"
for shape in "480p 1 512" "480p 8 512" "720p 1 512" "720p 8 512" "1080p 1 512" "1080p 8 512" \
             "1080p 1 1024" "1080p 8 1024"; do
  set -- $shape
  timeout 120 python3 $stylize --sizes "$1" --batches "$2" --styles "$3" --compile default --repeats 10 \
    --json "$out/parts/stylize_compiled_$1_$2_$3.json" 2>&1 | grep "frames/s\|guard"
done
fi
if [[ $parts == *e2e* ]]; then
timeout 300 python3 benchmarks/bench_e2e.py --size 1080p --frames 250 --batch-size 8 --compile default \
  --keep /tmp/bench_e2e --json "$out/parts/e2e_1080p_compiled.json" 2>&1 | grep -v -i "warn"
fi
if [[ $parts == *batch* ]]; then
python3 benchmarks/bench_batch.py --clips 8 --devices cuda:0 --json "$out/parts/batch_1gpu.json"
fi
python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
parts = {p.stem: json.loads(p.read_text()) for p in sorted((out / "parts").glob("*.json"))}
(out / "suite.json").write_text(json.dumps(parts, indent=1))
print(f"wrote {out / 'suite.json'} ({len(parts)} parts)")
PY
