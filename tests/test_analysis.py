"""The conclusion's vocabulary: columns, summaries, censored targets, formatting, plots."""

import math

import pytest

from cookbook.analysis import Conclusion
from cookbook.analysis import Regime
from cookbook.analysis import Results
from cookbook.analysis import listing
from cookbook.analysis import mean_spread
from cookbook.analysis import summarize_records
from cookbook.statistics import HOLDS
from cookbook.statistics import INCONCLUSIVE
from cookbook.statistics import Bound
from cookbook.statistics import Sample
from cookbook.statistics import Verdict


def results(tmp_path, epochs=10):
    runs = {
        "fast": [
            {"seed": 0, "epochs_to_target": 2, "accuracy": 0.9, "history": {"loss": [1.0, 0.5]}},
            {"seed": 1, "epochs_to_target": 4, "accuracy": 0.8, "history": {"loss": [0.8, 0.4]}},
        ],
        "slow": [
            {"seed": 0, "epochs_to_target": None, "accuracy": 0.5, "history": {"loss": [2.0, 1.5]}},
            {"seed": 1, "epochs_to_target": 9, "accuracy": 0.6, "history": {"loss": [2.2, 1.9]}},
        ],
        "never": [
            {"seed": 0, "epochs_to_target": None, "accuracy": 0.1, "history": {"loss": [3.0, 3.0]}},
            {"seed": 1, "epochs_to_target": None, "accuracy": 0.1, "history": {"loss": [3.0, 3.0]}},
        ],
    }
    return Results(
        {None: runs}, settings={"epochs": epochs}, seeds=[0, 1], plot_path=lambda name: tmp_path / f"{name}.png"
    )


def test_columns_and_summaries_per_variant(tmp_path):
    found = results(tmp_path)
    assert found.column("accuracy") == {"fast": [0.9, 0.8], "slow": [0.5, 0.6], "never": [0.1, 0.1]}
    assert found.column(lambda r: 1 - r["accuracy"])["fast"] == pytest.approx([0.1, 0.2])
    assert found.summaries("accuracy")["fast"]["mean"] == pytest.approx(0.85)
    assert found.first("accuracy") == {"fast": 0.9, "slow": 0.5, "never": 0.1}
    assert found.variants == ["fast", "slow", "never"]


def test_columns_carry_their_seeds_so_that_variants_pair_up(tmp_path):
    found = results(tmp_path)
    column = found.column("accuracy")
    assert column["fast"].seeds == column["slow"].seeds == (0, 1)
    assert found.sample("slow", "accuracy") == [0.5, 0.6] and found.sample("slow", "accuracy").seeds == (0, 1)
    assert found.per_seed({"x": [1, 2]})["x"].seeds == (0, 1)


def test_a_target_reached_is_bracketed_by_its_epoch_and_one_never_reached_is_censored():
    curves = {"fast": [[0.5, 0.95], [0.92, 0.97]], "never": [[0.1, 0.2], [0.1, 0.3]]}
    found = Results(
        {None: {name: [{"seed": s, "history": {"accuracy": c}} for s, c in enumerate(per_seed)]
                for name, per_seed in curves.items()}},
        settings={"epochs": 2}, seeds=[0, 1], plot_path=None,
    )  # fmt: skip
    steps = found.crossings("accuracy", 0.9, scale=10)  # 10 steps an epoch
    assert (steps["fast"][0].low, steps["fast"][0].high) == (10.0, 20.0)
    assert steps["fast"][0].estimate == pytest.approx(10 + 10 * 0.4 / 0.45)  # interpolated within the epoch
    assert (steps["fast"][1].low, steps["fast"][1].high) == (0.0, 10.0)
    assert steps["never"][0] == Bound(20.0, math.inf) and steps["never"].seeds == (0, 1)
    reaching = found.reaching(found.crossings("accuracy", 0.9), unit=" epochs")
    assert reaching == {"fast": "1.4 ± 0.6 epochs (2/2 seeds)", "never": "never within 2 epochs"}
    one = {"fast": Sample([Bound(1, 2, estimate=1.5), Bound(2, math.inf)], seeds=(0, 1))}
    assert found.reaching(one, unit=" epochs") == {"fast": "1.5 epochs (1/2 seeds)"}  # no spread, seeds said once


