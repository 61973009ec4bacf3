"""The seed model's mode: a candidate with the signature of manual_grad.grad, checked against jax.grad of
jax_reference's loss, over networks of random shapes (seed_cases.py), any depth.

The reference is computed here, a batch of cases at a time (jax_reference.api.grad_many), while the candidate
works in its own worker; the witness is finite differences of manual_grad's NumPy loss. At a kink the
candidate must follow the convention of the JAX function it is compared with (jax.nn.relu: φ'(0) = 0), so no
entry is excused there: the cases built with exact zeros at a kink are left out of the witness instead.
"""

from collections import deque

import numpy as np

import jax_reference as jr
from jax_reference.tolerances import rounding_scales
from manual_grad.model import unchecked_loss

from ..cache import enable as enable_cache
from ..diagnose.seed import SeedModel
from ..isolation.loader import split
from ..errors import Misfit
from ..isolation.process import InProcess, Isolated, misfit
from ..pipeline.step import Prepared
from ..pipeline.witness import Witness
from . import memo
from .seed_cases import activations_arg, cases_to_cover, depth_arg, draw_cases, lams_arg, not_covered

GRAD_ARGS = ("params", "X", "y", "lam", "activation")
# Where a function that is not the seed model's gradient belongs.
OTHER_MODES = ("; the seed model's mode calls grad(params, X, y, lam, activation): a function that returns (loss, "
               "grad) is checked against its own loss (--shapes \"W: D,C; X: N,D; y: int[N] < C; reg: 0.1\"), a "
               "gradient of a model of your own against its loss (--loss LOSS --sample SAMPLE), a layer's backward "
               "against its forward (--forward FORWARD --sample SAMPLE)")
STAGES_ARGS = ("params", "X", "y", "activation")
# The witness checks the reference, whose code is the same in every case: in each of the first
# WITNESS_ALL cases (kinks aside), and in one in WITNESS_EVERY after them.
WITNESS_ALL = 200
WITNESS_EVERY = 10


def _float64(arrays):
    return {k: np.asarray(v, np.float64) for k, v in arrays.items()}


def _dispatch(chunk, dtype, store, cache):
    """A chunk's cases built, and their references: kept by an earlier run (in `store`, by the chunk's every
    byte), or asked of JAX, which computes them while this process goes on (its compilation cache in `cache`).
    (built, a function that returns (references, float64 references)): JAX is imported only where it is asked."""
    built = [case.build(dtype) for case in chunk]
    key = store.key([(b, c.lam, c.activation) for c, b in zip(chunk, built)]) if store else None
    kept = store.get(key) if key else None
    if kept is not None:
        references = kept[1]["references"]
        return built, lambda: (references, kept[1].get("float64", references))
    enable_cache(cache)
    later = jr.api.grad_many([(*b, c.lam, c.activation) for c, b in zip(chunk, built)])
    later64 = None if dtype == np.float64 else jr.api.grad_many(
        [(_float64(p), X.astype(np.float64), y, c.lam, c.activation) for c, (p, X, y) in zip(chunk, built)])

    def wait():
        references = later()
        computed = {"references": references, **({"float64": later64()} if later64 else {})}
        if key:
            store.put(key, None, computed)
        return references, computed.get("float64", references)

    return built, wait


def prepare(cases, dtype, store=None, cache=None):
    """(case, (params, X, y), reference, float64 reference) for each case, the references computed a
    batch at a time (jax_reference.api.grad_many): one JAX call serves many cases of a bucket, and the next
    chunk's is computed while this one's cases are checked. A chunk an earlier run computed is taken from
    `store` (problems.memo), where there is one."""
    chunks = [cases[start:start + jr.BATCH] for start in range(0, len(cases), jr.BATCH)]
    ahead = _dispatch(chunks[0], dtype, store, cache) if chunks else None
    for k, chunk in enumerate(chunks):
        built, wait = ahead
        if k + 1 < len(chunks):
            ahead = _dispatch(chunks[k + 1], dtype, store, cache)
        yield from zip(chunk, built, *wait())


