"""Moving country: the exit tax of the country left, the cost on arrival, and sales around a move.

`simulate_exit` runs `taxpack exit` (departure under the leaving country's pack, arrival under the
destination's); `residence_findings` flags, inside `taxpack check`, trades whose outcome a planned
move changes. Prices for deemed disposals come from `prices` (a CSV or the scenario), never guessed.
"""

from .simulate import ExitResult, residence_findings, simulate_exit, to_json_dict

__all__ = ["ExitResult", "residence_findings", "simulate_exit", "to_json_dict"]
