import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

# gradcheck's persistent compilation cache, for this session alone: the tests leave the user's own cache
# alone, and the programs one test compiles serve the next (in this process, its workers and subprocesses).
CACHE_HOME = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="gradcheck-tests-")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(CACHE_HOME, ignore_errors=True)

# deadline=None: the first example of each (activation, dtype) pays one JAX
# compilation (~0.5 s). derandomize under CI so a red run can be replayed.
settings.register_profile(
    "default",
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")
