"""What `pip install .` puts in site-packages: the recipes inside the package, nothing generic."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel `pip install .` would install, built from a copy so the checkout stays clean."""
    source = tmp_path_factory.mktemp("source") / "tree"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", "results")
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        timeout=300,
        cwd=out,
    )
    (built,) = out.glob("keras_guideline_cookbook-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.fixture(scope="module")
def metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (path,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        text = archive.read(path).decode()
        (entry_points,) = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        return text, archive.read(entry_points).decode()


def test_recipes_install_as_cookbook_recipes(wheel_names):
    for recipe in (ROOT / "recipes").glob("*.py"):
        assert f"cookbook/recipes/{recipe.name}" in wheel_names


def test_no_generic_top_level_modules(wheel_names):
    top_level = {name.split("/")[0] for name in wheel_names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"cookbook"}


def test_every_subpackage_is_listed(wheel_names):
    for init in (ROOT / "cookbook").rglob("__init__.py"):
        assert init.relative_to(ROOT).as_posix() in wheel_names


def test_console_script_and_dependencies(metadata):
    text, entry_points = metadata
    assert "cookbook = cookbook.cli:main" in entry_points
    requires = {}
    for line in text.splitlines():
        if line.startswith("Requires-Dist: "):
            requirement = line.removeprefix("Requires-Dist: ")
            name = re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0).lower().replace("_", "-")
            extra = re.search(r"extra == ['\"](\w+)['\"]", requirement)
            requires.setdefault(extra.group(1) if extra else None, set()).add(name)
    assert {
        "tensorflow",
        "keras",
        "tensorflow-datasets",
        "importlib-resources",
        "click",
        "scikit-learn",
        "matplotlib",
        "pillow",
        "numpy",
    } <= requires[None]
    assert {"pytest", "ruff"} <= requires["test"]
    assert "tensorflow" in requires["gpu"]
