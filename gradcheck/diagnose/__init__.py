"""What kind of mistake a wrong parameter looks like, in words a learner can act on.

laws.py holds the diagnoses that hold for any model (factors and their laws, offsets, signs, transposes,
shapes, keys, dtype) and `Model`, what a user's model knows of its cases; seed.py the seed network's own
(its slips, activations, kinks, logits, λ, and the chain rule), reached only through the seed problem.
"""

from .laws import Diagnosis, Model, diagnose, hint

__all__ = ["Diagnosis", "Model", "diagnose", "hint"]
