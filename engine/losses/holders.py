"""Whose purchases count against a loss: the seller's accounts, the spouse's, and wrappers per the rule.

A rule's `who` says whether the spouse counts and how each wrapper is seen: `counts` (the loss is
deferred into the replacement), `permanent` (disallowed with no basis to carry it: US IRA, Rev. Rul.
2008-5; CA registered plans), `ignored`, or `uncertain` (applied conservatively, with a caveat).
"""

from __future__ import annotations

import attrs

from taxpack.engine.core.household import Account, Scenario
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import LossRule


@attrs.frozen
class HolderView:
    """How a purchase in one account is seen by one rule for one seller."""

    status: str  # counts | permanent | ignored | uncertain
    relation: str  # self | spouse | other
    wrapper: str
    taxable: bool
    reason: str = ""

    @property
    def effective(self) -> str:
        """`uncertain` applied conservatively: counts in a taxable account, permanent in a tax-exempt one."""
        if self.status == "uncertain":
            return "counts" if self.taxable else "permanent"
        return self.status


def spouses(scenario: Scenario, taxpayer: str) -> set[str]:
    """The seller's spouse(s), from either side of `Taxpayer.spouse`."""
    found = set()
    for t in scenario.taxpayers:
        if t.id == taxpayer and t.spouse:
            found.add(t.spouse)
        elif t.spouse == taxpayer:
            found.add(t.id)
    return found


def account_taxable(pack: Pack, account: Account) -> bool:
    """Inside the pack's taxable computation? (the ledger's rule: unknown wrappers count as taxable)."""
    if account.wrapper == "taxable":
        return True
    wrapper = pack.sections.wrapper(account.wrapper)
    return True if wrapper is None else wrapper.taxable


def holder_view(rule: LossRule, pack: Pack, scenario: Scenario, seller: str, account: Account) -> HolderView:
    """How `rule` sees a purchase in `account` after a loss of `seller`."""
    taxable = account_taxable(pack, account)
    if account.owner == seller:
        relation = "self"
    elif rule.spouse and account.owner in spouses(scenario, seller):
        relation = "spouse"
    else:
        return HolderView("ignored", "other", account.wrapper, taxable, "not the seller or a spouse the rule counts")
    wrapper = account.wrapper
    if wrapper != "taxable" and wrapper in rule.wrappers:
        status = rule.wrappers[wrapper]
        return HolderView(status, relation, wrapper, taxable, f"{wrapper}: {status} under {rule.id}")
    if taxable:
        return HolderView("counts", relation, wrapper, taxable)
    if rule.own_accounts == "taxable":
        return HolderView("ignored", relation, wrapper, taxable, f"{wrapper} is outside the taxable accounts the rule counts")
    return HolderView("uncertain", relation, wrapper, taxable,
                      f"the pack does not say how {rule.id} sees a purchase in a {wrapper}")
