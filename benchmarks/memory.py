"""Peak working memory of one call of one contender, in a process of its own.

    python -m benchmarks.memory SHAPE DTYPE NAME [KNOWN_BYTES]

prints JSON {"rss_mib": …, "tracemalloc_mib": …, "xla_mib": …}. Three methods:

- rss: Linux's resident high-water mark (VmHWM), reset (/proc/self/clear_refs)
  after the inputs exist and one warm-up call (JAX compiles, torch builds its
  caches), around a second call. A freed block that malloc keeps and reuses
  would hide from it, so `measure` runs this with MALLOC_MMAP_THRESHOLD_ set:
  glibc then maps every block of 64 KiB or more on its own and unmaps it when
  it is freed, and the high-water mark is the peak of what the call held.
- tracemalloc: what NumPy allocates, exactly (it reports to tracemalloc); it
  does not see XLA's or PyTorch's buffers, so it is given for NumPy contenders.
- xla: for jax.jit, the compiler's own account of the compiled function's
  temporary and output buffers (memory_analysis()), exact at every shape.

The contender `known`, which allocates and touches KNOWN_BYTES, validates the
rss method at each shape: `measure` runs it beside the others.
"""

import json
import os
import subprocess
import sys
import tracemalloc

from benchmarks import contenders

# Every malloc of this many bytes or more gets its own mapping, returned to the system when freed.
MMAP_THRESHOLD = 1 << 16
NUMPY_CONTENDERS = ("manual_grad", "line_by_line", "gemm_floor", "known")


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss_peak_mib(run):
    run()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current VmRSS
    before = _status_kib("VmRSS")
    run()
    return (_status_kib("VmHWM") - before) / 1024


def _tracemalloc_peak_mib(run):
    run()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return (tracemalloc.get_traced_memory()[1] - before) / 2**20
    finally:
        tracemalloc.stop()


def main(argv):
    shape, dtype, name = json.loads(argv[0]), argv[1], argv[2]
    shape = tuple(tuple(s) if isinstance(s, list) else s for s in shape)
    params, X, y = contenders.problem(shape, dtype)
    if name == "known":
        run = contenders.known(params, X, y, "sigmoid", int(argv[3]))
    else:
        made = contenders.make(name, params, X, y, "sigmoid")
        if made is None:
            print(json.dumps(None))
            return
        run = made[0]
    result = {"rss_mib": _rss_peak_mib(run)}
    if name in NUMPY_CONTENDERS:
        result["tracemalloc_mib"] = _tracemalloc_peak_mib(run)
    if name == "jax_jit":
        analysis = contenders.jax_jit_compiled(params, X, y, "sigmoid").memory_analysis()
        result["xla_mib"] = (analysis.temp_size_in_bytes + analysis.output_size_in_bytes) / 2**20
    print(json.dumps(result))


def measure(shape, dtype, name, env, known_bytes=0):
    """{"rss_mib", "tracemalloc_mib"} of `name` in a fresh process, with the mmap threshold set."""
    env = {**env, "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory", json.dumps(shape), dtype, name,
                          str(known_bytes)], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: JAX's runtime threads can take seconds to stop
