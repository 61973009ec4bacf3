"""XLA's fast-compile options, for programs that run a few times on small arrays.

Such a program runs in microseconds and takes 0.1 to 0.3 s to compile: the compile is what costs. Without its
backend optimisations and with its older loop emitters, XLA compiles it about three times faster, for code
that runs about 2.5 times slower (measured, float64 on a 2-core x86-64: jax_reference's value_and_grad at
bucket 32, 0.31 s to 0.10 s, 76 µs to 190 µs a run; a three-layer perceptron's loss at 20 small shapes,
1.32 s to 0.49 s in all): a gain up to about a thousand runs of one program. And in one piece: XLA splits a
program's machine code into up to 32 parts compiled in parallel, which for a small program costs more than
it saves (measured, the same value_and_grad at widths 32 to 128 and depths 1 to 4, with the options above:
32 to 42% less CPU and 25 to 36% less time per compile with one part; the code differs, so its roundoff does).

The options are given per program (jax.jit's compiler_options), not in XLA_FLAGS: an XLA that no longer knows
one refuses the compile with an error naming it, and from then on programs are compiled without it, where an
unknown flag in XLA_FLAGS would abort the process.
"""

import re

import jax

OPTIONS = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True,
           "xla_cpu_use_fusion_emitters": False, "xla_cpu_parallel_codegen_split_count": 1}
_refused = set()  # the options this XLA refused: left out from now on


def _refusal(exc, options):
    """The options to leave out after `exc`: the one XLA's refusal names, all of them where it names none of
    `options`; None where `exc` is no refusal of a compile option."""
    if not (isinstance(exc, jax.errors.JaxRuntimeError) and "compile option" in str(exc)):
        return None
    named = set(re.findall(r"'([^']+)'", str(exc))) & set(options)
    return named or set(options)


def _fast(attempt):
    """attempt(options) with the options this XLA takes (all of them, until it refuses one)."""
    while True:
        options = {name: value for name, value in OPTIONS.items() if name not in _refused}
        try:
            return attempt(options)
        except jax.errors.JaxRuntimeError as exc:
            refused = _refusal(exc, options)
            if not refused:
                raise
            _refused.update(refused)


def compile(lowered):
    """lowered.compile() with the fast-compile options."""
    return _fast(lowered.compile)


class Jitted:
    """A function jitted twice: with the fast-compile options, for small arrays, and with XLA's defaults.

    jitted(small, *args, **kwargs) calls the first where small is true, else the second.
    """

    def __init__(self, function, **jit_options):
        self.function, self.jit_options = function, jit_options
        self.default = jax.jit(function, **jit_options)
        self.fast = {}  # by the options given: one jitted function, or another once XLA has refused one

    def _jitted(self, options):
        key = tuple(sorted(options))
        if key not in self.fast:
            self.fast[key] = jax.jit(self.function, compiler_options=options, **self.jit_options)
        return self.fast[key]

    def __call__(self, small, *args, **kwargs):
        if not small:
            return self.default(*args, **kwargs)
        return _fast(lambda options: self._jitted(options)(*args, **kwargs))
