"""How fast the hand-derived Hessian-vector product is: against jax.jit of forward-over-reverse autodiff, and
against the hand gradient's own time, as ratios within one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.second_order [--rounds 15]

Each shape is timed in a process of its own (benchmarks.timing: contenders interleaved round after round, each
warmed before it is sampled), float64 and float32, sigmoid; the A/A control (manual_grad.hvp under a second
name) should read 1, and each contender is timed alone as well, to check that the others did not disturb it.
The aims (the issue on second order): manual_grad.hvp at most 1.0× jax.jit's, and at most 2× manual_grad's
gradient. Prints a Markdown table and the JSON of every median.
"""

import argparse
import json
import sys

from benchmarks.run import SHAPES, _ratio, env_for, timed

NAMES = ("manual_hvp", "manual_hvp_aa", "jax_jit_hvp", "manual_grad")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.second_order", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--shapes", nargs="*", default=["tiny", "MNIST-like", "deep"])
    args = p.parse_args(argv)
    env = env_for(None)
    rows = []
    for label in args.shapes:
        for dtype in ("float64", "float32"):
            together = timed(SHAPES[label], dtype, NAMES, args.rounds, env)
            alone = {n: timed(SHAPES[label], dtype, [n], args.rounds, env)["median_ms"][n] for n in NAMES[2:]}
            s, ms = together["ms"], together["median_ms"]
            rows.append({"shape": label, "dtype": dtype, "ms": ms, "alone ms": alone, "blas": together["blas"],
                         "A/A": _ratio(s, "manual_hvp", "manual_hvp_aa"),
                         "hvp / jax.jit hvp": _ratio(s, "manual_hvp", "jax_jit_hvp"),
                         "hvp / grad": _ratio(s, "manual_hvp", "manual_grad")})
            print(f"{label} {dtype}: {rows[-1]['hvp / jax.jit hvp']:.2f}× jax.jit, {rows[-1]['hvp / grad']:.2f}× grad",
                  file=sys.stderr)
    kernel = rows[0]["blas"][0]["architecture"] if rows and rows[0]["blas"] else "?"
    print(f"OpenBLAS kernel {kernel}; medians of {args.rounds} rounds\n")
    print("| shape | dtype | manual_grad.hvp ms | jax.jit hvp ms | manual_grad.hvp / jax.jit | manual_grad.hvp / "
          "manual_grad | A/A |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['shape']} | {r['dtype']} | {r['ms']['manual_hvp']:.3g} | {r['ms']['jax_jit_hvp']:.3g} | "
              f"{r['hvp / jax.jit hvp']:.2f} | {r['hvp / grad']:.2f} | {r['A/A']:.3f} |")
    print("\n" + json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
