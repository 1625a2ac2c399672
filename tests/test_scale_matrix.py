"""Every real recipe under every scale option: mirrored on two devices and on one, mixed
precision and XLA; and two workers running a tour. Tiny settings (one epoch, one seed); still
minutes, so these run as their own CI step (`pytest -m scale_matrix -n 0`), not in the
default suite.

The three modes' tours run at once: a quick tour is bound by tracing, one thread, so one
tour at a time left a core idle (445 s one after the other on 2 cores). The two workers run
the recipes whose multiworker behaviour differs (probes on one replica, the surfaces computed
on one device, the ensemble skipped); every recipe's training under two replicas is the
mirrored mode's.
"""

import json

import pytest

from cookbook.cli import registry
from tests.processes import environment
from tests.processes import finish
from tests.processes import start
from tests.processes import start_workers

pytestmark = pytest.mark.scale_matrix

# On the CPU wherever it runs (benchmarks/gpu_check.sh covers the GPU), so what each mode must
# report is the same on every machine.
TOUR = ["-m", "cookbook", "run", "all", "--quick", "--epochs", "1", "--seeds", "1", "--device", "cpu"]
TOUR_TIMEOUT = 900
MODES = {
    # name: (flags, environment, what result.json must say ran)
    "mirrored_two_cpus": (["--strategy", "mirrored"], {"COOKBOOK_VIRTUAL_CPUS": "2"}, {"replicas": 2}),
    "mirrored_one_device_mixed_precision": (
        ["--strategy", "mirrored", "--mixed-precision"],
        {},
        {"replicas": 1, "compute_dtype": "bfloat16"},
    ),
    "jit": (["--jit"], {}, {"replicas": 1, "jit_compile": True}),
}


def results(out):
    return {name: json.loads((out / name / "result.json").read_text()) for name in registry.available_recipes()}


def runs(result):
    return [run for variant in result["variants"].values() for run in variant["runs"]]


@pytest.fixture(scope="module")
def tours(data_dir, tmp_path_factory):
    """Each mode's tour, all at once."""
    outs = {mode: tmp_path_factory.mktemp(mode) for mode in MODES}
    processes = [
        start([*TOUR, *flags, "--data-dir", data_dir, "--out", outs[mode]], environment(**env))
        for mode, (flags, env, _) in MODES.items()
    ]
    finish(processes, TOUR_TIMEOUT)
    return outs


@pytest.mark.parametrize("mode", MODES)
def test_every_recipe_ends_with_a_result_under(mode, tours):
    _, _, expected = MODES[mode]
    for name, result in results(tours[mode]).items():
        assert result["verdict"] in ("holds", "does not hold", "inconclusive"), name
        assert result["scale"]["replicas"] == expected["replicas"], name
        for run in runs(result):
            if "history" not in run:
                continue  # the ensemble's members train through scikit-learn
            assert len(run["history"]["loss"]) == run.get("epochs", 1), (
                name
            )  # quick: one epoch, or as many as equal updates need
            for key in ("compute_dtype", "jit_compile"):
                if key in expected:
                    assert run[key] == expected[key], (name, key)


def test_probes_under_two_replicas_measure_what_one_device_measures(tours):
    two, one = (results(tours[mode]) for mode in ("mirrored_two_cpus", "jit"))
    for a, b in zip(runs(two["relu"]), runs(one["relu"])):  # the same initial weights, before training
        assert a["initial_grad_norms"] == pytest.approx(b["initial_grad_norms"], rel=1e-4)
    paths = {
        mode: result["optimizers"]["measurements"]["surface_final_values"]
        for mode, result in (("two", two), ("one", one))
    }
    for surface, by_optimizer in paths["one"].items():  # computed on one device in both
        assert paths["two"][surface] == pytest.approx(by_optimizer, rel=1e-5)


WORKER_TOUR = ["relu", "optimizers", "ensemble"]


def test_two_workers_run_the_tour_and_only_the_chief_writes(data_dir, tmp_path):
    scratch = tmp_path / "tmp"  # the workers' temporary folder, where worker 1 writes its results
    scratch.mkdir()
    tour = [*TOUR[:3], *WORKER_TOUR, *TOUR[4:]]  # all -> the recipes above
    outputs = finish(
        start_workers(
            2,
            lambda index: [*tour, "--data-dir", data_dir, "--out", tmp_path / f"worker{index}"],
            environment(TMPDIR=str(scratch)),
        ),
        TOUR_TIMEOUT,
    )
    chief = tmp_path / "worker0"
    expected = [name for name in WORKER_TOUR if name != "ensemble"]
    assert sorted(path.parent.name for path in chief.glob("*/result.json")) == sorted(expected)
    assert (chief / "report.md").exists()
    assert not (tmp_path / "worker1").exists()
    assert not list(scratch.glob("cookbook-worker-*")), "worker 1 left its scratch results behind"
    for output in outputs:
        assert "Skipped: The ensemble recipe cannot run under --strategy multiworker" in output
        assert "Traceback" not in output
    assert "the chief (worker 0) writes the results" in outputs[1]
