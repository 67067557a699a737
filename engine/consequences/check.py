"""`taxpack check`: every candidate trade, seen through every lens, with its consequences.

For each jurisdiction that is a lens on some trade of the household, the history and the candidate
trades are replayed through that pack's ledger (lots, FX, loss rules). Each candidate trade then gets,
per lens: proceeds, cost, gain, term, lots, the loss rules that bite, the pack's declarative rules,
withholding leakage for the income it moves, and a tax estimate where the data allow one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping

import attrs

from taxpack.engine.consequences.estimate import Estimator, YearGains
from taxpack.engine.consequences.residence_change import residence_findings
from taxpack.engine.consequences.withholding import dividend_withholding
from taxpack.engine.core.household import Consequence, Finding, LotMatch, Scenario, Transaction
from taxpack.engine.core.money import money_text
from taxpack.engine.core.progress import ProgressCallback, no_progress
from taxpack.engine.inputs.fx import FxTable, load_fx
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.sections import Cited
from taxpack.engine.losses.lookahead import repurchase_horizon
from taxpack.engine.lots.lens import Lens, LensNote, household_jurisdictions, lenses_for
from taxpack.engine.lots.replay import LensBook, event_order, replay
from taxpack.engine.rules.evaluator import get_evaluator
from taxpack.engine.rules.explain import hit_to_finding

ZERO = Decimal(0)
SEVERITY_RANK = {"info": 0, "warning": 1, "blocking": 2}


@attrs.frozen
class TradeResult:
    trade: Transaction
    consequences: tuple[Consequence, ...]
    notes: tuple[LensNote, ...] = ()


@attrs.frozen
class CheckResult:
    """Everything `taxpack check` found, ready for any output format."""

    scenario: Scenario
    packs: PackSet
    trades: tuple[TradeResult, ...]
    positions: Mapping[str, list[dict[str, Any]]]
    summary: tuple[dict[str, Any], ...]
    rules_backend: str
    horizons: Mapping[tuple[str, str], list[dict[str, Any]]] = attrs.field(factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [f for t in self.trades for c in t.consequences for f in c.findings]

    @property
    def worst(self) -> str | None:
        ranks = [SEVERITY_RANK[f.severity] for f in self.findings] + [SEVERITY_RANK[n.severity] for t in self.trades for n in t.notes]
        if not ranks:
            return None
        return {v: k for k, v in SEVERITY_RANK.items()}[max(ranks)]

    @property
    def exit_code(self) -> int:
        worst = self.worst
        if worst == "blocking":
            return 2
        if worst == "warning":
            return 1
        return 0


def run_check(scenario: Scenario, packs: PackSet, *, rules_backend: str | None = None, fx: FxTable | None = None,
              progress: ProgressCallback = no_progress) -> CheckResult:
    """Annotate every candidate trade of `scenario` under every lens (`progress`: see engine/core/progress.py)."""
    fx = fx or load_fx(scenario)
    evaluator = get_evaluator(rules_backend)
    events = event_order(scenario)
    lens_by_trade: dict[str, tuple[list[Lens], list[LensNote]]] = {t.id: lenses_for(t, scenario, packs) for t in scenario.trades}
    for trade in scenario.trades:
        for lens in lens_by_trade[trade.id][0]:
            lens.pack.require_coverage(trade.date, trade.span)
    books: dict[str, LensBook] = {}
    jurisdictions = tuple(household_jurisdictions(scenario, packs))
    for done, pack in enumerate(jurisdictions):
        progress("replaying the history", done, len(jurisdictions))
        books[pack.id] = replay(pack, scenario, fx, events)

    year_gains: dict[tuple[str, str, int], YearGains] = {}
    results: list[TradeResult] = []
    horizons: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for done, trade in enumerate(scenario.trades):
        progress("checking the trades", done, len(scenario.trades))
        lenses, notes = lens_by_trade[trade.id]
        consequences = []
        for lens in lenses:
            book = books[lens.pack.id]
            consequence = _consequence(trade, lens, book, scenario, packs, evaluator, year_gains)
            consequences.append(consequence)
            horizon = _horizon(lens.pack, scenario, book, trade)
            if horizon:
                horizons[(trade.id, lens.jurisdiction)] = horizon
        results.append(TradeResult(trade, tuple(consequences), tuple(notes)))
    positions = {books[pid].pack.jurisdiction or pid: books[pid].ledger.positions() for pid in sorted(books)}
    summary = _summary(results)
    return CheckResult(scenario, packs, tuple(results), positions, tuple(summary), evaluator.name, horizons)


def _horizon(pack: Pack, scenario: Scenario, book: LensBook, trade: Transaction) -> list[dict[str, Any]]:
    sale = book.sales.get(trade.id)
    if sale is None or sale.gain >= 0:
        return []
    return repurchase_horizon(pack, scenario, sale)


def _consequence(trade: Transaction, lens: Lens, book: LensBook, scenario: Scenario, packs: PackSet,
                 evaluator: Any, year_gains: dict[tuple[str, str, int], YearGains]) -> Consequence:
    pack = lens.pack
    account = scenario.account(trade.account)
    taxpayer = scenario.taxpayer(account.owner)
    ledger = book.ledger
    findings: list[Finding] = []
    if trade.side == "sell":
        sale = book.sales[trade.id]
        proceeds, cost, gain = sale.proceeds, sale.cost, sale.gain
        disallowed, term, lots = sale.disallowed, sale.term, tuple(sale.matches)
        released = sale.released
        fees, fees_treatment = sale.fees, sale.fees_treatment
        method, taxable = sale.choice.used, sale.taxable
        fx_gain, price_gain = sale.fx_gain, sale.price_gain
        findings.extend(sale.findings)
    else:
        lot = book.buys[trade.id]
        proceeds, cost, gain, disallowed, term, released = ZERO, lot.cost, ZERO, ZERO, "none", ZERO
        fees, _ = ledger.convert(trade.fees, ledger.tx_currency(trade), trade)
        fees_treatment = ledger.fees_treatment()
        lots = (LotMatch(lot.id, lot.account, lot.acquired, lot.quantity, lot.cost, ZERO, ZERO, "none",
                         rates=(lot.rate,) if lot.rate else ()),)
        method, taxable, fx_gain, price_gain = None, ledger.is_taxable(account), None, None

    if trade.side == "sell":
        findings.extend(_section_caveats(pack, lots))
    facts = _facts(trade, lens, scenario, proceeds, cost, gain, term, method, taxable, ledger)
    facts["household.foreign_property_cost"] = book.foreign_cost.get(trade.id)
    for hit in evaluator.evaluate(pack, facts, ledger.pack.law_day(trade.date)):
        findings.append(hit_to_finding(pack, hit, facts))
    findings.extend(_withholding_findings(trade, lens, scenario, packs))
    findings.extend(residence_findings(trade, lens, scenario, packs, gain=gain if trade.side == "sell" else None))

    estimated, missing = None, ()
    if trade.side == "sell" and taxable:
        recognised = gain + disallowed
        by_term: dict[str, Decimal] = {}
        # A disallowed loss is spread over the lots' terms in proportion to their gains.
        scale = recognised / gain if gain != 0 and recognised != gain else Decimal(1)
        for m in sale.matches:
            by_term[m.term] = by_term.get(m.term, ZERO) + m.gain * scale
        if released:
            bucket = term if term in ("short", "long") else "none"
            by_term[bucket] = by_term.get(bucket, ZERO) + released
        key = (pack.id, taxpayer.id, trade.date.year)
        before = year_gains.get(key, YearGains())
        after = before.add(by_term)
        year_gains[key] = after
        estimator = Estimator(pack, taxpayer, ledger.pack.law_day(trade.date))
        est_after, est_before = estimator.tax(after), estimator.tax(before)
        if est_after.tax is not None and est_before.tax is not None:
            estimated = est_after.tax - est_before.tax
        missing = est_after.missing
        cg = pack.sections.capital_gains
        for caveat in est_after.caveats:
            findings.append(make_finding(pack, code="estimate_uncertain", severity="info", message=f"the estimate uses an uncertain value: {caveat}",
                                         rule=f"{pack.id}.capital_gains", source=cg.source if cg is not None else None, uncertain=caveat))
        if cg is not None and cg.taxed is False:
            findings.append(make_finding(pack, code="gains_not_taxed", severity="info",
                                         message=f"{pack.jurisdiction} does not tax realised capital gains of individuals on this holding" + (f": {cg.note}" if cg.note else ""),
                                         rule=f"{pack.id}.capital_gains", source=cg.source, uncertain=cg.uncertain))
    elif trade.side == "sell":
        wrapper = pack.sections.wrapper(account.wrapper)
        findings.append(make_finding(pack, code="inside_wrapper", severity="info",
                                     message=f"the sale is inside a {account.wrapper}, outside {pack.jurisdiction}'s taxable computation",
                                     rule=f"{pack.id}.wrappers", source=wrapper.source if wrapper is not None else None))

    findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.code, f.rule))
    return Consequence(
        jurisdiction=lens.jurisdiction, pack=pack.ref, currency=pack.currency or "", basis=lens.basis, method=method,
        proceeds=proceeds, cost=cost, gain=gain, disallowed_loss=disallowed, released_loss=released, fees=fees, fees_treatment=fees_treatment, term=term, lots=lots,
        fx_gain=fx_gain, price_gain=price_gain, findings=tuple(findings), estimated_tax=estimated,
        estimate_missing=tuple(missing), taxable=taxable,
    )


def _section_caveats(pack: Pack, lots: tuple[LotMatch, ...]) -> list[Finding]:
    """Unsettled law in a section this sale relied on (lot method, holding period, FX) is said, not hidden."""
    used: list[tuple[str, Cited | None]] = [("lots", pack.sections.lots), ("holding_period", pack.sections.holding_period)]
    if any(m.rates for m in lots):
        used.append(("fx", pack.sections.fx))
    out = []
    for name, section in used:
        if section is not None and section.uncertain:
            out.append(make_finding(pack, code="uncertain_law", severity="info",
                                    message=f"{pack.jurisdiction} {name.replace('_', ' ')}: {section.uncertain}",
                                    rule=f"{pack.id}.{name}", source=section.source, uncertain=section.uncertain))
    return out


def _facts(trade: Transaction, lens: Lens, scenario: Scenario, proceeds: Decimal, cost: Decimal, gain: Decimal,
           term: str, method: str | None, taxable: bool, ledger: Any) -> dict[str, Any]:
    account = scenario.account(trade.account)
    taxpayer = scenario.taxpayer(account.owner)
    security = scenario.security(trade.security)
    value, _ = ledger.convert(trade.quantity * trade.price, ledger.tx_currency(trade), trade)
    requested = trade.lots if isinstance(trade.lots, str) else ("specific" if trade.lots else None)
    return {
        "trade.id": trade.id,
        "trade.side": trade.side,
        "trade.date": trade.date,
        "trade.quantity": trade.quantity,
        "trade.proceeds": proceeds if trade.side == "sell" else None,
        "trade.cost": cost,
        "trade.gain": gain if trade.side == "sell" else None,
        "trade.value": value,
        "trade.term": term,
        "trade.method_requested": requested,
        "trade.method_used": method,
        "trade.in_kind_contribution": trade.in_kind,
        "trade.days_to_ex_dividend": _days_to_ex_dividend(security, trade),
        "security.id": security.id,
        "security.kind": security.kind,
        "security.country": security.country,
        "security.currency": security.currency,
        "security.listed": security.listed,
        "security.tags": tuple(security.tags),
        "account.id": account.id,
        "account.wrapper": account.wrapper,
        "account.country": account.country,
        "account.taxable": taxable,
        "taxpayer.id": taxpayer.id,
        "taxpayer.residence": taxpayer.residence_on(trade.date),
        "taxpayer.citizen": lens.jurisdiction in taxpayer.citizenship,
        "taxpayer.resident": taxpayer.residence_on(trade.date) == lens.jurisdiction,
        "taxpayer.filing_status": taxpayer.filing_status,
        "lens.jurisdiction": lens.jurisdiction,
        "lens.basis": lens.basis,
    }


def _days_to_ex_dividend(security: Any, trade: Transaction) -> int | None:
    """Days from the trade to the security's next ex-dividend date (the scenario lists them), if any."""
    upcoming = [d for d in security.ex_dividend_dates if d >= trade.date]
    return (min(upcoming) - trade.date).days if upcoming else None


