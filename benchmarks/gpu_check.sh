#!/usr/bin/env bash
# The checks that need a GPU, in one script: JAX computes the reference on the GPU, where float32 matrix
# products may run in TF32 unless asked for full precision. Run from the repository's root on a machine
# with a GPU and JAX for it (written for the project's device tool, whose OUT folder comes back):
#
#     bash benchmarks/gpu_check.sh            # writes into $OUT, or ./gpu-check
#
# - benchmarks.gpu_precision: the reference's float32 gradients against float64, with and without
#   Precision.HIGHEST, two layers and four;
# - the docs' gradcheck transcripts rerun with the reference on the GPU (a configuration of its own):
#   any line that differs is printed;
# - gradcheck in float64 and float32, two layers and four, and the tests that exercise the reference.
set -uo pipefail
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false  # several JAX processes share the GPU
python3 -m pip install -q --no-deps --no-build-isolation -e . > "$OUT/install.log" 2>&1 || tail -5 "$OUT/install.log"
{ nvidia-smi -L; python3 -c "import jax, numpy; print('JAX', jax.__version__, 'NumPy', numpy.__version__, jax.devices())"; } \
  > "$OUT/machine.txt" 2>&1
python3 -m benchmarks.gpu_precision > "$OUT/gpu_precision.md" 2>&1

mkdir -p "$OUT/before"
cp README.md docs/derivation.md docs/any-derivation.md "$OUT/before/"
python3 docs/refresh_transcripts.py > /dev/null 2>&1
for doc in README.md docs/derivation.md docs/any-derivation.md; do
  diff -u "$OUT/before/$(basename "$doc")" "$doc"
done > "$OUT/transcripts.diff"
echo "transcript lines that differ on the GPU: $(grep -c '^[-+][^-+]' "$OUT/transcripts.diff")" > "$OUT/summary.txt"

for args in "" "--dtype float32" "--depth 4" "--depth 4 --dtype float32 --activation relu --activation softplus"; do
  gradcheck $args --quiet; echo "gradcheck $args: exit $?" >> "$OUT/summary.txt"
done
timeout 360 python3 -m pytest -q -p no:cacheprovider tests/test_agreement.py tests/test_padding.py \
  tests/test_numerics.py tests/test_hand_example.py tests/test_finite_differences.py tests/test_gradcheck.py \
  > "$OUT/pytest.txt" 2>&1
echo "pytest: exit $? ($(tail -1 "$OUT/pytest.txt"))" >> "$OUT/summary.txt"
cat "$OUT/summary.txt"
