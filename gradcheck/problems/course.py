"""A whole course-assignment file, `gradcheck layers.py`: which of its functions are checked, and with what inputs.

The file's source is read, not run, in gradcheck's process (its functions run only in the workers). Checked:

    X_backward(dout, cache)            the layer mode, against jax.vjp of X_forward; X_backward_naive and
                                       X_backward_alt against X_forward_naive or X_forward_alt where the file
                                       has it, else X_forward (CS231n's batchnorm_backward_alt)
    *_loss(x, y) -> (loss, dx)         the (loss, grad) mode, as are the classifiers' *_loss_naive and
                                       *_loss_vectorized(W, X, y, reg) -> (loss, dW)
    Class.loss(X, y, reg)              a model class's loss over self.params -> (loss, grads), the (loss, grad)
                                       mode too, its constructor's arguments guessed from their names

Each function's inputs, the first of:
    sample_X(rng) in the file          the author's own sampler (sample_softmax_loss for softmax_loss)
    LAYERS, LOSSES                     the shapes CS231n's docstrings give each layer and loss, by its name
    BY_NAME                            the usual shapes of its argument names (x, w, b, gamma, beta)
and settings dicts take SETTINGS' defaults, in training mode. A function none of these fits has no verdict, and
its row says what to write.
"""

import ast
import re
from dataclasses import dataclass, field

from ..errors import UsageError

# From CS231n's docstrings (assignments 1-3, 2017-2024). Letters are drawn anew, and distinct, in every case
# (problems.shapes). The layers written as naive loops (conv, pooling) have one fixed shape, every axis a different
# size, and the conv a stride of 2, as the assignment's own tests: their loop runs N·F·H'·W' times and autodiff
# traces every entry apart (measured: 2.3 s to trace, lower and compile a conv at x (2, 3, 7, 6) with stride 1,
# about 10 s at letters drawn up to 9; 48 entries here). The sizes fit a stride of 2 exactly: (H + 2 - 3) is even.
LAYERS = {
    "affine": "x: N,D; w: D,M; b: M",
    "relu": "x: N,D",
    "batchnorm": "x: N,D; gamma: D; beta: D",
    "layernorm": "x: N,D; gamma: D; beta: D",
    "dropout": "x: N,D",
    "conv": "x: 2,6,5,3; w: 4,6,3,3; b: (4,)",
    "max_pool": "x: 2,3,6,4",
    "spatial_batchnorm": "x: N,C,H,W; gamma: C; beta: C",
    "spatial_groupnorm": "x: N,2C,H,W; gamma: 1,2C,1,1; beta: 1,2C,1,1; G: 2",
    "affine_relu": "x: N,D; w: D,M; b: M",
    "conv_relu": "x: 2,6,5,3; w: 4,6,3,3; b: (4,)",
    "conv_relu_pool": "x: 2,6,7,3; w: 4,6,3,3; b: (4,)",  # the conv's output, (4, 2), pooled 2×2 exactly
    "rnn_step": "x: N,D; prev_h: N,H; Wx: D,H; Wh: H,H; b: H",
    "rnn": "x: N,T,D; h0: N,H; Wx: D,H; Wh: H,H; b: H",
    "lstm_step": "x: N,D; prev_h: N,H; prev_c: N,H; Wx: D,4H; Wh: H,4H; b: 4H",
    "lstm": "x: N,T,D; h0: N,H; Wx: D,4H; Wh: H,4H; b: 4H",
    "word_embedding": "x: int[N,T] < V; W: V,D",
    "temporal_affine": "x: N,T,D; w: D,M; b: M",
}
# A loss's inputs by its arguments' names: softmax_loss(x, y) and the classifiers' softmax_loss_naive(W, X, y, reg).
LOSSES = {
    ("x", "y"): "x: N,C; y: int[N] < C",
    ("W", "X", "y", "reg"): "W: D,C; X: N,D; y: int[N] < C; reg: 0.1",
    ("x", "y", "mask"): "x: N,T,V; y: int[N,T] < V; mask: bool[N,T]",
    ("X", "y"): "X: N,D; y: int[N] < C",  # a model class's loss(X, y): TwoLayerNet, FullyConnectedNet
    ("X", "y", "reg"): "X: N,D; y: int[N] < C; reg: 0.1",
}
BY_NAME = {"x": "N,D", "w": "D,M", "b": "M", "gamma": "D", "beta": "D"}
# Training mode: where the forward's batch statistics and masks are used, and so differentiated. Dropout's seed
# makes the candidate's forward and the reference's draw the same mask (each runs NumPy's own np.random); its p,
# 0.5, is the same whether the assignment's p keeps a unit or drops it.
SETTINGS = {
    "bn_param": {"mode": "train"},
    "ln_param": {},
    "gn_param": {},
    "dropout_param": {"mode": "train", "p": 0.5, "seed": 0},
    "conv_param": {"stride": 2, "pad": 1},
    "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2},
}

