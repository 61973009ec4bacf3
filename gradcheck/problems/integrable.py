"""--integrable: is a hand-derived gradient the gradient of any loss at all? Asked of the candidate alone, with
no loss and no autodiff.

The Jacobian J of a gradient field g = ∇L is the Hessian of L, symmetric: ⟨u, J v⟩ = ⟨v, J u⟩ for all u, v.
In each case gradcheck draws two unit directions within every parameter, u_p and v_p, and calls the candidate
at θ ± h u_p and θ ± h v_p: its own central differences give J u_p and J v_p, and for every pair of parameters
p, q (p = q too) the asymmetry ⟨u_p, J v_q⟩ − ⟨v_q, J u_p⟩, at the steps h and h/2 of SYMMETRY's row for the
candidate's dtype (jax_reference.tolerances).

A pair whose asymmetry is above the tolerance at both steps, and the same at both within a quarter, makes the
candidate the gradient of no loss: the verdict is "fail" and names the pair. Symmetric everywhere, the verdict is
"no verdict", never a pass: a symmetric Jacobian makes it the gradient of *some* loss, and only that loss
(--loss) can say whether it is the right one. There is no reference to compare with, so this check is not a
sweep of the pipeline; it asks the candidate only, over the cases the user's sample(rng) draws.

    reference_roles, candidate_roles   what each worker runs: the sampler, the candidate
    IntegrableProblem                  gradcheck's process: the calls, the asymmetries, the report
"""

import itertools

import numpy as np

from jax_reference.tolerances import SYMMETRY

from ..isolation.process import what
from .loss import LossSide, candidate_roles
from .sampled import SampledProblem, receive
from .user_code import resolve

STABLE = 0.25  # a true asymmetry changes by less than this fraction between the steps h and h/2


def reference_roles(specs):
    """The sampler's worker: sample(rng) -> (params, data), checked as the loss mode checks it; no JAX."""
    return {"sample": LossSide(resolve(specs["sample"]), None, None, None).sample}, {}


def _unit(rng, shape):
    d = rng.standard_normal(shape)
    norm = np.linalg.norm(d)
    return d / norm if norm else d


class IntegrableProblem(SampledProblem):
    mode, function = "integrable", "sample"
    reference_roles, candidate_roles = staticmethod(reference_roles), staticmethod(candidate_roles)

    def reference_specs(self):
        return {"sample": self.specs["sample"]}

    def check(self, cases, seed):
        """(a result per case, the candidate's output tallies): `cases` cases drawn from `seed`."""
        self.open()
        try:
            return [self._case(index, (seed, index)) for index in range(cases)], self.output
        finally:
            self.close()

    def _calls(self, points, names):
        """The candidate's gradient at each point, as {parameter: float64 array}; or (None, failure words). One
        call at a time: submitted all at once, their requests and replies could fill both pipes."""
        results, failure = [], None
        for params in points:
            self.candidate.submit("candidate", (params, *self.data), ("params", *names))
            outcome = self.candidate.receive()
            if outcome.failure:
                failure = outcome.failure["message"]
            elif outcome.modified:
                failure = f"modified its inputs in place: {', '.join(outcome.modified)}"
            elif set(outcome.value) != set(params):
                failure = f"returned keys {sorted(outcome.value)}; expected those of params, {sorted(params)}"
            else:
                bad = [k for k, v in outcome.value.items() if not isinstance(v, np.ndarray)
                       or v.shape != params[k].shape or not np.all(np.isfinite(v))]
                if bad:
                    value = outcome.value[bad[0]]
                    failure = (f"returned for {bad[0]} {value if isinstance(value, str) else what(value)}"
                               f"{'' if isinstance(value, str) else ', not a finite array of ' + str(params[bad[0]].shape)}")
                else:
                    results.append({k: np.asarray(v, np.float64) for k, v in outcome.value.items()})
            if failure:
                return None, failure
        return results, None

    def _case(self, index, seed):
        self.reference.submit("sample", (seed, self.dtype), ("seed", "dtype"))
        params, self.data = receive(self.reference, "the sampler", f"case {index}")
        dtype = np.result_type(*params.values())
        row = SYMMETRY[np.dtype(dtype)]
        rng = np.random.default_rng([*seed, 3])
        directions = {(p, k): _unit(rng, np.shape(params[p])) for p in params for k in "uv"}
        steps = (row.step, row.step / 2)
        moves = [(h, p, k, sign) for h in steps for (p, k) in directions for sign in (1, -1)]
        points = [params] + [{**params, p: (params[p] + sign * h * directions[p, k]).astype(params[p].dtype)}
                             for h, p, k, sign in moves]
        names = [f"data[{i}]" for i in range(len(self.data))]
        results, failure = self._calls(points, names)
        shapes = {p: tuple(np.shape(v)) for p, v in params.items()}
        case = {"index": index, "seed": list(seed), "shapes": shapes, "dtype": str(dtype)}
        if failure:
            return {**case, "failure": failure, "pairs": {}}
        g0, at = results[0], dict(zip(moves, results[1:]))
        norm_g = np.sqrt(sum(np.sum(v ** 2) for v in g0.values()))
        # J d for every direction and step: (g(θ + h d) − g(θ − h d)) / 2h, by parameter.
        jd = {(h, p, k): {q: (at[h, p, k, 1][q] - at[h, p, k, -1][q]) / (2 * h) for q in params}
              for h in steps for (p, k) in directions}
        norm = {key: np.sqrt(sum(np.sum(v ** 2) for v in value.values())) for key, value in jd.items()}
        rounding = {h: 8 * np.finfo(dtype).eps * norm_g / h for h in steps}
        pairs = {}
        for p, q in itertools.combinations_with_replacement(list(params), 2):
            asymmetry, bound = [], []
            for h in steps:
                uJv = float(np.sum(directions[p, "u"] * jd[h, q, "v"][p]))
                vJu = float(np.sum(directions[q, "v"] * jd[h, p, "u"][q]))
                scale = norm[h, p, "u"] + norm[h, q, "v"]
                asymmetry.append(uJv - vJu)
                bound.append(row.rtol * scale + 2 * rounding[h])
            scale = norm[steps[0], p, "u"] + norm[steps[0], q, "v"]
            asymmetric = all(abs(a) > b for a, b in zip(asymmetry, bound)) and \
                abs(asymmetry[0] - asymmetry[1]) <= STABLE * max(abs(a) for a in asymmetry)
            pairs[f"{p}/{q}"] = {"asymmetry": asymmetry, "bound": bound, "scale": float(scale),
                                 "relative": abs(asymmetry[0]) / scale if scale else None, "asymmetric": asymmetric}
        return {**case, "failure": None, "pairs": pairs, "steps": list(steps)}
