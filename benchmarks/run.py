"""How fast: manual_grad against jax.jit, PyTorch and the matrix-multiply floor; gradcheck's throughput.

    python -m benchmarks.run [--quick] [--out DIR]

Writes DIR/results.md (the tables), DIR/results.json (every number) and, when
matplotlib is installed, DIR/speed.png and DIR/scaling.png. Contenders are
timed interleaved, round after round, so that a slow spell of a noisy machine
hits them all alike; each number is a median over rounds, and each ratio the
median of the ratios measured within one round. OMP_WAIT_POLICY=PASSIVE is set
(unless already set) so that PyTorch's idle threads do not spin.
"""

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# PyTorch's OpenMP threads busy-wait after each call by default, taking the
# cores from whichever contender runs next; interleaved timing needs them asleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from benchmarks import contenders  # noqa: E402

SHAPES = {"tiny": (64, 32, 16, 10), "MNIST-like": (1024, 784, 256, 10), "large": (8192, 1024, 1024, 100)}
DTYPES = ("float32", "float64")
NAMES = {"manual_grad": "manual_grad", "line_by_line": "line by line", "jax_jit": "jax.jit",
         "torch_autograd": "PyTorch", "gemm_floor": "GEMM floor"}


def _calls_per_sample(run, at_least=0.01):
    """How many calls make one timed sample of at least `at_least` seconds (as timeit's autorange)."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            run()
        if time.perf_counter() - start >= at_least:
            return n
        n *= 2


def time_interleaved(runs, rounds):
    """{name: [seconds per call, one per round]}, the contenders taking turns within each round."""
    loops = {name: _calls_per_sample(run) for name, run in runs.items()}
    samples = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.perf_counter()
            for _ in range(loops[name]):
                runs[name]()
            samples[name].append((time.perf_counter() - start) / loops[name])
    return samples


def contenders_for(shape, dtype, activation="sigmoid", which=None):
    params, X, y = contenders.problem(*shape, dtype)
    runs, compile_seconds = {}, None
    for name in which or NAMES:
        run = getattr(contenders, name)(params, X, y, activation)
        if run is None:
            continue  # torch not installed
        if isinstance(run, tuple):
            run, compile_seconds = run
        runs[name] = run
    return runs, compile_seconds


def _ratio(samples, a, b):
    return float(np.median(np.array(samples[a]) / np.array(samples[b])))


def speed(shapes, rounds):
    rows = []
    for label, shape in shapes.items():
        for dtype in DTYPES:
            runs, compile_seconds = contenders_for(shape, dtype)
            samples = time_interleaved(runs, rounds)
            row = {"shape": label, "N, D, H, K": shape, "dtype": dtype, "jax compile s": compile_seconds,
                   "ms": {n: 1e3 * float(np.median(s)) for n, s in samples.items()},
                   "manual_grad / floor": _ratio(samples, "manual_grad", "gemm_floor"),
                   "manual_grad / jax.jit": _ratio(samples, "manual_grad", "jax_jit"),
                   "line by line / floor": _ratio(samples, "line_by_line", "gemm_floor")}
            if "torch_autograd" in samples:
                row["manual_grad / PyTorch"] = _ratio(samples, "manual_grad", "torch_autograd")
            rows.append(row)
            print(f"speed {label} {dtype}: " + ", ".join(f"{NAMES[n]} {t:.3g} ms" for n, t in row["ms"].items()),
                  file=sys.stderr)
    return rows


def activations(shape, rounds):
    rows = []
    for dtype in DTYPES:
        for activation in ("sigmoid", "tanh", "relu"):
            runs, _ = contenders_for(shape, dtype, activation, which=("manual_grad", "jax_jit", "gemm_floor"))
            samples = time_interleaved(runs, rounds)
            rows.append({"dtype": dtype, "activation": activation,
                         "manual_grad / floor": _ratio(samples, "manual_grad", "gemm_floor"),
                         "manual_grad / jax.jit": _ratio(samples, "manual_grad", "jax_jit")})
    return rows


def memory(shape, dtype):
    """MiB per contender, each measured in a fresh process (benchmarks/memory.py)."""
    mib = {}
    for name in NAMES:
        if name == "torch_autograd" and importlib.util.find_spec("torch") is None:
            continue
        out = subprocess.run([sys.executable, "-m", "benchmarks.memory", name, *map(str, shape), dtype],
                             capture_output=True, text=True, check=True)
        mib[name] = float(out.stdout)
    return mib


def scaling(base, axis, values, rounds, dtype="float64"):
    """ms per call of each contender as N (axis 0) or H (axis 2) grows."""
    points = []
    for v in values:
        shape = list(base)
        shape[axis] = v
        runs, _ = contenders_for(tuple(shape), dtype, which=("manual_grad", "jax_jit", "torch_autograd", "gemm_floor"))
        samples = time_interleaved(runs, rounds)
        points.append({"value": v, "ms": {n: 1e3 * float(np.median(s)) for n, s in samples.items()}})
    return points


def gradcheck_throughput(repeats):
    """Cold-start wall time of the default `gradcheck`, steady cases/s, and cases/s with a compile per shape."""
    import jax

    import jax_reference as jr
    import manual_grad as mg
    from jax_reference.gradcheck import check_gradients
    from jax_reference.gradcheck.plan import draw_cases

    def cold_start(env=None):
        start = time.perf_counter()
        gradcheck = str(Path(sysconfig.get_path("scripts")) / "gradcheck")  # the installed console script
        subprocess.run([gradcheck, "--quiet"], check=True, env={**os.environ, **(env or {})})
        return time.perf_counter() - start

    cold = [cold_start() for _ in range(repeats)]
    # JAX's persistent compilation cache, once filled, saves the compilations of a later start.
    with tempfile.TemporaryDirectory() as cache:
        env = {"JAX_COMPILATION_CACHE_DIR": cache, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
               "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
        cold_start(env)
        cached = [cold_start(env) for _ in range(repeats)]
    check_gradients(mg.grad)  # compiles
    start = time.perf_counter()
    report = check_gradients(mg.grad)
    steady = report["config"]["cases"] / (time.perf_counter() - start)

    # Without buckets: plain jax.jit(jax.value_and_grad(loss_fn)) meets every case's shape anew.
    plain = jax.jit(jax.value_and_grad(jr.loss_fn), static_argnames="activation")
    cases = draw_cases(5, 1, mg.ACTIVATIONS)
    start = time.perf_counter()
    with jax.enable_x64(True):
        for case in cases:
            params, X, y = case.build(np.float64)
            jax.block_until_ready(plain(params, X, y, case.lam, case.activation))
    unbucketed = len(cases) / (time.perf_counter() - start)
    return {"cold start s (200 cases, JAX import included)": float(np.median(cold)),
            "cold start s, JAX's persistent compilation cache warm": float(np.median(cached)),
            "steady cases/s": steady, "cases/s with a compile per shape": unbucketed}


def machine():
    import jax

    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "jax": jax.__version__}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = "not installed"
    return info


def markdown(results):
    m = results["machine"]
    lines = [f"Measured on {m['cpu']}, {m['cores']} cores; Python {m['python']}, NumPy {m['numpy']}, "
             f"JAX {m['jax']}, PyTorch {m['torch']}. `python -m benchmarks.run"
             + (" --quick" if results["quick"] else "") + "`, sigmoid, λ = 0.1.", ""]
    names = [n for n in NAMES if any(n in r["ms"] for r in results["speed"])]
    lines.append("| shape | dtype | " + " | ".join(f"{NAMES[n]} ms" for n in names)
                 + " | manual_grad / floor | manual_grad / jax.jit | manual_grad / PyTorch | jax compile s |")
    lines.append("|" + " --- |" * (len(names) + 6))
    for r in results["speed"]:
        lines.append(f"| {r['shape']} {tuple(r['N, D, H, K'])} | {r['dtype']} | "
                     + " | ".join(f"{r['ms'][n]:.3g}" if n in r["ms"] else "-" for n in names)
                     + f" | {r['manual_grad / floor']:.2f} | {r['manual_grad / jax.jit']:.2f} | "
                     + (f"{r['manual_grad / PyTorch']:.2f}" if "manual_grad / PyTorch" in r else "-")
                     + f" | {r['jax compile s']:.2f} |")
    lines += ["", f"Per activation, {results['activations_shape']} shape:", "",
              "| dtype | activation | manual_grad / floor | manual_grad / jax.jit |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['dtype']} | {r['activation']} | {r['manual_grad / floor']:.2f} | {r['manual_grad / jax.jit']:.2f} |"
              for r in results["activations"]]
    mem = results["memory"]
    lines += ["", f"Peak working memory of one call, MiB ({mem['shape']} {mem['dtype']}; one (N, H) array is "
              f"{mem['N x H MiB']:.3g} MiB):", "",
              "| " + " | ".join(NAMES[n] for n in mem["MiB"]) + " |", "|" + " --- |" * len(mem["MiB"]),
              "| " + " | ".join(f"{v:.3g}" for v in mem["MiB"].values()) + " |"]
    lines += ["", "gradcheck:", "", "| measure | value |", "| --- | --- |"]
    lines += [f"| {k} | {v:.3g} |" for k, v in results["gradcheck"].items()]
    return "\n".join(lines) + "\n"


def plots(results, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install -e '.[bench]')", file=sys.stderr)
        return
    speed_rows = results["speed"]
    names = [n for n in NAMES if n != "gemm_floor" and any(n in r["ms"] for r in speed_rows)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ratios = [r["ms"][name] / r["ms"]["gemm_floor"] if name in r["ms"] else np.nan for r in speed_rows]
        ax.bar(np.arange(len(speed_rows)) + i * width, ratios, width, label=NAMES[name])
    ax.axhline(1, color="black", lw=1, ls="--", label="GEMM floor")
    ax.set_yscale("log")  # tiny shapes are overhead-bound, 10–50×; the others sit near 1
    ax.set_xticks(np.arange(len(speed_rows)) + width * (len(names) - 1) / 2,
                  [f"{r['shape']}\n{r['dtype']}" for r in speed_rows])
    ax.set_ylabel("time / GEMM floor (lower is faster)")
    ax.set_title("value and gradient of J~, sigmoid: time relative to the five matrix products")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "speed.png", dpi=120)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (key, label) in zip(axes, (("scaling_N", "N (batch)"), ("scaling_H", "H (hidden units)"))):
        points = results[key]
        for name in points[0]["ms"]:
            ax.plot([p["value"] for p in points], [p["ms"][name] for p in points], "o-", label=NAMES[name])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("ms per call")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_title("D=784, H=256, K=10, float64")
    axes[1].set_title("N=1024, D=784, K=10, float64")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "scaling.png", dpi=120)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer shapes and rounds: under a minute")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results", help="where to write")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    shapes = {k: v for k, v in SHAPES.items() if not (args.quick and k == "large")}
    rounds = 5 if args.quick else 11
    memory_shape, memory_dtype = (SHAPES["MNIST-like"], "float64") if args.quick else (SHAPES["large"], "float64")
    activations_shape = "MNIST-like" if args.quick else "large"
    results = {
        "quick": args.quick,
        "machine": machine(),
        "speed": speed(shapes, rounds),
        "activations_shape": activations_shape,
        "activations": activations(SHAPES[activations_shape], rounds),
        "memory": {"shape": memory_shape, "dtype": memory_dtype, "MiB": memory(memory_shape, memory_dtype),
                   "N x H MiB": memory_shape[0] * memory_shape[2] * 8 / 2**20},
        "scaling_N": scaling((1024, 784, 256, 10), 0, [256, 1024, 4096] if args.quick else [256, 1024, 4096, 16384], rounds),
        "scaling_H": scaling((1024, 784, 256, 10), 2, [64, 256, 1024] if args.quick else [64, 256, 1024, 2048], rounds),
        "gradcheck": gradcheck_throughput(1 if args.quick else 5),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=list))
    (args.out / "results.md").write_text(markdown(results))
    plots(results, args.out)
    print(markdown(results))


if __name__ == "__main__":
    main()
