"""The decision record: `taxpack check --format html`, one self-contained HTML file to file for the audit
trail and foreign-tax-credit claims.

It holds the scenario's digest (the SHA-256 of every input file, as the audit record of `--record`
computes them, and of the JSON output), the packs with versions and hashes, the household's tax, every
trade with its lots and exchange rates, its consequences per country, the credits between countries,
the findings with their citations and links, the caveats (each once, numbered, the findings pointing to
them), the timing advice and the repurchase horizon; and, given `taxpack plan ... --format json`
(`--plan`), the plan against the naive plan with the plan's plot (`--plan-plot`, embedded as a data: URI).

The page is rendered from `templates/decision_record.html.j2` (Jinja2, every value escaped); it needs
nothing but itself: the style is inline, there is no script, no font or image to fetch. Same inputs,
same bytes: nothing in it depends on the time or the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import quote

import attrs

from taxpack.engine.core.documents import display_path, load_yaml
from taxpack.engine.core.errors import ParseError, SchemaError, Span
from taxpack.engine.report.check_table import (
    BASIS,
    CREDIT_CODES,
    amount,
    cents,
    horizon_lines,
    is_zero,
    lens_of,
    loss_outcome,
    loss_rule_finding,
    timing_line,
    trade_title,
)
from taxpack.engine.report.record import file_sha256

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "decision_record.html.j2"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PLOT_BYTES = 20 * 1024 * 1024
# What the record reads of a plan (the keys `taxpack plan --format json` always writes).
PLAN_KEYS = {"kind": str, "currency": str, "trades": list, "tax": dict, "naive": dict, "saving": str, "solver": dict}
KIND_WORDS = {str: "a string", list: "a list", dict: "an object"}


@attrs.frozen
class PlanInput:
    """A plan read for the record: its file, hash and JSON, and the plot's data: URI if one was given."""

    path: str
    sha256: str
    data: Mapping[str, Any]
    plot_path: str | None = None
    plot_sha256: str | None = None
    plot_uri: str | None = None


def read_plan(path: Path, plot: Path | None = None) -> PlanInput:
    """The output of `taxpack plan --format json` (and its `--plot` PNG); a wrong file is an input error
    with its place (exit 3)."""
    shown = display_path(path)
    document = load_yaml(path, shown)
    data = document.data
    if not isinstance(data, dict):
        raise SchemaError("a plan is a JSON object", document.span(()), "the output of `taxpack plan ... --format json`")
    for key, kind in PLAN_KEYS.items():
        if key not in data:
            raise SchemaError(f"the plan has no '{key}'", document.span(()), "the output of `taxpack plan ... --format json`")
        if not isinstance(data[key], kind):
            raise SchemaError(f"'{key}' is not {KIND_WORDS[kind]}", document.span((key,)),
                              "the output of `taxpack plan ... --format json`")
    for key in ("tax", "naive"):
        tax = data[key] if key == "tax" else data[key].get("tax")
        if not isinstance(tax, dict) or "total" not in tax:
            where = (key,) if key == "tax" else (key, "tax")
            raise SchemaError(f"'{'/'.join(where)}' has no 'total'", document.span(where), "the output of `taxpack plan ... --format json`")
    plan = PlanInput(shown, file_sha256(path), data)
    if plot is None:
        return plan
    plot_shown = display_path(plot)
    raw = _read_plot(Path(plot), plot_shown)
    if not raw.startswith(PNG_SIGNATURE):
        raise ParseError("is not a PNG image", Span(plot_shown), "the PNG that `taxpack plan --plot FILE.png` writes")
    uri = "data:image/png;base64," + base64.b64encode(raw).decode("ascii")
    return attrs.evolve(plan, plot_path=plot_shown, plot_sha256=hashlib.sha256(raw).hexdigest(), plot_uri=uri)


def _read_plot(path: Path, shown: str) -> bytes:
    """The plot's bytes: a regular file of at most MAX_PLOT_BYTES (exit 3 otherwise)."""
    expected = "the PNG that `taxpack plan --plot FILE.png` writes"
    try:
        if not path.is_file():
            raise ParseError("is not a file" if path.exists() else "no such file", Span(shown), expected)
        if path.stat().st_size > MAX_PLOT_BYTES:
            raise ParseError(f"the file is larger than the {MAX_PLOT_BYTES // (1024 * 1024)} MiB a plot may have", Span(shown), expected)
        return path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read the file: {error.strerror}", Span(shown), expected) from None


def output_sha256(data: Mapping[str, Any]) -> str:
    """The JSON output's hash, computed as the audit record's `output_sha256` (report/record.py)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def link(url: str | None) -> str | None:
    """An http(s) address fit for an href (spaces and other unsafe characters escaped), else None."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%-._~")


