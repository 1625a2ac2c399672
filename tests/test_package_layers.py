"""The package's three layers: the command (`cookbook.cli`) may import the harness
(`cookbook.harness`), the harness the building blocks (the rest of `cookbook`), never the
other way round. Read from every module's imports, those inside functions included."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("building blocks", "harness", "command")


def layer_of(module):
    """0 for a building block, 1 for the harness, 2 for the command."""
    if module == "cookbook.cli" or module.startswith("cookbook.cli.") or module == "cookbook.__main__":
        return 2
    if module == "cookbook.harness" or module.startswith("cookbook.harness."):
        return 1
    return 0


def module_name(path, package_root):
    parts = list(path.relative_to(package_root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree, module, is_package):
    """Every `cookbook...` module a module's source imports (relative imports resolved)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + is_package]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name
            yield from (f"{name}.{alias.name}" for alias in node.names)  # `from cookbook import cli`


def layer_violations(package_root):
    """`(module, imported module)` pairs where a module imports from a layer above its own."""
    found = []
    for path in sorted(package_root.rglob("*.py")):
        module = module_name(path, package_root)
        tree = ast.parse(path.read_text())
        for imported in imported_modules(tree, module, path.name == "__init__.py"):
            if imported.startswith("cookbook") and layer_of(imported) > layer_of(module):
                found.append((module, imported))
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    assert layer_violations(ROOT / "cookbook") == []


def test_every_layer_has_modules():
    modules = [module_name(path, ROOT / "cookbook") for path in (ROOT / "cookbook").rglob("*.py")]
    assert {LAYERS[layer_of(module)] for module in modules} == set(LAYERS)


@pytest.mark.parametrize(
    "where, source",
    [
        ("harness/trainer.py", "def f():\n    from cookbook.cli import console\n"),
        ("harness/trainer.py", "from cookbook import cli\n"),
        ("harness/trainer.py", "from ..cli.tour import run_tour\n"),
        ("analysis.py", "import cookbook.harness.plan\n"),
        ("models/convnet.py", "from cookbook.cli.commands import main\n"),
    ],
)
def test_an_import_from_a_layer_above_is_found(tmp_path, where, source):
    package = tmp_path / "cookbook"
    for name in ("__init__.py", "harness/__init__.py", "cli/__init__.py", "models/__init__.py"):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("")
    (package / where).write_text(source)
    assert layer_violations(package) != []
