"""The `gradcheck` command.

Exit status: 0 every case ran and the candidate agrees, 1 the candidate is
wrong (values, shapes, keys, dtype, in-place changes, or it raised, exited,
crashed or timed out), 2 usage error (bad arguments, an output path that
cannot be written, a candidate that cannot be loaded, a sample whose
structure changes), 3 no verdict (the reference could not be trusted: not
finite, or disagreeing with its own finite differences), 130 interrupted.

The candidate runs in a worker process of its own (see isolation), so that
nothing it does can end gradcheck or reach its output. Usage errors are found
before any case runs; those of the command line itself (its arguments, output
paths, files that are not there) before JAX is imported. A candidate that
cannot be loaded is said once its worker has tried, which JAX's import
overlaps.
"""

import argparse
import gc
import importlib.util
import json
import os
import shlex
import signal
import sys
from pathlib import Path

import manual_grad as mg

from . import api
from .api import DEFAULT_CASES, DEFAULT_SAMPLED_CASES, DEFAULT_TIMEOUT
from .errors import LoadError, SetupError, UsageError
from .isolation.loader import check_form
from .problems.seed_cases import DEFAULT_ACTIVATIONS, MAX_DEPTH
from .report.text import text

EXIT_STATUS = {"pass": 0, "fail": 1, "no verdict": 3}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line that names the argument, rather than the whole usage.
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _integer(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def _depth(text):
    value = _integer(2)(text)
    if value > MAX_DEPTH:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_DEPTH} layers (their widths must differ), got {value}")
    return value


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _lam(text):
    try:
        return mg.validate.check_lam(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite λ >= 0, got {text!r}") from None


def parser():
    p = _Parser(
        prog="gradcheck",
        description="Check a hand-derived gradient function against jax.grad of the reference loss, "
        "with central finite differences as an independent witness. The candidate runs in a process of its own.",
        epilog="Exit status: 0 every case ran and all agree, 1 the candidate is wrong (or raised, exited, crashed, "
        "timed out), 2 usage error, 3 no verdict (the reference could not be trusted), 130 interrupted.",
    )
    p.add_argument("candidate", nargs="?",
                   help="path/to/file.py:function or package.module:function: a gradient function with the "
                   "signature of manual_grad.grad (default: manual_grad:grad); with --loss, grad(params, *data); "
                   "with --forward, backward(dout, cache); path/to/file.py alone: every X_backward and *_loss of "
                   "a course assignment's file, in one table")
    p.add_argument("--loss", metavar="SPEC",
                   help="loss mode: loss(params, *data) -> scalar, NumPy code; the reference is jax.grad of it run "
                   "with jax.numpy in NumPy's place (needs --sample)")
    p.add_argument("--forward", metavar="SPEC",
                   help="layer mode: forward(*inputs) -> out or (out, cache); the reference is jax.vjp of it run "
                   "with jax.numpy, with a random dout (needs --sample)")
    p.add_argument("--sample", metavar="SPEC",
                   help="sample(rng) -> (params, data) for --loss, or forward's inputs for --forward: one random case; "
                   "alone, {argument: value} for a candidate that returns (loss, grad)")
    p.add_argument("--shapes", metavar="SPEC",
                   help="(loss, grad) mode: the candidate returns its loss and gradient together, f(W, X, y, reg) -> "
                   "(loss, dW), checked against jax.grad of its own loss; its arguments drawn from SPEC, e.g. "
                   "\"W: D,C; X: N,D; y: int[N] < C; reg: 0.1\" (letters drawn anew, and distinct, in every case)")
    p.add_argument("--init", metavar="SPEC",
                   help="with --shapes, for a model class's method (neural_net.py:TwoLayerNet.loss): the constructor's "
                   "arguments, a letter of --shapes for a size, e.g. \"input_size: D; hidden_size: H; output_size: C\" "
                   "(default: guessed from their names, and said)")
    p.add_argument("--wrt", metavar="NAMES",
                   help="with --shapes: the arguments the returned gradient is for, e.g. W or W,b (default: read from "
                   "what it returns: one array, the first argument's; a dict, those its keys name)")
    p.add_argument("--reference", metavar="SPEC", help="with --loss: a loss written in JAX to differentiate instead")
    p.add_argument("--cases", type=_integer(1), default=None,
                   help=f"random cases to check (default {DEFAULT_CASES}; {DEFAULT_SAMPLED_CASES} with --loss or "
                   "--forward, whose every new shape costs a compilation)")
    p.add_argument("--seed", type=_integer(0), default=0, help="seed of the sweep, an integer >= 0 (default 0)")
    p.add_argument("--dtype", choices=["float64", "float32"], default=None,
                   help="check in this dtype (default float64; with --loss or --forward, the dtype the sample draws)")
    p.add_argument("--activation", choices=mg.ACTIVATIONS, action="append", dest="activations",
                   help="use this activation (repeat for several; default the seed's sigmoid, tanh and relu)")
    p.add_argument("--depth", type=_depth, default=None, metavar="L",
                   help="networks of L weight layers, W1, b1, …, WL, bL, with mixed activations (default 2)")
    p.add_argument("--lam", type=_lam, action="append", dest="lams",
                   help="a λ value to use (repeat for several; default: 0 and random λ > 0)")
    p.add_argument("--hvp", action="store_true",
                   help="the seed model's second order: the candidate is hvp(params, v, X, y, lam, activation) -> H v, "
                   "checked against jax.jvp of jax.grad (default candidate: manual_grad:hvp)")
    p.add_argument("--gnvp", action="store_true",
                   help="as --hvp, for the Gauss-Newton-vector product J_zᵀ H_z J_z v + 2λV (default candidate: "
                   "manual_grad:gnvp)")
    p.add_argument("--integrable", action="store_true",
                   help="with --sample and no loss: is the candidate, grad(params, *data), the gradient of any loss? "
                   "The symmetry of its Jacobian from its own central differences: exit 1 where it is not, 3 (no "
                   "verdict) where it is, never 0")
    p.add_argument("--stages", action="store_true",
                   help="also check δ3 = ∂J/∂z3 and δ2 = ∂J/∂z2 from the candidate file's stages()")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"the most one call of the candidate, or its import, may take (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--plot", metavar="PATH",
                   help="draw |candidate − reference| per parameter, worst case of each, as a PNG (needs matplotlib)")
    p.add_argument("--html", metavar="PATH",
                   help="write the report as one self-contained HTML page, heatmaps included (for CI artifacts)")
    p.add_argument("--json", metavar="PATH", help="write the report as JSON")
    p.add_argument("--junit", metavar="PATH", help="write the report as JUnit XML")
    p.add_argument("--no-cache", action="store_true",
                   help="compile and compute every reference anew, without the persistent cache of compiled "
                   "programs and references ($XDG_CACHE_HOME/gradcheck, ~/.cache/gradcheck by default)")
    p.add_argument("--quiet", action="store_true",
                   help="print nothing (usage errors excepted); rely on the exit status and files")
    return p


