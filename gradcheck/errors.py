"""gradcheck's exceptions: one base, `GradcheckError`, with usage errors and candidate failures beneath it.

    GradcheckError
    ├── UsageError (ValueError)         the command or call cannot run as given: exit 2
    │   ├── LoadError                   a function cannot be loaded (`role` says which)
    │   │   ├── MissingFunction         its module loaded, without that function
    │   │   └── Misfit                  it loaded, with a signature the mode cannot call
    │   └── SetupError                  the user's sampler, loss or forward failed, or returned what cannot be used
    ├── CandidateFailure (AssertionError)   assert_gradients_agree: the candidate is wrong, or no verdict
    ├── UserCodeError                   raised inside a worker by the user's own code, with its line
    │   └── NotTraceable                the user's code cannot run under jax.numpy
    ├── Unportable (TypeError)          a value that cannot cross between processes
    └── ChannelError                    a worker's channel failed
        ├── Timeout
        └── Closed
"""


class GradcheckError(Exception):
    """The base of every exception gradcheck raises on purpose."""


class UsageError(GradcheckError, ValueError):
    """The check cannot run as asked: bad arguments, a function that cannot be loaded, a sample that cannot be
    used. Never a verdict on the candidate (exit 2)."""


class LoadError(UsageError):
    """The function cannot be loaded; the message says why, and `role` which of the functions it was."""

    def __init__(self, message, role=None):
        super().__init__(message)
        self.role = role


class MissingFunction(LoadError):
    """The module loaded, but has no such function."""


class Misfit(LoadError):
    """The function loaded, but its signature cannot take the arguments the mode calls it with."""


class SetupError(UsageError):
    """The sampler, the loss or the forward failed, or returned what the mode cannot use: not the candidate's
    fault, and no verdict can be reached. The message says which, where, and in which case."""

    located = True  # raised by gradcheck's checks of what came: the place of gradcheck's own line says nothing


class CandidateFailure(GradcheckError, AssertionError):
    """`assert_gradients_agree` and `assert_vjp_agree`: the candidate is wrong, or could not be judged; the
    message is the report's table, and `report` the report."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


class UserCodeError(GradcheckError):
    """The user's own code (sampler, loss, forward) failed in a worker; the message says where and how."""

    located = True  # the message names the user's line: isolation.process.call adds no place of its own


class NotTraceable(UserCodeError):
    """The user's code cannot be differentiated as it is; the message says where and what to write instead."""


class Unportable(GradcheckError, TypeError):
    """A value that cannot cross between processes; the message says where it is and what it is."""


class ChannelError(GradcheckError):
    """A worker's channel broke: a timeout, its end, or bytes that are not a message."""


class Timeout(ChannelError):
    pass


class Closed(ChannelError):
    pass
