"""A recipe's plan: its settings resolved against the options, its variants, conditions and
seeds, computed once and read by the progress display, the workers and the experiment."""

import dataclasses

from cookbook.errors import CookbookError
from cookbook.harness.options import SEED_LIMIT
from cookbook.harness.options import SETTINGS
from cookbook.harness.recipe import Recipe


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one recipe runs under `options`: every variant under every condition with every seed."""

    recipe: Recipe
    options: object  # the `RunOptions` it was planned for
    settings: dict
    variants: dict  # {name: spec}
    conditions: dict  # {condition: spec}; {None: None} without a regime axis
    seeds: tuple

    @classmethod
    def of(cls, module, options):
        """The plan of a recipe `module` (or an already checked `Recipe`) under `options`."""
        recipe = module if isinstance(module, Recipe) else Recipe.from_module(module)
        settings = resolve_settings(options, recipe.defaults, recipe.quick)
        seeds = tuple(options.seed + offset for offset in range(settings["seeds"]))
        return cls(recipe, options, settings, recipe.variants(settings), recipe.conditions(settings), seeds)

    @property
    def runs(self):
        """How many trainings it makes."""
        return len(self.variants) * len(self.conditions) * len(self.seeds)


def resolve_settings(options, defaults, quick=None):
    """The recipe's `defaults`, then its `quick` ones under `--quick`, then the user's choices.

    `defaults` must name every setting of `SETTINGS`; beside them a recipe may keep
    its own (depths, learning rates, ...), which `quick` can shrink like the rest.
    """
    missing = [name for name in SETTINGS if name not in defaults]
    if missing:
        raise CookbookError(f"The recipe's DEFAULTS lack {', '.join(missing)}.")
    resolved = {**defaults, **((quick or {}) if options.quick else {})}
    resolved.update({name: getattr(options, name) for name in SETTINGS if getattr(options, name)})
    if options.seed + resolved["seeds"] > SEED_LIMIT:
        raise CookbookError(
            f"--seed {options.seed} with {resolved['seeds']} seeds goes past the last seed, 2**32 - 1; "
            "choose a smaller --seed."
        )
    return resolved
