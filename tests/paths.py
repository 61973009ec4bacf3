"""Where the tests find the project's files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MODELS, LAYERS, COURSE = EXAMPLES / "models", EXAMPLES / "layers", EXAMPLES / "course"
ADVERSARIES = ROOT / "tests" / "adversaries"
DOCS = ROOT / "docs"