_BACKWARD = re.compile(r"(?P<stem>\w+?)_backward(?P<suffix>_\w+)?")
_LOSS = re.compile(r"\w+_loss(_naive|_vectorized)?")


@dataclass
class Function:
    """A function of the file that is checked, and how."""

    name: str  # the candidate: a backward or a loss
    mode: str  # "layer" or "value_and_grad"
    forward: str | None = None
    sample: str | None = None  # the file's own sampler
    shapes: str | None = None
    settings: dict = field(default_factory=dict)
    missing: str | None = None  # why it cannot be checked: no verdict

    def inputs(self):
        """Its inputs in words, for the table."""
        if self.sample:
            return f"{self.sample}(rng)"
        settings = "; ".join(f"{k}: {v}" for k, v in self.settings.items())
        return "; ".join(filter(None, [self.shapes, settings])) or "-"

    def specs(self, path):
        where = lambda name: f"{path}:{name}" if name else None
        specs = {"candidate": where(self.name), "sample": where(self.sample), "shapes": self.shapes}
        if self.mode == "layer":
            specs.update(forward=where(self.forward), settings=self.settings or None)
        return specs


def _signature(node, method=False):
    """(positional argument names, those without a default), self left out of a method's."""
    names = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
    required = names[:len(names) - len(node.args.defaults)]
    return (names[1:], required[1:]) if method else (names, required)


def _loss_shapes(names, required):
    """A loss's spec by its arguments: all of them (a method's y and reg have defaults), or those it requires."""
    return LOSSES.get(tuple(names)) or LOSSES.get(tuple(required))


def _settings(names):
    return {n: SETTINGS[n] for n in names if n in SETTINGS}


def _layer_shapes(stem, names, required):
    """The spec of a layer's array inputs (its settings apart), or None where neither table knows them."""
    arrays = [n for n in required if n not in SETTINGS]
    spec = LAYERS.get(stem)
    if spec is not None and set(arrays) <= {e.partition(":")[0].strip() for e in spec.split(";")} <= set(names):
        return spec
    if arrays and all(n in BY_NAME for n in arrays):
        return "; ".join(f"{n}: {BY_NAME[n]}" for n in arrays)
    return None


def discover(path):
    """The file's checked functions, in the order it defines them; UsageError where it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        tree = ast.parse(source, filename=str(path))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except (SyntaxError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    methods = {f"{node.name}.loss": method for node in tree.body if isinstance(node, ast.ClassDef)
               for method in node.body if isinstance(method, ast.FunctionDef) and method.name == "loss"}
    functions = []
    for name, node in defined.items():
        names, required = _signature(node)
        backward, loss = _BACKWARD.fullmatch(name), _LOSS.fullmatch(name)
        if backward:
            stem, suffix = backward["stem"], backward["suffix"] or ""
            forward = next((f for f in (f"{stem}_forward{suffix}", f"{stem}_forward") if f in defined), None)
            function = Function(name, "layer", forward)
            if forward is None:
                function.missing = f"no {stem}_forward{suffix} in the file to differentiate"
                functions.append(function)
                continue
            names, required = _signature(defined[forward])
            function.settings = _settings(names)
            function.shapes = _layer_shapes(stem, names, required)
            sampler = f"sample_{stem}"
        elif loss:
            stem = name.removesuffix("_naive").removesuffix("_vectorized")
            function = Function(name, "value_and_grad", shapes=_loss_shapes(names, required))
            sampler = f"sample_{stem}"
        else:
            continue
        if sampler in defined:
            function.sample, function.shapes, function.settings = sampler, None, {}
        elif function.shapes is None:
            unknown = [n for n in required if n not in SETTINGS]
            function.missing = (f"its inputs ({', '.join(unknown)}) are not a course's usual ones: write "
                                f"{sampler}(rng) in the file, returning them")
        functions.append(function)
    for name, node in methods.items():
        names, required = _signature(node, method=True)
        shapes = _loss_shapes(names, required)
        functions.append(Function(name, "value_and_grad", shapes=shapes, missing=None if shapes else (
            f"its arguments ({', '.join(names)}) are not a model's usual (X, y, reg): check it alone, "
            f"{path}:{name} --shapes ...")))
    return functions
