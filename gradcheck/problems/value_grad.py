"""The (loss, grad) mode: a function that returns its loss and its gradient together, as course assignments
write them (softmax_loss_vectorized(W, X, y, reg) -> (loss, dW), svm_loss(x, y) -> (loss, dx)), checked against
jax.grad of its own loss, the first thing it returns, run with jax.numpy.

Which arguments are differentiated is read from the gradient it returns: one array is the gradient of the first
argument; a dict, of the arguments its keys name; a tuple or list of k arrays, of the first k float arrays among
the arguments. --wrt W,b names them instead. The other arguments are data: passed as they are.

Its arguments come from --shapes (problems.shapes), or from sample(rng) -> {argument: value}. The loss mode's
machinery does the rest: the differentiated arguments are its params, the others its data, in signature order.

A model class's method over self.params (neural_net.py:TwoLayerNet.loss, loss(X, y, reg) -> (loss, grads)) is
checked the same way, its params being self.params: in every case the class is built with its constructor's
arguments (--init, or guessed from their names and --shapes, and said), and self.params drawn anew at random, of
the shapes the constructor gave them (weights of scale 1/sqrt(fan-in), biases nonzero: a constructor's tiny
initial weights would hide a mistake that only shows away from zero).

    reference_roles, candidate_roles   what each worker runs (the worker calls them by the mode's name)
    ValueGradProblem                   gradcheck's process: how a case reaches the candidate, and the words
"""

import copy
import inspect

import numpy as np

from ..errors import LoadError, SetupError
from ..isolation.loader import name_of
from ..isolation.process import what
from .loss import LossProblem, LossSide
from .shapes import Shapes, first_gap
from .user_code import argument_names, floats, required, resolve, under_jax_numpy

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
        gap = first_gap(self.names, given)
        if gap:
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


# Constructor arguments guessed from their names: (words in the name, where the size comes from in --shapes).
GUESSES = ((("input", "dim"), "the last dimension of the first float array"),
           (("class", "output"), "the bound of the first int array"),
           (("hidden",), "a size of its own"))


def guessed_init(cls, shapes):
    """--init entries for the constructor's arguments that have no default, guessed from their names, and words
    that say so; a LoadError that names the argument where no guess fits."""
    from .shapes import Entry

    used = set(shapes.letters)
    floats_ = [e for e in shapes.entries if e.kind == "float" and e.dims]
    ints = [e for e in shapes.entries if e.kind == "int"]
    sources = {GUESSES[0][1]: floats_[0].dims[-1] if floats_ else None, GUESSES[1][1]: ints[0].bound if ints else None}
    parameters = inspect.signature(cls).parameters.values()
    entries, words = [], []
    for p in parameters:
        if p.default is not p.empty or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        source = next((where for keys, where in GUESSES if any(k in p.name.lower() for k in keys)), None)
        size = sources.get(source) if source != GUESSES[2][1] else next(c for c in "HIJKLMOPQRSTUVWZ" if c not in used)
        if size is None:
            raise LoadError(f"cannot guess {cls.__name__}'s argument {p.name!r} from its name: give it with --init "
                            f"'{p.name}: 5' (a letter of --shapes, or a number)")
        used.add(size)
        entries.append(Entry(p.name, "size", (size,)) if isinstance(size, str) else Entry(p.name, "number", number=size))
        words.append(f"{p.name}={size}")
    said = (f"{cls.__name__}({', '.join(words)}): the constructor's arguments guessed from their names and --shapes; "
            "--init gives them") if words else None
    return entries, said


def _drawn_params(params, rng, name):
    """self.params drawn anew, each of the shape the constructor gave it."""
    if not isinstance(params, dict) or not params or not all(floats(p) for p in params.values()):
        raise SetupError(f"{name}'s self.params must be a dict of float arrays, the parameters its method "
                         f"differentiates; got {what(params)}")
    return {k: (rng.standard_normal(p.shape) / np.sqrt(p.shape[0]) if p.ndim >= 2 else rng.standard_normal(p.shape))
            for k, p in params.items()}


class Method:
    """A model class's method called on an instance built with the case's constructor arguments, its self.params
    the case's: method(params, init, *arguments). `jax_class` the same class run with jax.numpy, for the loss."""

    def __init__(self, cls, method):
        self.cls, self.method = cls, method
        self.names = argument_names(getattr(cls, method))[1:]  # without self

    def instance(self, cls, params, init):
        model = cls(**init)
        model.params = params  # the very dict given: a method that changes it in place is seen to
        return model

    def __call__(self, params, init, *args):
        grads = _pair(getattr(self.instance(self.cls, params, init), self.method)(*args), self.method)[1]
        if not isinstance(grads, dict):
            raise TypeError(f"{self.cls.__name__}.{self.method} must return (loss, grads), grads a dict keyed as "
                            f"self.params; it returned {what(grads)} for grads")
        return grads

    def loss(self, cls):
        def loss(params, init, *args):
            return _pair(getattr(self.instance(cls, params, init), self.method)(*args), self.method)[0]

        return loss

    def sampler(self, shapes):
        def sample(rng):
            arguments, init = shapes.draw(rng)
            params = _drawn_params(self.cls(**init).params, rng, self.cls.__name__)
            return params, (init, *(arguments[n] for n in self.names if n in arguments))

        return sample


