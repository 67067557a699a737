"""Moving country: the exit tax of the country left and the cost on arrival (`taxpack exit`).

`simulate_exit` runs the departure under the leaving country's pack and the arrival under the
destination's. Prices for deemed disposals come from `inputs.prices` (a CSV or the scenario), never
guessed. The findings `taxpack check` adds to sales around a move live in `consequences.residence_change`.
"""

from taxpack.engine.residency.simulate import ExitResult, simulate_exit, to_json_dict

__all__ = ["ExitResult", "simulate_exit", "to_json_dict"]
