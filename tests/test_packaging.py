"""What `pip install .` puts in site-packages: the recipes inside the package, nothing generic."""

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
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
            str(ROOT),
        ],
        check=True,
        timeout=300,
        cwd=out,
    )
    (wheel,) = out.glob("keras_guideline_cookbook-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_recipes_install_as_cookbook_recipes(wheel_names):
    for recipe in (ROOT / "recipes").glob("*.py"):
        assert f"cookbook/recipes/{recipe.name}" in wheel_names


def test_no_generic_top_level_modules(wheel_names):
    top_level = {name.split("/")[0] for name in wheel_names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"cookbook"}


def test_every_subpackage_is_listed(wheel_names):
    for init in (ROOT / "cookbook").rglob("__init__.py"):
        assert init.relative_to(ROOT).as_posix() in wheel_names


def test_console_script_and_dependencies(wheel_names):
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert "cookbook = cookbook.cli:main" in config["options.entry_points"]["console_scripts"]
    requires = config["options"]["install_requires"]
    for package in (
        "tensorflow",
        "keras",
        "tensorflow-datasets",
        "importlib_resources",
        "click",
        "scikit-learn",
        "matplotlib",
    ):
        assert package in requires
    extras = config["options.extras_require"]
    assert "pytest" in extras["test"] and "tensorflow[and-cuda]" in extras["gpu"]
