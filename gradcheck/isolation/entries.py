"""A NumPy array filled entry by entry with traced values, as a naive loop fills it (`out[n, f, i, j] = v`), kept
as its entries until it is used, then built in one scatter (isolation.jaxnumpy).

Written as a scatter per entry, a naive convolution at a course's test size (x (2, 3, 7, 6)) is a program of
about 250 scatters, each transposed into a gather by autodiff: tracing it took 0.66 s and compiling it 1.47 s,
where the same values stacked into one array took 0.37 s and 0.37 s (measured, float64, jax.grad, XLA's
fast-compile options). The values are NumPy's: the last write to an entry wins, and what is written is cast to
the array's dtype.
"""

import numpy as np


def entry(index, shape):
    """The index as a tuple of ints where it names one entry of an array of `shape`, else None."""
    index = index if isinstance(index, tuple) else (index,)
    if len(index) != len(shape) or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                                           for i in index):
        return None
    if not all(-n <= i < n for i, n in zip(index, shape)):
        return None  # out of bounds: the array's own indexing says so
    return tuple(int(i) % n for i, n in zip(index, shape))


class Entries:
    """A NumPy array (`base`) and the values written into its entries since, in order; used as anything else, it
    is the JAX array they make. Only `written` creates one: a write of one traced scalar into one entry of a
    NumPy array."""

    # A NumPy array on the left (w @ out, 2 * out with w an ndarray) defers to the reflected operation, as it
    # does to a JAX array, rather than take this for a scalar object.
    __array_ufunc__ = None

    def __init__(self, base):
        self.base, self.values = base, {}

    @classmethod
    def written(cls, array, index, value):
        """An Entries for array[index] = value, where that is a write of a scalar into one entry; else None."""
        if not (isinstance(array, (np.ndarray, Entries)) or hasattr(array, "at")) or np.ndim(value) != 0:
            return None
        at = entry(index, array.shape)
        if at is None:
            return None
        entries = array if isinstance(array, Entries) else cls(array)
        entries.values[at] = value
        return entries

    # What an array tells without its values

    shape = property(lambda self: self.base.shape)
    ndim = property(lambda self: self.base.ndim)
    dtype = property(lambda self: self.base.dtype)
    size = property(lambda self: self.base.size)

    def __len__(self):
        return len(self.base)

    def __getitem__(self, index):
        at = entry(index, self.shape)
        if at is not None:
            return self.values[at] if at in self.values else self.base[at]
        return self.array()[index]

    def array(self):
        """The JAX array: the base with every written entry, in one scatter; it is the base of later writes."""
        import jax.numpy as jnp

        if self.values:
            where = tuple(np.array(list(self.values)).T)
            values = jnp.stack([jnp.asarray(v).astype(self.dtype) for v in self.values.values()])
            self.base, self.values = jnp.asarray(self.base).at[where].set(values), {}
        return jnp.asarray(self.base)

    def __getattr__(self, name):  # .reshape, .sum, .T, .at: the array's
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.array(), name)

    def __iter__(self):
        return iter(self.array())


def _delegate(name):
    def method(self, *args):
        return getattr(self.array(), name)(*(concrete(a) for a in args))

    method.__name__ = name
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
    setattr(Entries, f"__{_name}__", _delegate(f"__{_name}__"))
    setattr(Entries, f"__r{_name}__", _delegate(f"__r{_name}__"))
for _name in ("neg", "pos", "abs", "lt", "le", "gt", "ge", "eq", "ne", "float", "int", "bool"):
    setattr(Entries, f"__{_name}__", _delegate(f"__{_name}__"))


def concrete(value):
    """`value` with every Entries in it (in lists, tuples and dicts too) made the JAX array it stands for."""
    if isinstance(value, Entries):
        return value.array()
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Entries, list, tuple, dict)) for v in value):
        return type(value)(concrete(v) for v in value) if not hasattr(value, "_fields") else \
            type(value)(*(concrete(v) for v in value))
    if isinstance(value, dict) and any(isinstance(v, (Entries, list, tuple, dict)) for v in value.values()):
        return {k: concrete(v) for k, v in value.items()}
    return value
