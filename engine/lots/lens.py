"""Which jurisdictions tax a trade: each one is a *lens* on it.

A sale is taxed by the seller's country of residence on the trade date, by every country of
citizenship whose pack taxes citizens abroad (the US), and by the account's or the security's country
only where that pack taxes non-residents on such gains (for listed shares, mostly not). Each lens
computes the same trade in its own currency, with its own lots and rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator, Literal

import attrs

from taxpack.engine.core.household import Account, Scenario, Security, Taxpayer, Transaction
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.sections import Scope

Basis = Literal["residence", "citizenship", "source"]


@attrs.frozen
class Lens:
    """One jurisdiction looking at one trade, and why it looks."""

    jurisdiction: str
    pack: Pack
    basis: str


@attrs.frozen
class LensNote:
    """A jurisdiction that was considered and does not tax the trade (or has no pack), with the reason."""

    jurisdiction: str
    reason: str
    citation: str = ""
    rule: str = ""
    severity: str = "info"


def lenses_for(trade: Transaction, scenario: Scenario, packs: PackSet) -> tuple[list[Lens], list[LensNote]]:
    """The lenses on `trade` in a stable order (residence, citizenships, source), and the notes."""
    account: Account = scenario.account(trade.account)
    taxpayer: Taxpayer = scenario.taxpayer(account.owner)
    security: Security = scenario.security(trade.security)
    lenses: list[Lens] = []
    notes: list[LensNote] = []
    seen: set[str] = set()
    residence = taxpayer.residence_on(trade.date)

    pack = packs.get(residence)
    if pack is None:
        notes.append(LensNote(residence, f"no pack for {residence}, the taxpayer's residence on {trade.date}: this lens is not computed", severity="warning"))
    else:
        lenses.append(Lens(residence, pack, "residence"))
    seen.add(residence)

    for country, pack, scope in _new_countries(sorted(taxpayer.citizenship), seen, packs):
        if scope is not None and scope.citizens:
            lenses.append(Lens(country, pack, "citizenship"))

    if trade.side == "sell":
        for country, pack, scope in _new_countries(sorted({account.country, security.country}), seen, packs):
            if scope is not None and scope.non_resident_gains:
                lenses.append(Lens(country, pack, "source"))
            else:
                sid = (scope.non_resident_gains_source or scope.source) if scope is not None else None
                notes.append(LensNote(country, f"{country} does not tax a non-resident's gain on this sale", pack.citation(sid), f"{pack.id}.scope"))
    return lenses, notes


def _new_countries(countries: list[str], seen: set[str], packs: PackSet) -> Iterator[tuple[str, Pack, Scope | None]]:
    """Countries not looked at yet that have a pack, with the pack's `scope` section."""
    for country in countries:
        if country in seen:
            continue
        seen.add(country)
        pack = packs.get(country)
        if pack is not None:
            yield country, pack, pack.sections.scope


def household_jurisdictions(scenario: Scenario, packs: PackSet) -> list[Pack]:
    """Every pack that is a lens on some trade or transaction of the household, sorted by id.

    Lenses depend on the owner's residences (now and after planned moves), citizenships, and the
    account's and security's countries, so each distinct combination is looked at once.
    """
    found: dict[str, Pack] = {}
    seen: set[tuple[str, str, dt.date | None]] = set()
    moving = {a.id: bool(scenario.taxpayer(a.owner).residence_changes) for a in scenario.accounts}  # the owner moves
    for tx in list(scenario.transactions) + list(scenario.trades):
        key = (tx.account, tx.security, tx.date if moving[tx.account] else None)
        if key in seen:
            continue
        seen.add(key)
        # A buy is never taxed, but a later sale of it is seen through the same lenses.
        for lens in lenses_for(attrs.evolve(tx, side="sell"), scenario, packs)[0]:
            found[lens.pack.id] = lens.pack
    return [found[k] for k in sorted(found)]

