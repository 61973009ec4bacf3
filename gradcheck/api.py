"""The library entry points: check a candidate's gradients, or assert that they agree.

Each builds the mode's problem (gradcheck.problems), runs the one sweep (gradcheck.pipeline) and builds the
report (gradcheck.report).
"""

import numbers

import numpy as np

from .cache import choose
from .errors import CandidateFailure, LoadError, SetupError, UsageError
from .isolation.loader import name_of
from .pipeline.sweep import sweep
from .problems.seed_cases import DEFAULT_ACTIVATIONS
from .report import Report, build
from .report.text import text

# Each mode's problem is imported where it is built: a run imports its own mode's modules alone (the loss and
# layer modes' rewriting of NumPy for JAX is a seed-mode run's 0.06 s of imports for nothing).

DEFAULT_CASES = 200
# The loss and layer modes: a user's sampler draws new shapes in every case, and JAX compiles the reference
# once per shape (about 0.2 s each): 20 cases keep a default sweep of a small loss within 10 s.
DEFAULT_SAMPLED_CASES = 20
# A whole file: each function's cases draw new shapes, each a compilation; 5 cases of distinct letters show a
# transposed or mis-broadcast gradient as 20 do, and keep ten layers' check within a few JAX start-ups.
DEFAULT_FILE_CASES = 5
# Seconds one call of the candidate, or the import of its module, may take before it counts as hung.
DEFAULT_TIMEOUT = 20.0


def check_sweep_args(cases, seed, timeout):
    """Refuses bad sweep arguments, each named, before anything runs."""
    if isinstance(cases, bool) or not isinstance(cases, numbers.Integral) or cases < 1:
        raise ValueError(f"cases must be an integer >= 1; got {cases!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0; got {timeout!r}")


def _sampled_dtype(dtype):
    if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
    return dtype


def seed_problem(candidate, *, dtype=np.float64, activations=DEFAULT_ACTIVATIONS, lams=None, depth=2, stages=None,
                 timeout=DEFAULT_TIMEOUT, cache=False):
    from .problems.seed import SeedProblem

    return SeedProblem(candidate, dtype=dtype, activations=activations, lams=lams, depth=depth, stages=stages,
                       timeout=timeout, cache=choose(cache))


def product_problem(candidate, *, product="hvp", dtype=np.float64, activations=DEFAULT_ACTIVATIONS, lams=None,
                    depth=2, timeout=DEFAULT_TIMEOUT, cache=False):
    from .problems.seed_products import SeedProductProblem

    return SeedProductProblem(candidate, product=product, dtype=dtype, activations=activations, lams=lams,
                              depth=depth, timeout=timeout, cache=choose(cache))


def check_products(candidate, *, product="hvp", loss=None, sample=None, name=None, cases=None, seed=0, progress=None,
                   **options):
    """Checks a hand-derived Hessian-vector product of the seed model (or, product="gnvp", its Gauss-Newton-vector
    product) against autodiff, one random direction v per case; returns the report.

    Args:
      candidate: hvp(params, v, X, y, lam, activation) -> a dict with the keys and shapes of params, as
        `manual_grad.hvp`; a function, or a spec "path/to/file.py:function" run in a worker of its own.
      product: "hvp" (checked against jax.jvp of jax.grad, and central differences of manual_grad's gradient
        along random directions) or "gnvp" (against jax.linearize of the logits and the cross-entropy's Hessian).
      loss, sample: a user's NumPy loss(params, *data) and its sample(rng) -> (params, data), as
        `check_gradients`'s loss mode: the candidate is then hvp(params, v, *data), checked against jax.jvp of
        jax.grad of the loss run with jax.numpy (product "hvp" only).
      cases, seed, dtype, activations, lams, depth, timeout, cache, progress, name: as `check_gradients`.
    """
    if loss is not None or sample is not None:
        if product != "hvp":
            raise ValueError("a user's loss has no Gauss-Newton split (its logits are not known): product must be "
                             f"'hvp' with loss; got {product!r}")
        problem = loss_problem(candidate, loss=loss, sample=sample, hvp=True, **options)
        cases = cases or DEFAULT_SAMPLED_CASES
        return run(problem, candidate_name=name or name_of(candidate), cases=cases, seed=seed, progress=progress,
                   call=_call("check_products", candidate, {"loss": loss, "sample": sample},
                              {"cases": cases, "seed": seed, **options}))
    cases = cases or DEFAULT_CASES
    problem = product_problem(candidate, product=product, **options)
    return run(problem, candidate_name=name or name_of(candidate), cases=cases, seed=seed, progress=progress,
               call=_call("check_products", candidate, {}, {"product": product, "cases": cases, "seed": seed,
                                                            **options}))


