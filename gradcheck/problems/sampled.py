"""What the loss and layer modes share in gradcheck's process: cases drawn by the user's sampler in the
reference's worker, a seed each, and the two workers (the reference's, the candidate's) that run them."""

import atexit
import os
import re
from dataclasses import dataclass

import numpy as np

from .. import cache
from ..diagnose import Model
from ..errors import LoadError, SetupError
from ..isolation.process import InProcess, Isolated
from ..isolation.loader import name_of
from ..isolation.values import decode
from ..pipeline.compare import NO_VERDICT
from ..pipeline.step import Prepared

# The reference's worker is not held to the candidate's --timeout: it compiles the user's code (tracing a loop of
# naive Python can take minutes), and a failure there is no verdict on the candidate. It is bounded all the same,
# against a sampler or loss that hangs.
REFERENCE_TIMEOUT = 900.0
# The specs that name the user's functions; the others (shapes, settings, wrt) are data, whichever side runs.
FUNCTIONS = ("candidate", "sample", "loss", "forward", "reference")


def kind(value):
    """A value's place in a sample's structure: float arrays and their dtype, other arrays, or the type."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array" if value.dtype.kind == "f" else f"{value.dtype.kind} array"
    return type(value).__name__


def _listed(items):
    return ", ".join(" ".join(i) if isinstance(i, tuple) else str(i) for i in items) or "none"


@dataclass(frozen=True)
class SampledCase:
    """One case of a user's sampler: its index, seed and what came, for the report."""

    index: int
    seed: tuple
    shapes: tuple  # (name, shape) of every array, params and data (or inputs)
    N: int | None  # the batch size: the leading axis of the first data array
    structure: tuple = ()  # what must not change from case to case: names, and the kinds of the data

    @property
    def dims(self):
        return {"N": self.N} if self.N else {}

    @property
    def features(self):
        return {"a batch of one example": self.N == 1}

    def describe(self):
        shapes = ", ".join(f"{name} {tuple(shape)}" for name, shape in self.shapes)
        return f"case {self.index} ({shapes})"

    def to_json(self):
        return {"index": self.index, "seed": list(self.seed), "N": self.N,
                "shapes": {name: list(shape) for name, shape in self.shapes}}

    def columns(self):
        """(title, text, sort key, numeric) for the report page's table of cases."""
        shapes = ", ".join(f"{name} {tuple(shape)}" for name, shape in self.shapes)
        return [("case", self.index, self.index, True), ("N", self.N, self.N or 0, True), ("shapes", shapes, shapes, False)]

    def structure_change(self, first):
        """Words for how this case differs in structure from the `first` case, or None."""
        for (part, was), (_, now) in zip(first.structure, self.structure):
            if was != now:
                return (f"sample() changes the structure of what it returns between cases: case {first.index} has "
                        f"{part} {_listed(was)}, case {self.index} has {part} {_listed(now)}; the cases may differ in "
                        "shapes and values only, so that every name is judged in every case")
        return None


def receive(runner, what, where):
    """The Tree value a reference worker's role returned; SetupError where the user's code failed there."""
    outcome = runner.receive()
    if outcome.failure:
        message = outcome.failure["message"]
        # The user's code's own errors come as sentences whose subject is `what`; a sample's check as a whole one.
        own = re.match(r"raised (NotTraceable|UserCodeError|SetupError): ", message)
        whole = bool(own) and own.group(1) == "SetupError"
        message = message[own.end():] if own else message
        raise SetupError(f"{message if whole else f'{what} {message}'} in {where}")
    return decode(outcome.tree, [outcome.value[f"#{i}"] for i in range(len(outcome.value))])


# The reference's workers that checks left idle in this process, by environment: the next check with the same
# environment takes one, JAX imported, and has it forget the user's modules (a library user's suite checks one
# layer after another). The candidate's worker is never kept: each check's candidate starts in a new process.
_IDLE = {}


@atexit.register
def _close_idle():
    while _IDLE:
        _IDLE.popitem()[1].close()


