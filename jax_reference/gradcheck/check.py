"""The library entry points: check a candidate gradient function, or assert that it agrees."""

import numbers
import os

import numpy as np

from . import report as reports
from .isolation import InProcess, Isolated
from .loader import split
from .plan import DEFAULT_ACTIVATIONS, activations_arg, depth_arg, draw_cases, lams_arg
from .render import text
from . import generic
from .sweep import SetupError, prepare, run_case, run_sampled_case

DEFAULT_CASES = 200
# The loss and layer modes: a user's sampler draws new shapes in every case, and JAX compiles the reference
# once per shape (about 0.2 s each): 20 cases keep a default sweep of a small loss within 10 s.
DEFAULT_SAMPLED_CASES = 20
FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
# Seconds one call of the candidate, or the import of its module, may take before it counts as hung.
DEFAULT_TIMEOUT = 20.0
# The reference's worker is not held to the candidate's --timeout: it compiles the user's code (tracing a loop of
# naive Python can take minutes), and a failure there is no verdict on the candidate. It is bounded all the same,
# against a sampler or loss that hangs.
REFERENCE_TIMEOUT = 900.0


def check_gradients(candidate, *, loss=None, sample=None, reference=None, name=None, **sweep_args):
    """Checks `candidate` against jax.grad of the reference loss over a sweep of random cases.

    With `loss` and `sample`, the loss mode: candidate(params, *data) -> dict is checked against jax.grad of
    loss(params, *data), the user's NumPy code run with jax.numpy in NumPy's place (or of `reference`, a loss
    written in JAX), over the cases sample(rng) -> (params, data) draws; see `sweep_sampled`. Without them,
    the seed model's mode:

    Args:
      candidate: a function with the signature of `manual_grad.grad`,
        candidate(params, X, y, lam, activation) -> {"W1", "b1", "W2", "b2"}
        (W1, b1, …, WL, bL for depth L; activation is then one name or one per hidden layer),
        called in this process; or a spec "path/to/file.py:function" or
        "package.module:function", called in a worker process of its own,
        where an exit, a crash or a hang cannot take the caller down with it.
      cases: how many cases (distinct shapes, D, H, K distinct); the first few
        cover every activation, λ = 0 and λ > 0, relu kinks, one-class labels
        and large logits.
      seed: the sweep's seed, an integer >= 0; the same seed gives the same cases.
      dtype: float64 or float32; the candidate gets arrays of this dtype.
      activations: an activation name, or several, to cycle through (default the
        seed's sigmoid, tanh and relu; deeper networks mix them, one per layer).
      lams: a λ value, or several, to cycle through; None alternates 0 and random λ > 0.
      depth: L, the number of weight layers of the networks drawn (2, the seed's, by default).
      stages: `stages(params, X, y, activation) -> {"delta3", "delta2"}` (delta{L+1} … delta2) to check
        the chain rule's intermediate quantities too; with a spec candidate, True
        takes the `stages` function of the candidate's module.
      timeout: seconds one call may take, for a spec candidate (a function
        called in this process cannot be stopped).
      progress: optional wrapper around the case iterator, e.g. a progress bar.
      name: how the report names the candidate.

    Returns:
      The report, a JSON-ready dict; report["ok"] is True only when every case
      ran and every parameter agreed.
    """
    if loss is not None or sample is not None:
        specs = {"candidate": candidate, "loss": loss, "sample": sample, "reference": reference}
        results, output, config = sweep_sampled("loss", specs, **sweep_args)
        call = _call("check_gradients", candidate, {"loss": loss, "sample": sample, "reference": reference}, sweep_args)
    else:
        results, output, config = sweep(candidate, **sweep_args)
        call = _call("check_gradients", candidate, {}, sweep_args)
    built = reports.build(results, output=output, candidate_name=name or _name(candidate), config=config)
    return reports.Report(built, results, call)


