"""Recipes written to a folder as a user would write them, for the harness's tests."""

import textwrap

from cookbook.cli import registry

HEADER = '''"""
Title: {title}
Claim: {claim}
"""

import numpy as np

from cookbook.analysis import Conclusion
from cookbook.statistics import lower
'''


def write_recipe(folder, name, body, *, claim="A bigger number wins.", title="a test recipe"):
    """Writes `folder/NAME.py`, the header's docstring and imports followed by `body`; returns its module."""
    path = folder / f"{name}.py"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(title=title, claim=claim) + textwrap.dedent(body))
    return registry.load_recipe(str(path))


SCORES = """
DEFAULTS = {"epochs": 2, "batch_size": 16, "seeds": 2, "sizes": (1, 10)}
QUICK = {"epochs": 1, "seeds": 1, "sizes": (1, 5)}
CALLS = []


def variants(settings):
    return {f"size_{size}": size for size in settings["sizes"]}


def train(run):
    CALLS.append((run.variant, run.condition, run.seed))
    return {"score": run.spec + float(np.random.random()), "epochs": run.epochs}


def conclude(results):
    score = results.column("score")
    small, large = results.variants
    return Conclusion({"bigger wins": lower(score[small], score[large])}, "Scores.", {"n": len(score)})
"""
