"""A recipe as a Jupyter notebook: its prose blocks as Markdown cells, its code as code cells,
small settings in the first code cell, and a last cell that runs it, as keras-io's notebooks
are made from its examples."""

import ast
import types

from cookbook.errors import CookbookError

# What the notebook runs with unless its first code cell is edited: a minute or two on a CPU.
NOTEBOOK_SETTINGS = {"quick": True, "epochs": 1, "seeds": 1, "dataset": "digits", "data_dir": None, "out": "results"}


def recipe_notebook(path):
    """The recipe file at `path` as an `nbformat` notebook."""
    import nbformat.v4 as cells

    source = path.read_text()
    tree = ast.parse(source)
    script_only = {
        line for node in tree.body if _starts_the_script(node) for line in range(node.lineno - 1, node.end_lineno)
    }
    lines = ["" if number in script_only else line for number, line in enumerate(source.splitlines())]
    docstring = ast.get_docstring(tree) or ""
    notebook_cells = [cells.new_markdown_cell(_header(docstring))]
    settings = ",\n".join(f"    {key!r}: {value!r}" for key, value in NOTEBOOK_SETTINGS.items())
    notebook_cells.append(
        cells.new_code_cell(
            "# The settings this notebook runs with: small, so it runs top to bottom in a minute or two.\n"
            "# For the recipe's own settings, set quick to False and epochs and seeds to None.\n"
            f"RUN_SETTINGS = {{\n{settings},\n}}"
        )
    )
    code_start = tree.body[0].end_lineno  # after the module docstring
    for node in tree.body[1:]:
        if _is_main_block(node):
            notebook_cells += _code_cells(lines[code_start : node.lineno - 1], cells)
            code_start = None
            break
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            notebook_cells += _code_cells(lines[code_start : node.lineno - 1], cells)
            notebook_cells.append(cells.new_markdown_cell(_dedent_prose(node.value.value)))
            code_start = node.end_lineno
    if code_start is not None:
        notebook_cells += _code_cells(lines[code_start:], cells)
    notebook_cells.append(
        cells.new_code_cell(
            "from cookbook.cli import run_notebook\n\n"
            f"result = run_notebook(globals(), {path.stem!r}, {docstring!r}, **RUN_SETTINGS)\n"
            "print(f\"{result['verdict']}: {result['evidence']}\")"
        )
    )
    notebook = cells.new_notebook(cells=notebook_cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _header(docstring):
    """The docstring's `Title:` as the notebook's heading, its other fields as a list."""
    fields, current = [], None
    for line in docstring.splitlines():
        if line[:1].isspace() and current is not None:
            fields[-1][1] += " " + line.strip()
        elif ":" in line:
            current, value = line.split(":", 1)
            fields.append([current.strip(), value.strip()])
    title = next((value for key, value in fields if key == "Title"), "Recipe")
    rest = "\n".join(f"**{key}:** {value}  " for key, value in fields if key != "Title")
    return f"# {title}\n\n{rest}"


def _dedent_prose(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()


def _code_cells(lines, cells):
    code = "\n".join(lines).strip("\n")
    return [cells.new_code_cell(code)] if code.strip() else []


def _starts_the_script(node):
    """`from cookbook.cli import start_script` or `start_script(__name__)`: for the script only
    (a notebook's kernel runs as `__main__` too, with no command line of its own)."""
    if isinstance(node, ast.ImportFrom):
        return [alias.name for alias in node.names] == ["start_script"]
    call = getattr(node, "value", None)
    return isinstance(node, ast.Expr) and isinstance(call, ast.Call) and ast.unparse(call.func) == "start_script"


def _is_main_block(node):
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and isinstance(test, ast.Compare) and ast.unparse(test) == "__name__ == '__main__'"


def run_notebook(namespace, name, docstring, **settings):
    """Runs the recipe whose definitions are in `namespace` (a notebook's globals) and returns
    its result, as `cookbook run` would."""
    from cookbook.harness.experiment import run_recipe
    from cookbook.harness.options import RunOptions

    module = types.ModuleType(name, docstring)
    module.__dict__.update({key: value for key, value in namespace.items() if not key.startswith("__")})
    module.__file__ = f"{name}.py"
    try:
        options = RunOptions(**settings)
    except TypeError as error:
        raise CookbookError(f"RUN_SETTINGS: {error}") from None
    return run_recipe(module, options)
