"""Relief between countries: which country's tax another credits on the same income, and how much.

When two countries tax one gain, the one with the weaker claim gives relief: a residence country
credits the tax of the source country; a country that taxes its citizens abroad (the US) credits the
tax of the country of residence, which for its part credits only what the citizenship country would
levy on a non-citizen (US-Canada treaty art. XXIV(4)). The rules are data: a treaty table row
(`relief:` in the treaties pack) for the pair, else the crediting pack's `foreign_tax_credit.credits`.
A credit never exceeds the crediting country's own tax on that income (its limit).
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs

from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.lots.lens import Lens

# Who taxes first: the source country, then the country of residence, then the country of citizenship.
BASIS_ORDER: Mapping[str, int] = {"source": 0, "residence": 1, "citizenship": 2}
CREDITS: tuple[str, ...] = ("full", "as_source_country", "exemption", "none")


@attrs.frozen
class Relief:
    """How `crediting` relieves the tax `credited` levies on the same income."""

    crediting: str
    credited: str
    credit: str  # full | as_source_country | exemption | none
    pack: Pack  # where the rule is written (the treaty table or the crediting pack)
    source: str | None
    uncertain: str | None = None
    article: str | None = None

    @property
    def rule(self) -> str:
        return f"{self.pack.id}.relief.{self.crediting.lower()}-{self.credited.lower()}"


def ordered(lenses: list[Lens]) -> list[Lens]:
    """Lenses in the order they tax: source, residence, citizenship (stable within a basis)."""
    return sorted(lenses, key=lambda lens: BASIS_ORDER.get(lens.basis, 9))


def relief_for(packs: PackSet, crediting: Lens, credited: Lens) -> Relief | None:
    """The relief `crediting` gives for `credited`'s tax on one trade, or None when no pack says."""
    for treaty in packs.treaties:
        for row in treaty.section("relief") or []:
            if (row["country"] == crediting.jurisdiction and row["for_tax_of"] == credited.jurisdiction
                    and _basis_fits(row.get("basis"), credited.basis) and _basis_fits(row.get("when"), crediting.basis)):
                return Relief(crediting.jurisdiction, credited.jurisdiction, row["credit"], treaty, row.get("source"),
                              row.get("uncertain"), row.get("article"))
    section: Mapping[str, Any] = crediting.pack.section("foreign_tax_credit") or {}
    method = section.get("method")
    for entry in section.get("credits") or []:
        if _basis_fits(entry.get("basis"), credited.basis) and _basis_fits(entry.get("when"), crediting.basis):
            credit = "exemption" if method == "exemption" else entry.get("credit", "full")
            return Relief(crediting.jurisdiction, credited.jurisdiction, credit, crediting.pack,
                          entry.get("source") or section.get("source"), entry.get("uncertain") or section.get("uncertain"))
    if method == "none" and section:
        return Relief(crediting.jurisdiction, credited.jurisdiction, "none", crediting.pack, section.get("source"), section.get("uncertain"))
    return None


def _basis_fits(wanted: Any, basis: str) -> bool:
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return wanted == basis
    return basis in wanted
