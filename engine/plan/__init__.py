"""Least-tax planning: which trades restore the targets (or raise cash) at the least tax over every lens.

`targets` reads the targets file; `problem` gathers lots, prices and rates from the packs; `model`
is the mixed-integer program (HiGHS), warm-started by `heuristic`; `cost` prices any plan the same
way; `planning` runs it all and checks every plan (and the naive one) with `taxpack check`;
`harvest` lists losses worth realising; `report` renders plans and harvests.
"""

from taxpack.engine.plan.planning import PlanResult, band_curve, plan_raise, plan_rebalance

__all__ = ["PlanResult", "band_curve", "plan_raise", "plan_rebalance"]