def _unwritable(option, path):
    """None where `path` can be written as a file, else one line saying why. Leaves no file behind."""
    target = Path(path)
    if target.is_dir():
        return f"{option} {path}: is a folder; give a file path"
    if not target.parent.is_dir():
        what = "is not a folder" if target.parent.exists() else "does not exist"
        return f"{option} {path}: the folder {target.parent} {what}"
    existed = target.exists()
    try:
        with open(target, "a"):
            pass
    except OSError as exc:
        return f"{option} {path}: cannot be written ({exc.strerror})"
    if not existed:
        target.unlink()
    return None


def _usage_error(message):
    print(f"gradcheck: {message}", file=sys.stderr)
    return 2


def _check_outputs(args):
    outputs = [(f"--{name}", getattr(args, name)) for name in ("json", "junit", "html", "plot") if getattr(args, name)]
    resolved = [Path(path).resolve() for _, path in outputs]
    if len(set(resolved)) < len(resolved):
        return f"{', '.join(o for o, _ in outputs)} must name different files"
    for option, path in outputs:
        problem = _unwritable(option, path)
        if problem:
            return problem
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        return "--plot needs matplotlib: pip install -e '.[plot]'"
    return None


def _print(report_text):
    """The report on stdout; a reader that stops early (gradcheck … | head) is no error of gradcheck's: the
    rest goes nowhere, and the files and the exit status are as they would be."""
    try:
        print(report_text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own advice for SIGPIPE


def _write(path, content):
    with open(path, "w") as f:
        f.write(content)


def _progress(quiet):
    def wrap(cases):
        from tqdm import tqdm

        # delay: no bar at all for sweeps that finish before it would be read.
        return tqdm(cases, desc="gradcheck", unit="case", delay=1.0, leave=False, disable=quiet or None)

    return wrap


def _interrupted(signum, frame):
    # Out at once, from wherever the main thread was (an import of JAX's C++ runtime included):
    # unwinding through it as a KeyboardInterrupt can crash the interpreter on its way out.
    from .isolation.process import kill_workers

    kill_workers()
    sys.stderr.write("gradcheck: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    args.command = "gradcheck " + shlex.join(argv)
    previous = signal.signal(signal.SIGINT, _interrupted)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGINT, previous)


def script():
    """The console script: `main`, in a process of its own, without Python's cyclic garbage collector.

    JAX's import leaves about a million objects, which each full collection walks again, and so does the
    interpreter on its way out, several times over: 0.13 s of a 200-case sweep and 0.35-0.45 s at the exit, for nothing
    (a run makes little cyclic garbage: a 10,000-case sweep's peak memory, 760 MB, is the same either way).
    Frozen at the end, the objects are freed by the exit as before, without being walked.
    """
    gc.disable()
    try:
        return main()
    finally:
        gc.freeze()


# What a whole file's check takes: each function's inputs are the file's own or a course's usual ones.
_FILE_OPTIONS = {"cases", "seed", "dtype", "timeout", "json", "junit", "no_cache", "quiet"}


# What --integrable takes: the candidate, its sampler, the sweep and the machine-readable outputs.
_INTEGRABLE_OPTIONS = {"sample", "cases", "seed", "dtype", "timeout", "json", "junit", "quiet"}


def _beyond(args, options):
    """The options given that are not among `options` (argparse's names), as the command line spells them."""
    return [f"--{name.replace('_', '-')}" for name, value in vars(args).items()
            if name not in options | {"candidate", "command"} and value not in (None, False)]


def _whole_file(args):
    """Whether the candidate is a whole file (path/to/layers.py, no function named)."""
    return bool(args.candidate) and ":" not in args.candidate and args.candidate.endswith(".py")


def _mode(args):
    """("seed", "loss", "layer", "value_and_grad" or "file", a usage problem or None), from which options were
    given."""
    if _whole_file(args):
        given = _beyond(args, _FILE_OPTIONS)
        if given:
            return "file", (f"{', '.join(given)}: a whole file is checked function by function with its own or a "
                            f"course's usual inputs; to use {given[0]}, name one function, {args.candidate}:function")
        return "file", None
    if args.integrable:
        given = _beyond(args, _INTEGRABLE_OPTIONS | {"integrable"})
        if given:
            return "integrable", (f"{', '.join(given)}: --integrable asks the candidate alone, over the cases of "
                                  "--sample, with no loss; check against a loss with --loss instead")
        if not (args.candidate and args.sample):
            return "integrable", "--integrable needs the candidate, path/to/file.py:grad, and --sample"
        return "integrable", None
    mode = "loss" if args.loss else "layer" if args.forward else "value_and_grad" if args.shapes or args.sample \
        else "seed"
    drawn = bool(args.sample or args.shapes)
    if args.loss and args.forward:
        return mode, "--loss and --forward are two modes: give one"
    if args.shapes and mode == "loss":
        return mode, "--shapes draws a function's arguments by name: it does not go with --loss, whose " \
                     "sample(rng) -> (params, data) draws them"
    if args.shapes and args.sample:
        return mode, "--shapes and --sample both draw the arguments: give one"
    if args.init and (not args.shapes or mode != "value_and_grad"):
        return mode, "--init gives a model class's constructor its arguments: it belongs with --shapes"
    if args.wrt and mode != "value_and_grad":
        return mode, "--wrt belongs with --shapes (or --sample alone), for a candidate that returns (loss, grad)"
    if mode == "value_and_grad":
        if not args.candidate:
            return mode, (f"{'--shapes' if args.shapes else '--sample'} without --loss or --forward draws the arguments "
                          "of a candidate that returns (loss, grad): give it, path/to/file.py:function")
    if mode == "loss" and not args.sample:
        return mode, "--loss needs --sample, a function sample(rng) that draws one case"
    if mode == "layer" and not drawn:
        return mode, "--forward needs --sample, a function sample(rng) that draws one case, or --shapes"
    if mode in ("loss", "layer") and not args.candidate:
        return mode, f"--{'loss' if args.loss else 'forward'} needs the candidate, path/to/file.py:function"
    if mode != "loss" and args.reference:
        return mode, "--reference is a loss written in JAX: it belongs with --loss"
    if args.hvp and args.gnvp:
        return mode, "--hvp and --gnvp check two different products: give one"
    if (args.hvp or args.gnvp) and args.stages:
        return mode, "--stages checks a gradient's δ: it does not go with --hvp or --gnvp"
    if args.gnvp and mode == "loss":
        return mode, "--gnvp needs the logits, which a user's loss does not show: with --loss, check --hvp"
    seed_only = [f"--{o}" for o, v in (("depth", args.depth), ("activation", args.activations), ("lam", args.lams),
                                       ("stages", args.stages), ("hvp", args.hvp and mode != "loss"),
                                       ("gnvp", args.gnvp)) if v]
    if mode != "seed" and seed_only:
        option = {"loss": "--loss", "layer": "--forward", "value_and_grad": "a candidate returning (loss, grad)"}[mode]
        return mode, f"{', '.join(seed_only)} belong to the seed model's mode, not to {option}"
    return mode, None


def _write_failure(args, message):
    from .report import load_failure

    _write_reports(args, load_failure(args.candidate, message))
    return _usage_error(message)


def _write_reports(args, report):
    """The report into each file asked for; the heatmaps and the plot need the cases' results."""
    results = getattr(report, "results", None)
    if args.json:
        _write(args.json, json.dumps(report, indent=1, allow_nan=False))
    if args.junit:
        from .report.junit import junit

        _write(args.junit, junit(report))
    if args.html:
        from .report.html import figure_svg, render_page

        figure = figure_svg(results, report) if results else None
        _write(args.html, render_page(report, figure=figure, command=args.command))
    if args.plot and results:
        from .report.plot import plot

        plot(results, report, args.plot)


def _problem(args, mode):
    """The mode's problem, from the arguments."""
    if mode == "seed" and (args.hvp or args.gnvp):
        return api.product_problem(args.candidate, product="hvp" if args.hvp else "gnvp",
                                   dtype=args.dtype or "float64", activations=args.activations or DEFAULT_ACTIVATIONS,
                                   lams=args.lams, depth=args.depth or 2, timeout=args.timeout,
                                   cache=not args.no_cache)
    if mode == "seed":
        return api.seed_problem(args.candidate, dtype=args.dtype or "float64",
                                activations=args.activations or DEFAULT_ACTIVATIONS, lams=args.lams,
                                depth=args.depth or 2, stages=args.stages, timeout=args.timeout,
                                cache=not args.no_cache)
    if mode == "loss":
        return api.loss_problem(args.candidate, loss=args.loss, sample=args.sample, reference=args.reference,
                                dtype=args.dtype, timeout=args.timeout, cache=not args.no_cache, hvp=args.hvp)
    if mode == "value_and_grad":
        return api.value_grad_problem(args.candidate, sample=args.sample, shapes=args.shapes, init=args.init,
                                      wrt=args.wrt, dtype=args.dtype, timeout=args.timeout, cache=not args.no_cache)
    return api.layer_problem(args.candidate, forward=args.forward, sample=args.sample, shapes=args.shapes,
                             dtype=args.dtype, timeout=args.timeout, cache=not args.no_cache)


def _cannot_load(args, mode, exc):
    """One line on what could not be loaded, and why."""
    message = str(exc)
    if exc.role == "stages":
        message = f"--stages: {message}; expected stages(params, X, y, activation) beside {args.candidate}"
    if mode == "seed" or exc.role == "candidate":
        return f"cannot load candidate {args.candidate!r}: {message}"
    if mode == "value_and_grad":
        return f"cannot check {args.candidate} with {'--shapes' if args.shapes else '--sample'}: {message}"
    options = f"{'--loss' if mode == 'loss' else '--forward'}, {'--shapes' if args.shapes else '--sample'}" + \
        (", --reference" * bool(args.reference))
    return f"cannot load the reference: {options}: {message}"


def _deliver(args, report, as_text, as_junit):
    """A report with words and a JUnit form of its own (a whole file's, --integrable's): printed, written where
    asked; its exit status."""
    if not args.quiet:
        _print(as_text(report))
    try:
        if args.json:
            _write(args.json, json.dumps(report, indent=1, allow_nan=False))
        if args.junit:
            _write(args.junit, as_junit(report))
    except OSError as exc:
        return _usage_error(f"writing {exc.filename}: {exc.strerror}")
    return EXIT_STATUS[report["verdict"]]


def _run_file(args):
    """A whole file: one table, and the exit status of its worst verdict."""
    from .report.junit import file_junit
    from .report.whole_file import file_text

    try:
        report = api.check_file(args.candidate, cases=args.cases or api.DEFAULT_FILE_CASES, seed=args.seed,
                                dtype=args.dtype, timeout=args.timeout, cache=not args.no_cache,
                                progress=_progress(args.quiet))
    except UsageError as exc:
        return _usage_error(str(exc))
    return _deliver(args, report, file_text, file_junit)


def _run_integrable(args):
    """--integrable: the candidate alone; exit 1 (not the gradient of any loss) or 3, never 0."""
    from .report import integrable

    try:
        report = api.check_integrable(args.candidate, sample=args.sample, cases=args.cases or DEFAULT_SAMPLED_CASES,
                                      seed=args.seed, dtype=args.dtype, timeout=args.timeout)
    except LoadError as exc:
        side = "candidate" if exc.role == "candidate" else "--sample"
        return _usage_error(f"cannot load {side}: {exc}")
    except SetupError as exc:
        return _usage_error(str(exc))
    return _deliver(args, report, integrable.text, integrable.junit)


def _run(args):
    mode, problem = _mode(args)
    args.candidate = args.candidate or \
        ("manual_grad:hvp" if args.hvp else "manual_grad:gnvp" if args.gnvp else "manual_grad:grad")
    problem = problem or _check_outputs(args)
    if problem:
        return _usage_error(problem)
    if mode == "file":
        return _run_file(args)
    if args.shapes:
        from .problems.shapes import parse as parse_shapes, parse_init  # its mode's alone (see api's imports)

        try:
            parse_shapes(args.shapes)
            if args.init:
                parse_init(args.init)
        except UsageError as exc:
            return _usage_error(str(exc))
    specs = {"candidate": args.candidate, "loss": args.loss, "forward": args.forward, "sample": args.sample,
             "reference": args.reference}
    for option, spec in specs.items():
        try:
            if spec:
                check_form(spec)
        except LoadError as exc:
            what = "candidate" if option == "candidate" else f"--{option}"
            return _usage_error(f"cannot load {what} {spec!r}: {exc}")
    if mode == "integrable":
        return _run_integrable(args)
    # The functions are loaded as JAX is imported (the seed mode, which waits for them at its first case) or in
    # the workers: a candidate that cannot be is said before any case runs.
    problem = _problem(args, mode)
    cases = args.cases or (DEFAULT_CASES if mode == "seed" else DEFAULT_SAMPLED_CASES)
    try:
        problem.open()
        report = api.run(problem, candidate_name=args.candidate, cases=cases, seed=args.seed,
                         progress=_progress(args.quiet), call=args.command)
    except LoadError as exc:
        return _write_failure(args, _cannot_load(args, mode, exc))
    except SetupError as exc:
        return _write_failure(args, str(exc))
    if not args.quiet:
        _print(text(report))
    try:
        _write_reports(args, report)
    except OSError as exc:
        return _usage_error(f"writing {exc.filename}: {exc.strerror}")
    return EXIT_STATUS[report["verdict"]]


if __name__ == "__main__":
    sys.exit(main())
