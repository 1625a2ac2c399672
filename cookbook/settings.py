"""What the user asked for, and the settings a recipe runs with once its defaults are applied."""

import dataclasses

from cookbook.errors import CookbookError
from cookbook.scaling import ScaleOptions

DEFAULT_DATASET = "digits"  # embedded, offline

# The settings every recipe has and the command line can override.
SETTINGS = ("epochs", "batch_size", "seeds")
SEED_LIMIT = 2**32  # NumPy's seeds are 32-bit


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What the user asked for. `None` settings take the recipe's own defaults."""

    dataset: str = DEFAULT_DATASET
    data_dir: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    seeds: int | None = None
    seed: int = 0
    quick: bool = False
    out: str = "results"
    verbose: bool = False  # Keras's line per epoch and TensorFlow's logs on the terminal
    fused_seeds: bool = False  # a variant's seeds trained as one model (`cookbook.fused`)
    scale_options: ScaleOptions = ScaleOptions()  # device, strategy, mixed precision, XLA

    def __post_init__(self):
        if not isinstance(self.seed, int) or not 0 <= self.seed < SEED_LIMIT:
            raise CookbookError(f"seed must be an integer from 0 to 2**32 - 1, got {self.seed!r}.")
        for name in SETTINGS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise CookbookError(f"{name} must be a positive integer, got {value!r}.")


def resolve_settings(config, defaults, quick=None):
    """The recipe's `defaults`, then its `quick` ones under `--quick`, then the user's choices.

    `defaults` must name every setting of `SETTINGS`; beside them a recipe may keep
    its own (depths, learning rates, ...), which `quick` can shrink like the rest.
    """
    missing = [name for name in SETTINGS if name not in defaults]
    if missing:
        raise CookbookError(f"The recipe's DEFAULTS lack {', '.join(missing)}.")
    resolved = {**defaults, **((quick or {}) if config.quick else {})}
    resolved.update({name: getattr(config, name) for name in SETTINGS if getattr(config, name)})
    if config.seed + resolved["seeds"] > SEED_LIMIT:
        raise CookbookError(
            f"--seed {config.seed} with {resolved['seeds']} seeds goes past the last seed, 2**32 - 1; "
            "choose a smaller --seed."
        )
    return resolved
