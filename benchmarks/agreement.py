"""How closely manual_grad agrees with jax.grad, measured: the worst case per dtype and parameter.

    python -m benchmarks.agreement [--cases N] [--seed S] [--large-logits] [--deep] [--products]

Draws random cases like the test suite's (N, D, H, K in 1..32, weights at 0.3×
to 3× their usual scale, λ from 0 to 1e3, every activation and label set) and
prints, per dtype and parameter, the worst normwise relative error
‖mg − jr‖ / ‖jr‖ and the worst fraction of the tolerance-table bound used.
With --large-logits, every logit is shifted as in gradcheck's large-logit
cases (largest logit 1000 in float64, 100 in float32). With --deep, networks
of 2 to 6 weight layers, every width in 1..32 and a random mix of all five
activations, one per hidden layer. With --products, the Hessian- and
Gauss-Newton-vector products (manual_grad.hvp, gnvp) along a random direction
instead of the gradient, against tolerances.product_scales.
"""

import argparse

import numpy as np

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import LABEL_SETS, make_case
from gradcheck.problems.seed_cases import LARGE_LOGIT, shift_logits
from jax_reference.tolerances import normwise_error, product_scales, rounding_scales, tolerance


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.agreement", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--large-logits", action="store_true")
    p.add_argument("--deep", action="store_true")
    p.add_argument("--products", action="store_true")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    worst = {}
    for i in range(args.cases):
        dtype = (np.float64, np.float32)[i % 2]
        N, D, H, K = (int(n) for n in rng.integers(1, 33, 4))
        activation = mg.ACTIVATIONS[i // 2 % 3]
        if args.deep:
            H = [int(h) for h in rng.integers(1, 33, rng.integers(1, 6))]
            activation = tuple(str(a) for a in rng.choice(mg.ACTIVATIONS, len(H)))
        lam = (0.0, 1e-9, 0.1, 1e3)[rng.integers(4)]
        params, X, y = make_case(rng, N, D, H, K, label_set=LABEL_SETS[rng.integers(4)],
                                 scale=(0.3, 1.0, 3.0)[rng.integers(3)])
        if args.large_logits:
            shift_logits(params, X, activation, LARGE_LOGIT[np.dtype(dtype)])
        params, X = {k: v.astype(dtype) for k, v in params.items()}, X.astype(dtype)
        tol = tolerance(dtype)
        if args.products:
            v = {k: rng.standard_normal(a.shape).astype(dtype) for k, a in params.items()}
            scales = product_scales(params, v, X, y, activation)
            pairs = [(f"{f} ", getattr(mg, f)(params, v, X, y, lam, activation),
                      getattr(jr, f)(params, v, X, y, lam, activation)) for f in ("hvp", "gnvp")]
        else:
            scales = rounding_scales(params, X, activation)
            pairs = [("", mg.grad(params, X, y, lam, activation), jr.grad(params, X, y, lam, activation))]
        for what, g, g_ref in pairs:
            for name in params:
                diff, rel = normwise_error(g[name], g_ref[name])
                used = diff / (tol.atol + tol.rtol * (np.linalg.norm(g_ref[name].astype(np.float64)) + scales[name]))
                key = (np.dtype(dtype).name, what + (name if not args.deep else name[0] + "_l"))
                old_rel, old_used = worst.get(key, (0.0, 0.0))
                worst[key] = (max(old_rel, rel if np.isfinite(rel) else 0.0), max(old_used, used))
    print(f"{args.cases} random cases, seed {args.seed}{', large logits' * args.large_logits}"
          f"{', depth 2 to 6, mixed activations' * args.deep}{', Hessian- and Gauss-Newton-vector products' * args.products}\n")
    print("| dtype | parameter | worst ‖mg − jr‖ / ‖jr‖ | worst fraction of the tolerance used |")
    print("| --- | --- | --- | --- |")
    for (dtype, name), (rel, used) in sorted(worst.items()):
        print(f"| {dtype} | {name} | {rel:.2e} | {used:.2e} |")


if __name__ == "__main__":
    main()
