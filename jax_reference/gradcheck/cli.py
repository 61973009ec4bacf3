"""The `gradcheck` command: exit 0 when the candidate agrees, 1 when it is wrong, 2 on a usage error."""

import argparse
import importlib.util
import json
import sys

import numpy as np

import manual_grad as mg

from . import report as reports
from .check import DEFAULT_CASES, sweep
from .loader import LoadError, load


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _lam(text):
    try:
        return mg.validate.check_lam(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite λ >= 0, got {text!r}") from None


def parser():
    p = argparse.ArgumentParser(
        prog="gradcheck",
        description="Check a hand-derived gradient function against jax.grad of the reference loss, "
        "with central finite differences as an independent witness.",
        epilog="Exit status: 0 all agree, 1 the candidate is wrong, 2 usage error.",
    )
    p.add_argument("candidate", nargs="?", default="manual_grad:grad",
                   help="path/to/file.py:function or package.module:function, with the signature of "
                   "manual_grad.grad (default: manual_grad:grad)")
    p.add_argument("--cases", type=_positive_int, default=DEFAULT_CASES,
                   help=f"random cases to check (default {DEFAULT_CASES})")
    p.add_argument("--seed", type=int, default=0, help="seed of the sweep (default 0)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--activation", choices=mg.ACTIVATIONS, action="append", dest="activations",
                   help="check only this activation (repeat for several; default all)")
    p.add_argument("--lam", type=_lam, action="append", dest="lams",
                   help="a λ value to use (repeat for several; default: 0 and random λ > 0)")
    p.add_argument("--stages", action="store_true",
                   help="also check δ3 = ∂J/∂z3 and δ2 = ∂J/∂z2 from the candidate module's stages()")
    p.add_argument("--plot", metavar="PATH",
                   help="draw |candidate − reference| per parameter, worst case of each, as a PNG (needs matplotlib)")
    p.add_argument("--json", metavar="PATH", help="write the report as JSON")
    p.add_argument("--junit", metavar="PATH", help="write the report as JUnit XML")
    p.add_argument("--quiet", action="store_true", help="print nothing; rely on the exit status and files")
    return p


def _progress(quiet):
    def wrap(cases):
        from tqdm import tqdm

        # delay: no bar at all for sweeps that finish before it would be read.
        return tqdm(cases, desc="gradcheck", unit="case", delay=1.0, leave=False, disable=quiet or None)

    return wrap


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        candidate, module = load(args.candidate)
    except LoadError as exc:
        print(f"gradcheck: cannot load candidate {args.candidate!r}: {exc}", file=sys.stderr)
        return 2
    stages = None
    if args.stages:
        stages = getattr(module, "stages", None)
        if not callable(stages):
            print(f"gradcheck: --stages: {module.__name__} has no stages(params, X, y, activation) function",
                  file=sys.stderr)
            return 2
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        print("gradcheck: --plot needs matplotlib: pip install -e '.[plot]'", file=sys.stderr)
        return 2
    results = sweep(
        candidate,
        cases=args.cases,
        seed=args.seed,
        dtype=np.dtype(args.dtype),
        activations=tuple(args.activations or mg.ACTIVATIONS),
        lams=args.lams,
        stages=stages,
        progress=_progress(args.quiet),
    )
    report = reports.build(results, candidate_name=args.candidate, dtype=np.dtype(args.dtype), seed=args.seed,
                           checked_stages=stages is not None)
    if args.plot:
        from .plot import plot

        plot(results, report, args.plot)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, allow_nan=False)
    if args.junit:
        with open(args.junit, "w") as f:
            f.write(reports.junit(report))
    if not args.quiet:
        print(reports.text(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
