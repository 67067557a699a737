"""The catalogue of trade facts that pack rules may test.

A pack rule's condition names a fact (`security.kind`, `trade.gain`...). The validator refuses a fact
that is not listed here, so a typo in a pack is caught at `pack validate`, not silently false at run
time. Money facts are in the lens currency; dates are ISO dates.
"""

from __future__ import annotations

# name -> (type, description). Types: text, money, number, integer, date, boolean, list.
FACTS: dict[str, tuple[str, str]] = {
    "trade.id": ("text", "the candidate trade's id"),
    "trade.side": ("text", "buy or sell"),
    "trade.date": ("date", "the trade date"),
    "trade.quantity": ("number", "the number of units traded"),
    "trade.proceeds": ("money", "sell proceeds in the lens currency, after fees where the pack deducts them"),
    "trade.cost": ("money", "cost of the lots sold, in the lens currency"),
    "trade.gain": ("money", "gain (negative: loss) in the lens currency, before loss rules"),
    "trade.value": ("money", "quantity times price, in the lens currency"),
    "trade.term": ("text", "short, long, mixed or none"),
    "trade.method_requested": ("text", "the lot method the trade asked for"),
    "trade.method_used": ("text", "the lot method this lens applied"),
    "trade.in_kind_contribution": ("boolean", "the trade moves the position in kind into a wrapper"),
    "trade.days_to_ex_dividend": ("integer", "days from the trade date to the next ex-dividend date, if known"),
    "trade.days_held": ("integer", "days from the start of the holding period of the oldest lot a sale takes (after tacking) to the sale "
                                   "(its settlement date where the pack's holding period counts to it); absent on a buy"),
    "trade.held_since": ("date", "the start of the holding period of the oldest lot a sale takes (its acquisition, earlier after tacking); absent on a buy"),
    "trade.acquired_first": ("date", "the earliest acquisition date of the lots a sale takes (absent on a buy or for an average-cost pool)"),
    "security.id": ("text", "security id"),
    "security.kind": ("text", "share, etf, fund, bond, crypto"),
    "security.fund_kind": ("text", "what a fund invests in: equity, mixed, real_estate, foreign_real_estate, bond, money_market, other (absent if not given)"),
    "security.pfic_election": ("text", "a US person's election for a foreign fund: qef, mark_to_market, none (absent if not given)"),
    "security.country": ("text", "domicile country (ISO code)"),
    "security.currency": ("text", "trading currency"),
    "security.listed": ("boolean", "listed on a stock exchange"),
    "security.tags": ("list", "free tags from the scenario, e.g. ucits, reit"),
    "account.id": ("text", "account id"),
    "account.wrapper": ("text", "taxable or a wrapper name"),
    "account.country": ("text", "country where the account is held"),
    "account.taxable": ("boolean", "the account is inside the taxable computation of this lens"),
    "taxpayer.id": ("text", "taxpayer id"),
    "taxpayer.residence": ("text", "country of residence on the trade date"),
    "taxpayer.citizen": ("boolean", "the taxpayer is a citizen of the lens jurisdiction"),
    "taxpayer.resident": ("boolean", "the taxpayer is resident in the lens jurisdiction on the trade date"),
    "taxpayer.filing_status": ("text", "filing status, if given"),
    "lens.jurisdiction": ("text", "the jurisdiction whose pack is evaluating"),
    "lens.basis": ("text", "why this lens applies: residence, citizenship or source"),
    "position.value_after": ("money", "value of the taxpayer's holding of this security after the trade"),
    "household.foreign_property_cost": ("money", "total cost of the taxpayer's foreign property (lens currency)"),
}

FACT_TYPES = {name: kind for name, (kind, _) in FACTS.items()}
