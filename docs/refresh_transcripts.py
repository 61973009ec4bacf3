"""Reruns every `$ gradcheck …` transcript in README.md and docs/*.md and writes what it prints now.

    python docs/refresh_transcripts.py

tests/test_docs.py fails when a transcript is stale; after a deliberate change
to gradcheck's output or to an example, run this and review the diff.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPT = re.compile(r"```text\n\$ (gradcheck[^\n]*)\n.*?```", re.S)


def refresh(match):
    command = match.group(1)
    argv = [sys.executable, "-m", "gradcheck.cli", *shlex.split(command)[1:]]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True).stdout
    return f"```text\n$ {command}\n{out.rstrip()}\n```"


for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
    doc.write_text(TRANSCRIPT.sub(refresh, doc.read_text()))
