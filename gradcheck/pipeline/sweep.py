"""The sweep: one loop over a problem's cases, the same for every mode."""

from .step import run_case


def sweep(problem, cases, seed, progress=None):
    """(a CaseResult per case, the candidate's output tallies): `cases` cases of `problem`, drawn from `seed`.

    The problem is opened (its workers started, its functions loaded) where it is not yet, and closed after.
    progress: optional wrapper around the case iterator, e.g. a progress bar.
    """
    problem.open()
    try:
        drawn = problem.cases(cases, seed)
        return [run_case(problem, case) for case in (progress(drawn) if progress else drawn)], problem.output
    finally:
        problem.close()