def _class_and_method(specs):
    """(the class, the method's name) where the candidate is Class.method, else None."""
    spec = specs["candidate"]
    qualname = spec.rpartition(":")[2] if isinstance(spec, str) else getattr(spec, "__qualname__", "")
    if "." not in qualname or "<locals>" in qualname:
        return None
    class_name, _, method = qualname.rpartition(".")
    if isinstance(spec, str):
        return resolve(f"{spec.rpartition(':')[0]}:{class_name}"), method
    return getattr(inspect.getmodule(spec), class_name), method


def _method_roles(specs, cls, method):
    from .shapes import Shapes, parse_init

    if not specs.get("shapes"):
        raise LoadError(f"{cls.__name__}.{method} is a method over self.params: give its arguments with --shapes")
    plain = Shapes(specs["shapes"])
    init, said = (parse_init(specs["init"]), None) if specs.get("init") else guessed_init(cls, plain)
    shapes = Shapes(specs["shapes"], init)
    call = Method(cls, method)
    shapes.check(call.names, required(getattr(cls, method))[1:])
    where = specs["candidate"].rpartition(":")[0] if isinstance(specs["candidate"], str) else None
    jax_class, path = under_jax_numpy(f"{where}:{cls.__name__}" if where else None, cls, "")
    side = LossSide(call.sampler(shapes), call.loss(cls), call.loss(jax_class), path)
    side.labels = ("self.params", "the arguments")
    return side.roles(), {"names": ["the constructor's arguments", *call.names], "notes": [said] if said else [],
                          "method": True}


def _wrt(specs):
    return [n.strip() for n in specs["wrt"].split(",") if n.strip()] if specs.get("wrt") else None


def sampler(specs, function):
    """sample(rng) -> {argument: value}: the user's, or one drawn from --shapes."""
    if specs.get("sample"):
        return resolve(specs["sample"])
    shapes = Shapes(specs["shapes"])
    shapes.check(argument_names(function), required(function))
    return shapes


def reference_roles(specs):
    """The reference worker's roles, and what gradcheck's process is told: the argument names (and, for a
    method, that it is one, and the constructor's arguments where they were guessed)."""
    method = _class_and_method(specs)
    if method:
        return _method_roles(specs, *method)
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
    method = _class_and_method(specs)
    if method:
        return {"candidate": Method(*method)}
    return {"candidate": Gradients(resolve(specs["candidate"]), _wrt(specs))}


class ValueGradProblem(LossProblem):
    mode, function = "value_and_grad", "candidate"
    reference_roles, candidate_roles = staticmethod(reference_roles), staticmethod(candidate_roles)

    def reference_specs(self):
        """The candidate's own file: its loss is the reference's."""
        return self.specs

    @property
    def method(self):
        """Whether the candidate is a model class's method (the reference's side tells)."""
        return self.told.get("method", False)

    def _data_names(self, value):
        params, data = value
        return (self.names if self.method else [n for n in self.names if n not in params])[:len(data)]

    def shapes(self, value):
        params, data = value
        named = [*params.items(), *zip(self._data_names(value), data)]
        return tuple((name, tuple(np.shape(x))) for name, x in named if isinstance(x, np.ndarray))

    def structure(self, value):
        params, data = value
        return (("differentiated arguments", tuple(params)),
                ("data", tuple(zip(self._data_names(value), (type(d).__name__ for d in data)))))

    def candidate_call(self, value):
        """Every argument in order, by name; a method's: Method(params, init, *arguments)."""
        params, data = value
        if self.method:
            return (params, *data), ("self.params", *self._data_names(value))
        names = [n for n in self.names if n in params or n in self._data_names(value)]
        by_name = {**params, **dict(zip(self._data_names(value), data))}
        return tuple(by_name[n] for n in names), tuple(names)

    def reference_name(self):
        return f"the loss {name_of(self.specs['candidate'])} returns (run with jax.numpy)"

    @staticmethod
    def heading(report):
        return (f"gradcheck: the gradient {report['candidate']} returns against jax.grad of its loss (run with "
                "jax.numpy)")