def _runner(candidate, stages, timeout, args=GRAD_ARGS):
    """The candidate's runner: in a worker process for a spec, in this process for a function; args: the
    names it is called with."""
    if isinstance(candidate, str):
        specs = {"candidate": candidate}
        if stages is True:
            specs["stages"] = f"{split(candidate)[0]}:stages"
        elif stages:
            raise TypeError("stages must be True (the candidate module's stages) when the candidate is a spec; "
                            f"got {type(stages).__name__}")
        runner = Isolated(specs, timeout=timeout, expects={"candidate": args, "stages": STAGES_ARGS})
        runner.start()  # not waited for: see SeedProblem.submit
        return runner
    if not callable(candidate):
        raise TypeError(f"candidate must be a function or a 'file.py:function' spec; got {type(candidate).__name__}")
    functions = {"candidate": candidate}
    if stages:
        if not callable(stages):
            raise TypeError(f"stages must be a function stages(params, X, y, activation); got {type(stages).__name__}")
        functions["stages"] = stages
    for role, names in (("candidate", args), ("stages", STAGES_ARGS)):
        problem = misfit(functions[role], names) if role in functions else None
        if problem:
            raise Misfit(f"{problem}{OTHER_MODES}", role)
    return InProcess(functions)


def _loaded(runner):
    """The runner, once a worker started by `_runner` has imported the candidate; LoadError, or Misfit with the
    other modes named, where it could not."""
    if not isinstance(runner, Isolated):
        return runner
    try:
        runner.finish()
    except Misfit as exc:
        runner.close()
        raise Misfit(f"{exc}{OTHER_MODES}", exc.role) from None
    except Exception:
        runner.close()
        raise
    return runner