def _call(function, candidate, functions, sweep_args):
    """The Python call that reproduces a report, for its page."""
    arguments = [_name(candidate) if not isinstance(candidate, str) else repr(candidate)]
    arguments += [f"{k}={_name(v) if not isinstance(v, str) else repr(v)}" for k, v in functions.items() if v is not None]
    arguments += [f"{k}={v!r}" for k, v in sweep_args.items() if k not in ("progress", "runner", "runners")]
    return f"from jax_reference.gradcheck import {function}\n{function}({', '.join(arguments)})"


def check_vjp(backward, *, forward, sample, name=None, **sweep_args):
    """Checks a layer's hand-derived backward pass against jax.vjp of its forward pass.

    Args:
      backward: backward(dout, cache) -> one gradient per float-array input of forward, in order (a tuple,
        or one array where there is one).
      forward: forward(*inputs) -> out, or (out, cache): NumPy code, run as it is for the candidate's cache
        and with jax.numpy in NumPy's place for the reference.
      sample: sample(rng) -> forward's inputs, a tuple; non-array inputs pass through, undifferentiated.
      The other keyword arguments as `sweep_sampled`: cases, seed, dtype, timeout, progress.

    Returns:
      The report; its parameters are named after forward's arguments (x, w, b).
    """
    specs = {"candidate": backward, "forward": forward, "sample": sample}
    results, output, config = sweep_sampled("layer", specs, **sweep_args)
    built = reports.build(results, output=output, candidate_name=name or _name(backward), config=config)
    return reports.Report(built, results, _call("check_vjp", backward, {"forward": forward, "sample": sample}, sweep_args))


def sampled_runners(mode, specs, timeout):
    """(reference runner, candidate runner, forward's argument names): each in a worker process of its own
    where every function is named by a spec, in this process otherwise."""
    present = {k: v for k, v in specs.items() if v is not None}
    if all(isinstance(v, str) for v in present.values()):
        # A user's small arrays, a new shape in every case: XLA's compile time is what costs, not the code it
        # makes. Without its backend optimisations it compiles faster (measured 0.2 s for 0.28 per shape).
        env = {**os.environ, "XLA_FLAGS": " ".join(filter(None, [os.environ.get("XLA_FLAGS", ""), FAST_COMPILE]))}
        reference = Isolated(timeout=max(timeout, REFERENCE_TIMEOUT), env=env, roles={
            "side": "reference", "mode": mode, "specs": {k: v for k, v in present.items() if k != "candidate"}})
        candidate = Isolated(timeout=timeout, roles={"side": "candidate", "mode": mode, "specs": present})
        for runner in (candidate, reference):
            try:
                runner.load()
            except Exception:
                candidate.close()
                reference.close()
                raise
        return reference, candidate, reference.names
    roles, names = generic.reference_roles(mode, present)
    return InProcess(roles), InProcess(generic.candidate_roles(mode, present)), names


def sweep_sampled(mode, specs, *, cases=DEFAULT_SAMPLED_CASES, seed=0, dtype=None, timeout=DEFAULT_TIMEOUT,
                  progress=None, runners=None):
    """The sweep of the loss mode ("loss") or the layer mode ("layer"): each case drawn by the user's sampler
    from its own seed [seed, index], the candidate and the reference run on it.

    specs: {"candidate", "sample", and "loss" (and "reference") or "forward"}, spec strings or functions.
    dtype: None checks each case in the dtype its sample drew (float32 or float64); float32 or float64 casts
      every sample to it.
    runners: (reference runner, candidate runner, names) already loaded, or None to load them here.
    Raises sweep.SetupError where the sampler, the loss or the forward fails or returns what cannot be used, or
    where the sample's structure (its names, the kinds of its data) changes from case to case.
    """
    check_sweep_args(cases, seed, dtype, timeout, optional_dtype=True)
    reference, candidate, names = runners or sampled_runners(mode, specs, timeout)
    try:
        results = []
        for i in (progress(range(cases)) if progress else range(cases)):
            results.append(run_sampled_case(i, (seed, i), mode, {"reference": reference, "candidate": candidate},
                                            dtype, names))
            change = generic.structure_change(results[0].case, results[-1].case)
            if change:
                raise SetupError(change)
    finally:
        reference.close()
        candidate.close()
    dtypes = sorted({r.dtype for r in results}, key=lambda d: d.itemsize)
    config = {"mode": mode, "dtype": dtypes[0], "dtypes": dtypes, "seed": seed, "sampler": _name(specs["sample"]),
              "reference": _name(specs["reference"]) if specs.get("reference") else
              f"{_name(specs['loss' if mode == 'loss' else 'forward'])} (run with jax.numpy)"}
    return results, candidate.output, config


