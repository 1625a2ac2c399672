"""The recipe protocol: what a recipe module declares, checked once.

A recipe is a module that declares its experiment and nothing else:

- a docstring whose `Claim:` line states the claim it tests (and whose `Time on CPU:` line
  says how long it takes);
- `DEFAULTS`: `epochs`, `batch_size`, `seeds` and any setting of its own (depths,
  learning rates, ...); `QUICK`: what `--quick` changes. Both are read only through the
  resolved settings, `run.settings` and `results.settings`;
- `VARIANTS` (names, or `{name: spec}`), or `variants(settings)` returning them;
- optionally `CONDITIONS` (or `conditions(settings)`): a regime axis, every variant being
  trained under each condition;
- optionally `TUNING`: a `cookbook.harness.tuning.Tuning`, the nuisance hyperparameters
  searched per variant (under each condition) before the decisive seeds train at the chosen
  point, which `train` reads as `run.nuisance`;
- optionally `UNSUPPORTED_STRATEGIES`: `{strategy: why}`, refused before anything runs;
- optionally `ONE_SEED_AT_A_TIME`: why its seeds must not train as one model under
  `--fused-seeds` (a recipe that times each step, say);
- `train(run)`: trains one variant under one condition with one seed and returns a dict
  of what it measured;
- `conclude(results)`: returns a `cookbook.analysis.Conclusion` from every run's records.
"""

import dataclasses
import re
from pathlib import Path

from cookbook.errors import CookbookError


class UnsupportedStrategy(CookbookError):
    """A recipe asked to run under a strategy it declares it cannot run under."""


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A recipe module's declarations, checked once."""

    name: str
    claim: str
    module: object

    @classmethod
    def from_module(cls, module):
        name = recipe_name(module)
        missing = [attribute for attribute in ("DEFAULTS", "train", "conclude") if not hasattr(module, attribute)]
        if not (hasattr(module, "VARIANTS") or hasattr(module, "variants")):
            missing.append("VARIANTS (or variants(settings))")
        if missing:
            raise CookbookError(f"Recipe {name!r} does not define {', '.join(missing)}.")
        return cls(name, claim_of(module.__doc__, name), module)

    @property
    def defaults(self):
        return self.module.DEFAULTS

    @property
    def quick(self):
        return getattr(self.module, "QUICK", None)

    @property
    def effect(self):
        """The smallest effect that matters, as the recipe declares it (`statistics.Effect`)."""
        return getattr(self.module, "EFFECT", None)

    def variants(self, settings):
        return _named(getattr(self.module, "VARIANTS", None) or self.module.variants(settings))

    def conditions(self, settings):
        """`{condition: spec}`; `{None: None}` for a recipe without a regime axis."""
        declared = getattr(self.module, "CONDITIONS", None)
        if declared is None and hasattr(self.module, "conditions"):
            declared = self.module.conditions(settings)
        return _named(declared) if declared else {None: None}

    @property
    def tuning(self):
        """The recipe's nuisance search (`cookbook.harness.tuning.Tuning`), or None."""
        tuning = getattr(self.module, "TUNING", None)
        if tuning is not None and not hasattr(tuning, "trials"):
            raise CookbookError(f"Recipe {self.name!r}: TUNING must be a cookbook.harness.tuning.Tuning.")
        return tuning

    @property
    def one_seed_at_a_time(self):
        """Why this recipe's seeds never train fused, or None."""
        return getattr(self.module, "ONE_SEED_AT_A_TIME", None)

    def refuse_unsupported(self, strategy):
        why = getattr(self.module, "UNSUPPORTED_STRATEGIES", {}).get(strategy)
        if why:
            raise UnsupportedStrategy(f"The {self.name} recipe cannot run under --strategy {strategy}: {why}")

    def train(self, run):
        return self.module.train(run)

    def conclude(self, results):
        return self.module.conclude(results)


def _named(declared):
    return dict(declared) if isinstance(declared, dict) else {name: name for name in declared}


def recipe_name(module):
    return Path(module.__file__).stem


def claim_of(docstring, name="recipe"):
    """The `Claim:` line of a recipe's docstring (continued on indented lines)."""
    claim = _header_field(docstring, "Claim")
    if claim is None:
        raise CookbookError(f"Recipe {name!r} states no claim: its docstring needs a 'Claim: ...' line.")
    return " ".join(claim.split())


def claim_or_blank(docstring):
    try:
        return claim_of(docstring)
    except CookbookError:
        return ""


def stated_seconds(docstring, quick=False):
    """The seconds a recipe's docstring states on its `Time on CPU:` line for a run at its
    default settings (or under `--quick`), e.g. "about 2.6 minutes on 2 cores at default
    settings; `--quick` about 35 seconds"; None when it states none."""
    stated = _header_field(docstring, "Time on CPU")
    if stated is None:
        return None
    default, _, quick_part = stated.partition("--quick")
    about = re.search(r"about ([0-9.]+) (second|minute)", quick_part if quick else default)
    if not about:
        return None
    return float(about.group(1)) * (60 if about.group(2) == "minute" else 1)


def _header_field(docstring, field):
    """The text of a docstring's `FIELD: ...` line, continued on indented lines; None if absent."""
    match = re.search(rf"^{field}:[ \t]*(.+(?:\n[ \t]+.+)*)", docstring or "", re.MULTILINE)
    return match.group(1) if match else None
