"""Values that cross between processes without pickle: numeric arrays inside JSON-ready structures.

A user's sampler returns (params, data): dicts, tuples and lists of arrays,
numbers, strings, booleans and None (a layer's settings dict, an int stride).
`encode` turns such a value into a JSON-ready tree and a list of numeric
arrays, `decode` back; a tuple stays a tuple. Anything else (an object, a
function) is refused by name, where it is found.
"""

import numbers

import numpy as np

from ..errors import Unportable
from . import wire


class Tree:
    """A function's return value to be sent whole, arrays and structure (a sample, a reference's result).

    labels: how to name the value's top-level items in a message, where it is a tuple or list.
    """

    def __init__(self, value, labels=()):
        self.value, self.labels = value, tuple(labels)

    def encode(self, arrays):
        if self.labels and isinstance(self.value, (tuple, list)):
            kind = "tuple" if isinstance(self.value, tuple) else "list"
            return {kind: [encode(v, arrays, self.labels[i] if i < len(self.labels) else f"item {i}")
                           for i, v in enumerate(self.value)]}
        return encode(self.value, arrays)


def encode(value, arrays, where="value"):
    """A JSON-ready tree for `value`, its arrays appended to `arrays`."""
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in wire.NUMERIC_KINDS:
            raise Unportable(f"{where} is an array of dtype {array.dtype}, not numbers")
        arrays.append(array)
        return {"array": len(arrays) - 1}
    if value is None or isinstance(value, (bool, str)):
        return {"value": value}
    if isinstance(value, numbers.Integral):
        return {"value": int(value)}
    if isinstance(value, numbers.Real):
        return {"value": float(value)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unportable(f"{where} is a dict with keys that are not strings: {list(value)!r}")
        return {"dict": {k: encode(v, arrays, f"{where}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
    if hasattr(value, "__array__"):  # a JAX or PyTorch array
        return encode(np.asarray(value), arrays, where)
    kind = type(value).__name__
    raise Unportable(f"{where} is {'an' if kind[0] in 'aeiou' else 'a'} {kind}, which gradcheck cannot pass between processes "
                     "(arrays, numbers, strings, None, and dicts, tuples and lists of them can)")


def decode(tree, arrays):
    """The value `encode` made the tree of."""
    if "array" in tree:
        return arrays[tree["array"]]
    if "value" in tree:
        return tree["value"]
    if "dict" in tree:
        return {str(k): decode(v, arrays) for k, v in tree["dict"].items()}
    if "tuple" in tree:
        return tuple(decode(v, arrays) for v in tree["tuple"])
    if "list" in tree:
        return [decode(v, arrays) for v in tree["list"]]
    raise ValueError(f"not an encoded value: {sorted(tree)}")
