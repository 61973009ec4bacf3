"""The references of earlier runs, kept in the cache folder by everything that determines them.

A learner's loop is edit the gradient, run, repeat: with the loss and the sampler unchanged, each run asks
autodiff for the very references the run before computed, case by case. The compilation cache (gradcheck.cache)
spares XLA's work, not the tracing and lowering of the user's code at every shape; this spares all three, for a
case whose reference is known.

A reference is kept under a key of everything that determines it:
    the user's files: every module of the user's the reference's worker has imported (the loss's, the helpers'
      it imports from its folder), by content;
    gradcheck's own files, by content, and the versions of Python, NumPy, JAX and jaxlib;
    the mode and the functions it names (their specs: file and name);
    the case: the sample as checked (each array's dtype, shape and bytes, every other value) and what else the
      reference is given (a layer's cotangent's seed, a product's direction).
What the key cannot see (a data file the loss reads at import, a library it calls) is checked instead: in every
run, kept or not, the user's own NumPy function is run at the case, and a kept reference is used only where that
value is the one kept with it. An entry that cannot be read is a miss, computed again (and said once); a folder
that cannot be written keeps nothing. Entries are JSON and raw numeric arrays (isolation.wire's, no pickle).

Where references of the same mode and functions are kept (`warm`), the reference's worker waits to rewrite the
user's code for jax.numpy, and so to import JAX, until a reference is not kept (user_code.Later): a run whose
every reference is kept is NumPy's alone.

The seed mode keeps its references too, a chunk of cases (jax_reference.BATCH) an entry. Its reference is
gradcheck's own code, so its key holds no user's file and there is no user's value to check; a run whose every
chunk is kept imports no JAX at all.
"""

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import cache
from ..errors import Unportable
from ..isolation import wire
from ..isolation.process import OWN_PACKAGES, user_file
from ..isolation.values import decode, encode

FORMAT = 2  # a new layout of the entries: a new key, no old entry read
SUFFIX = ".entry"  # isolation.wire's bytes: a JSON header, then the arrays' raw bytes (np.load's .npz parsed each
# array's header with ast.literal_eval: 0.64 s of a warm 2000-case run's 32 entries, against 0.05 s)
# A small model's reference takes a few kB a case (its gradient, and the NumPy value that checks it): 64 MiB keeps
# tens of thousands of cases; past it, the entries used least recently go.
MAX_BYTES = 64 * 2**20
FOLDER = "references"

_store = None


def begin(folder, mode, specs):
    """The store of this worker's next reference roles: in `folder` (gradcheck.cache's, None where the cache is
    off), for the mode and its specs (spec strings)."""
    global _store
    _store = Store(Path(folder) / FOLDER, (mode, sorted(specs.items()))) if folder else None


def current():
    return _store


def warm():
    """Whether this worker's references were computed by a run before (an entry of the same mode and functions
    is kept): JAX, and the user's code rewritten for it, then wait for a reference that is not (user_code.Later)."""
    return _store is not None and _store.holds_any()


@functools.lru_cache(maxsize=None)
def _own():
    """gradcheck's files (manual_grad's input checks serve the seed model's reference) and the libraries'
    versions: what the user's files are computed with."""
    digest = hashlib.sha256()
    for package in OWN_PACKAGES:
        root = Path(importlib.util.find_spec(package).origin).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    versions = [sys.version, np.__version__, *(importlib.metadata.version(p) for p in ("jax", "jaxlib"))]
    return [FORMAT, digest.hexdigest(), versions]


def _digest(path):
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class Store:
    """Entries in `folder`, keyed by `context` (what the mode and its functions are), and the user's files where
    `user_files` (the seed mode's reference is gradcheck's own code) and the case."""

    def __init__(self, folder, context, user_files=True):
        self.folder, self.context, self.user_files = folder, context, user_files
        self.sources, self.size = {}, None
        # Entries are named by mode and functions first, for `holds_any`.
        self.prefix = f"{context[0]}-{hashlib.sha256(json.dumps(context).encode()).hexdigest()[:12]}-"
        self.deferred = []  # what waits for JAX until a reference is computed (user_code.Later)

    def holds_any(self):
        """Whether any entry of this mode and these functions is kept: a guess at whether a run computes at all."""
        return next(self.folder.glob(f"{self.prefix}*{SUFFIX}"), None) is not None

    def _user_files(self):
        """(file, digest) of every user module imported so far, each read once, as it was first seen."""
        for name, module in list(sys.modules.items()):
            if name not in self.sources:
                path = user_file(name, module)
                self.sources[name] = (path, _digest(path)) if path else None
        return sorted(v for v in self.sources.values() if v)

    def key(self, case):
        """The key of a case's reference, or None where the case cannot be written down (an object in it)."""
        arrays = []
        try:
            tree = encode(case, arrays)
        except Unportable:
            return None
        files = self._user_files() if self.user_files else []
        if any(d is None for _, d in files):
            return None
        digest = hashlib.sha256(json.dumps([_own(), self.context, files, tree]).encode())
        for a in arrays:
            digest.update(f"{a.dtype.str}{a.shape}".encode())
            digest.update(np.ascontiguousarray(a).tobytes())
        return self.prefix + digest.hexdigest()

    def get(self, key):
        """(the NumPy value kept, the reference kept) under `key`, or None."""
        path = self.folder / f"{key}{SUFFIX}"
        try:
            header, arrays = wire.unpack(path.read_bytes())
            os.utime(path)  # used: the last to go
            return decode(header["check"], arrays), decode(header["value"], arrays)
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 — whatever is wrong with an entry, it is computed again
            cache.say(f"gradcheck: warning: the cache {self.folder} has references that cannot be read "
                      f"({type(exc).__name__}); they are computed again")
            return None

    def put(self, key, check, value):
        """Keeps `value` and the NumPy value `check` under `key`; nothing where they cannot be written."""
        arrays = []
        try:
            header = {"check": encode(check, arrays), "value": encode(value, arrays)}
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".tmp", delete=False) as file:
                file.write(wire.pack(header, arrays))
            os.replace(file.name, self.folder / f"{key}{SUFFIX}")  # whole or not at all, for a check beside
        except (OSError, Unportable):
            return
        self._bound(os.path.getsize(self.folder / f"{key}{SUFFIX}"))

    def _bound(self, added):
        if self.size is None:
            self.size = sum(p.stat().st_size for p in self.folder.glob(f"*{SUFFIX}"))
        else:
            self.size += added
        if self.size <= MAX_BYTES:
            return
        try:  # another check may be removing the same entries
            entries = [(p.stat().st_mtime, p.stat().st_size, p) for p in self.folder.glob(f"*{SUFFIX}")]
            self.size = cache.shed(entries, MAX_BYTES * 3 // 4)
        except OSError:
            return
