"""Hypothesis strategies: random shapes, depths, λ values, label sets, activations and dtypes."""

import numpy as np
from hypothesis import strategies as st

import manual_grad as mg
from jax_reference.cases import LABEL_SETS, make_case

dims = st.integers(1, 32)
dtypes = st.sampled_from([np.float64, np.float32])
SEED_ACTIVATIONS = ("sigmoid", "tanh", "relu")  # the seed's two-layer network
activations = st.sampled_from(SEED_ACTIVATIONS)
# λ = 0, tiny, moderate, large: the penalty from negligible to dominant.
positive_lams = st.one_of(
    st.floats(1e-12, 1e-6),
    st.floats(1e-3, 1.0),
    st.floats(1.0, 1e3),
    st.just(1e3),
)
lams = st.one_of(st.just(0.0), positive_lams)


@st.composite
def cases(draw, dtype=dtypes, activation=activations, lam=lams, scale=st.sampled_from([0.3, 1.0, 3.0])):
    """(params, X, y, lam, activation) of the two-layer network with N, D, H, K each drawn from 1..32."""
    N, D, H, K = draw(dims), draw(dims), draw(dims), draw(dims)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params, X, y = make_case(
        rng, N, D, H, K, dtype=draw(dtype), label_set=draw(st.sampled_from(LABEL_SETS)), scale=draw(scale)
    )
    return params, X, y, draw(lam), draw(activation)


@st.composite
def deep_cases(draw, depth=st.integers(2, 6), dtype=dtypes, lam=lams, scale=st.sampled_from([0.3, 1.0, 2.0])):
    """(params, X, y, lam, activations) of an L-layer network: L from `depth`, every width from 1..32,
    one activation per hidden layer from all of mg.ACTIVATIONS (a mix, or one name for all)."""
    L = draw(depth)
    N, D, K = draw(dims), draw(dims), draw(dims)
    hidden = [draw(dims) for _ in range(L - 1)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params, X, y = make_case(
        rng, N, D, hidden, K, dtype=draw(dtype), label_set=draw(st.sampled_from(LABEL_SETS)), scale=draw(scale)
    )
    mix = st.lists(st.sampled_from(mg.ACTIVATIONS), min_size=L - 1, max_size=L - 1).map(tuple)
    return params, X, y, draw(lam), draw(st.one_of(st.sampled_from(mg.ACTIVATIONS), mix))
