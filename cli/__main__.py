"""`python -m taxpack.cli ...` runs the taxpack command."""

from taxpack.cli.main import main

main()
