"""The bucketed reference (zero padding + masks, one compilation per bucket and depth, activations chosen
at run time) equals plain jax.grad of loss_fn, compiled for the exact shape and activations."""

import jax
import numpy as np
import pytest

import jax_reference as jr
from jax_reference.cases import make_case
from jax_reference.fast_compile import Jitted
from jax_reference.tolerances import agrees, rounding_scales, value_scales

# (N, D, H, K), H a width or hidden widths: ones, bucket edges (32 fits, 33 spills into 64), D ≠ H ≠ K, depth 3 and 5.
SHAPES = [(1, 1, 1, 1), (1, 5, 3, 2), (7, 1, 9, 4), (3, 2, 1, 6), (32, 31, 30, 29), (33, 2, 5, 3), (4, 33, 6, 2),
          (5, 3, 40, 7), (6, 4, 2, 33), (70, 9, 11, 13), (5, 4, (3, 33), 2), (9, 6, (7, 1, 5, 2), 3)]
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus"]


def activations_for(i, shape):
    hidden = shape[2] if isinstance(shape[2], tuple) else (shape[2],)
    return tuple(ACTIVATIONS[(i + j) % 5] for j in range(len(hidden)))


CASES = [(shape, activations_for(i, shape), [np.float64, np.float32][i % 2], [0.0, 0.7][i // 2 % 2])
         for i, shape in enumerate(SHAPES)]


# The plain references, compiled with the fast-compile options as the bucketed ones are for small arrays (XLA's
# optimisations change no result beyond rounding, and cost three times the compile time).
_plain_value_and_grad = Jitted(jax.value_and_grad(jr.loss_fn), static_argnames="activations")
_plain_forward = Jitted(jr.forward_fn, static_argnames="activations")


def plain_value_and_grad(params, X, y, lam, activations):
    return _plain_value_and_grad(True, params, X, y, lam, activations=activations)


@pytest.mark.slow
@pytest.mark.parametrize("shape, activations, dtype, lam", CASES, ids=[str(c[:2]) for c in CASES])
def test_padded_equals_plain(shape, activations, dtype, lam):
    params, X, y = make_case(np.random.default_rng(len(str(shape))), *shape, dtype=dtype, label_set="ends")
    with jax.enable_x64(True):
        J_plain, g_plain = plain_value_and_grad(params, X, y, lam, activations)
    J, g = jr.value_and_grad(params, X, y, lam, activations)
    assert agrees(J, J_plain, dtype, value_scales(params, X)["J"]), (J, J_plain)
    scales = rounding_scales(params, X, activations)
    for name in params:
        assert g[name].shape == params[name].shape
        assert agrees(g[name], g_plain[name], dtype, scales[name]), name
    z = jr.forward(params, X, activations)
    with jax.enable_x64(True):
        assert agrees(z, _plain_forward(True, params, X, activations=activations), dtype, value_scales(params, X)["z"])


def test_buckets():
    # Powers of two up to 256; above, multiples of an eighth of the power of two below n.
    assert [jr.bucket(n) for n in (1, 31, 32, 33, 64, 65, 256, 257, 1000, 8192, 8193, 40000)] == \
        [32, 32, 32, 64, 64, 128, 256, 288, 1024, 8192, 9216, 40960]


def test_fine_buckets_waste_at_most_an_eighth():
    sizes = np.arange(257, 70000)
    waste = np.array([jr.bucket(int(n)) for n in sizes]) / sizes - 1
    assert waste.max() <= 0.125 and waste.min() >= 0


@pytest.mark.slow
def test_blocks_of_rows_in_a_scan_equal_the_whole_batch():
    """masked_loss_fn summed over row blocks (lax.scan, each block recomputed in the backward pass)
    against the same padded loss in one piece, and against plain jax.grad of loss_fn."""
    from jax_reference import api, model

    params, X, y = make_case(np.random.default_rng(7), 45, 6, (5, 3), 4, label_set="random")
    activations = ("tanh", "softplus")
    padded = api._padded_problem(params, X, y, activations)  # 45 rows padded to 64: eight blocks of 8
    codes = api._codes(activations)
    # Compiled, as the API runs it, fast for small arrays (eagerly, the scan's and the switch's every operation is
    # dispatched alone: 2.8 s against 1.2 s).
    value_and_grad = Jitted(jax.value_and_grad(model.masked_loss_fn), static_argnames="rows")
    with jax.enable_x64(True):
        whole = value_and_grad(True, *padded, 0.3, codes)
        blocks = value_and_grad(True, *padded, 0.3, codes, rows=8)
        plain = plain_value_and_grad(params, X, y, 0.3, activations)
    scales = rounding_scales(params, X, activations)
    assert agrees(blocks[0], whole[0], np.float64) and agrees(blocks[0], plain[0], np.float64)
    for name in params:
        got = np.asarray(blocks[1][name])[tuple(slice(0, s) for s in params[name].shape)]
        assert agrees(got, plain[1][name], np.float64, scales[name]), name


@pytest.mark.slow
def test_a_large_batch_is_scanned_and_still_right():
    from jax_reference import api

    N = api.SCAN_FROM + 7  # padded to a multiple of SCAN_ROWS, taken in blocks
    assert api._scan_rows(jr.bucket(N)) == api.SCAN_ROWS
    params, X, y = make_case(np.random.default_rng(8), N, 3, 4, 2)
    J, g = jr.value_and_grad(params, X, y, 0.1, "relu")
    with jax.enable_x64(True):
        J_plain, g_plain = plain_value_and_grad(params, X, y, 0.1, ("relu",))
    scales = rounding_scales(params, X, "relu")
    assert agrees(J, J_plain, np.float64, value_scales(params, X)["J"])
    assert all(agrees(g[k], g_plain[k], np.float64, scales[k]) for k in params)


@pytest.mark.parametrize("way", ["Jitted", "compile"])
def test_a_compile_option_xla_does_not_know_is_left_out_and_the_others_kept(way, monkeypatch):
    """The fast-compile options are XLA's own, which a release of XLA may drop: a compile that refuses one is
    compiled again without it, with the same result, and so is every compile after it."""
    from jax_reference import fast_compile

    unknown = "xla_no_such_option_gradcheck"
    monkeypatch.setattr(fast_compile, "OPTIONS", {**fast_compile.OPTIONS, unknown: True})
    monkeypatch.setattr(fast_compile, "_refused", set())
    given = []
    real = jax.stages.Lowered.compile
    monkeypatch.setattr(jax.stages.Lowered, "compile", lambda self, options=None: (given.append(options),
                                                                                  real(self, options))[1])
    known = {k: v for k, v in fast_compile.OPTIONS.items() if k != unknown}
    x = np.arange(3, dtype=np.float32)
    if way == "Jitted":  # jax.jit compiles without Lowered.compile: what it was given is what it holds
        jitted = fast_compile.Jitted(lambda v: v * 2 + 1)
        result, expected = jitted(True, x), [1, 3, 5]  # small integers: exact in any order
        assert set(jitted.fast) == {tuple(sorted(fast_compile.OPTIONS)), tuple(sorted(known))}
    else:
        result, expected = fast_compile.compile(jax.jit(lambda v: v - 1).lower(x))(x), [-1, 0, 1]
        assert given == [fast_compile.OPTIONS, known]
    assert np.array_equal(result, expected) and fast_compile._refused == {unknown}
    given.clear()
    assert np.array_equal(fast_compile.compile(jax.jit(lambda v: v + 5).lower(x))(x), [5, 6, 7])
    assert given == [known]  # left out from the first attempt on


def test_a_refusal_that_names_no_option_leaves_them_all_out(monkeypatch):
    from jax_reference import fast_compile

    monkeypatch.setattr(fast_compile, "_refused", set())
    given = []

    def attempt(options):
        given.append(options)
        if options:
            raise jax.errors.JaxRuntimeError("INVALID_ARGUMENT: these compile options cannot be used together")
        return "compiled"

    assert fast_compile._fast(attempt) == "compiled" and given == [fast_compile.OPTIONS, {}]
    assert fast_compile._refused == set(fast_compile.OPTIONS)
    with pytest.raises(jax.errors.JaxRuntimeError, match="out of memory"):  # no refusal of an option: raised
        fast_compile._fast(lambda options: (_ for _ in ()).throw(jax.errors.JaxRuntimeError("out of memory")))
