"""The real-size benchmark (benchmarks/real_sizes.py) on a tiny input: what it measures is
what it says (setups side by side, FLOPs counted layer by layer), not how fast it is."""

import math
import os

import keras
import pytest

from benchmarks import real_sizes
from cookbook.models import count_flops


@pytest.fixture(scope="module")
def tiny():
    return real_sizes.random_datasets(seeds=2, examples=64, image_shape=(8, 8, 1), batch_size=32)


def test_every_setup_is_measured_against_todays_trainer(tiny):
    measured = real_sizes.measure("small ConvNet", real_sizes.NETWORKS["small ConvNet"], tiny, blocks=2, bfloat16=True)
    rows = measured["setups"]
    assert set(rows) == {real_sizes.TODAY, "today's, XLA", "fused seeds", "fused seeds, XLA", "mixed bfloat16"}
    assert rows[real_sizes.TODAY]["over_today"] == 1.0
    for row in rows.values():
        low, high = row["over_today_interval"]
        assert row["seed_examples_per_second"] > 0 and low <= row["over_today"] <= high
    assert measured["forward_flops_per_example"] == count_flops(measured["model"]) > 0


def test_the_trainers_batched_steps_rule_decides_todays_setup(tiny):
    from cookbook.harness.trainer import BATCHING_PAYS_AFTER_STEPS
    from cookbook.harness.trainer import STEPS_PER_EXECUTION

    build = real_sizes.NETWORKS["small ConvNet"]
    # Two batches an epoch, ten epochs: far below the rule's break-even, so one step per call.
    assert all(model.steps_per_execution == 1 for model, _ in real_sizes.TrainerToday(tiny, build).pairs)
    fused = real_sizes.setups(bfloat16=False)["fused seeds"](tiny, build)
    assert fused.model.steps_per_execution == 1 and len(fused.model.members) == 2
    batches = BATCHING_PAYS_AFTER_STEPS // real_sizes.PLANNED_EPOCHS + 1
    long = real_sizes.random_datasets(seeds=2, examples=32 * batches, image_shape=(8, 8, 1))
    assert all(
        model.steps_per_execution == STEPS_PER_EXECUTION for model, _ in real_sizes.TrainerToday(long, build).pairs
    )
    assert (
        real_sizes.setups(bfloat16=False)["fused seeds"](long, build).model.steps_per_execution == STEPS_PER_EXECUTION
    )


def test_mixed_bfloat16_builds_the_networks_under_that_policy_and_restores_the_global_one(tiny):
    chosen = real_sizes.MixedBfloat16(tiny, real_sizes.NETWORKS["small ConvNet"])
    assert all(model.dtype_policy.name == "mixed_bfloat16" for model, _ in chosen.pairs)
    assert keras.mixed_precision.global_policy().name == "float32"
    assert "mixed bfloat16" not in real_sizes.setups(bfloat16=False)


@pytest.mark.parametrize("network", ["small ConvNet", "residual 20", "dropout MLP"])
def test_the_roofline_counts_every_layers_flops_and_bytes(network):
    model = real_sizes.NETWORKS[network]((8, 8, 1), 10)
    rows = real_sizes.roofline(model, peak=1e11, bandwidth=1e10, batch_size=4, repeats=2)
    # Forward and backward (3x) of the whole model's forward FLOPs, split over its layers.
    assert sum(row["flops"] for row in rows) == 3 * 4 * count_flops(model)
    for row in rows:
        assert row["seconds"] > 0 and row["bytes"] > 0
        assert row["bound"] == min(1e11, row["flops_per_byte"] * 1e10)
        assert (row["of_bound"] is None) == (row["flops"] == 0)
    dense = [row for row in rows if row["kind"] == "Dense"]
    first = model.get_layer(dense[0]["layer"])
    inputs, outputs = first.kernel.shape
    expected_bytes = 3 * 4 * (4 * (inputs + outputs) + inputs * outputs + outputs)
    assert dense[0]["bytes"] == expected_bytes
    assert math.isclose(dense[0]["flops_per_byte"], 3 * 4 * 2 * inputs * outputs / expected_bytes)


def test_native_bfloat16_reads_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert real_sizes.native_bfloat16(cpuinfo)
    cpuinfo.write_text("flags\t\t: fpu avx2 avx512f\n")
    assert not real_sizes.native_bfloat16(cpuinfo)
    assert not real_sizes.native_bfloat16(tmp_path / "missing")


def test_the_image_folder_is_the_digits_at_real_size_and_reads_as_a_dataset(tmp_path):
    import PIL.Image

    from benchmarks import image_folder
    from cookbook.data.loading import open_dataset

    assert image_folder.write_folder(tmp_path / "digits32") == 1797
    assert sorted(os.listdir(tmp_path / "digits32")) == [str(digit) for digit in range(10)]
    with PIL.Image.open(tmp_path / "digits32" / "0" / "0000.png") as image:
        assert image.size == (32, 32) and image.mode == "RGB"
    facts = open_dataset(str(tmp_path / "digits32")).facts
    assert facts.input_shape == (32, 32, 3) and facts.num_classes == 10
    assert sum(facts.split_sizes.values()) == 1797