class Workers:
    """The reference's worker and the candidate's, started together; kept from one problem to the next where
    several are checked in a row (problems.course: a whole file), so that JAX and the user's module are imported
    once; the reference's kept idle after, for the next check (_IDLE)."""

    def __init__(self, cache_folder=None):
        self.env = dict(os.environ)
        self.env.pop(cache.VARIABLE, None)
        if cache_folder is not None:
            self.env[cache.VARIABLE] = str(cache_folder)
        # pytest names the running test in the environment: it changes nothing a worker computes.
        self.key = tuple(sorted((k, v) for k, v in self.env.items() if k != "PYTEST_CURRENT_TEST"))
        self.reference = self.candidate = None

    def assign(self, problem):
        """(reference, candidate): the workers, given `problem`'s roles; LoadError with the side (role
        "candidate" or "reference") where one cannot load them."""
        timeouts = {"reference": max(problem.timeout, REFERENCE_TIMEOUT), "candidate": problem.timeout}
        started, kept = set(), None
        if self.reference is None:
            kept = _IDLE.pop(self.key, None)
            self.reference = kept or Isolated(timeout=timeouts["reference"], env=self.env,
                                              roles=problem.roles("reference"))
            self.candidate = Isolated(timeout=timeouts["candidate"], roles=problem.roles("candidate"))
            # Both start at once: the reference's worker imports JAX while the candidate's imports its module.
            started = {"candidate"} if kept else {"reference", "candidate"}
            if not kept:
                self.reference.start()
            self.candidate.start()
        for side, runner in (("candidate", self.candidate), ("reference", self.reference)):
            try:
                if side in started:
                    runner.finish()
                else:
                    runner.reassign(problem.roles(side), timeouts[side], forget=runner is kept)
            except LoadError as exc:
                raise LoadError(str(exc), exc.role or side) from None
        return self.reference, self.candidate

    def close(self):
        if self.candidate is not None:
            self.candidate.close()
        if self.reference is not None:
            if self.reference.idle():
                other = _IDLE.pop(self.key, None)
                if other is not None:
                    other.close()
                _IDLE[self.key] = self.reference
            else:
                self.reference.close()
        self.reference = self.candidate = None


