"""The modes, each a problem: what differs between checking the seed network, a loss, or a layer.

A problem is any object with these (see seed.py, loss.py, layer.py; loss and layer share sampled.py):

    mode                     "seed", "loss" or "layer"
    model                    what diagnoses may know of its cases (gradcheck.diagnose.Model)
    excuses_kinks, taylor    whether entries on a kink may be excused, and the Taylor test measured
    own_inputs               the arguments the candidate may change in place (a layer's dout)
    timeout                  seconds one call of the candidate may take
    open(), close()          load the functions (LoadError, its role naming the side); end the workers
    candidate, output        the candidate's runner (isolation.process), and what it printed
    cases(n, seed)           the cases to run
    start(case)              set the candidate to work on the case; a pipeline.step.Prepared (SetupError where
                             the user's sampler, loss or forward fails)
    witness(prepared, candidate), kinks(prepared, probes)
                             the finite-difference witness's check, and its probes for kinks
    settings(results), report_settings(results), not_covered(results), warnings(results),
    witness_summary(results), heading(report), size_words(), cases_words(report)
                             the report's configuration and words
"""
