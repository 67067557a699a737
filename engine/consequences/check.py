"""`taxpack check`: every candidate trade, seen through every lens, with its consequences.

For each jurisdiction that is a lens on some trade of the household, the history and the candidate
trades are replayed through that pack's ledger (lots, FX, loss rules). Each candidate trade then gets,
per lens: proceeds, cost, gain, term, lots, the loss rules that bite, the pack's declarative rules,
withholding leakage for the income it moves, and a tax estimate where the data allow one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping

import attrs

from taxpack.engine.consequences.deemed_cost import DeemedGains, deemed_finding, deemed_gains
from taxpack.engine.consequences.fund_taxes import EarlierTaxes, fund_findings
from taxpack.engine.consequences.household_bill import Alternative, HouseholdBill, TradeTax, basket_items
from taxpack.engine.consequences.residence_change import residence_findings
from taxpack.engine.consequences.withholding import dividend_withholding
from taxpack.engine.core.collector import collector_paused
from taxpack.engine.core.household import Consequence, Finding, LotMatch, Scenario, Transaction
from taxpack.engine.core.money import money_text
from taxpack.engine.core.progress import ProgressCallback, no_progress
from taxpack.engine.inputs.fx import FxTable, load_fx
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.sections import Cited
from taxpack.engine.law.year_rules import year_rules
from taxpack.engine.losses.lookahead import repurchase_horizon
from taxpack.engine.lots.ledger import Ledger, Sale
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
    net_tax: Decimal | None = None  # what the trade adds to the household's net bill, base currency
    timing: tuple[Alternative, ...] = ()  # the same sale on another day: first long-term day, 1 January


class LensPositions(Mapping[str, list[dict[str, Any]]]):
    """The lots and pools left in each lens's ledger after the trades, made when first read (once): a plan checks
    its naive alternative too, whose 30,000 lots nobody prints."""

    def __init__(self, ledgers: Mapping[str, Ledger]) -> None:
        self._ledgers = dict(ledgers)
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def __getitem__(self, key: str) -> list[dict[str, Any]]:
        rows = self._rows.get(key)
        if rows is None:
            rows = self._rows[key] = self._ledgers[key].positions()
        return rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._ledgers)

    def __len__(self) -> int:
        return len(self._ledgers)


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
    household: Mapping[str, Any] = attrs.field(factory=dict)  # the household's bill (HouseholdBill.summary)

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
    with collector_paused():
        return _run_check(scenario, packs, rules_backend, fx, progress)


def _run_check(scenario: Scenario, packs: PackSet, rules_backend: str | None, fx: FxTable | None,
               progress: ProgressCallback) -> CheckResult:
    fx = fx or load_fx(scenario)
    evaluator = get_evaluator(rules_backend)
    events = event_order(scenario)
    lens_by_trade: dict[str, tuple[list[Lens], list[LensNote]]] = {t.id: lenses_for(t, scenario, packs) for t in scenario.trades}
    for trade in scenario.trades:
        for lens in lens_by_trade[trade.id][0]:
            lens.pack.require_coverage(trade.date, trade.span)
    books: dict[str, LensBook] = {}
    earlier: dict[str, EarlierTaxes] = {}
    baselines: dict[tuple[str, str, int], list[tuple[str, Decimal]]] = {}
    jurisdictions = tuple(household_jurisdictions(scenario, packs))
    for done, pack in enumerate(jurisdictions):
        progress("replaying the history", done, len(jurisdictions))
        book = books[pack.id] = replay(pack, scenario, fx, events)
        earlier[pack.id] = EarlierTaxes(book.pack, scenario, book.ledger)
        baselines.update(_baselines(scenario, {pack.id: book}, earlier))
        # What the history realised is now in the baselines; its sales (three in four of those replayed, with
        # their lots, rates and findings) are not read again: let them go before the next lens replays.
        # (Their findings still to be written refer back to them: dropped unread, the sales are freed at once,
        # with the cyclic collector off.)
        for tid in [tid for tid, sale in book.sales.items() if not sale.tx.candidate]:
            book.sales.pop(tid).later.clear()
        # Write the candidates' findings now (they are read below anyway), so
        # the loss rules' indexes go with the replay instead of living on.
        written = [sale.findings for sale in book.sales.values()]
        del written

    bill = HouseholdBill(scenario, packs, fx)
    results: list[TradeResult] = []
    horizons: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for done, trade in enumerate(scenario.trades):
        progress("checking the trades", done, len(scenario.trades))
        lenses, notes = lens_by_trade[trade.id]
        consequences = []
        for lens in lenses:
            book = books[lens.pack.id]
            consequence = _consequence(trade, lens, book, scenario, packs, evaluator, earlier.get(lens.pack.id))
            consequences.append(consequence)
            horizon = _horizon(lens.pack, scenario, book, trade)
            if horizon:
                horizons[(trade.id, lens.jurisdiction)] = horizon
        if trade.side == "sell":
            consequences = _priced(trade, lenses, consequences, books, scenario, bill, baselines, earlier)
        results.append(TradeResult(trade, tuple(consequences), tuple(notes)))
    results = [_timed(r, lens_by_trade[r.trade.id][0], books, scenario, bill, earlier) for r in results]
    positions = LensPositions({books[pid].pack.jurisdiction or pid: books[pid].ledger for pid in sorted(books)})
    summary = _summary(results)
    return CheckResult(scenario, packs, tuple(results), positions, tuple(summary), evaluator.name, horizons, bill.summary())


# -- the year's bill -------------------------------------------------------------------------------------


def realised(sale: Sale, on: dt.date | None = None, ledger: Any = None,
             split: Callable[[LotMatch, Decimal], list[tuple[Decimal, bool]]] | None = None,
             deemed: DeemedGains | None = None) -> list[tuple[Any, ...]]:
    """What a sale puts into its lens's year, per holding term and start of the holding period: the gain,
    a disallowed loss taken out (spread over the lots in proportion to their gains) and earlier deferred
    losses it releases. With `on` and the lens's `ledger`: the terms the lots would have if sold that day.
    `split` (fund_taxes.EarlierTaxes.splitter) takes out of each lot what was taxed before the sale; a
    part it marks not annual has a fourth element False (it skips the baskets taxed year by year).
    `deemed` (deemed_cost.deemed_gains) replaces each lot's gain by the one the deemed cost gives. The fifth
    element is the part's sale price before selling costs (for the pack's tests on the year's sale prices)."""
    recognised = sale.gain + sale.disallowed
    scale = recognised / sale.gain if sale.gain != 0 and recognised != sale.gain else Decimal(1)
    fees = sale.fees if sale.fees_treatment.get("sell") == "deduct_from_proceeds" and sale.tx.quantity else ZERO
    parts: dict[tuple[str, dt.date | None, bool], Decimal] = {}
    prices: dict[tuple[str, dt.date | None, bool], Decimal] = {}
    for i, m in enumerate(sale.matches):
        start = m.adjusted_acquired or m.acquired
        term = m.term
        if on is not None and ledger is not None and start is not None and term != "none":
            term = ledger.term(start, on)
        amount = (deemed.gains[i] if deemed is not None else m.gain) * scale
        price = m.proceeds + (fees * m.quantity / sale.tx.quantity if fees else ZERO)
        for piece, annual in (split(m, amount) if split is not None else [(amount, True)]):
            parts[(term, start, annual)] = parts.get((term, start, annual), ZERO) + piece
            prices[(term, start, annual)] = prices.get((term, start, annual), ZERO) + price
            price = ZERO  # a lot's price goes with its first piece
    if sale.released:
        bucket = sale.term if sale.term in ("short", "long") else "none"
        parts[(bucket, None, True)] = parts.get((bucket, None, True), ZERO) + sale.released
        prices.setdefault((bucket, None, True), ZERO)
    ordered = sorted(parts.items(), key=lambda kv: (kv[0][0], kv[0][1] or dt.date.min, not kv[0][2]))
    return [(term, amount, start, annual, prices[(term, start, annual)]) for (term, start, annual), amount in ordered]


