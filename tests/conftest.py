import os

from hypothesis import HealthCheck, settings

# deadline=None: the first example of each (activation, dtype) pays one JAX
# compilation (~0.5 s). derandomize under CI so a red run can be replayed.
settings.register_profile(
    "default",
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")
