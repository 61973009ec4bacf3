"""The (loss, grad) mode: a function that returns its loss and its gradient together, as course assignments
write them (softmax_loss_vectorized(W, X, y, reg) -> (loss, dW), svm_loss(x, y) -> (loss, dx)), checked against
jax.grad of its own loss, the first thing it returns, run with jax.numpy.

Which arguments are differentiated is read from the gradient it returns: one array is the gradient of the first
argument; a dict, of the arguments its keys name; a tuple or list of k arrays, of the first k float arrays among
the arguments. --wrt W,b names them instead. The other arguments are data: passed as they are.

Its arguments come from --shapes (problems.shapes), or from sample(rng) -> {argument: value}. The loss mode's
machinery does the rest: the differentiated arguments are its params, the others its data, in signature order.

    reference_roles, candidate_roles   what each worker runs (the worker calls them by the mode's name)
    ValueGradProblem                   gradcheck's process: how a case reaches the candidate, and the words
"""

import copy
import inspect

import numpy as np

from ..errors import LoadError, SetupError, UsageError
from ..isolation.loader import name_of
from ..isolation.process import what
from .loss import LossProblem, LossSide
from .sampled import receive
from .shapes import Shapes
from .user_code import argument_names, floats, resolve, under_jax_numpy

RULE = ("one array is the gradient of the first argument, a dict of the arguments its keys name, a tuple of the "
        "first float arrays; --wrt names them instead")


def _pair(result, name):
    """(loss, grad) from what the function returned; a TypeError that says what came otherwise."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{name} must return (loss, grad) in this mode; it returned {what(result)}")
    return result


def differentiated(grad, names, arguments):
    """The names of the arguments `grad` is the gradient of (RULE); arguments: name -> value, as called."""
    if isinstance(grad, dict):
        return list(grad)
    if isinstance(grad, (tuple, list)):
        return [n for n in names if floats(arguments.get(n))][:len(grad)]
    return names[:1]


def as_dict(grad, wrt):
    """The returned gradient as {argument: array}, for the arguments `wrt`."""
    if isinstance(grad, dict):
        return grad
    if isinstance(grad, (tuple, list)):
        return dict(zip(wrt, grad))
    return {wrt[0]: grad} if wrt else {}


class Convention:
    """How the function is called: its arguments in signature order, which are differentiated (params), and
    which are data. `wrt` is fixed by --wrt, or read from the first call's gradient."""

    def __init__(self, function, wrt=None):
        self.function, self.names = function, argument_names(function)
        self.wrt, self.given = (list(wrt) if wrt else None), None
        if not self.names:
            raise LoadError(f"{getattr(function, '__name__', 'the function')} takes no positional arguments: "
                            "expected f(*arguments) -> (loss, grad)")
        for name in self.wrt or ():
            if name not in self.names:
                raise LoadError(f"--wrt {name}: not an argument of {function.__name__}({', '.join(self.names)})")

    def split(self, arguments):
        """(params, data) from {argument: value}: the differentiated arguments by name, the rest in order."""
        if not isinstance(arguments, dict):
            raise SetupError(f"sample(rng) must return the arguments by name, {{'W': ..., 'X': ...}}; got "
                             f"{what(arguments)}")
        unknown = [n for n in arguments if n not in self.names]
        if unknown:
            raise SetupError(f"the sample names {unknown[0]!r}, which is not an argument ({', '.join(self.names)})")
        given = [n for n in self.names if n in arguments]
        if given != self.names[:len(given)]:
            gap = next(n for n in self.names if n not in arguments)
            raise SetupError(f"the arguments are passed in order: give {gap}, or leave out every argument after it")
        if self.wrt is None:
            result = self.function(**copy.deepcopy(arguments))
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise SetupError(f"{self.function.__name__} returned {what(result)}, run with NumPy: a function "
                                 "checked with --shapes or --sample alone returns (loss, grad); for a gradient function "
                                 "of a loss of its own, give the loss with --loss")
            self.wrt = differentiated(result[1], self.names, arguments)
        for name in self.wrt:
            if not floats(arguments.get(name)):
                raise SetupError(f"{name} is differentiated ({RULE}), so it must be a float array; got "
                                 f"{what(arguments.get(name))}")
        self.given = given
        return {n: arguments[n] for n in self.wrt}, tuple(arguments[n] for n in given if n not in self.wrt)

    def join(self, params, data):
        values = iter(data)
        return [params[n] if n in params else next(values) for n in self.given]

    def loss(self, function):
        """loss(params, *data): the first thing `function` returns, called as the convention calls it."""
        def loss(params, *data):
            return _pair(function(*self.join(params, data)), self.function.__name__)[0]

        return loss


