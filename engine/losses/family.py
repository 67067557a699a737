"""The wash-sale family: losses limited when the same or an equivalent security comes back.

PLACEHOLDER INTERFACE (being implemented): `LossRuleSet(pack, scenario, ledger, events)` reads the
pack's `loss_rules`; `on_sale(sale, index)` applies them to a sale at position `index` of `events`.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..model import Scenario, Transaction
from ..packs.model import Pack


class LossRuleSet:
    def __init__(self, pack: Pack, scenario: Scenario, ledger: Any, events: Sequence[Transaction]) -> None:
        self.pack = pack
        self.rules = list(pack.section("loss_rules") or [])

    def on_sale(self, sale: Any, index: int) -> None:
        return None
