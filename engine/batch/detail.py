"""How much of each household's result a batch line holds (`--detail`).

`full` is the household's whole `taxpack check --format json` (or `plan`) with every pack's stamp: about
38 kB a household. `summary`, the default, keeps what a platform acts on per household (about 2 kB):
per trade its id, net tax and, per jurisdiction, gain, net tax and disallowed loss with its findings'
codes by severity; the household's bill without the prose of its steps; the packs the line used,
each as `id@version+hash` once, with a digest of the whole pack set (whose full stamps go to the
`--summary` file). Errors are in full at both levels. See docs/batch.md.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping, Sequence

DETAILS = ("summary", "full")
DEFAULT_DETAIL = "summary"
SHORT_HASH = 12  # hex digits of a pack's sha256 in a summary line (48 bits: packs are told apart, not attacked)

# The keys of a trade's consequence (one jurisdiction's view of the trade) that a summary line keeps; its
# amounts are in that jurisdiction's currency (`summary.jurisdictions[].currency`).
CONSEQUENCE_KEYS = ("jurisdiction", "basis", "tax_year", "gain", "net_tax", "disallowed_loss")
# The prose of a lens's year (its computation, step by step), left to --detail full.
LENS_PROSE = ("steps",)
# The parts of a plan that a summary line leaves out: prose, the input's name (the line has its `source`),
# the version and the packs (the line has them once), the starting heuristic's cost. Its check keeps the
# household's bill and, per trade (the plan's sales, which `trades` lists), its net tax and finding codes;
# of the naive plan it compares itself with, the cost is kept and the trades are not.
PLAN_DROPPED = ("notes", "packs", "scenario", "taxpack", "heuristic")
# The prose of a loss rule a plan trips (`washes`): its citation, and why it was not avoided (from its cost).
WASH_PROSE = ("citation", "why")


def short_stamp(stamp: Mapping[str, str]) -> str:
    """A pack as `id@version+` the first hex digits of its sha256: `de@0.4.2+05cb4e25d0f4`."""
    return f"{stamp['id']}@{stamp['version']}+{stamp['sha256'][:SHORT_HASH]}"


def set_digest(stamps: Sequence[Mapping[str, str]]) -> str:
    """The first hex digits of the sha256 of every pack's stamp (sorted by id, as `PackSet.stamp` gives them):
    two runs with one pack changed (version or content) have different digests."""
    text = json.dumps(list(stamps), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SHORT_HASH]


def line_packs(stamps: Sequence[Mapping[str, str]], used: Iterable[str]) -> dict[str, Any]:
    """A summary line's `packs`: the digest of the run's pack set and the short stamps of the packs (by id) it used."""
    wanted = set(used)
    return {"set": set_digest(stamps), "used": [short_stamp(s) for s in stamps if s["id"] in wanted]}


def file_packs(stamps: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """The `--summary` file's `packs` at the summary level: the same digest, and every pack's full stamp."""
    return {"set": set_digest(stamps), "stamps": [dict(s) for s in stamps]}


def used_packs(check: Mapping[str, Any], pack_of: Mapping[str, str]) -> set[str]:
    """The ids of the packs a check's result names: its trades' consequences and findings (`id@version`), and
    the lenses of its household bill (`pack_of`: a jurisdiction's pack id)."""
    ids: set[str] = set()
    for trade in check.get("trades", ()):
        for consequence in trade.get("consequences", ()):
            for ref in [consequence.get("pack")] + [f.get("pack") for f in consequence.get("findings", ())]:
                if isinstance(ref, str):
                    ids.add(ref.split("@", 1)[0])
    household = (check.get("summary") or {}).get("household") or {}
    for lens in household.get("lenses", ()):
        pack = pack_of.get(lens.get("jurisdiction"))
        if pack is not None:
            ids.add(pack)
    return ids


def check_summary(check: Mapping[str, Any]) -> dict[str, Any]:
    """A check's result (`taxpack check --format json`) cut to its figures and codes."""
    summary = check.get("summary") or {}
    household = dict(summary.get("household") or {})
    if "lenses" in household:
        household["lenses"] = [{k: v for k, v in lens.items() if k not in LENS_PROSE} for lens in household["lenses"]]
    return {
        "as_of": check.get("as_of"),
        "exit_code": check.get("exit_code"),
        "summary": {"household": household, "jurisdictions": summary.get("jurisdictions", [])},
        "trades": [_trade(t) for t in check.get("trades", ())],
    }


def _trade(trade: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": trade.get("id"),
        "taxpayer": trade.get("taxpayer"),
        "net_tax": trade.get("net_tax"),
        "consequences": [{**{k: c.get(k) for k in CONSEQUENCE_KEYS},
                          "findings": _by_severity(c.get("findings", ()), "code")}
                         for c in trade.get("consequences", ())],
        "not_taxed_by": _by_severity(trade.get("not_taxed_by", ()), "jurisdiction"),
    }


def _by_severity(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, list[str]]:
    """Each row's `key` (a finding's code, a note's jurisdiction) by severity, in the rows' order:
    {"info": ["fx_988", "uncertain_law"], "warning": ["wash_sale"]}."""
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(str(row.get("severity")), []).append(str(row.get(key)))
    return out


def _merged(parts: Iterable[Mapping[str, list[str]]]) -> dict[str, list[str]]:
    """Codes by severity of several consequences as one, each code once per severity, in first-seen order."""
    out: dict[str, list[str]] = {}
    for part in parts:
        for severity, codes in part.items():
            seen = out.setdefault(severity, [])
            for code in codes:
                if code not in seen:
                    seen.append(code)
    return out


def plan_summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """A plan's result (`taxpack plan --format json`) without its prose and packs, its check summarized."""
    out = {k: v for k, v in plan.items() if k not in PLAN_DROPPED}
    if isinstance(plan.get("check"), Mapping):
        check = check_summary(plan["check"])
        check["trades"] = [{"id": t["id"], "net_tax": t["net_tax"], "findings": _merged(c["findings"] for c in t["consequences"])}
                           for t in check["trades"]]
        out["check"] = check
    if isinstance(plan.get("naive"), Mapping):  # the naive plan's cost is the yardstick; its trades are --detail full's
        out["naive"] = {k: v for k, v in plan["naive"].items() if k != "trades"}
    if isinstance(plan.get("washes"), list):
        out["washes"] = [{k: v for k, v in w.items() if k not in WASH_PROSE} for w in plan["washes"]]
    return out


def plan_used_packs(plan: Mapping[str, Any], pack_of: Mapping[str, str]) -> set[str]:
    """The packs a plan's result names: those of its check, and its lenses' (`tax.by_lens[].lens`, a pack id)."""
    ids = used_packs(plan["check"], pack_of) if isinstance(plan.get("check"), Mapping) else set()
    for part in (plan, plan.get("naive") or {}, plan.get("heuristic") or {}):
        for lens in ((part.get("tax") or {}).get("by_lens") or ()):
            if isinstance(lens.get("lens"), str):
                ids.add(lens["lens"])
    return ids
