"""--shapes: a function's arguments drawn at random from a short spec, for code that has no sample function.

    "W: D,C; X: N,D; y: int[N] < C; reg: 0.1"

Each entry names an argument:
    D,C           a float64 array of those dimensions, standard normal; a letter is a dimension drawn anew in
                  every case, each letter a different size (so that a transposed gradient cannot pass by
                  chance), a number is that size: (4,) a vector of 4, () a 0-d array; 4H is four times H
                  (an LSTM's stacked gates)
    int[N] < C    an int array of those dimensions, each entry in [0, C): labels
    bool[N,T]     a bool array of those dimensions, each entry True or False with even odds: a mask
    0.1, 3        a number, passed as it is (a float is data, an int stays fixed, as a group count would)
Arguments the spec leaves out take their defaults. Settings dicts (a layer's bn_param) are no spec's words:
a caller gives them as `constants`, passed to every case as fresh copies.

--init gives a model class's constructor its arguments in the same words, where a letter is a size (an int),
the same size as the letter in --shapes: "input_size: D; hidden_size: H; num_classes: C; std: 0.1".
"""

import copy
import re
from dataclasses import dataclass

from ..errors import LoadError, UsageError

# Letters are drawn from these sizes, without replacement: small enough for a naive loop, large enough that
# no two letters coincide and a dimension of 1 does not hide a broadcasting mistake.
SIZES = range(2, 10)
_NAME = re.compile(r"[A-Za-z_]\w*$")
_DIM = re.compile(r"[A-Za-z_]\w*$|\d+$|(?P<times>\d+)\s*\*?\s*(?P<letter>[A-Za-z_]\w*)$")
_INTS = re.compile(r"int\[(?P<dims>[^\]]*)\]\s*<\s*(?P<bound>\S+)$")
_BOOLS = re.compile(r"bool\[(?P<dims>[^\]]*)\]$")


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "float", "int", "bool" or "number"
    dims: tuple = ()  # letters and ints
    bound: str | int | None = None  # an int array's exclusive upper bound
    number: float | int | None = None


def _dims(text, entry):
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    dims = []
    for d in (d.strip() for d in text.split(",") if d.strip()):
        match = _DIM.match(d)
        if not match:
            raise UsageError(f"--shapes: {entry!r}: a dimension is a letter, a number or a multiple such as 4H, "
                             f"got {d!r}")
        dims.append((int(match["times"]), match["letter"]) if match["times"] else int(d) if d.isdigit() else d)
    return tuple(dims)


def _letter(d):
    """The letter a dimension draws on, or None for a fixed size."""
    return d[1] if isinstance(d, tuple) else d if isinstance(d, str) else None


def _number(text):
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse(spec):
    """The spec's entries, in order; a UsageError that names the entry where one cannot be read."""
    entries = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, colon, shape = (s.strip() for s in part.partition(":"))
        if not colon or not _NAME.match(name):
            raise UsageError(f"--shapes: {part!r} is not NAME: SHAPE (e.g. 'X: N,D', 'y: int[N] < C', 'reg: 0.1')")
        ints, bools = _INTS.match(shape), _BOOLS.match(shape)
        if bools:
            entries.append(Entry(name, "bool", _dims(bools["dims"], part)))
        elif ints:
            bound = _dims(ints["bound"], part)
            if len(bound) != 1:
                raise UsageError(f"--shapes: {part!r}: the bound after < is one letter or number")
            entries.append(Entry(name, "int", _dims(ints["dims"], part), bound[0]))
        elif re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", shape):
            entries.append(Entry(name, "number", number=_number(shape)))
        else:
            entries.append(Entry(name, "float", _dims(shape, part)))
    if not entries:
        raise UsageError(f"--shapes: no entries in {spec!r} (e.g. 'X: N,D; y: int[N] < C')")
    names = [e.name for e in entries]
    if len(set(names)) < len(names):
        raise UsageError(f"--shapes: {sorted({n for n in names if names.count(n) > 1})[0]!r} is given twice")
    return entries


def parse_init(spec):
    """--init's entries: NAME: a letter (a size), or a number."""
    entries = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, colon, value = (s.strip() for s in part.partition(":"))
        if not colon or not _NAME.match(name) or not (_NAME.match(value) or re.fullmatch(r"[-+.\deE]+", value)):
            raise UsageError(f"--init: {part!r} is not NAME: SIZE or NAME: NUMBER (e.g. 'hidden_size: H', 'std: 0.1')")
        entries.append(Entry(name, "size", (value,)) if _NAME.match(value) else Entry(name, "number", number=_number(value)))
    return entries


class Shapes:
    """sample(rng) -> {argument: value} from a spec; the letters drawn distinct in every case. With `init`
    entries (parse_init), draw(rng) -> (arguments, the constructor's arguments). constants: {argument: value}
    given as they are (copied) in every case."""

    def __init__(self, spec, init=(), constants=None):
        self.spec, self.entries, self.init = spec, parse(spec), list(init)
        self.constants = dict(constants or {})
        self.letters = sorted({_letter(d) for e in (*self.entries, *self.init) for d in (*e.dims, e.bound)} - {None})
        if len(self.letters) > len(SIZES):
            raise UsageError(f"--shapes: {len(self.letters)} letters; at most {len(SIZES)} can be drawn distinct")

    def check(self, names, required):
        """As the function is loaded (LoadError): every entry one of its positional arguments `names`, every
        argument without a default given, and none left out before one given (they are passed in order)."""
        given = {e.name for e in self.entries} | set(self.constants)
        for entry in self.entries:
            if entry.name not in names:
                raise LoadError(f"--shapes names {entry.name!r}, which is not an argument ({', '.join(names)})")
        missing = [n for n in required if n not in given]
        if missing:
            raise LoadError(f"--shapes must give {', '.join(missing)}: the function has no default for "
                            f"{'it' if len(missing) == 1 else 'them'}")
        gap = first_gap(names, given)
        if gap:
            raise LoadError(f"--shapes: the arguments are passed in order: give {gap}, or leave out every argument "
                            "after it")

    def __call__(self, rng):
        return self.draw(rng)[0]

    def draw(self, rng):
        sizes = dict(zip(self.letters, (int(s) for s in rng.choice(SIZES, len(self.letters), replace=False))))
        size = lambda d: d[0] * sizes[d[1]] if isinstance(d, tuple) else sizes[d] if isinstance(d, str) else d
        values = {}
        for e in self.entries:
            shape = tuple(size(d) for d in e.dims)
            if e.kind == "float":
                values[e.name] = rng.standard_normal(shape)
            elif e.kind == "int":
                values[e.name] = rng.integers(0, size(e.bound), shape)
            elif e.kind == "bool":
                values[e.name] = rng.random(shape) < 0.5
            else:
                values[e.name] = e.number
        values.update(copy.deepcopy(self.constants))
        return values, {e.name: sizes[e.dims[0]] if e.kind == "size" else e.number for e in self.init}


def first_gap(names, given):
    """The first of `names` left out of `given` before one that is in it, or None: arguments passed by position
    cannot skip one."""
    last = max((i for i, n in enumerate(names) if n in given), default=-1)
    return next((n for n in names[:last] if n not in given), None)
