"""How fast, and how much memory: manual_grad against jax.jit, PyTorch and the matrix-multiply floor;
gradcheck's throughput.

    python -m benchmarks.run [--quick] [--out DIR]

Writes DIR/results.md (the tables), DIR/results.json (every number) and, when
matplotlib is installed, DIR/speed.png, DIR/scaling.png and DIR/memory.png.

Every figure is checked to hold alone. For each shape, dtype and BLAS kernel,
the contenders are timed interleaved in one process (benchmarks/timing.py:
rounds in which each takes a turn, after a pause that lets the threads of the
previous one go to sleep), and each again alone in a fresh process; the table
prints each median beside its ratio to the alone figure, which must lie within
10%. manual_grad is timed twice under two names, an A/A control whose ratio
must lie within 1.00 ± 0.05. Ratios between contenders are medians of the
ratios within each round.

Two BLAS kernels: the one OpenBLAS picks for this CPU ("auto", with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset in the benchmark's own
processes) and Haswell's (OPENBLAS_CORETYPE=Haswell, what some machines force
to guard old builds); each row records the kernel threadpoolctl reports.

Memory is measured in a fresh process per contender and shape
(benchmarks/memory.py), validated at each shape against an allocation of
known size.
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

import numpy as np

from benchmarks import memory, stream
from benchmarks.contenders import NAMES, widths

SHAPES = {"tiny": (64, 32, 16, 10), "MNIST-like": (1024, 784, 256, 10), "large": (8192, 1024, 1024, 100),
          "deep": (1024, 784, (1024, 1024, 1024), 10), "deep, large N": (8192, 784, (1024, 1024, 1024), 10)}
QUICK_SHAPES = ("tiny", "MNIST-like")
KERNELS = {"auto": None, "Haswell": "Haswell"}
CONTENDERS = ("manual_grad", "manual_grad_aa", "line_by_line", "jax_jit", "torch_autograd", "gemm_floor")
SCALING_N = (256, 1024, 4096, 16384, 65536, 262144)
SCALING_SHAPE = (None, 784, 256, 10)


def env_for(kernel):
    """This process's environment with OpenBLAS left to pick its kernel, or forced to `kernel`."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    if kernel:
        env["OPENBLAS_CORETYPE"] = kernel
    # PyTorch's OpenMP threads busy-wait after each call by default; asleep, they take no core from the next.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def timed(shape, dtype, names, rounds, env, activation="sigmoid"):
    out = subprocess.run([sys.executable, "-m", "benchmarks.timing", json.dumps(shape), dtype, activation,
                          str(rounds), *names], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ratio(samples, a, b):
    return float(np.median(np.array(samples[a]) / np.array(samples[b])))


def speed_row(label, shape, dtype, kernel, rounds, activation="sigmoid", names=CONTENDERS):
    env = env_for(KERNELS[kernel])
    together = timed(shape, dtype, names, rounds, env, activation)
    present = list(together["ms"])
    alone = {name: timed(shape, dtype, [name], rounds, env, activation)["median_ms"][name]
             for name in present if name != "manual_grad_aa"}
    alone["manual_grad_aa"] = alone["manual_grad"]
    samples, ms = together["ms"], together["median_ms"]
    row = {"shape": label, "N, widths": [shape[0], *widths(shape)], "dtype": dtype, "kernel": kernel,
           "activation": activation, "blas": together["blas"], "jax compile s": together["compile_s"],
           "ms": ms, "alone ms": alone, "together / alone": {n: ms[n] / alone[n] for n in present},
           "A/A": _ratio(samples, "manual_grad", "manual_grad_aa"),
           "manual_grad / floor": _ratio(samples, "manual_grad", "gemm_floor"),
           "manual_grad / jax.jit": _ratio(samples, "manual_grad", "jax_jit")}
    if "line_by_line" in samples:
        row["line by line / jax.jit"] = _ratio(samples, "line_by_line", "jax_jit")
    if "torch_autograd" in samples:
        row["manual_grad / PyTorch"] = _ratio(samples, "manual_grad", "torch_autograd")
    row["holds alone"] = all(abs(r - 1) <= 0.10 for r in row["together / alone"].values())
    row["A/A holds"] = abs(row["A/A"] - 1) <= 0.05
    print(f"speed {label} {dtype} {kernel}: " + ", ".join(f"{NAMES[n]} {t:.3g} ms" for n, t in ms.items())
          + f"; A/A {row['A/A']:.3f}; holds alone {row['holds alone']}", file=sys.stderr)
    return row


def _best(measured, rss_valid):
    """NumPy's allocations by tracemalloc, jax.jit's by XLA's account, the others by the resident set where
    an allocation of known size measures true at that shape (else None: below its resolution)."""
    for method in ("tracemalloc_mib", "xla_mib"):
        if method in measured:
            return measured[method]
    return measured["rss_mib"] if rss_valid else None


def _validated(shape, dtype, env):
    """Whether the resident-set method measures an allocation of two (N, max H) arrays within 5% at `shape`."""
    known = 2 * shape[0] * max(widths(shape)[1:]) * np.dtype(dtype).itemsize
    check = memory.measure(shape, dtype, "known", env, known)
    return abs(check["rss_mib"] * 2**20 / known - 1) <= 0.05, known, check["rss_mib"]


def memory_row(label, shape, dtype):
    """MiB per contender, each in a fresh process; `known` validates the resident-set method at this shape."""
    env = env_for(None)
    measured = {name: memory.measure(shape, dtype, name, env) for name in CONTENDERS if name != "manual_grad_aa"}
    valid, known, known_measured = _validated(shape, dtype, env)
    mib = {name: _best(m, valid) for name, m in measured.items() if m is not None}
    print(f"memory {label} {dtype}: {mib}; known {known / 2**20:.3g} MiB measured {known_measured:.3g}",
          file=sys.stderr)
    return {"shape": label, "N, widths": [shape[0], *widths(shape)], "dtype": dtype, "MiB": mib,
            "raw": measured, "known MiB": known / 2**20, "known measured MiB": known_measured, "rss valid": valid,
            "two (N, max H) arrays MiB": known / 2**20}


def scaling(rounds, quick):
    """Time and memory against N (D=784, H=256, K=10, float32), and the reference's XLA working memory."""
    points = []
    for N in SCALING_N[:4] if quick else SCALING_N:
        shape = (N, *SCALING_SHAPE[1:])
        env = env_for(None)
        together = timed(shape, "float32", ["manual_grad", "jax_jit", "torch_autograd", "gemm_floor"], rounds, env)
        mem = {name: memory.measure(shape, "float32", name, env) for name in ("manual_grad", "jax_jit", "torch_autograd")}
        valid = _validated(shape, "float32", env)[0]
        points.append({"N": N, "ms": together["median_ms"],
                       "manual_grad / jax.jit": _ratio(together["ms"], "manual_grad", "jax_jit"),
                       "manual_grad / floor": _ratio(together["ms"], "manual_grad", "gemm_floor"),
                       "MiB": {name: _best(m, valid) if m else None for name, m in mem.items()},
                       "jax_reference XLA temp MiB": reference_temp_mib(shape)})
        print(f"scaling N={N}: {points[-1]['ms']} {points[-1]['MiB']}", file=sys.stderr)
    return points


def reference_temp_mib(shape):
    """XLA's own account of the temporary memory of jax_reference's compiled value_and_grad at `shape`
    (padded to its bucket; summed over row blocks in a scan above api.SCAN_FROM rows)."""
    import jax

    from benchmarks.contenders import problem
    from jax_reference import api

    params, X, y = problem(shape, "float32")
    params, X, y, lam, activations = api.check_loss_inputs(params, X, y, 0.1, "sigmoid")
    padded = api._padded_problem(params, X, y, activations)
    with jax.enable_x64(True):
        compiled = api._padded_value_and_grad.default.lower(*padded, lam, api._codes(activations),
                                                            rows=api._scan_rows(padded[1].shape[0])).compile()
    return compiled.memory_analysis().temp_size_in_bytes / 2**20


def gradcheck_throughput(repeats):
    """Cold-start wall time of `gradcheck` for 200 and 2000 cases, steady cases/s, and cases/s with a compile
    per shape, as plain jax.jit would need."""
    import jax

    import jax_reference as jr
    from gradcheck import check_gradients
    from gradcheck.problems.seed_cases import DEFAULT_ACTIVATIONS, draw_cases

    gradcheck = str(Path(sysconfig.get_path("scripts")) / "gradcheck")  # the installed console script

    def cold_start(cases, env=None):
        start = time.perf_counter()
        subprocess.run([gradcheck, "--quiet", "--cases", str(cases)], check=True, env={**os.environ, **(env or {})})
        return time.perf_counter() - start

    result = {"cold start s, 200 cases (JAX import included)": float(np.median([cold_start(200) for _ in range(repeats)])),
              "cold start s, 2000 cases": float(np.median([cold_start(2000) for _ in range(repeats)]))}
    # JAX's persistent compilation cache, once filled, saves the compilations of a later start.
    with tempfile.TemporaryDirectory() as cache:
        env = {"JAX_COMPILATION_CACHE_DIR": cache, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
               "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
        cold_start(200, env)
        result["cold start s, 200 cases, compilation cache warm"] = float(np.median([cold_start(200, env)
                                                                                    for _ in range(repeats)]))
    check_gradients("manual_grad:grad", cases=200)  # compiles
    start = time.perf_counter()
    report = check_gradients("manual_grad:grad", cases=2000)
    result["steady cases/s"] = report["config"]["cases"] / (time.perf_counter() - start)

    # Without buckets: plain jax.jit(jax.value_and_grad(loss_fn)) meets every case's shape anew.
    plain = jax.jit(jax.value_and_grad(jr.loss_fn), static_argnames="activations")
    cases = draw_cases(5, 1, DEFAULT_ACTIVATIONS)
    start = time.perf_counter()
    with jax.enable_x64(True):
        for case in cases:
            params, X, y = case.build(np.float64)
            jax.block_until_ready(plain(params, X, y, case.lam, case.activations))
    result["cases/s with a compile per shape"] = len(cases) / (time.perf_counter() - start)
    return result


SAMPLED = {"softmax regression": ("models/softmax_regression.py:grad", "--loss", "models/softmax_regression.py:loss",
                                  "models/softmax_regression.py:sample"),
           "multiclass SVM": ("models/svm.py:grad", "--loss", "models/svm.py:loss", "models/svm.py:sample"),
           "logistic regression": ("models/logistic_regression.py:grad", "--loss", "models/logistic_regression.py:loss",
                                   "models/logistic_regression.py:sample"),
           "3-layer MLP, MSE": ("models/mlp_mse.py:grad", "--loss", "models/mlp_mse.py:loss", "models/mlp_mse.py:sample"),
           "affine layer": ("layers/layers.py:affine_backward", "--forward", "layers/layers.py:affine_forward",
                            "layers/layers.py:sample_affine"),
           "batchnorm layer": ("layers/layers.py:batchnorm_backward", "--forward", "layers/layers.py:batchnorm_forward",
                               "layers/layers.py:sample_batchnorm")}


def sampled_throughput(repeats):
    """The loss and layer modes: the default sweep (20 cases) of each example, cold, with the reference's
    compile and run time apart; and, for softmax regression, the reference compiled per shape against run
    eagerly (every operation compiled anew for each shape), in one process."""
    gradcheck = str(Path(sysconfig.get_path("scripts")) / "gradcheck")
    examples = Path(__file__).resolve().parent.parent / "examples"
    rows = {}
    for label, (candidate, option, function, sampler) in SAMPLED.items():
        seconds, config = [], None
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as folder:
                report = Path(folder) / "r.json"
                start = time.perf_counter()
                subprocess.run([gradcheck, str(examples / candidate), option, str(examples / function), "--sample",
                                str(examples / sampler), "--quiet", "--json", str(report)], check=True)
                seconds.append(time.perf_counter() - start)
                config = json.loads(report.read_text())["config"]
        rows[label] = {"cold s, 20 cases": float(np.median(seconds)),
                       "reference compile s": config["reference compile s"],
                       "reference run s": config["reference run s"]}
        print(f"sampled {label}: {rows[label]}", file=sys.stderr)

    from gradcheck.problems import loss

    model = str(examples / "models/softmax_regression.py")
    specs = {"loss": f"{model}:loss", "sample": f"{model}:sample"}
    timing = {}
    for way in ("jit per shape", "eager"):
        roles, _ = loss.reference_roles(specs)
        roles["reference"].__self__.eager = way == "eager"
        start = time.perf_counter()
        for i in range(20):
            roles["sample"]((99, i), None)
            roles["reference"]()
        timing[way] = time.perf_counter() - start
    return {"examples": rows, "softmax regression reference, 20 new shapes, s": timing}


def machine():
    import jax

    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "jax": jax.__version__,
            "vector extensions": []}
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in lines if line.startswith("flags"))
        wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni",
                  "avx512_bf16", "amx_tile", "asimd", "sve")
        info["vector extensions"] = [f for f in wanted if f in flags]
    except (OSError, StopIteration):
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = "not installed"
    return info


