"""Bad input is refused before any arithmetic, with an error that names the problem; inputs are never modified."""

import numpy as np
import pytest

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case
from manual_grad.validate import SMALL

N, D, H, K = 5, 3, 4, 2
LOSS_FUNCTIONS = [m.__name__ + "." + f for m in (mg, jr) for f in ("loss", "grad", "value_and_grad")]


def good():
    params, X, y = make_case(np.random.default_rng(0), N, D, H, K)
    return {"params": params, "X": X, "y": y, "lam": 0.1, "activation": "tanh"}


def with_param(name, value):
    def edit(args):
        args["params"][name] = value

    return edit


def drop_param(name):
    def edit(args):
        del args["params"][name]

    return edit


def set_arg(arg, value):
    def edit(args):
        args[arg] = value

    return edit


def set_entry(value, index, arg="X", param=None):
    """Sets one entry of a copy of X (or of params[param]) to value."""

    def edit(args):
        array = (args["params"][param] if param else args[arg]).copy()
        array[index] = value
        if param:
            args["params"][param] = array
        else:
            args[arg] = array

    return edit


# (id, edit of good arguments, exception, pattern the message must match)
BAD_INPUTS = [
    ("label K", set_arg("y", np.array([0, 1, 2, 0, 1])), ValueError, r"y must hold labels in \[0, K\) = \[0, 2\); got y\[2\] = 2"),
    ("label -1", set_arg("y", np.array([0, -1, 1, 0, 1])), ValueError, r"\[0, 2\); got y\[1\] = -1"),
    ("float labels", set_arg("y", np.array([0.0, 1, 1, 0, 1])), TypeError, r"y must hold integer .* got dtype float64"),
    ("bool labels", set_arg("y", np.array([True, False, True, True, False])), TypeError, r"y must hold integer .* got dtype bool"),
    ("y too long", set_arg("y", np.zeros(6, int)), ValueError, r"y must have shape \(N,\) = \(5,\) .* got shape \(6,\)"),
    ("y column", set_arg("y", np.zeros((5, 1), int)), ValueError, r"y must have shape \(N,\) = \(5,\) .* got shape \(5, 1\)"),
    ("X wrong D", set_arg("X", np.zeros((5, 4))), ValueError, r"X must have shape \(N, D\) = \(N, 3\) .* got shape \(5, 4\)"),
    ("X 1-D", set_arg("X", np.zeros(3)), ValueError, r"X must have shape \(N, D\) .* got shape \(3,\)"),
    ("X NaN", set_entry(np.nan, (1, 2)), ValueError, r"X must be finite; got nan at index \(1, 2\)"),
    ("X int", set_arg("X", np.zeros((5, 3), int)), TypeError, r"X must be a float32 or float64 array; got dtype int64"),
    ("X float16", set_arg("X", np.zeros((5, 3), np.float16)), TypeError, r"X must be a float32 or float64 .* float16"),
    ("X float32, params float64", set_arg("X", np.zeros((5, 3), np.float32)), TypeError, r"X has dtype float32 but params have float64"),
    ("empty batch", lambda a: a.update(X=np.zeros((0, 3)), y=np.zeros(0, int)), ValueError, r"X must have no empty dimension.* got shape \(0, 3\)"),
    ("W1 NaN", set_entry(np.nan, (0, 1), param="W1"), ValueError, r"params\['W1'\] must be finite; got nan at index \(0, 1\)"),
    ("b2 inf", set_entry(np.inf, (1,), param="b2"), ValueError, r"params\['b2'\] must be finite; got inf at index \(1,\)"),
    ("b1 wrong", with_param("b1", np.zeros(5)), ValueError, r"params\['b1'\] must have shape \(H,\) = \(4,\) .* got shape \(5,\)"),
    ("W2 wrong H", with_param("W2", np.zeros((3, 2))), ValueError, r"params\['W2'\] must have shape \(H, K\) = \(4, K\) .* got shape \(3, 2\)"),
    ("b2 wrong", with_param("b2", np.zeros(3)), ValueError, r"params\['b2'\] must have shape \(K,\) = \(2,\) .* got shape \(3,\)"),
    ("W1 1-D", with_param("W1", np.zeros(3)), ValueError, r"params\['W1'\] must have shape \(D, H\); got shape \(3,\)"),
    ("b1 float32", with_param("b1", np.zeros(4, np.float32)), TypeError, r"params\['b1'\] has dtype float32 but params\['W1'\] has float64"),
    ("missing W2", drop_param("W2"), ValueError, r"params is missing \['W2'\]"),
    ("extra key", with_param("W0", np.zeros(2)), ValueError, r"params has unexpected keys \['W0'\]"),
    ("params list", set_arg("params", [1, 2]), TypeError, r"params must be a dict .* got list"),
    ("lam negative", set_arg("lam", -0.1), ValueError, r"lam must be finite and >= 0; got -0.1"),
    ("lam nan", set_arg("lam", float("nan")), ValueError, r"lam must be finite and >= 0; got nan"),
    ("lam inf", set_arg("lam", float("inf")), ValueError, r"lam must be finite and >= 0; got inf"),
    ("lam string", set_arg("lam", "0.1"), TypeError, r"lam must be a real number >= 0; got str '0.1'"),
    ("activation unknown", set_arg("activation", "gelu"), ValueError, r"activation must be one of \('sigmoid', 'tanh', 'relu', 'leaky_relu', 'softplus'\); got 'gelu'"),
    ("activations too many", set_arg("activation", ["tanh", "relu"]), ValueError, r"activation must be one name, or one per hidden layer: 1 for L = 2 weight layers; got 2"),
    ("activation not str", set_arg("activation", None), TypeError, r"activation must be a string.* got NoneType None"),
]