def loss_problem(candidate, *, loss, sample, reference=None, dtype=None, timeout=DEFAULT_TIMEOUT, cache=False,
                 hvp=False):
    from .problems.loss import LossProblem
    from .problems.loss_products import LossProductProblem

    specs = {"candidate": candidate, "loss": loss, "sample": sample, "reference": reference}
    problem = LossProductProblem if hvp else LossProblem
    return problem(specs, dtype=_sampled_dtype(dtype), timeout=timeout, cache=choose(cache))


def value_grad_problem(candidate, *, sample=None, shapes=None, init=None, wrt=None, dtype=None,
                       timeout=DEFAULT_TIMEOUT, cache=False):
    if (sample is None) == (shapes is None):
        raise ValueError("a function returning (loss, grad) needs its arguments: give sample or shapes, not both")
    if wrt is not None and not isinstance(wrt, str):
        wrt = ",".join(wrt)
    from .problems.value_grad import ValueGradProblem

    specs = {"candidate": candidate, "sample": sample, "shapes": shapes, "init": init, "wrt": wrt}
    return ValueGradProblem(specs, dtype=_sampled_dtype(dtype), timeout=timeout, cache=choose(cache))


def layer_problem(backward, *, forward, sample=None, shapes=None, dtype=None, timeout=DEFAULT_TIMEOUT, cache=False):
    if (sample is None) == (shapes is None):
        raise ValueError("a layer needs its forward's inputs: give sample or shapes, not both")
    from .problems.layer import LayerProblem

    specs = {"candidate": backward, "forward": forward, "sample": sample, "shapes": shapes}
    return LayerProblem(specs, dtype=_sampled_dtype(dtype), timeout=timeout, cache=choose(cache))


def run(problem, *, candidate_name, cases, seed=0, progress=None, call=""):
    """The report of `problem` over `cases` cases drawn from `seed`."""
    check_sweep_args(cases, seed, problem.timeout)
    results, output = sweep(problem, cases, seed, progress)
    return Report(build(results, output=output, candidate_name=candidate_name, problem=problem, seed=seed),
                  results, call)


