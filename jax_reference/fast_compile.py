"""XLA's fast-compile options, for programs that run a few times on small arrays.

Such a program runs in microseconds and takes 0.1 to 0.3 s to compile: the compile is what costs. Without its
backend optimisations and with its older loop emitters, XLA compiles it about three times faster, for code
that runs about 2.5 times slower (measured, float64 on a 2-core x86-64: jax_reference's value_and_grad at
bucket 32, 0.31 s to 0.10 s, 76 µs to 190 µs a run; a three-layer perceptron's loss at 20 small shapes,
1.32 s to 0.49 s in all): a gain up to about a thousand runs of one program.

The options are given per program (jax.jit's compiler_options), not in XLA_FLAGS: an XLA that no longer knows
one refuses the compile with an error, and from then on programs are compiled with XLA's defaults, where an
unknown flag in XLA_FLAGS would abort the process.
"""

import jax

OPTIONS = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True,
           "xla_cpu_use_fusion_emitters": False}
_refused = False  # this XLA refused an option: compile with its defaults from now on


def _refusal(exc):
    return isinstance(exc, jax.errors.JaxRuntimeError) and "compile option" in str(exc)


def _fast(attempt, fallback):
    global _refused
    if not _refused:
        try:
            return attempt()
        except jax.errors.JaxRuntimeError as exc:
            if not _refusal(exc):
                raise
            _refused = True
    return fallback()


def compile(lowered):
    """lowered.compile() with the fast-compile options."""
    return _fast(lambda: lowered.compile(OPTIONS), lowered.compile)


class Jitted:
    """A function jitted twice: with the fast-compile options, for small arrays, and with XLA's defaults.

    jitted(small, *args, **kwargs) calls the first where small is true, else the second.
    """

    def __init__(self, function, **jit_options):
        self.default = jax.jit(function, **jit_options)
        self.fast = jax.jit(function, compiler_options=OPTIONS, **jit_options)

    def __call__(self, small, *args, **kwargs):
        if not small:
            return self.default(*args, **kwargs)
        return _fast(lambda: self.fast(*args, **kwargs), lambda: self.default(*args, **kwargs))
