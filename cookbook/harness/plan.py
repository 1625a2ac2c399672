"""A recipe's plan: its settings resolved against the options, its variants, conditions and
seeds, computed once and read by the progress display, the workers and the experiment."""

import dataclasses

from cookbook.errors import CookbookError
from cookbook.harness.options import SEED_LIMIT
from cookbook.harness.options import SETTINGS
from cookbook.harness.recipe import Recipe
from cookbook.harness.tuning import trial_count


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
        settings = resolve_settings(options, recipe.defaults, recipe.quick, extra_seeds=int(recipe.tuning is not None))
        seeds = tuple(options.seed + offset for offset in range(settings["seeds"]))
        return cls(recipe, options, settings, recipe.variants(settings), recipe.conditions(settings), seeds)

    @property
    def tuning_seed(self):
        """The seed tuning trials train with: the one after the decisive seeds, so the
        validation numbers that chose a setting are not the ones the verdict reads."""
        return self.seeds[-1] + 1

    def trials_for(self, variant, condition_spec):
        """Tuning trainings for one variant under one condition (0 without `TUNING`)."""
        tuning = self.recipe.tuning
        if tuning is None:
            return 0
        return trial_count(tuning, self.settings["epochs"], self.options.quick, variant, condition_spec)

    @property
    def runs(self):
        """How many trainings it makes, tuning trials included."""
        return sum(
            len(self.seeds) + self.trials_for(variant, condition_spec)
            for variant in self.variants
            for condition_spec in self.conditions.values()
        )


def resolve_settings(options, defaults, quick=None, extra_seeds=0):
    """The recipe's `defaults`, then its `quick` ones under `--quick`, then the user's choices.

    `defaults` must name every setting of `SETTINGS`; beside them a recipe may keep
    its own (depths, learning rates, ...), which `quick` can shrink like the rest.
    `extra_seeds`: seeds used beyond the decisive ones (1 for tuning trials).
    """
    missing = [name for name in SETTINGS if name not in defaults]
    if missing:
        raise CookbookError(f"The recipe's DEFAULTS lack {', '.join(missing)}.")
    resolved = {**defaults, **((quick or {}) if options.quick else {})}
    resolved.update({name: getattr(options, name) for name in SETTINGS if getattr(options, name)})
    if options.seed + resolved["seeds"] + extra_seeds > SEED_LIMIT:
        raise CookbookError(
            f"--seed {options.seed} with {resolved['seeds']} seeds goes past the last seed, 2**32 - 1; "
            "choose a smaller --seed."
        )
    return resolved
