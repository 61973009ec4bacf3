"""How long a verdict takes, as a ratio to a bare JAX start-up measured in the same run.

    python -m benchmarks.startup [--repeats 3]

Absolute seconds differ threefold between these machines; the ratio to
`python -c "import jax, jax.numpy as jnp; jax.jit(lambda x: x + 1)(jnp.zeros(3)).block_until_ready()"`
does not, much. Each command runs as a learner runs it (the console script, a process of its own), each
figure the median of --repeats runs, the runs of every row interleaved so that a busy minute hits them all:

    seed mode, 200 cases and 2000 cases; the softmax regression example in loss mode (20 new shapes); a
    whole course file, examples/course/layers.py (ten layers, a naive conv among them, and two losses, five
    cases each) without the compilation cache (--no-cache), with a cold cache (a new folder each run), and
    warm (the same command again; for the loss mode, with only the candidate edited, which leaves the
    reference, and so the cache's programs, as they were).

Prints a Markdown table and the JSON of every time measured.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADCHECK = str(Path(sysconfig.get_path("scripts")) / "gradcheck")
MODEL = ROOT / "examples" / "models" / "softmax_regression.py"
JAX = [sys.executable, "-c", "import jax, jax.numpy as jnp; jax.jit(lambda x: x + 1)(jnp.zeros(3)).block_until_ready()"]
RUNS = {
    "seed mode, 200 cases": [],
    "seed mode, 2000 cases": ["--cases", "2000"],
    "loss mode, softmax regression, 20 new shapes": [f"{MODEL}:grad", "--loss", f"{MODEL}:loss", "--sample",
                                                    f"{MODEL}:sample"],
    "whole file, course layers.py, 12 functions": [str(ROOT / "examples" / "course" / "layers.py")],
}


def seconds(command, cache_home):
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def edited_candidate(folder):
    """The example's candidate, edited as a learner edits it (a comment added): a new file, the same loss."""
    path = Path(folder) / "my_grad.py"
    path.write_text(MODEL.read_text() + "\n# edited\n")
    return f"{path}:grad"


def measure(repeats, runs):
    times = {"bare JAX start-up": []}
    times.update({f"{name}: {way}": [] for name in runs for way in ("no cache", "cold", "warm")})
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            times["bare JAX start-up"].append(seconds(JAX, folder))
            for name, argv in runs.items():
                command = [GRADCHECK, *argv, "--quiet"]
                times[f"{name}: no cache"].append(seconds([*command, "--no-cache"], folder))
                home = Path(tempfile.mkdtemp(dir=folder))
                times[f"{name}: cold"].append(seconds(command, home))
                warm = [GRADCHECK, edited_candidate(folder), *argv[1:], "--quiet"] if argv[:1] == [f"{MODEL}:grad"] \
                    else command
                times[f"{name}: warm"].append(seconds(warm, home))
                shutil.rmtree(home)
    return {name: statistics.median(values) for name, values in times.items()}, times


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--only", metavar="WORDS", default="", help="only the runs whose name contains WORDS")
    args = p.parse_args(argv)
    runs = {name: argv for name, argv in RUNS.items() if args.only in name}
    medians, times = measure(args.repeats, runs)
    jax = medians["bare JAX start-up"]
    print(f"bare JAX start-up: {jax:.2f} s (median of {args.repeats})\n")
    print("| run | --no-cache | cache cold | cache warm |\n| --- | --- | --- | --- |")
    for name in runs:
        cells = [f"{medians[f'{name}: {way}']:.2f} s ({medians[f'{name}: {way}'] / jax:.1f}×)"
                 for way in ("no cache", "cold", "warm")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n" + json.dumps(times, indent=1))


if __name__ == "__main__":
    main()