def _mib(value):
    return "below resolution" if value is None else f"{value:.3g}"


def _kernel_words(blas):
    return "; ".join(f"{b['internal_api']} {b['version']}, kernel {b['architecture']}, {b['num_threads']} threads"
                     for b in blas) or "no BLAS reported"


def markdown(results):
    m = results["machine"]
    lines = [f"Measured on {m['cpu']} ({', '.join(m['vector extensions'])}), {m['cores']} cores; Python "
             f"{m['python']}, NumPy {m['numpy']}, JAX {m['jax']}, PyTorch {m['torch']}. `python -m benchmarks.run"
             + (" --quick" if results["quick"] else "") + "`, sigmoid, λ = 0.1.", ""]
    for kernel in KERNELS:
        rows = [r for r in results["speed"] if r["kernel"] == kernel]
        if not rows:
            continue
        lines += [f"BLAS {kernel}: {_kernel_words(rows[0]['blas'])}.", ""]
        names = [n for n in CONTENDERS if any(n in r["ms"] for r in rows)]
        lines.append("| shape | dtype | " + " | ".join(f"{NAMES[n]} ms (× alone)" for n in names)
                     + " | A/A | manual_grad / floor | manual_grad / jax.jit | manual_grad / PyTorch | jax compile s |")
        lines.append("|" + " --- |" * (len(names) + 7))
        for r in rows:
            cells = [f"{r['ms'][n]:.3g} ({r['together / alone'][n]:.2f})" if n in r["ms"] else "-" for n in names]
            lines.append(f"| {r['shape']} {tuple(r['N, widths'])} | {r['dtype']} | " + " | ".join(cells)
                         + f" | {r['A/A']:.3f} | {r['manual_grad / floor']:.2f} | {r['manual_grad / jax.jit']:.2f} | "
                         + (f"{r['manual_grad / PyTorch']:.2f}" if "manual_grad / PyTorch" in r else "-")
                         + f" | {r['jax compile s']:.2f} |")
        held = sum(r["holds alone"] for r in rows)
        aa = sum(r["A/A holds"] for r in rows)
        lines += ["", f"Every median within 10% of the contender timed alone in {held} of {len(rows)} rows; "
                  f"A/A within 1.00 ± 0.05 in {aa} of {len(rows)}.", ""]
    if results.get("activations"):
        lines += [f"Per activation, {results['activations_shape']} shape, BLAS auto:", "",
                  "| dtype | activation | manual_grad / floor | manual_grad / jax.jit | A/A | holds alone |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r['dtype']} | {r['activation']} | {r['manual_grad / floor']:.2f} | "
                  f"{r['manual_grad / jax.jit']:.2f} | {r['A/A']:.3f} | {'yes' if r['holds alone'] else 'no'} |"
                  for r in results["activations"]]
        lines.append("")
    mem_names = [n for n in CONTENDERS if n != "manual_grad_aa"]
    lines += ["Peak working memory of one call, MiB (NumPy contenders by tracemalloc; jax.jit by XLA's account of its "
              "compiled temporaries and outputs; PyTorch by the resident set, where an allocation of known size "
              "measures true at that shape, else below the method's resolution):", "",
              "| shape | dtype | " + " | ".join(NAMES[n] for n in mem_names) + " | two (N, max H) arrays | known: "
              "allocated / measured |", "|" + " --- |" * (len(mem_names) + 4)]
    for r in results["memory"]:
        cells = [_mib(r["MiB"][n]) if n in r["MiB"] else "-" for n in mem_names]
        lines.append(f"| {r['shape']} {tuple(r['N, widths'])} | {r['dtype']} | " + " | ".join(cells)
                     + f" | {r['two (N, max H) arrays MiB']:.3g} | {r['known MiB']:.3g} / {r['known measured MiB']:.3g} |")
    s = results["stream"]
    lines += ["", f"manual_grad over X as a memmap on disk (`python -m benchmarks.stream`): N = {s['N']:,}, D = {s['D']}, "
              f"H = {s['H']}, K = {s['K']}, float32: X is {s['X on disk MiB']:.0f} MiB on disk; working memory "
              f"{s['working memory MiB']:.1f} MiB (two (N, H) arrays would be {s['two (N, H) arrays MiB']:.0f} MiB), "
              f"{s['seconds']:.2f} s, blocks of {s['block rows']} rows.", ""]
    lines += ["Against N (D = 784, H = 256, K = 10, float32, BLAS auto):", "",
              "| N | manual_grad ms | jax.jit ms | PyTorch ms | manual_grad / jax.jit | manual_grad MiB | jax.jit MiB | "
              "PyTorch MiB | jax_reference XLA temp MiB |", "|" + " --- |" * 9]
    for p in results["scaling"]:
        mib = p["MiB"]
        lines.append(f"| {p['N']} | {p['ms']['manual_grad']:.3g} | {p['ms']['jax_jit']:.3g} | "
                     f"{p['ms'].get('torch_autograd', float('nan')):.3g} | {p['manual_grad / jax.jit']:.2f} | "
                     f"{_mib(mib['manual_grad'])} | {_mib(mib['jax_jit'])} | {_mib(mib['torch_autograd'])} | "
                     f"{p['jax_reference XLA temp MiB']:.3g} |")
    lines += ["", "gradcheck:", "", "| measure | value |", "| --- | --- |"]
    lines += [f"| {k} | {v:.3g} |" for k, v in results["gradcheck"].items()]
    sampled = results["sampled"]
    lines += ["", "gradcheck's loss and layer modes, default sweep (20 cases, a new shape each), from a cold start:", "",
              "| example | seconds | of which the reference compiling | the reference running |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {k} | {v['cold s, 20 cases']:.3g} | {v['reference compile s']:.3g} | {v['reference run s']:.3g} |"
              for k, v in sampled["examples"].items()]
    timing = sampled["softmax regression reference, 20 new shapes, s"]
    lines += ["", f"The softmax regression reference over 20 new shapes: {timing['jit per shape']:.3g} s compiled "
              f"per shape with jax.jit, {timing['eager']:.3g} s eagerly (every operation compiled anew per shape)."]
    return "\n".join(lines) + "\n"