def check_gradients(candidate, *, loss=None, sample=None, reference=None, shapes=None, init=None, wrt=None,
                    name=None, cases=None, seed=0, progress=None, **options):
    """Checks `candidate` against autodiff over a sweep of random cases; returns the report.

    With `loss` and `sample`, the loss mode: candidate(params, *data) -> dict is checked against jax.grad of
    loss(params, *data), the user's NumPy code run with jax.numpy in NumPy's place (or of `reference`, a loss
    written in JAX), over the cases sample(rng) -> (params, data) draws.

    With `shapes` (or `sample` alone), the (loss, grad) mode: candidate(*arguments) -> (loss, grad) returns its
    loss and gradient together, as course assignments write them; the gradient is checked against jax.grad of
    its own loss, run with jax.numpy. One array returned is the gradient of the first argument, a dict of the
    arguments its keys name, a tuple of the first float arrays; `wrt` ("W,b" or ["W", "b"]) names them instead.
    The arguments come from `shapes`, a spec such as "W: D,C; X: N,D; y: int[N] < C; reg: 0.1" (letters drawn
    anew, and distinct, in every case; see gradcheck.problems.shapes), or from sample(rng) -> {argument: value}.
    A model class's method over self.params (TwoLayerNet.loss(X, y, reg) -> (loss, grads)) is checked in its
    params, the class built in every case with `init`, "input_size: D; hidden_size: H; output_size: C" (letters
    of `shapes`), or with its constructor's arguments guessed from their names, and said.

    Without them, the seed model's mode:

    Args:
      candidate: a function with the signature of `manual_grad.grad`,
        candidate(params, X, y, lam, activation) -> {"W1", "b1", "W2", "b2"}
        (W1, b1, …, WL, bL for depth L; activation is then one name or one per hidden layer),
        called in this process; or a spec "path/to/file.py:function" or
        "package.module:function", called in a worker process of its own,
        where an exit, a crash or a hang cannot take the caller down with it.
      cases: how many cases (default 200; 20 in the loss mode, where each new shape costs a compilation). In
        the seed mode each has distinct shapes, D, H, K distinct, and the first few cover every activation,
        λ = 0 and λ > 0, relu kinks, one-class labels and large logits.
      seed: the sweep's seed, an integer >= 0; the same seed gives the same cases.
      dtype: float64 or float32; the candidate gets arrays of this dtype (in the loss mode, None, the default,
        keeps the dtype each sample draws).
      activations: an activation name, or several, to cycle through (default the
        seed's sigmoid, tanh and relu; deeper networks mix them, one per layer).
      lams: a λ value, or several, to cycle through; None alternates 0 and random λ > 0.
      depth: L, the number of weight layers of the networks drawn (2, the seed's, by default).
      stages: `stages(params, X, y, activation) -> {"delta3", "delta2"}` (delta{L+1} … delta2) to check
        the chain rule's intermediate quantities too; with a spec candidate, True
        takes the `stages` function of the candidate's module.
      timeout: seconds one call of the candidate may take, for a spec candidate (a function called in this
        process cannot be stopped).
      cache: True to keep the compiled references in gradcheck's persistent compilation cache (see
        gradcheck.cache; it sets JAX's cache folder for this process). The command line keeps them by default.
      progress: optional wrapper around the case iterator, e.g. a progress bar.
      name: how the report names the candidate.

    Returns:
      The report, a JSON-ready dict; report["ok"] is True only when every case ran and every parameter
      agreed; report["verdict"] is "pass", "fail" or "no verdict".
    """
    if loss is not None:
        problem = loss_problem(candidate, loss=loss, sample=sample, reference=reference, **options)
        functions = {"loss": loss, "sample": sample, "reference": reference}
    elif sample is not None or shapes is not None:
        problem = value_grad_problem(candidate, sample=sample, shapes=shapes, init=init, wrt=wrt, **options)
        functions = {"sample": sample, "shapes": shapes, "init": init, "wrt": wrt}
    else:
        problem = seed_problem(candidate, **options)
        functions = {}
    if cases is None:
        cases = DEFAULT_SAMPLED_CASES if functions else DEFAULT_CASES
    return run(problem, candidate_name=name or name_of(candidate), cases=cases, seed=seed, progress=progress,
               call=_call("check_gradients", candidate, functions, {"cases": cases, "seed": seed, **options}))


def check_vjp(backward, *, forward, sample=None, shapes=None, name=None, cases=DEFAULT_SAMPLED_CASES, seed=0,
              progress=None, **options):
    """Checks a layer's hand-derived backward pass against jax.vjp of its forward pass; returns the report.

    Args:
      backward: backward(dout, cache) -> one gradient per float-array input of forward, in order (a tuple,
        or one array where there is one).
      forward: forward(*inputs) -> out, or (out, cache): NumPy code, run as it is for the candidate's cache
        and with jax.numpy in NumPy's place for the reference.
      sample: sample(rng) -> forward's inputs, a tuple; non-array inputs pass through, undifferentiated.
      shapes: instead of sample, the inputs drawn from a spec, "x: N,D; w: D,M; b: M" (see check_gradients).
        A forward with several outputs, (h, c, cache), gets one random dout each: backward(dh, dc, cache).
      cases, seed, dtype, timeout, progress, name: as `check_gradients`'s loss mode.

    Returns:
      The report; its parameters are named after forward's arguments (x, w, b).
    """
    problem = layer_problem(backward, forward=forward, sample=sample, shapes=shapes, **options)
    return run(problem, candidate_name=name or name_of(backward), cases=cases, seed=seed, progress=progress,
               call=_call("check_vjp", backward, {"forward": forward, "sample": sample, "shapes": shapes},
                          {"cases": cases, "seed": seed, **options}))