def _baselines(scenario: Scenario, books: Mapping[str, LensBook],
               earlier: Mapping[str, EarlierTaxes] | None = None) -> dict[tuple[str, str, int], list[tuple[str, Decimal]]]:
    """Per (pack, taxpayer, tax year): what the executed history already realised, in baskets."""
    out: dict[tuple[str, str, int], list[tuple[str, Decimal]]] = {}
    for pack_id, book in books.items():
        rules = year_rules(book.pack)
        for sale in book.sales.values():
            if sale.tx.candidate or not sale.taxable:
                continue
            owner = scenario.account(sale.tx.account).owner
            key = (pack_id, owner, rules.tax_year(sale.tx.date))
            security = scenario.security(sale.tx.security)
            split = earlier[pack_id].splitter(security, sale.tx.date) if earlier and pack_id in earlier else None
            deemed = deemed_gains(rules, book.pack, sale, security)
            out.setdefault(key, []).extend(basket_items(rules, realised(sale, split=split, deemed=deemed), security, sale.tx.date))
    return out


def _priced(trade: Transaction, lenses: list[Lens], consequences: list[Consequence], books: Mapping[str, LensBook],
            scenario: Scenario, bill: HouseholdBill, baselines: Mapping[tuple[str, str, int], list[tuple[str, Decimal]]],
            earlier: Mapping[str, EarlierTaxes] | None = None) -> list[Consequence]:
    """The consequences of a sale with what it adds to each lens's year: gross, credits, net."""
    taxpayer = scenario.taxpayer(scenario.account(trade.account).owner)
    security = scenario.security(trade.security)
    items = {}
    for lens, consequence in zip(lenses, consequences):
        if consequence.taxable:
            split = earlier[lens.pack.id].splitter(security, trade.date) if earlier and lens.pack.id in earlier else None
            sale = books[lens.pack.id].sales[trade.id]
            deemed = deemed_gains(year_rules(lens.pack), lens.pack, sale, security)
            items[lens] = basket_items(year_rules(lens.pack), realised(sale, split=split, deemed=deemed), security, trade.date)
    base = {lens.pack.id: baselines.get((lens.pack.id, taxpayer.id, year_rules(lens.pack).tax_year(trade.date)), [])
            for lens in items}
    taxes = bill.add_trade(trade.date, taxpayer, items, base, trade_id=trade.id)
    return [_with_tax(c, lens, taxes.get(lens.jurisdiction)) if c.taxable else c for lens, c in zip(lenses, consequences)]