class Gradients:
    """The candidate: the function called with its arguments in order, its gradient returned as a dict."""

    def __init__(self, function, wrt):
        self.function, self.wrt, self.names = function, wrt, argument_names(function)

    def __call__(self, *args):
        arguments = dict(zip(self.names, args))
        grad = _pair(self.function(*args), self.function.__name__)[1]
        return as_dict(grad, self.wrt or differentiated(grad, self.names, arguments))


def _wrt(specs):
    return [n.strip() for n in specs["wrt"].split(",") if n.strip()] if specs.get("wrt") else None


def sampler(specs, function):
    """sample(rng) -> {argument: value}: the user's, or one drawn from --shapes."""
    if specs.get("sample"):
        return resolve(specs["sample"])
    shapes = Shapes(specs["shapes"])
    parameters = inspect.signature(function).parameters.values()
    try:
        shapes.check(argument_names(function), [p.name for p in parameters if p.default is p.empty and
                                                p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except UsageError as exc:
        raise LoadError(str(exc)) from None
    return shapes


def reference_roles(specs):
    """The reference worker's roles, and the function's argument names."""
    function = resolve(specs["candidate"])
    convention = Convention(function, _wrt(specs))
    jax_function, path = under_jax_numpy(specs["candidate"] if isinstance(specs["candidate"], str) else None,
                                         function, "")
    draw = sampler(specs, function)
    side = LossSide(lambda rng: convention.split(draw(rng)), convention.loss(function), convention.loss(jax_function),
                    path)
    side.labels = ("the differentiated arguments", "the data")
    return side.roles(), {"names": convention.names}


def candidate_roles(specs):
    return {"candidate": Gradients(resolve(specs["candidate"]), _wrt(specs))}


class ValueGradProblem(LossProblem):
    mode, function = "value_and_grad", "candidate"
    reference_roles, candidate_roles = staticmethod(reference_roles), staticmethod(candidate_roles)

    def reference_specs(self):
        """The candidate's own file: its loss is the reference's."""
        return self.specs

    def _data_names(self, value):
        params, data = value
        return [n for n in self.names if n not in params][:len(data)]

    def shapes(self, value):
        params, data = value
        named = [*params.items(), *zip(self._data_names(value), data)]
        return tuple((name, tuple(np.shape(x))) for name, x in named if isinstance(x, np.ndarray))

    def structure(self, value):
        params, data = value
        return (("differentiated arguments", tuple(params)),
                ("data", tuple(zip(self._data_names(value), (type(d).__name__ for d in data)))))

    def run(self, value, case, seed):
        """The candidate called with every argument in order, then the reference computed meanwhile."""
        params, data = value
        names = [n for n in self.names if n in params or n in self._data_names(value)]
        by_name = {**params, **dict(zip(self._data_names(value), data))}
        self.candidate.submit("candidate", tuple(by_name[n] for n in names), tuple(names))
        self.reference.submit("reference", (), ())
        return receive(self.reference, "the loss", case.describe())

    def sampler_name(self):
        return f'--shapes "{self.specs["shapes"]}"' if "shapes" in self.specs else super().sampler_name()

    def reference_name(self):
        return f"the loss {name_of(self.specs['candidate'])} returns (run with jax.numpy)"

    @staticmethod
    def heading(report):
        return (f"gradcheck: the gradient {report['candidate']} returns against jax.grad of its loss (run with "
                "jax.numpy)")