def call(function_name, args):
    module = {"manual_grad": mg, "jax_reference": jr}[function_name.split(".")[0]]
    function = getattr(module, function_name.split(".")[1])
    return function(args["params"], args["X"], args["y"], args["lam"], args["activation"])


@pytest.mark.parametrize("function_name", LOSS_FUNCTIONS)
@pytest.mark.parametrize("edit, error, pattern", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_refused_with_a_clear_message(function_name, edit, error, pattern):
    args = good()
    edit(args)
    with pytest.raises(error, match=pattern):
        call(function_name, args)


@pytest.mark.parametrize("module", [mg, jr], ids=["manual_grad", "jax_reference"])
def test_forward_checks_its_inputs(module):
    args = good()
    with pytest.raises(ValueError, match=r"X must have shape \(N, D\) = \(N, 3\)"):
        module.forward(args["params"], np.zeros((5, 4)), "tanh")
    with pytest.raises(ValueError, match="activation must be one of"):
        module.forward(args["params"], args["X"], "gelu")


def test_the_good_arguments_are_good():
    for function_name in LOSS_FUNCTIONS:
        call(function_name, good())


@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inputs_are_never_modified(activation, dtype):
    params, X, y = make_case(np.random.default_rng(1), N, D, H, K, dtype=dtype)
    copies = ({k: v.copy() for k, v in params.items()}, X.copy(), y.copy())
    for array in (*params.values(), X, y):
        array.flags.writeable = False  # an in-place write would raise
    for module in (mg, jr):
        module.forward(params, X, activation)
        module.loss(params, X, y, 0.3, activation)
        module.value_and_grad(params, X, y, 0.3, activation)
        g = module.grad(params, X, y, 0.3, activation)
        assert all(g[k] is not params[k] for k in params)
        module.stages(params, X, y, activation)
    for k in params:
        np.testing.assert_array_equal(params[k], copies[0][k])
    np.testing.assert_array_equal(X, copies[1])
    np.testing.assert_array_equal(y, copies[2])


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"D": 0}, ValueError, r"D must be an integer >= 1; got 0"),
        ({"K": 2.5}, ValueError, r"K must be an integer >= 1; got 2.5"),
        ({"rng": 0}, TypeError, r"rng must be a numpy.random.Generator; got int"),
        ({"dtype": np.int32}, TypeError, r"dtype must be float32 or float64; got int32"),
    ],
)
def test_init_params_refuses_bad_arguments(kwargs, error, pattern):
    args = {"D": D, "H": H, "K": K, "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(error, match=pattern):
        mg.init_params(args.pop("D"), args.pop("H"), args.pop("K"), **args)


def test_init_params_shapes_and_dtype():
    params = mg.init_params(D, H, K, rng=np.random.default_rng(0), dtype=np.float32)
    assert {k: v.shape for k, v in params.items()} == {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    assert all(v.dtype == np.float32 for v in params.values())


@pytest.mark.parametrize("rows", [N, SMALL // D + 1], ids=["small, checked entry by entry", "large, by its sum"])
def test_huge_finite_inputs_are_accepted_and_a_nan_among_them_is_found(rows):
    """Above SMALL entries the finiteness check sums the array: a sum that overflows must not be taken for an
    inf, and the entry that is not finite is found all the same."""
    params = good()["params"]
    X = np.full((rows, D), 1e308)
    mg.forward(params, X, "relu")
    X[rows - 1, 1] = np.nan
    with pytest.raises(ValueError, match=rf"X must be finite; got nan at index \({rows - 1}, 1\)"):
        mg.forward(params, X, "relu")


# Networks of any depth: what does not fit is named by its layer.

DEEP = {"D": 5, "H": (4, 6, 3), "K": 2}


def deep_good():
    params, X, y = make_case(np.random.default_rng(2), 7, DEEP["D"], DEEP["H"], DEEP["K"])
    return {"params": params, "X": X, "y": y, "lam": 0.1, "activation": ("tanh", "relu", "softplus")}


DEEP_BAD = [
    ("widths do not chain", with_param("W3", np.zeros((5, 3))), ValueError,
     r"params\['W3'\] must have shape \(H3, H4\) = \(6, H4\) to match params\['W2'\] \(4, 6\); got shape \(5, 3\)"),
    ("bias of layer 2", with_param("b2", np.zeros(4)), ValueError,
     r"params\['b2'\] must have shape \(H3,\) = \(6,\) to match params\['W2'\] \(4, 6\); got shape \(4,\)"),
    ("a missing layer", lambda a: [a["params"].pop(k) for k in ("W2", "b2")], ValueError,
     r"params is missing \['W2', 'b2'\]; expected keys \('W1', 'b1', 'W2', 'b2', 'W3', 'b3', 'W4', 'b4'\)"),
    ("a missing bias", drop_param("b4"), ValueError, r"params is missing \['b4'\]"),
    ("too few activations", set_arg("activation", ("tanh", "relu")), ValueError,
     r"activation must be one name, or one per hidden layer: 3 for L = 4 weight layers; got 2 \(\['tanh', 'relu'\]\)"),
    ("an unknown activation", set_arg("activation", ("tanh", "gelu", "relu")), ValueError,
     r"activation\[1\] \(layer 3\) must be one of .*; got 'gelu'"),
    ("a non-string activation", set_arg("activation", ("tanh", 3, "relu")), TypeError,
     r"activation\[1\] \(layer 3\) must be a string, one of .*; got int 3"),
    ("labels beyond K", set_arg("y", np.full(7, 2)), ValueError, r"y must hold labels in \[0, K\) = \[0, 2\); got y\[0\] = 2"),
]


@pytest.mark.parametrize("function_name", LOSS_FUNCTIONS)
@pytest.mark.parametrize("edit, error, pattern", [b[1:] for b in DEEP_BAD], ids=[b[0] for b in DEEP_BAD])
def test_a_deep_network_that_does_not_fit_is_refused_by_layer(function_name, edit, error, pattern):
    args = deep_good()
    call(function_name, args)
    edit(args)
    with pytest.raises(error, match=pattern):
        call(function_name, args)


def test_one_layer_is_not_a_network():
    params = {"W1": np.zeros((3, 2)), "b1": np.zeros(2)}
    with pytest.raises(ValueError, match=r"params is missing \['W2', 'b2'\]"):
        mg.forward(params, np.zeros((4, 3)))


def test_init_params_takes_hidden_widths():
    params = mg.init_params(5, [4, 6, 3], 2, rng=np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {"W1": (5, 4), "b1": (4,), "W2": (4, 6), "b2": (6,),
                                                        "W3": (6, 3), "b3": (3,), "W4": (3, 2), "b4": (2,)}
    with pytest.raises(ValueError, match=r"H\[1\] must be an integer >= 1; got 0"):
        mg.init_params(5, [4, 0], 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="H must be a width or a non-empty sequence"):
        mg.init_params(5, [], 2, rng=np.random.default_rng(0))
