"""`OUT/RECIPE/result.json`: what a recipe concluded, with every run's records, the options,
versions and devices that produced them; or, for a recipe that failed, why."""

import dataclasses
import sys
import time
import traceback
from pathlib import Path

from cookbook.analysis import summarize_records
from cookbook.harness.recipe import claim_or_blank
from cookbook.harness.recipe import recipe_name
from cookbook.plots import plot_decisions
from cookbook.plots import plot_isolation
from cookbook.plots import plot_regime
from cookbook.results import environment
from cookbook.results import to_json_value
from cookbook.results import write_json_atomic
from cookbook.results import write_text_atomic

QUICK_NOTE = " (--quick: fewer seeds, epochs and regime points, so these verdicts are not decisive.)"


def result_key(variant, condition):
    """`VARIANT`, or `VARIANT @ CONDITION` under a regime axis."""
    return variant if condition is None else f"{variant} @ {condition}"


def write_result(experiment, conclusion, runs, seconds):
    """Draws the conclusion's charts, writes `OUT/RECIPE/result.json` atomically and returns
    what it wrote. `runs`: `{condition: {variant: [record per seed]}}`."""
    plan, options = experiment.plan, experiment.options
    if conclusion.regime is not None:
        plot_regime(conclusion.regime, experiment.plot_path("regime"))
        experiment.plots.insert(0, experiment.plots.pop())
    if any(search["trials"] for search in experiment.searches.values()):  # a one-point space trains none
        plot_isolation(experiment.searches, experiment.plot_path("tuning"))
    if conclusion.parts:
        plot_decisions(conclusion.parts, experiment.plot_path("evidence"), title="What the verdict rests on")
        experiment.plots.insert(0, experiment.plots.pop())
    variants = {}
    for condition, by_variant in runs.items():
        for variant, records in by_variant.items():
            key = result_key(variant, condition)
            search = experiment.searches.get(key)
            variants[key] = {
                "summary": summarize_records(records),
                **({"nuisance": search["chosen"]} if search else {}),
                "runs": records,
            }
    source = experiment.source
    result = {
        "recipe": plan.recipe.name,
        "claim": plan.recipe.claim,
        "verdict": conclusion.verdict,
        "evidence": conclusion.evidence_with_parts() + QUICK_NOTE * bool(options.quick),
        "measurements": {
            "parts": conclusion.parts,
            "intervals": conclusion.parts_json(),
            **({"regime": conclusion.regime.to_json()} if conclusion.regime is not None else {}),
            **conclusion.measurements,
        },
        **({"effect": effect.to_json(len(plan.seeds))} if (effect := plan.recipe.effect) is not None else {}),
        "variants": variants,
        **({"tuning": experiment.searches} if experiment.searches else {}),
        "plots": experiment.plots,
        "config": {**dataclasses.asdict(options), "resolved": plan.settings},
        "dataset": dataclasses.asdict(source.facts) if source is not None else None,
        "environment": environment(),
        "scale": experiment.scale.describe(),
        **({"fused_seeds": experiment.fusion} if options.fused_seeds else {}),
        "seconds": seconds,
        "finished_at": time.time(),  # with `seconds`, when it ran: the report's wall time
    }
    write_json_atomic(experiment.out_dir / "result.json", result)
    return to_json_value(result)


UNWRITTEN = "unwritten"  # a failure's result that could not be written, and why


def write_failure(module, options, error):
    """The result of a recipe that raised `error`: verdict `failed` and a one-line reason, with
    the traceback in `OUT/RECIPE/error.log`; the reason is also printed to standard error.
    Written where it can be (a full disk may be the fault itself); returned either way."""
    name = recipe_name(module)
    out_dir = Path(options.out) / name
    reason = (f"{type(error).__name__}: {error}".strip().splitlines() or ["unknown"])[0][:300]
    result = {
        "recipe": name,
        "claim": claim_or_blank(module.__doc__),
        "verdict": "failed",
        "evidence": f"{reason} (traceback in {out_dir / 'error.log'})",
        "measurements": {},
        "variants": {},
        "plots": [],
        "config": dataclasses.asdict(options),
        "environment": environment(),
        "scale": None,
        "seconds": 0.0,
        "finished_at": time.time(),
    }
    unwritten = None
    if options.scale.is_chief:
        try:
            write_text_atomic(out_dir / "error.log", "".join(traceback.format_exception(error)))
            write_json_atomic(out_dir / "result.json", result)
        except OSError as write_error:
            unwritten = write_error.strerror or str(write_error)
            result["evidence"] = f"{reason} (nothing written to {out_dir}: {unwritten})"
    print(f"Failed: {result['evidence']}", file=sys.stderr, flush=True)
    result = to_json_value(result)
    if unwritten:
        result[UNWRITTEN] = unwritten  # in memory only: the table and the exit line name no file
    return result
