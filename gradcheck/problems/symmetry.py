"""The symmetry of a Hessian-vector product, ⟨u, C(v)⟩ = ⟨v, C(u)⟩: a second call of the candidate, along another
direction u, needs no reference at all. Shared by the seed model's products (seed_products) and the loss mode's
(loss_products); each gives the bound its products' own errors allow."""

import numpy as np


def other_product(prepared, outcome, Cv):
    """C(u) from the second call's outcome, as float64 arrays; None where that call failed, a finding added: only a
    complete sweep passes, so a second call that fails, or changes what it was given, fails the case."""
    if outcome.failure:
        prepared.findings.append({"kind": "second call", "words": (
            f"the second call, along another direction u for the symmetry check, {outcome.failure['message']}")})
        return None
    if outcome.modified:
        prepared.findings.append({"kind": "second call", "words": (
            f"the second call, along another direction u, modified its inputs in place: "
            f"{', '.join(outcome.modified)}")})
    if set(outcome.value) != set(Cv) or any(np.shape(outcome.value[k]) != np.shape(Cv[k]) for k in Cv):
        prepared.findings.append({"kind": "second call", "words": (
            "the second call, along another direction u, returned other keys or shapes than the first")})
        return None
    return {k: np.asarray(outcome.value[k], np.float64) for k in Cv}


def norm(d):
    return float(np.sqrt(sum(np.sum(np.asarray(a, np.float64) ** 2) for a in d.values())))


def check(prepared, u, v, Cu, Cv, bound):
    """A finding where |⟨u, C(v)⟩ − ⟨v, C(u)⟩| exceeds `bound`."""
    uCv = sum(float(np.vdot(np.asarray(u[k], np.float64), np.asarray(Cv[k], np.float64))) for k in Cv)
    vCu = sum(float(np.vdot(np.asarray(v[k], np.float64), Cu[k])) for k in Cv)
    if not abs(uCv - vCu) <= bound:
        prepared.findings.append({"kind": "symmetry", "words": (
            f"not symmetric: ⟨u, C(v)⟩ = {uCv:.6g} but ⟨v, C(u)⟩ = {vCu:.6g} for random u, v; a Hessian is "
            "symmetric, so the candidate is not the Hessian of any function (a term of a symmetric pair left "
            "out, as R{a}ᵀ δ without δ Vᵀ?)")})