def _withholding_findings(trade: Transaction, lens: Lens, scenario: Scenario, packs: PackSet) -> list[Finding]:
    """Withholding leakage the trade starts (a buy) or stops (a sell), on the residence lens only."""
    if lens.basis != "residence":
        return []
    account = scenario.account(trade.account)
    taxpayer = scenario.taxpayer(account.owner)
    security = scenario.security(trade.security)
    if not security.dividend_yield:
        return []
    case = dividend_withholding(packs, security, account, taxpayer, trade.date)
    if case is None or case.pack is None:
        return []
    if case.lost_rate == 0:
        if case.basis != "treaty-account" or case.rate != 0 or trade.side != "buy":
            return []
        # The account case that makes this the right place for the holding (e.g. an RRSP under Art. XXI).
        return [make_finding(case.pack, code="withholding_relief", severity="info",
                             message=(f"{security.id} in {account.id} ({account.wrapper}): {case.source_country} withholds "
                                      f"{_pct(case.rate)} on dividends to a {case.resident_of} resident in this account"),
                             rule=f"{case.pack.id}.{case.source_country.lower()}-{case.resident_of.lower()}.{case.basis}",
                             source=case.source, uncertain=case.uncertain,
                             facts={"withholding.rate": case.rate, "account.wrapper": account.wrapper})]
    ledger_currency = lens.pack.currency or security.currency
    dividends = trade.quantity * trade.price * security.dividend_yield
    lost = dividends * case.lost_rate
    sign = "starts losing" if trade.side == "buy" else "stops losing"
    amount = lost if trade.side == "buy" else -lost
    why = ("only part of it can be credited at home (the rest is above the credit cap)" if case.creditable
           else "it cannot be credited (the account is outside the taxable computation)")
    message = (f"{security.id} in {account.id} ({account.wrapper}) {sign} about {money_text(lost, case.pack)} {security.currency} a year: "
               f"{case.source_country} withholds {_pct(case.rate)} on dividends to a {case.resident_of} resident here "
               f"and {why}")
    if case.relief == "refund" and case.statutory is not None and case.statutory > case.rate:
        message += (f"; {case.source_country} first withholds {_pct(case.statutory)}: the part above "
                    f"{_pct(case.rate)} comes back only on a refund claim")
    return [make_finding(case.pack, code="withholding_leakage", severity="warning" if trade.side == "buy" else "info",
                         message=message, rule=f"{case.pack.id}.{case.source_country.lower()}-{case.resident_of.lower()}.{case.basis}",
                         source=case.source, uncertain=case.uncertain, amount=amount,
                         facts={"security.dividend_yield": security.dividend_yield, "withholding.rate": case.rate,
                                "account.wrapper": account.wrapper, "dividends.annual": dividends, "currency": security.currency,
                                "lens.currency": ledger_currency})]


