"""taxpack's engine: generic, law-free code that reads jurisdiction packs and annotates trades.

The pipeline, one module (or folder) a stage:

1. `documents`, `schemas`, `packs/`   load and validate packs (positions on every node)
2. `scenario/`                        load and validate the household and its candidate trades
3. `lens`                             which jurisdictions tax each trade (residence, citizenship, source)
4. `fx/`                              exchange rates, each leg at its own date as the pack says
5. `lots/`                            build lots and pools per the pack's scope; match sells to lots
6. `losses/`                          the wash-sale family: windows, replacements, deferral
7. `rules/`                           the packs' declarative rules, on durable_rules or in plain Python
8. `check`                            consequences per trade and lens (`estimate`, `withholding`, `findings`)
9. `report/`                          table, JSON, CSV and Markdown output

Built on them: `residency/` (exit taxes and arrival step-ups), `plan/` (least-tax plans and loss
harvesting), `batch/` (many households, locally or on Dask), `packtests/` (packs' own test cases).

No country code, rate, window or threshold lives here: they are all in `jurisdictions/`.
"""

# The one place the version is written: pyproject.toml reads it from here (`tool.setuptools.dynamic`), and
# reading it costs nothing at start-up (importlib.metadata takes 60 ms to import).
__version__ = "0.1.0"
