"""`python -m cookbook` is the `cookbook` command."""

from cookbook.cli import main

main()
