"""The command around the harness: the `cookbook` click CLI (`commands`), the tour of several
recipes (`tour`, `workers`), what the terminal shows (`console`), finding recipes
(`registry`), the report (`report`) and notebooks (`notebook`).

A recipe starts with `start_script(__name__)` (options checked and TensorFlow loaded quietly,
before Keras) and ends with `run_this_recipe` in its `__main__` block.
"""

from cookbook.cli.commands import main
from cookbook.cli.commands import run_this_recipe
from cookbook.cli.commands import start_script
from cookbook.cli.notebook import run_notebook

__all__ = ["main", "run_notebook", "run_this_recipe", "start_script"]
