"""Hypothesis strategies: random shapes, λ values, label sets, activations and dtypes."""

import numpy as np
from hypothesis import strategies as st

import manual_grad as mg
from jax_reference.cases import LABEL_SETS, make_case

dims = st.integers(1, 32)
dtypes = st.sampled_from([np.float64, np.float32])
activations = st.sampled_from(mg.ACTIVATIONS)
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
    """(params, X, y, lam, activation) with N, D, H, K each drawn from 1..32."""
    N, D, H, K = draw(dims), draw(dims), draw(dims), draw(dims)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params, X, y = make_case(
        rng, N, D, H, K, dtype=draw(dtype), label_set=draw(st.sampled_from(LABEL_SETS)), scale=draw(scale)
    )
    return params, X, y, draw(lam), draw(activation)