def _with_tax(consequence: Consequence, lens: Lens, tax: TradeTax | None) -> Consequence:
    if tax is None:
        return consequence
    pack = lens.pack
    cg = pack.sections.capital_gains
    source = cg.source if cg is not None else None
    findings = list(consequence.findings)
    for caveat in tax.caveats:
        findings.append(make_finding(pack, code="estimate_uncertain", severity="info", message=f"the estimate uses an uncertain value: {caveat}",
                                     rule=f"{pack.id}.capital_gains", source=source, uncertain=caveat))
    for line in tax.credits:
        if not line.amount:
            continue
        relief = line.relief
        limit = " (the limit: its own tax on the income both tax)" if line.limit_reached else ""
        article = f", art. {relief.article}" if relief.article else ""
        findings.append(make_finding(
            relief.pack, code="foreign_tax_credit", severity="info",
            message=(f"{relief.crediting} credits {money_text(line.amount, pack)} {pack.currency} of {relief.credited}'s tax on this sale"
                     f"{limit}{article}"),
            rule=relief.rule, source=relief.source, uncertain=relief.uncertain, amount=line.amount,
            facts={"credit.foreign_tax": line.foreign_tax, "credit.kind": relief.credit, "credit.of": relief.credited}))
    for other in tax.unrelieved:
        findings.append(make_finding(
            pack, code="no_relief", severity="info",
            message=f"{other} also taxes this sale and no pack states the relief between {lens.jurisdiction} and {other}: both taxes are counted",
            rule=f"{pack.id}.foreign_tax_credit", source=None,
            uncertain=f"no relief data between {lens.jurisdiction} and {other}: the household total may count the same gain twice"))
    findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.code, f.rule))
    return attrs.evolve(consequence, findings=tuple(findings), estimated_tax=tax.gross, estimate_missing=tax.missing,
                        foreign_tax_credit=tax.credit if tax.gross is not None else None, net_tax=tax.net)