def plots(results, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install -e '.[bench]')", file=sys.stderr)
        return
    rows = [r for r in results["speed"] if r["kernel"] == "auto"]
    names = [n for n in CONTENDERS if n not in ("gemm_floor", "manual_grad_aa") and any(n in r["ms"] for r in rows)]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ratios = [r["ms"][name] / r["ms"]["gemm_floor"] if name in r["ms"] else np.nan for r in rows]
        ax.bar(np.arange(len(rows)) + i * width, ratios, width, label=NAMES[name])
    ax.axhline(1, color="black", lw=1, ls="--", label="GEMM floor")
    ax.set_yscale("log")  # tiny shapes are overhead-bound, 10–50×; the others sit near 1
    ax.set_xticks(np.arange(len(rows)) + width * (len(names) - 1) / 2, [f"{r['shape']}\n{r['dtype']}" for r in rows],
                  fontsize=8)
    ax.set_ylabel("time / GEMM floor (lower is faster)")
    ax.set_title("value and gradient of J~, sigmoid, BLAS kernel auto: time relative to the unavoidable matrix products")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "speed.png", dpi=120)
    plt.close(fig)

    points = results["scaling"]
    N = [p["N"] for p in points]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name in ("manual_grad", "jax_jit", "torch_autograd", "gemm_floor"):
        if all(name in p["ms"] for p in points):
            axes[0].plot(N, [p["ms"][name] for p in points], "o-", label=NAMES[name])
    axes[1].plot(N, [p["manual_grad / jax.jit"] for p in points], "o-", label="manual_grad / jax.jit")
    axes[1].plot(N, [p["manual_grad / floor"] for p in points], "s-", label="manual_grad / GEMM floor")
    axes[1].axhline(1, color="black", lw=1, ls="--")
    for ax, label in zip(axes, ("ms per call", "ratio")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (batch)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_yscale("log")
    axes[0].set_title("time against N (D=784, H=256, K=10, float32)")
    axes[1].set_title("manual_grad's ratios against N")
    fig.tight_layout()
    fig.savefig(out / "scaling.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    series = {"manual_grad": [p["MiB"]["manual_grad"] for p in points],
              "jax.jit": [p["MiB"]["jax_jit"] for p in points],
              "PyTorch": [p["MiB"]["torch_autograd"] for p in points],
              "jax_reference (XLA temp)": [p["jax_reference XLA temp MiB"] for p in points]}
    for label, values in series.items():
        if all(v is not None for v in values):
            ax.plot(N, [max(v, 1e-2) for v in values], "o-", label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("N (batch)")
    ax.set_ylabel("peak working memory of one call, MiB")
    ax.set_title("working memory against N (D=784, H=256, K=10, float32)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "memory.png", dpi=120)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the tiny and MNIST-like shapes, fewer rounds: a few minutes")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results", help="where to write")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if importlib.util.find_spec("threadpoolctl") is None:
        sys.exit("benchmarks need threadpoolctl (and torch, matplotlib): pip install -e '.[bench]'")

    shapes = {k: v for k, v in SHAPES.items() if not args.quick or k in QUICK_SHAPES}
    rounds = 5 if args.quick else 7
    activations_shape = "MNIST-like"
    results = {"quick": args.quick, "machine": machine()}
    results["speed"] = [speed_row(label, shape, dtype, kernel, rounds)
                        for kernel in KERNELS for label, shape in shapes.items() for dtype in ("float32", "float64")]
    results["activations_shape"] = activations_shape
    results["activations"] = [
        speed_row(activations_shape, SHAPES[activations_shape], dtype, "auto", rounds, activation,
                  ("manual_grad", "manual_grad_aa", "jax_jit", "gemm_floor"))
        for dtype in ("float32", "float64") for activation in ("sigmoid", "tanh", "relu", "leaky_relu", "softplus")]
    results["memory"] = [memory_row(label, shape, "float64") for label, shape in shapes.items()]
    results["stream"] = stream.measure(10**5 if args.quick else 10**6, 256, 256, 10)
    results["scaling"] = scaling(rounds, args.quick)
    results["gradcheck"] = gradcheck_throughput(1 if args.quick else 5)
    results["sampled"] = sampled_throughput(1 if args.quick else 3)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=list))
    (args.out / "results.md").write_text(markdown(results))
    plots(results, args.out)
    print(markdown(results))


if __name__ == "__main__":
    main()
