"""Peak working memory of one call of one contender, in a process of its own.

    python -m benchmarks.memory CONTENDER N D H K DTYPE

After the inputs exist and one warm-up call (JAX compiles, torch allocates its
caches), Linux's peak resident set size is reset (/proc/self/clear_refs) and
one more call is made: the peak above the resident size before it is the
memory the call itself needed. Prints MiB.
"""

import sys

from benchmarks import contenders


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def main(name, N, D, H, K, dtype):
    params, X, y = contenders.problem(int(N), int(D), int(H), int(K), dtype)
    run = getattr(contenders, name)(params, X, y, "sigmoid")
    run = run[0] if isinstance(run, tuple) else run
    run()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current VmRSS
    before = _status_kib("VmRSS")
    run()
    print((_status_kib("VmHWM") - before) / 1024)


if __name__ == "__main__":
    main(*sys.argv[1:])