def check_file(path, *, cases=DEFAULT_FILE_CASES, seed=0, dtype=None, timeout=DEFAULT_TIMEOUT, cache=False,
               progress=None):
    """Checks every layer and loss of a course assignment's file, each as its own mode would; returns the report.

    Every X_backward(dout, cache) is checked against jax.vjp of X_forward, every *_loss(x, y) -> (loss, dx)
    against jax.grad of its own loss (see gradcheck.problems.course for which functions, and their inputs: the
    file's sample_X(rng), or a course's usual shapes, settings dicts in training mode). One reference worker and
    one candidate worker serve them all.

    Args:
      path: the file, path/to/layers.py.
      cases, seed, dtype, timeout, cache, progress: as `check_gradients`, for each function (5 cases each by
        default).

    Returns:
      The report: report["functions"] has one row per function, each with its own report (None where its
      inputs could not be guessed: no verdict); report["verdict"] is "pass" only where every one agrees.
      Raises UsageError where the file cannot be read, holds nothing to check, or its module cannot be loaded.
    """
    from .problems import course
    from .problems.layer import LayerProblem
    from .problems.sampled import Workers
    from .problems.value_grad import ValueGradProblem
    from .report import whole_file

    check_sweep_args(cases, seed, timeout)
    functions = course.discover(path)
    if not functions:
        raise UsageError(f"{path} has no X_forward/X_backward pair and no *_loss function to check: give one "
                         "function, path/to/file.py:function, with the mode's options")
    problems = {"layer": LayerProblem, "value_and_grad": ValueGradProblem}
    dtype, folder = _sampled_dtype(dtype), choose(cache)
    workers = Workers(folder)
    rows = []
    try:
        for function in functions:
            if function.missing:
                rows.append(whole_file.row(function, path, reason=function.missing))
                continue
            problem = problems[function.mode](function.specs(path), dtype=dtype, timeout=timeout, cache=folder,
                                              workers=workers)
            try:
                report = run(problem, candidate_name=f"{path}:{function.name}", cases=cases, seed=seed,
                             progress=progress)
            except LoadError as exc:
                if exc.role == "candidate":
                    raise UsageError(f"cannot load {path}:{function.name}: {exc}") from None
                rows.append(whole_file.row(function, path, reason=f"cannot set up its reference: {exc}"))
            except SetupError as exc:
                rows.append(whole_file.row(function, path, reason=str(exc)))
            else:
                rows.append(whole_file.row(function, path, report))
    finally:
        workers.close()
    return whole_file.build(path, rows, cases=cases, seed=seed, dtype=dtype)


def check_integrable(candidate, *, sample, name=None, cases=DEFAULT_SAMPLED_CASES, seed=0, dtype=None,
                     timeout=DEFAULT_TIMEOUT):
    """Whether a hand-derived gradient is the gradient of any loss, with no loss given: the symmetry of its
    Jacobian, from its own central differences (see gradcheck.problems.integrable); returns the report.

    Args:
      candidate: grad(params, *data) -> a dict with the keys and shapes of params, as in the loss mode.
      sample: sample(rng) -> (params, data), as in the loss mode.
      cases, seed, dtype, timeout, name: as `check_gradients`'s loss mode.

    Returns:
      The report: report["verdict"] is "fail" where the Jacobian is not symmetric (the candidate is the gradient
      of no loss; report["asymmetric"] names the pairs of parameters) or a call failed, else "no verdict":
      never "pass", for only the loss can say that a symmetric field is the right gradient.
    """
    from .problems.integrable import IntegrableProblem
    from .report import integrable

    check_sweep_args(cases, seed, timeout)
    problem = IntegrableProblem({"candidate": candidate, "sample": sample}, dtype=_sampled_dtype(dtype),
                                timeout=timeout)
    results, output = problem.check(cases, seed)
    dtypes = sorted({r["dtype"] for r in results})
    return integrable.build(results, output=output, candidate_name=name or name_of(candidate),
                            config={"seed": seed, "dtype": ", ".join(dtypes), "sampler": name_of(sample)})


def _call(function, candidate, functions, arguments):
    """The Python call that reproduces a report, for its page."""
    words = [repr(candidate) if isinstance(candidate, str) else name_of(candidate)]
    words += [f"{k}={repr(v) if isinstance(v, str) else name_of(v)}" for k, v in functions.items() if v is not None]
    words += [f"{k}={v!r}" for k, v in arguments.items()]
    return f"from gradcheck import {function}\n{function}({', '.join(words)})"


def assert_gradients_agree(candidate, **kwargs):
    """For a project's own pytest suite: raises CandidateFailure (an AssertionError) with the report's table when
    `candidate` is wrong or could not be judged.

    Takes the keyword arguments of `check_gradients` (fewer cases keep a test
    fast: `cases=50` runs in well under a second once JAX has compiled).
    Returns the report when all agree.
    """
    return _asserted(check_gradients(candidate, **kwargs))


def assert_vjp_agree(backward, **kwargs):
    """As `assert_gradients_agree`, for a layer's backward pass: takes the keyword arguments of `check_vjp`."""
    return _asserted(check_vjp(backward, **kwargs))


def _asserted(report):
    if not report["ok"]:
        raise CandidateFailure("\n" + text(report), report)
    return report
