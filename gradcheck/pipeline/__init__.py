"""One pipeline for every mode: the sweep (sweep.py) runs one step per case (step.py), which compares
(compare.py) and asks the finite-difference witness (witness.py). What differs between modes is the
problem (gradcheck.problems)."""
