"""`python -m taxpack.cli ...` runs the taxpack command."""

from .main import main

main()