class SeedProblem:
    """The seed network, any depth: see the module's docstring. Arguments as `gradcheck.check_gradients`."""

    mode = "seed"
    excuses_kinks, taylor = False, False
    own_inputs = ()  # every argument is the caller's: changing one in place fails

    def __init__(self, candidate, *, dtype=np.float64, activations, lams=None, depth=2, stages=None, timeout,
                 cache=None):
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
        self.dtype = np.dtype(dtype)
        self.activations, self.lams, self.depth = activations_arg(activations), lams_arg(lams), depth_arg(depth)
        self.function, self.stages, self.timeout = candidate, stages, timeout
        self.candidate, self._prepared, self.cache = None, None, cache
        self._waited = False
        self.store = memo.Store(cache / memo.FOLDER, ("seed",), user_files=False) \
            if cache is not None and self.keeps_references else None
        self.model = SeedModel(self.depth)

    candidate_args = GRAD_ARGS
    keeps_references = True  # the references of earlier runs are taken from the cache's folder (problems.memo)

    def open(self):
        """The candidate's worker started, and JAX imported while it starts (the references are computed in this
        process) unless earlier runs' references are kept, which may spare it. The worker is waited for by the
        first call (`submit`)."""
        if self.candidate is None:
            self.candidate = _runner(self.function, self.stages, self.timeout, self.candidate_args)
            if self.store is None or self.stages or not self.store.holds_any():  # the stages are computed anew
                enable_cache(self.cache)

    def submit(self, role, args, names):
        """A call submitted to the candidate; the first waits for its worker to import it (LoadError, or Misfit,
        where it cannot): the first cases' references are compiled meanwhile, a candidate that imports more
        than JAX does (torch, scipy) keeping JAX's compiler busy rather than waiting for it."""
        if not self._waited:
            self.candidate, self._waited = _loaded(self.candidate), True
        self.candidate.submit(role, args, names)

    def close(self):
        if self.candidate is not None:
            self.candidate.close()

    @property
    def output(self):
        return self.candidate.output

    def cases(self, n, seed):
        drawn = draw_cases(n, seed, self.activations, self.lams, self.depth)
        self._prepared, self._submitted = prepare(drawn, self.dtype, self.store, self.cache), deque()
        return drawn

    def _submit_next(self):
        """The next case's calls submitted to the candidate (its replies come in order)."""
        item = next(self._prepared, None)
        if item is not None:
            case, (params, X, y), _, _ = item
            self.submit("candidate", (params, X, y, case.lam, case.activation), GRAD_ARGS)
            if self.stages:
                self.submit("stages", (params, X, y, case.activation), STAGES_ARGS)
            self._submitted.append(item)

    def start(self, case):
        """The candidate's calls for this case were submitted ahead, and the next case's are submitted now: its
        worker always has a call in hand while the rest is computed, and compared, here."""
        if not self._submitted:
            self._submit_next()
        _, (params, X, y), reference, ref64 = self._submitted.popleft()
        self._submit_next()
        reference, ref64, params64 = _float64(reference), _float64(ref64), _float64(params)
        # The data term, λ = 0, for the diagnoses: J~'s gradient less the penalty's 2λW (the biases have none),
        # in float64 so that a large penalty leaves the data term's digits alone.
        data_part = {k: g - 2 * case.lam * params64[k] if k.startswith("W") else g for k, g in ref64.items()}
        stages = _float64(jr.stages(params, X, y, case.activation)) if self.stages else None
        checked = None
        if not case.kinks and (case.index < WITNESS_ALL or case.index % WITNESS_EVERY == 0):
            # In float64 whatever the sweep's dtype, along one random direction per parameter (single entries
            # add little to that, and cost as much again).
            X64 = X.astype(np.float64)
            witness = Witness(lambda p: unchecked_loss(p, X64, y, case.lam, case.activations), params64, entries=0,
                              taylor=False)
            checked = witness.check(ref64, None, np.random.default_rng([case.seed, case.index, 1]))
        scales = rounding_scales(params, X, case.activation)
        return Prepared(case, self.dtype, reference, dict.fromkeys(scales, self.dtype), scales,
                        {"data_part": data_part, "params": params, "X": X, "y": y}, stages, context=checked)

    def witness(self, prepared, candidate):
        return prepared.context  # computed in `start`, while the candidate worked

    def settings(self, results):
        """The report's configuration."""
        return {"mode": "seed", "dtype": self.dtype, "checked_stages": bool(self.stages),
                "activations": self.activations, "lams": self.lams, "depth": self.depth}

    # The report's words

    def report_settings(self, results):
        return {"depth": self.depth, "activations": list(self.activations),
                "lams": "0 and random λ > 0" if self.lams is None else self.lams,
                "cases_to_cover": cases_to_cover(self.activations, self.lams)}

    def not_covered(self, results):
        return not_covered([r.case for r in results], self.activations, self.lams, self.depth)

    def warnings(self, results):
        return []

    def witness_summary(self, results):
        return {"what": "central finite differences of manual_grad.loss in float64 against jax.grad of the reference",
                "scale": "‖g‖ + |J~|",
                "kinks": "cases with exact zeros at a relu or leaky_relu kink are skipped: the loss has no derivative "
                "there", "cases_at_kinks": sum(r.case.kinks for r in results),
                "sampling": {"every case up to": WITNESS_ALL, "then one in": WITNESS_EVERY}}

    @staticmethod
    def heading(report):
        return f"gradcheck: {report['candidate']} against jax.grad of jax_reference.loss"

    def size_words(self):
        return "" if self.depth == 2 else f", {self.depth} weight layers"

    def cases_words(self, report):
        lams = [case["lam"] for case in report["cases"]]
        return (f"activations {', '.join(self.activations)}, λ = 0 in {sum(lam == 0 for lam in lams)}, "
                f"λ > 0 in {sum(lam > 0 for lam in lams)}")
