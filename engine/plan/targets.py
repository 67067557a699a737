"""Planning targets: the weights a household wants, how far it may drift, and what it must not touch.

A target is a weight of the household's invested value, for one security or for a group of securities
the owner treats as interchangeable (one index, several funds). The drift band is how far each weight
may end from its target; cash to invest or raise is per account, because cash does not move between
accounts (a retirement account cannot pay for a purchase in a taxable one). See docs/planning.md.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import attrs

from taxpack.engine.core.documents import Document, load_yaml
from taxpack.engine.core.errors import ErrorList, SchemaError, SemanticError, Span, TaxpackError
from taxpack.engine.core.household import Scenario
from taxpack.engine.core.schemas import validate as schema_validate

ONE = Decimal(1)
ZERO = Decimal(0)
# Weights are decimals written by hand: they must add up to 1 within this tolerance (1e-6).
WEIGHT_TOLERANCE = Decimal("0.000001")


@attrs.frozen
class TargetGroup:
    """One target: its members (one security, or a group) and the weight they should reach together."""

    id: str
    members: tuple[str, ...]
    weight: Decimal
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class AccountCash:
    invest: Decimal = ZERO
    raise_: Decimal = ZERO


@attrs.frozen
class Targets:
    """Everything `taxpack plan` needs beyond the scenario."""

    groups: tuple[TargetGroup, ...] = ()
    band: Decimal = Decimal("0.02")
    currency: str | None = None
    prices: Mapping[str, Decimal] = attrs.field(factory=dict)
    cash: Mapping[str, AccountCash] = attrs.field(factory=dict)
    gain_budget: Mapping[str, Decimal] = attrs.field(factory=dict)
    do_not_sell: tuple[str, ...] = ()
    restricted: tuple[str, ...] = ()
    leakage_years: Decimal = ONE
    wash_sales: str = "allow_if_worth_it"
    source: str | None = None

    def group_of(self, security: str) -> TargetGroup | None:
        for group in self.groups:
            if security in group.members:
                return group
        return None

    def may_sell(self, security: str, account: str) -> bool:
        return security not in self.do_not_sell and f"{security}@{account}" not in self.do_not_sell

    def may_buy(self, security: str, account: str) -> bool:
        return security not in self.restricted and f"{security}@{account}" not in self.restricted

    def with_band(self, band: Decimal) -> "Targets":
        return attrs.evolve(self, band=band)


def _dec(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return Decimal(str(value))


def load_targets(path: Path | str, scenario: Scenario) -> Targets:
    """Read and check a targets file against the schema and the scenario; every error says where."""
    document = load_yaml(path)
    return build_targets(document, scenario)


def build_targets(document: Document, scenario: Scenario) -> Targets:
    if not isinstance(document.data, dict):
        raise ErrorList([SchemaError("the file is not a mapping of keys", document.span(), "a mapping with taxpack: 1 and targets: [...]")])
    errors: list[TaxpackError] = list(schema_validate(document, "targets"))
    if errors:
        raise ErrorList(errors)
    data = document.data
    securities = {s.id for s in scenario.securities}
    accounts = {a.id for a in scenario.accounts}
    groups: list[TargetGroup] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(data["targets"]):
        span = document.span(("targets", i))
        if "security" in raw:
            gid = str(raw["security"])
            members: tuple[str, ...] = (gid,)
        else:
            gid = str(raw["group"])
            if raw.get("members"):
                members = tuple(str(m) for m in raw["members"])
            else:
                members = tuple(sorted(s.id for s in scenario.securities if s.identity_group == gid))
                if not members:
                    errors.append(SemanticError(f"group '{gid}' is not an identity group of the scenario and has no members",
                                                span, "members: [SECURITY, ...] or the id of an identity group"))
        for member in members:
            if member not in securities:
                errors.append(SemanticError(f"security '{member}' is not in the scenario", span, "a security id of the scenario"))
            elif member in seen:
                errors.append(SemanticError(f"security '{member}' is in two targets ({seen[member]} and {gid})", span, "each security in one target"))
            else:
                seen[member] = gid
        groups.append(TargetGroup(gid, members, _dec(raw["weight"]), span))
    total = sum((g.weight for g in groups), ZERO)
    if abs(total - ONE) > WEIGHT_TOLERANCE:
        errors.append(SemanticError(f"the target weights add up to {total}, not 1", document.span(("targets",)), "weights that add up to 1"))
    prices = {}
    for sid, value in sorted((data.get("prices") or {}).items()):
        if sid not in securities:
            errors.append(SemanticError(f"price for '{sid}', which is not a security of the scenario", document.key_span(("prices", sid)), "a security id of the scenario"))
        prices[str(sid)] = _dec(value)
    cash = {}
    for aid, raw in sorted((data.get("accounts") or {}).items()):
        if aid not in accounts:
            errors.append(SemanticError(f"account '{aid}' is not in the scenario", document.key_span(("accounts", aid)), "an account id of the scenario"))
        cash[str(aid)] = AccountCash(_dec(raw.get("invest", 0)), _dec(raw.get("raise", 0)))
    for field in ("do_not_sell", "restricted"):
        for i, item in enumerate(data.get(field) or []):
            sid, _, aid = str(item).partition("@")
            if sid not in securities:
                errors.append(SemanticError(f"{field}: '{sid}' is not a security of the scenario", document.span((field, i)), "a security id of the scenario"))
            if aid and aid not in accounts:
                errors.append(SemanticError(f"{field}: '{aid}' is not an account of the scenario", document.span((field, i)), "an account id of the scenario"))
    if errors:
        raise ErrorList(errors)
    return Targets(
        groups=tuple(groups),
        band=_dec(data.get("band", "0.02")),
        currency=data.get("currency"),
        prices=prices,
        cash=cash,
        gain_budget={str(k): _dec(v) for k, v in sorted((data.get("gain_budget") or {}).items())},
        do_not_sell=tuple(str(x) for x in data.get("do_not_sell") or ()),
        restricted=tuple(str(x) for x in data.get("restricted") or ()),
        leakage_years=_dec(data.get("leakage_years", 1)),
        wash_sales=str(data.get("wash_sales", "allow_if_worth_it")),
        source=document.file,
    )