def _pct(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f") + "%"


def _summary(results: Iterable[TradeResult]) -> list[dict[str, Any]]:
    """Per jurisdiction: gains and losses realised, losses disallowed or deferred, estimated tax, leakage."""
    table: dict[str, dict[str, Any]] = {}
    for result in results:
        for c in result.consequences:
            row = table.setdefault(c.jurisdiction, {"jurisdiction": c.jurisdiction, "currency": c.currency, "gains": ZERO,
                                                    "losses": ZERO, "disallowed_loss": ZERO, "estimated_tax": ZERO,
                                                    "estimate_complete": True, "withholding_leakage": {}, "trades": 0})
            row["trades"] += 1
            if result.trade.side == "sell" and c.taxable:
                if c.gain > 0:
                    row["gains"] += c.gain
                else:
                    row["losses"] += c.gain
                row["disallowed_loss"] += c.disallowed_loss
                if c.estimated_tax is None:
                    row["estimate_complete"] = False
                else:
                    row["estimated_tax"] += c.estimated_tax
            for f in c.findings:
                if f.code == "withholding_leakage" and f.amount is not None:
                    currency = str(f.facts.get("currency", c.currency))
                    row["withholding_leakage"][currency] = row["withholding_leakage"].get(currency, ZERO) + f.amount
    rows = []
    for key in sorted(table):
        row = table[key]
        if not row["estimate_complete"]:
            row["estimated_tax"] = None
        row["withholding_leakage"] = dict(sorted(row["withholding_leakage"].items()))
        rows.append(row)
    return rows
