"""The command around the harness: the `cookbook` click CLI (`commands`), the tour of several
recipes (`tour`, `workers`), what the terminal shows (`console`), finding recipes
(`registry`), the report (`report`) and notebooks (`notebook`).

`from cookbook.cli import run_this_recipe` is what every recipe's `__main__` block uses.
"""

from cookbook.cli.commands import main
from cookbook.cli.commands import run_this_recipe
from cookbook.cli.notebook import run_notebook

__all__ = ["main", "run_notebook", "run_this_recipe"]