def _timed(result: TradeResult, lenses: list[Lens], books: Mapping[str, LensBook], scenario: Scenario, bill: HouseholdBill,
           earlier: Mapping[str, EarlierTaxes] | None = None) -> TradeResult:
    """A sale's net bill if it waited: until its lots are long-term under a lens with a holding period,
    or until the first day of the next tax year (same price and exchange rate: only the timing moves)."""
    trade = result.trade
    if trade.id not in bill.priced or not bill.priced[trade.id].lenses:
        return result
    net = bill.trade_net(trade.id)
    priced = bill.priced[trade.id]
    security = scenario.security(trade.security)
    days: dict[dt.date, str] = {}
    for lens in priced.lenses:
        ledger = books[lens.pack.id].ledger
        long_from = [ledger.long_term_from(m.adjusted_acquired or m.acquired, trade.date) for m in books[lens.pack.id].sales[trade.id].matches
                     if m.term == "short" and m.acquired is not None]
        dates = [d for d in long_from if d is not None and d > trade.date]
        if dates:
            days.setdefault(max(dates), f"long-term under {lens.jurisdiction}")
    first = min(priced.lenses, key=lambda lens: lens.basis != "residence")
    rules = year_rules(first.pack)
    next_year = rules.year_start(rules.tax_year(trade.date) + 1)
    days.setdefault(next_year, "the first day of the next tax year")
    timing = []
    for day, why in sorted(days.items()):
        items = {}
        for lens in priced.lenses:
            book = books[lens.pack.id]
            split = earlier[lens.pack.id].splitter(security, day) if earlier and lens.pack.id in earlier else None
            sale = book.sales[trade.id]
            moved = realised(sale, day, book.ledger, split, deemed_gains(year_rules(lens.pack), lens.pack, sale, security, day))
            items[lens] = basket_items(year_rules(lens.pack), moved, security, day)
        alternative = bill.alternative(trade.id, day, items, why)
        if alternative.change != 0:  # waiting that changes nothing is not advice
            timing.append(alternative)
    return attrs.evolve(result, net_tax=net, timing=tuple(timing))


def _horizon(pack: Pack, scenario: Scenario, book: LensBook, trade: Transaction) -> list[dict[str, Any]]:
    sale = book.sales.get(trade.id)
    if sale is None or sale.gain >= 0:
        return []
    return repurchase_horizon(pack, scenario, sale)