def test_mean_spread_and_listing():
    assert mean_spread([0.9, 0.8]) == "0.850 ± 0.071"
    assert mean_spread([3.0], digits=1) == "3.0 (1 seed)"
    assert mean_spread([3.0, None], digits=1) == "3.0 (1 seed)"  # one measured, one diverged
    assert mean_spread([None, None]) == "n/a"
    assert listing({"a": [1.0, 1.0], "b": [0.0, 2.0]}, digits=1) == "a 1.0 ± 0.0, b 1.0 ± 1.4"


def test_plot_metric_draws_the_chosen_variants_and_lists_the_plot(tmp_path):
    found = results(tmp_path)
    path = found.plot_metric("loss", "loss", variants=["fast", "slow"], transform=lambda v: -v, ylabel="loss")
    assert path == tmp_path / "loss.png" and path.stat().st_size > 1000


def test_results_over_conditions_are_read_one_condition_at_a_time(tmp_path):
    single = results(tmp_path)
    both = Results({"small": single.runs, "large": single.runs}, settings={"epochs": 1}, seeds=[0, 1], plot_path=None)
    assert both.conditions == ["small", "large"]
    with pytest.raises(ValueError, match="at\\(condition\\)"):
        _ = both.runs
    assert both.at("large").column("accuracy") == single.column("accuracy")


def test_a_conclusion_holds_only_when_every_part_holds():
    faster = Verdict(HOLDS, kind="lower", estimate=2.0, interval=(1.0, 3.0), unit="epochs")
    conclusion = Conclusion({"faster": faster, "cheaper": INCONCLUSIVE}, "Numbers.")
    assert conclusion.verdict == INCONCLUSIVE
    assert conclusion.evidence_with_parts() == (
        "Numbers. Parts: faster: holds (median difference 2 epochs, 90% CI 1 to 3, needs > 0); cheaper: inconclusive."
    )
    assert Conclusion({"faster": HOLDS}, "").verdict == HOLDS


def test_a_regime_reads_the_headline_at_its_anchor_and_says_where_the_claim_held():
    def part(verdict):
        return {"gain": Verdict(verdict, kind="lower", estimate=1.0, interval=(0.5, 1.5))}

    points = {"10%": part(INCONCLUSIVE), "50%": part(HOLDS), "100%": part(HOLDS)}
    conclusion = Conclusion(regime=Regime("training-set size", points, anchor="100%"), evidence="E.")
    assert conclusion.verdict == HOLDS
    assert conclusion.evidence_with_parts().endswith(
        "Along training-set size (anchor: 100%): inconclusive at 10%; holds at 50%, 100%."
    )
    written = conclusion.regime.to_json()
    assert written["points"]["10%"]["parts"]["gain"]["interval"] == [0.5, 1.5]
    assert written["points"]["50%"]["verdict"] == HOLDS
    # Anchored at the small end, the same measurements give another headline.
    assert Conclusion(regime=Regime("size", points, anchor="10%")).verdict == INCONCLUSIVE
    with pytest.raises(ValueError, match="anchor"):
        Regime("size", points, anchor="200%")
    # No anchor: the paper studied every point, so all of them count.
    assert Conclusion(regime=Regime("size", points, anchor=None)).verdict == INCONCLUSIVE


def test_summarize_records_covers_shared_numeric_fields():
    records = [
        {"seed": 0, "accuracy": 0.5, "epochs": None, "name": "x", "ok": True},
        {"seed": 1, "accuracy": 0.7, "epochs": 3, "name": "y", "ok": False},
    ]
    summary = summarize_records(records)
    assert set(summary) == {"accuracy", "epochs"}
    assert summary["accuracy"]["mean"] == pytest.approx(0.6)
    assert summary["epochs"]["mean"] == 3
