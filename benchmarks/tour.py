"""Where a tour's time goes, per recipe, read from the results it wrote.

    cookbook run all --out TOUR [--quick]
    python -m benchmarks.tour TOUR

Every run records its own seconds, its `fit`'s seconds and each epoch's seconds, so the
table splits a recipe's wall time into:

- first epochs: each fit's first epoch, which traces (and with XLA compiles) the step;
  `tracing` estimates what that costs above an ordinary epoch (first minus the median of
  the later ones);
- later epochs: the training steps themselves, with their per-epoch callbacks;
- rest of fit: what `fit` spends outside its epochs (building the state, backups);
- rest of runs: each run's time outside `fit`: data, evaluation, predictions, and training
  the harness cannot see (the ensemble's scikit-learn members fit themselves);
- recipe: the recipe's time outside its runs: conclusions, plots, writing results.

A run resumed from an earlier tour keeps the seconds it took then, so time a fresh folder.
"""

import json
import statistics
from pathlib import Path

import click

COLUMNS = ("total", "first epochs", "tracing", "later epochs", "rest of fit", "rest of runs", "recipe")


def recipe_profile(result):
    """Seconds per phase of one recipe's `result.json` (see the module docstring)."""
    runs = [run for variant in result["variants"].values() for run in variant.get("runs", [])]
    first = later = tracing = fit = run_seconds = 0.0
    for run in runs:
        run_seconds += run.get("seconds", 0.0)
        fit += run.get("fit_seconds", 0.0)
        epochs = run.get("history", {}).get("epoch_seconds", [])
        if epochs:
            first += epochs[0]
            later += sum(epochs[1:])
            tracing += max(0.0, epochs[0] - statistics.median(epochs[1:])) if len(epochs) > 1 else 0.0
    return {
        "runs": len(runs),
        "total": result["seconds"],
        "first epochs": first,
        "tracing": tracing,
        "later epochs": later,
        "rest of fit": max(0.0, fit - first - later),
        "rest of runs": max(0.0, run_seconds - fit),
        "recipe": max(0.0, result["seconds"] - run_seconds),
    }


def tour_profile(folder):
    """`{recipe: profile}` for every recipe result under `folder`, in the order they ran."""
    paths = sorted(Path(folder).glob("*/result.json"), key=lambda path: (path.stat().st_mtime, path.parent.name))
    if not paths:
        raise click.ClickException(
            f"No recipe results (*/result.json) under {folder}: run `cookbook run all --out {folder}` first."
        )
    profiles = {}
    for path in paths:
        try:
            profiles[path.parent.name] = recipe_profile(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise click.ClickException(f"{path} is not a recipe result this tool can read ({error!r}).") from None
    return profiles


def print_profile(profiles):
    totals = {column: sum(p[column] for p in profiles.values()) for column in COLUMNS}
    width = max(len("all"), *map(len, profiles))
    print(f"{'seconds':<{width}}  {'runs':>5}  " + "  ".join(f"{c:>12}" for c in COLUMNS))
    for name, profile in [*profiles.items(), ("all", {**totals, "runs": sum(p["runs"] for p in profiles.values())})]:
        print(f"{name:<{width}}  {profile['runs']:>5}  " + "  ".join(f"{profile[c]:>12.1f}" for c in COLUMNS))
    print(
        f"\nOf {totals['total']:.0f} s: tracing about {totals['tracing'] / totals['total']:.0%}, later epochs "
        f"{totals['later epochs'] / totals['total']:.0%}, outside fit "
        f"{(totals['rest of runs'] + totals['recipe']) / totals['total']:.0%}."
    )


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def main(folder):
    """Print where the time of the tour whose results are in FOLDER went, per recipe."""
    print_profile(tour_profile(folder))


if __name__ == "__main__":
    main()
