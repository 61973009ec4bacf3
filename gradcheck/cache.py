"""The persistent compilation cache: the references gradcheck compiles, kept between runs.

A learner's loop is edit, run, repeat: each run compiles the same reference at the same shapes again. JAX's
persistent compilation cache keeps each compiled program on disk, keyed by the program itself, the
compiler's version and its options; a second run loads what the first compiled. A program loaded is the
program compiled, so nothing gradcheck reports can depend on whether the cache was warm (tested).

It lives in $XDG_CACHE_HOME/gradcheck (~/.cache/gradcheck by default), bounded by MAX_BYTES: past that, as a
run starts, the entries used least recently go (`trim`). A folder that cannot be made or written is left alone,
with one warning; a corrupt entry is compiled again (JAX reads it as a miss, with a warning of its own). The cache is
trusted code (JAX's documentation): keep it where only you can write. `gradcheck --no-cache` runs without it.
The loss and layer modes keep the references they compute in the same folder (problems.memo).
"""

import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

# A small loss's reference takes 5 to 30 kB per shape (measured for the examples): 256 MiB holds about ten
# thousand compiled shapes, more than a course's worth of derivations, and little of a disk.
MAX_BYTES = 256 * 2**20
# How JAX names a compiled program's file, and the access-time file its own bound keeps beside each.
PROGRAM, ACCESS_TIME = "-cache", "-atime"
# The environment variable a worker reads to use the same cache as gradcheck's process.
VARIABLE = "GRADCHECK_CACHE_DIR"
# What JAX warns, once per entry, when an entry cannot be read (it then compiles the program again).
UNREADABLE = "Error reading persistent compilation cache entry"
# The folders this process has trimmed: each once, as its first run starts.
_TRIMMED = set()
# What this process has said of the cache, each once: a reference's worker hands its own on with each reference
# (its stderr is the user's code's, counted and not shown), and gradcheck's process says them.
SAID = []


def say(message):
    """Says `message` on stderr, once per process."""
    if message not in SAID:
        SAID.append(message)
        print(message, file=sys.stderr)


def directory(environ=os.environ):
    """Where the cache lives: $XDG_CACHE_HOME/gradcheck, or ~/.cache/gradcheck."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gradcheck"


def usable(path):
    """None where the folder can be made and written, else why not (one line)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    return None


def choose(enabled, environ=os.environ):
    """The cache folder to use, or None where it is off or cannot be used (said once, on stderr)."""
    if not enabled:
        return None
    path = directory(environ)
    problem = usable(path)
    if problem:
        say(f"gradcheck: warning: the compilation cache cannot be used ({problem}); compiling without it")
        return None
    if path not in _TRIMMED:
        _TRIMMED.add(path)
        trim(path)
    return path


def trim(path):
    """Past MAX_BYTES, the compiled programs used least recently deleted, down to three quarters of it.

    JAX's own bound (jax_compilation_cache_max_size) walks every entry, and reads the access-time file it keeps
    beside each, as it writes any program: each write took 2 ms more at 40 entries and 11 ms at 600 (measured, a
    2-core x86-64), 0.3 s at 10,880 (jax-ml/jax#36753 and uwplasma/vmex#254), in a folder that holds ten thousand
    small programs. Here the folder is walked once a process (the command's run, a library session's first
    check), and a program's last use is the file system's: its last read as Linux keeps it (relatime: within a
    day), or its writing. Files of JAX's own bound are removed.
    """
    try:
        entries = []
        for entry in os.scandir(path):
            if entry.name.endswith(ACCESS_TIME):
                os.unlink(entry.path)
            elif entry.name.endswith(PROGRAM):
                stat = entry.stat()
                entries.append((max(stat.st_atime, stat.st_mtime), stat.st_size, entry.path))
        if sum(size for _, size, _ in entries) > MAX_BYTES:
            shed(entries, MAX_BYTES * 3 // 4)
    except OSError:  # a folder another run is trimming, or one this user cannot change: as it is
        return


def shed(entries, limit):
    """Deletes the least recently used of `entries`, each (last use, size, path), until their total is at most
    `limit` (problems.memo bounds its references so too); returns the total left. OSError where one cannot go."""
    size = sum(size for _, size, _ in entries)
    for _, size_of, path in sorted(entries):
        if size <= limit:
            break
        with contextlib.suppress(FileNotFoundError):  # another run took it first
            os.unlink(path)
        size -= size_of
    return size


def enable(path):
    """Asks JAX to keep every program it compiles from now on in `path` (None: leaves JAX as it is)."""
    if path is None:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # a small program is worth keeping too
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)  # 0 would mean JAX's own minimum
    # No bound of JAX's (trim bounds the folder): JAX then keeps no access times and walks no folder per write,
    # and takes no lock: a program read as another process writes it reads as corrupt, and is compiled again.
    jax.config.update("jax_compilation_cache_max_size", -1)
    # JAX's default puts a GPU autotuning folder inside the cache into every program's compile options, and so its
    # path into every key: a cache restored at another path (a CI job's home) would be compiled again. gradcheck's
    # small programs need no autotuning, and their keys then depend on the programs alone (tested).
    jax.config.update("jax_persistent_cache_enable_xla_caches", "none")
    if not getattr(warnings.showwarning, "gradcheck_cache", False):
        warnings.showwarning = _once(warnings.showwarning, path)


def _once(show, path):
    """warnings.showwarning that says JAX's per-entry warnings of an unreadable cache once, in gradcheck's words."""
    def showwarning(message, category, filename, lineno, file=None, line=None):
        if UNREADABLE not in str(message):
            return show(message, category, filename, lineno, file, line)
        if not any(f"compilation cache {path} has entries" in m for m in SAID):
            say(f"gradcheck: warning: the compilation cache {path} has entries that cannot be read "
                f"({str(message).split(': ', 1)[-1]}); they are compiled again")

    showwarning.gradcheck_cache = True
    return showwarning