def _consequence(trade: Transaction, lens: Lens, book: LensBook, scenario: Scenario, packs: PackSet, evaluator: Any,
                 earlier: EarlierTaxes | None = None) -> Consequence:
    pack = lens.pack
    account = scenario.account(trade.account)
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
        if taxable:
            rules = year_rules(pack)
            deemed = deemed_gains(rules, pack, book.sales[trade.id], scenario.security(trade.security))
            note = deemed_finding(rules, pack, deemed) if deemed is not None else None
            if note is not None:
                findings.append(note)
    if earlier is not None and taxable:
        findings.extend(fund_findings(trade, book.sales.get(trade.id), scenario.security(trade.security), earlier, ledger.positions))
    facts = _facts(trade, lens, scenario, proceeds, cost, gain, term, method, taxable, ledger)
    facts["trade.acquired_first"] = min((m.acquired for m in lots if m.acquired is not None), default=None) if trade.side == "sell" else None
    # The holding period of the oldest lot sold: it starts on its (tacked) acquisition and ends on the day the lens counts to.
    held_since = min(((m.adjusted_acquired or m.acquired) for m in lots if m.acquired is not None), default=None) if trade.side == "sell" else None
    facts["trade.held_since"] = held_since
    facts["trade.days_held"] = (_held_to(trade, ledger) - held_since).days if held_since is not None else None
    facts["household.foreign_property_cost"] = book.foreign_cost.get(trade.id)
    for hit in evaluator.evaluate(pack, facts, ledger.pack.law_day(trade.date)):
        findings.append(hit_to_finding(pack, hit, facts))
    findings.extend(_withholding_findings(trade, lens, scenario, packs))
    findings.extend(residence_findings(trade, lens, scenario, packs, gain=gain if trade.side == "sell" else None))

    cg = pack.sections.capital_gains
    if trade.side == "sell" and taxable and cg is not None and cg.taxed is False:
        findings.append(make_finding(pack, code="gains_not_taxed", severity="info",
                                     message=f"{pack.jurisdiction} does not tax realised capital gains of individuals on this holding" + (f": {cg.note}" if cg.note else ""),
                                     rule=f"{pack.id}.capital_gains", source=cg.source, uncertain=cg.uncertain))
    if trade.side == "sell" and not taxable:
        wrapper = pack.sections.wrapper(account.wrapper)
        findings.append(make_finding(pack, code="inside_wrapper", severity="info",
                                     message=f"the sale is inside a {account.wrapper}, outside {pack.jurisdiction}'s taxable computation",
                                     rule=f"{pack.id}.wrappers", source=wrapper.source if wrapper is not None else None))

    findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.code, f.rule))
    return Consequence(
        jurisdiction=lens.jurisdiction, pack=pack.ref, currency=pack.currency or "", basis=lens.basis, method=method,
        proceeds=proceeds, cost=cost, gain=gain, disallowed_loss=disallowed, released_loss=released, fees=fees, fees_treatment=fees_treatment, term=term, lots=lots,
        fx_gain=fx_gain, price_gain=price_gain, findings=tuple(findings), taxable=taxable,
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
        "security.fund_kind": security.fund_kind,
        "security.pfic_election": security.pfic_election,
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


def _held_to(trade: Transaction, ledger: Any) -> dt.date:
    """The day a sale ends the holding period under the lens: its settlement date when the pack counts to it."""
    if ledger.holding.date == "settlement" and trade.settlement_date is not None:
        return trade.settlement_date
    return trade.date


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
                                                    "foreign_tax_credit": ZERO, "net_tax": ZERO,
                                                    "estimate_complete": True, "withholding_leakage": {}, "trades": 0})
            row["trades"] += 1
            if result.trade.side == "sell" and c.taxable:
                if c.gain > 0:
                    row["gains"] += c.gain
                else:
                    row["losses"] += c.gain
                row["disallowed_loss"] += c.disallowed_loss
                if c.estimated_tax is None or c.net_tax is None:
                    row["estimate_complete"] = False
                else:
                    row["estimated_tax"] += c.estimated_tax
                    row["foreign_tax_credit"] += c.foreign_tax_credit or ZERO
                    row["net_tax"] += c.net_tax
            for f in c.findings:
                if f.code == "withholding_leakage" and f.amount is not None:
                    currency = str(f.facts.get("currency", c.currency))
                    row["withholding_leakage"][currency] = row["withholding_leakage"].get(currency, ZERO) + f.amount
    rows = []
    for key in sorted(table):
        row = table[key]
        if not row["estimate_complete"]:
            row["estimated_tax"] = row["net_tax"] = None
        row["withholding_leakage"] = dict(sorted(row["withholding_leakage"].items()))
        rows.append(row)
    return rows
