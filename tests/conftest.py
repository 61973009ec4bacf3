import gc
import os
import shutil
import tempfile
import textwrap

import pytest
from hypothesis import HealthCheck, settings

from gradcheck.isolation.loader import load

# gradcheck's persistent compilation cache, for this session alone: the tests leave the user's own cache
# alone, and the programs one test compiles serve the next (in this process, gradcheck's workers and
# subprocesses, and pytest-xdist's workers, which inherit this environment from the process that starts them).
SESSION_CACHE = "GRADCHECK_TESTS_CACHE_HOME"
MADE_HERE = SESSION_CACHE not in os.environ  # so only the process that made the folder removes it
if MADE_HERE:
    os.environ[SESSION_CACHE] = tempfile.mkdtemp(prefix="gradcheck-tests-")
CACHE_HOME = os.environ["XDG_CACHE_HOME"] = os.environ[SESSION_CACHE]


def pytest_collection_finish(session):
    # What collection imported (JAX, hypothesis, the tests) lives as long as the process: out of the cyclic
    # collector's sight, each full collection walks only what the tests made since (measured: 9.6 s of the
    # workers' CPU went to about 45 full collections, ~0.2 s each).
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    # So does what a test leaves behind: mostly JAX's caches of the programs it traced and compiled, which grow
    # test by test and which every full collection walked again (measured, whole suite, two workers: 6.8 s of
    # CPU in 40 full collections before, 1.7 s after). Cyclic garbage the young collections have not yet taken
    # is kept too: 40 and 118 MB more at the workers' peaks (699 and 884 MB).
    gc.freeze()


def pytest_sessionfinish(session, exitstatus):
    if MADE_HERE:
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


class UserModule:
    """A user's module written into a test's folder: its path, and its functions by name (module("grad"))."""

    def __init__(self, path):
        self.path = path

    def __call__(self, function):
        return load(f"{self.path}:{function}")[0]


@pytest.fixture
def user_module(tmp_path):
    """user_module(source, name="user"): writes the source, dedented, as name.py in the test's folder."""
    def write(source, name="user"):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return UserModule(path)

    return write