def check_sweep_args(cases, seed, dtype, timeout, optional_dtype=False):
    """Refuses bad sweep arguments, each named, before anything runs."""
    if isinstance(cases, bool) or not isinstance(cases, numbers.Integral) or cases < 1:
        raise ValueError(f"cases must be an integer >= 1; got {cases!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    if not (dtype is None and optional_dtype) and np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0; got {timeout!r}")


def runner_for(candidate, stages, timeout):
    """An isolation runner for the candidate: in a worker process for a spec, in this process for a function."""
    if isinstance(candidate, str):
        where, _ = split(candidate)
        specs = {"candidate": candidate}
        if stages is True:
            specs["stages"] = f"{where}:stages"
        elif stages:
            raise TypeError("stages must be True (the candidate module's stages) when the candidate is a spec; "
                            f"got {type(stages).__name__}")
        runner = Isolated(specs, timeout=timeout)
        runner.load()
        return runner
    if not callable(candidate):
        raise TypeError(f"candidate must be a function or a 'file.py:function' spec; got {type(candidate).__name__}")
    functions = {"candidate": candidate}
    if stages:
        if not callable(stages):
            raise TypeError(f"stages must be a function stages(params, X, y, activation); got {type(stages).__name__}")
        functions["stages"] = stages
    return InProcess(functions)


def sweep(candidate, *, cases=DEFAULT_CASES, seed=0, dtype=np.float64, activations=DEFAULT_ACTIVATIONS,
          lams=None, depth=2, stages=None, timeout=DEFAULT_TIMEOUT, progress=None, runner=None):
    """The sweep behind `check_gradients`: (a `CaseResult` per case, the candidate's output tallies,
    the sweep's configuration as `report.build` takes it).

    `runner` may be one already loaded (the command line loads it first, to
    report a candidate that cannot be loaded before any case runs).
    """
    check_sweep_args(cases, seed, dtype, timeout)
    activations, lams, depth = activations_arg(activations), lams_arg(lams), depth_arg(depth)
    drawn = draw_cases(cases, seed, activations, lams, depth)
    runner = runner or runner_for(candidate, stages, timeout)
    try:
        prepared = prepare(drawn, dtype)
        results = [run_case(case, runner, dtype, bool(stages), next(prepared))
                   for case in (progress(drawn) if progress else drawn)]
    finally:
        runner.close()
    config = {"mode": "seed", "dtype": np.dtype(dtype), "seed": seed, "checked_stages": bool(stages),
              "activations": activations, "lams": lams, "depth": depth}
    return results, runner.output, config


def assert_vjp_agree(backward, **kwargs):
    """As `assert_gradients_agree`, for a layer's backward pass: takes the keyword arguments of `check_vjp`."""
    return _asserted(check_vjp(backward, **kwargs))


def assert_gradients_agree(candidate, **kwargs):
    """For a project's own pytest suite: raises AssertionError with the report's table when `candidate` is wrong.

    Takes the keyword arguments of `check_gradients` (fewer cases keep a test
    fast: `cases=50` runs in well under a second once JAX has compiled).
    Returns the report when all agree.
    """
    return _asserted(check_gradients(candidate, **kwargs))


def _asserted(report):
    if not report["ok"]:
        raise AssertionError("\n" + text(report))
    return report


def _name(function):
    if isinstance(function, str):
        return function
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"