class _Caveats:
    """Each caveat once, numbered in order of first use; `mark` gives its number."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.used_by: dict[int, list[tuple[str, str]]] = {}

    def mark(self, text: str | None, anchor: str, label: str) -> int | None:
        if not text:
            return None
        n = self.numbers.setdefault(text, len(self.numbers) + 1)
        users = self.used_by.setdefault(n, [])
        if (anchor, label) not in users:
            users.append((anchor, label))
        return n

    def items(self) -> list[dict[str, Any]]:
        return [{"n": n, "text": text, "used_by": self.used_by.get(n, [])} for text, n in self.numbers.items()]


def _finding(f: Mapping[str, Any], caveats: _Caveats, anchor: str, label: str) -> dict[str, Any]:
    facts = {k: v for k, v in (f.get("facts") or {}).items() if k != "replacements"}
    return {
        **f,
        "link": link(f.get("url")),
        "caveat_n": caveats.mark(f.get("caveat"), anchor, label),
        "facts_shown": [(k, _show(v)) for k, v in sorted(facts.items())] if not f.get("conditions") else [],
        "conditions_shown": [{"fact": c.get("fact"), "op": c.get("op"), "expected": _show(c.get("expected")), "actual": _show(c.get("actual")),
                              "held": bool(c.get("held"))} for c in f.get("conditions") or []],
        "replacements": (f.get("facts") or {}).get("replacements") or [],
    }


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in sorted(value.items())) + "}"
    if value is True or value is False:
        return str(value).lower()
    return "null" if value is None else str(value)


def _trades(data: Mapping[str, Any], caveats: _Caveats) -> list[dict[str, Any]]:
    base = data["summary"]["household"].get("currency", "")
    out = []
    for i, trade in enumerate(data["trades"], 1):
        anchor = f"trade-{i}"
        lenses = []
        for c in trade["consequences"]:
            label = f"{trade['id']} {c['jurisdiction']}"
            rule = loss_rule_finding(c)
            findings = [_finding(f, caveats, anchor, label) for f in c["findings"]]
            lenses.append({
                **c,
                "basis_word": BASIS.get(c["basis"], c["basis"]),
                "loss_rule": (next(x for x, f in zip(findings, c["findings"]) if f is rule) if rule is not None else None),
                "loss_outcome": loss_outcome(rule) if rule is not None else "",
                "credits": [x for x, f in zip(findings, c["findings"]) if f["code"] in CREDIT_CODES],
                "others": [x for x, f in zip(findings, c["findings"]) if f is not rule and f["code"] not in CREDIT_CODES],
                "year": lens_of(data, trade, c) if trade["side"] == "sell" else None,
                "rates": [{"lot": lot["lot"], **r} for lot in c["lots"] for r in lot["rates"]],
            })
        advice = [timing_line(a, trade["date"], base) for a in trade.get("timing") or []]
        out.append({
            **trade,
            "anchor": anchor,
            "title": trade_title(trade),
            "lenses": lenses,
            "advice": advice,
            "horizons": horizon_lines(trade.get("repurchase_horizon") or []),
            "not_taxed": [{**n, "citation": n.get("citation")} for n in trade.get("not_taxed_by") or []],
        })
    return out


def _plan(plan: PlanInput | None, data: Mapping[str, Any]) -> dict[str, Any] | None:
    if plan is None:
        return None
    p = plan.data
    lenses: dict[tuple[str, str], dict[str, Any]] = {}
    for name, tax in (("plan", p["tax"]), ("naive", p["naive"].get("tax") or {})):
        for row in tax.get("by_lens") or []:
            key = (str(row.get("lens", "")), str(row.get("taxpayer", "")))
            lenses.setdefault(key, {"lens": key[0].upper(), "taxpayer": key[1]})[name] = row.get("tax")
    check_packs = {(x["id"], x["version"], x["sha256"]) for x in data["packs"]}
    plan_packs = {(x.get("id"), x.get("version"), x.get("sha256")) for x in p.get("packs") or [] if isinstance(x, dict)}
    return {
        "input": plan,
        "data": p,
        "by_lens": [lenses[k] for k in sorted(lenses)],
        "same_scenario": p.get("scenario") in (None, data["scenario"]),
        "same_packs": not plan_packs or plan_packs == check_packs,
        "lots": {t.get("id"): ", ".join(f"{lot.get('transaction')}: {lot.get('quantity')}" for lot in t.get("lots") or [])
                 for t in p["trades"] if isinstance(t, dict)},
    }


def render_html(data: Mapping[str, Any], inputs: Sequence[Path], fx_rates: Path | str | None = None, plan: PlanInput | None = None) -> str:
    """The decision record of a check (`data`: its JSON form) made from `inputs` (and the scenario's FX file)."""
    import jinja2

    files = [{"path": display_path(p), "sha256": file_sha256(p)} for p in inputs]
    if fx_rates:
        files.append({"path": display_path(fx_rates), "sha256": file_sha256(fx_rates)})
    caveats = _Caveats()
    trades = _trades(data, caveats)
    household = data["summary"]["household"]
    findings = [f for t in data["trades"] for c in t["consequences"] for f in c["findings"]]
    worst = max((f["severity"] for f in findings), key=lambda s: {"info": 0, "warning": 1, "blocking": 2}[s], default="none")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["amount"] = amount
    env.filters["zero"] = is_zero
    env.filters["cents"] = lambda v: amount(cents(v))
    return env.get_template(TEMPLATE).render(
        data=data, files=files, output_sha256=output_sha256(data), household=household, trades=trades,
        caveats=caveats.items(), worst=worst, plan=_plan(plan, data), link=link,
        counts={s: sum(1 for f in findings if f["severity"] == s) for s in ("blocking", "warning", "info")},
    )