class SampledProblem:
    """The loss and layer modes' problem; a mode (problems.loss, problems.layer) adds how a sample reaches the
    candidate, and what the report calls things.

    specs: {"candidate", "sample", and "loss" (and "reference") or "forward"}, spec strings or functions: each
    side in a worker process of its own where every one is a spec, in this process otherwise.
    dtype: None checks each case in the dtype its sample drew (float32 or float64); float32 or float64 casts
      every sample to it.
    """

    excuses_kinks, taylor = True, True
    model = Model()
    own_inputs = ()  # arguments the candidate may change in place (problems.layer: its dout)

    def __init__(self, specs, *, dtype=None, timeout, cache=None, workers=None):
        self.specs = {k: v for k, v in specs.items() if v is not None}
        self.cache = cache
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.timeout = timeout
        self.workers = workers  # Workers kept beyond this problem, or None: its own, closed with it
        self.reference = self.candidate = self._own = None
        self.told, self.names, self.notes, self.first = {}, [], [], None

    # The workers

    def roles(self, side):
        """What a side's worker is asked to build (isolation.worker)."""
        specs = self.reference_specs() if side == "reference" else self.specs
        return {"side": side, "mode": self.mode, "specs": specs}

    def open(self):
        """Both sides loaded; LoadError with the side (role "candidate" or "reference") where one cannot be."""
        if self.candidate is not None:
            return
        if all(isinstance(self.specs[role], str) for role in FUNCTIONS if role in self.specs):
            workers = self.workers or Workers(self.cache)
            self._own = None if self.workers else workers
            try:
                reference, candidate = workers.assign(self)
            except Exception:
                if self._own:
                    self._own.close()
                raise
            told = reference.told
        else:
            cache.enable(self.cache)
            roles, told = self.reference_roles(self.specs)
            reference, candidate = InProcess(roles), InProcess(self.candidate_roles(self.specs))
        self.reference, self.candidate = reference, candidate
        self.told, self.names, self.notes = told, told.get("names", []), told.get("notes", [])

    def reference_specs(self):
        """What the reference's worker loads: everything but the candidate."""
        return {k: v for k, v in self.specs.items() if k != "candidate"}

    def close(self):
        if self._own:
            self._own.close()
        elif self.workers is None:  # in this process
            for runner in (self.reference, self.candidate):
                if runner is not None:
                    runner.close()

    @property
    def output(self):
        return self.candidate.output

    # The cases

    plans = False  # problems.loss: its reference's worker computes the sweep's references by one program

    def cases(self, n, seed):
        cases = [(i, (seed, i)) for i in range(n)]
        if self.plans:
            self.reference.submit("plan", ([s for _, s in cases], self.dtype), ("seeds", "dtype"))
            receive(self.reference, "the plan of the cases", "the sweep")
        return cases

    def start(self, case):
        index, seed = case
        self.reference.submit("sample", (seed, self.dtype), ("seed", "dtype"))
        value = receive(self.reference, "the sampler", f"case {index}")
        named = self.floats(value)
        arrays = [x for x in self.data(value) if isinstance(x, np.ndarray) and x.ndim]
        sampled = SampledCase(index, tuple(seed), self.shapes(value), arrays[0].shape[0] if arrays else None,
                              self.structure(value))
        self.first = self.first or sampled
        change = sampled.structure_change(self.first)
        if change:
            raise SetupError(change)
        result = self.run(value, sampled, seed)
        for message in result["said"]:
            cache.say(message)
        reference = {name: np.asarray(result["grads"][name], np.float64) for name in named if name in result["grads"]}
        dtypes = {name: self.dtype or x.dtype for name, x in named.items()}
        return Prepared(sampled, min(dtypes.values(), key=lambda d: d.itemsize), reference, dtypes,
                        dict.fromkeys(named, 0.0), {"data_part": reference, "params": named}, timing=result["timing"],
                        context=seed)

    def witness(self, prepared, candidate):
        comparable = {k: v for k, v in candidate.items() if np.shape(v) == prepared.reference[k].shape} or None
        self.reference.submit("witness", (comparable, (*prepared.context, 2)), ("candidate", "seed"))
        return receive(self.reference, "the finite differences of the user's function", prepared.case.describe())

    def kinks(self, prepared, probes):
        self.reference.submit("kinks", (probes,), ("probes",))
        return receive(self.reference, "the finite differences of the user's function", prepared.case.describe())

    def settings(self, results):
        """The report's configuration."""
        dtypes = sorted({r.dtype for r in results}, key=lambda d: d.itemsize)
        return {"mode": self.mode, "dtype": dtypes[0], "dtypes": dtypes, "sampler": self.sampler_name(),
                "reference": self.reference_name()}

    def sampler_name(self):
        return f'--shapes "{self.specs["shapes"]}"' if "shapes" in self.specs else name_of(self.specs["sample"])

    def reference_name(self):
        reference = self.specs.get("reference")
        return name_of(reference) if reference else f"{name_of(self.specs[self.function])} (run with jax.numpy)"

    # The report's words

    def report_settings(self, results):
        timing = results[-1].timing
        settings = self.settings(results)
        return {"reference": settings["reference"], "sampler": settings["sampler"],
                "reference compile s": timing["compile_s"], "reference run s": timing["run_s"],
                "reference eager": timing["eager"]}

    def not_covered(self, results):
        return []

    def warnings(self, results):
        """Shapes that let a transposed gradient pass unseen."""
        shapes = {r.case.shapes for r in results}
        warnings = list(self.notes)
        if len(shapes) == 1 and len(results) > 1:
            warnings.append("every case has the same shapes: draw them at random in sample(rng), so that a transposed "
                            "or reshaped gradient cannot pass by chance")
        squares = [name for name, shape in results[0].case.shapes if len(shape) == 2 and
                   all(dict(r.case.shapes)[name][0] == dict(r.case.shapes)[name][1] for r in results)]
        if squares:
            warnings.append(f"{', '.join(squares)} square in every case: a transpose of it cannot be told apart")
        changed = sorted({name for r in results for name in r.changed_own})
        if changed:
            cases = sum(bool(r.changed_own) for r in results)
            warnings.append(f"the candidate changes its own {' and '.join(changed)} in place ({cases} of {len(results)} "
                            "cases): harmless in a chain of layers, wrong where one is shared by two branches (a "
                            "residual connection); copy it first (dx = dout.copy())")
        return warnings

    def witness_summary(self, results):
        slopes = {}
        for name in results[0].parameters:
            for who in ("candidate", "reference"):
                found = [r.taylor[name][who] for r in results if r.taylor and name in r.taylor and who in r.taylor[name]]
                measured = [s for s in found if s is not None]
                slopes.setdefault(name, {})[who] = {"slope": float(np.median(measured)) if measured else None,
                                                    "cases": len(found), "at rounding": len(found) - len(measured)}
        judged = [(r, c) for r in results for c in r.parameters.values() if c.problem not in NO_VERDICT]
        return {"what": "central finite differences of the user's NumPy function in float64, along a random "
                "direction and one sampled entry per parameter, against the reference", "scale": "‖g‖ + |F|",
                "kinks": "where the candidate differs from the reference, each such entry is probed for a kink "
                "(one-sided slopes that differ, at two steps): there the derivative is a convention, and a candidate "
                "value between the slopes is not held against it; every other entry is judged",
                "entries_at_kinks": sum(c.excused for _, c in judged),
                "cases_at_kinks": len({r.case.index for r, c in judged if c.excused}),
                "taylor": slopes}

    def size_words(self):
        return ""

    def cases_words(self, report):
        return f"cases from {report['config']['sampler']}"
