"""Human formats of the reclaim report (`taxpack reclaim`): a terminal table, Markdown and CSV.

All read the JSON form (`consequences.reclaims.report_json`), so every format says the same.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from taxpack.engine.core.csv_safe import csv_safe_row

CSV_COLUMNS = ["dividend", "date", "account", "security", "owner", "resident_of", "source_country", "currency", "gross", "withheld",
               "allowed_rate", "basis", "reclaimable", "deadline", "form", "authority", "expired", "no_route", "lost", "lost_reason", "creditable"]


def _rate(value: str | None) -> str:
    if value is None:
        return "?"
    from decimal import Decimal

    return format((Decimal(value) * 100).normalize(), "f") + "%"


def render_table(data: dict[str, Any]) -> str:
    out = [f"Dividend withholding as of {data['as_of']}: what can be reclaimed, by when, and what is lost"]
    if not data["countries"]:
        out.append("")
        out.append("No dividend from abroad." + (f" ({data['domestic_dividends']} from the country of residence.)" if data["domestic_dividends"] else ""))
        return "\n".join(out) + "\n"
    for total in data["countries"]:
        out.append("")
        out.append(f"{total['source_country']} ({total['currency']}): {total['dividends']} dividend{'s' if total['dividends'] != 1 else ''}, "
                   f"gross {total['gross']}, withheld {total['withheld']}")
        if total["reclaimable"] != "0.00":
            out.append(f"  reclaimable {total['reclaimable']}: {total['form']}, {total['authority']}; first deadline {total['next_deadline']}")
        for key, words in (("expired", "lost, deadline passed"), ("no_route", "above the treaty rate, no reclaim route in the pack"),
                           ("lost", "lost for good (not creditable at home)"), ("creditable", "creditable at home")):
            if total[key] != "0.00":
                out.append(f"  {words}: {total[key]}")
        for line in (d for d in data["dividends"] if d["source_country"] == total["source_country"] and d["currency"] == total["currency"]):
            text = (f"    {line['date']} {line['security']} in {line['account']}: gross {line['gross']}, withheld {line['withheld']}, "
                    f"allowed {_rate(line['allowed_rate'])} ({line['basis']})")
            if line["reclaimable"] != "0.00":
                text += f"; reclaim {line['reclaimable']} by {line['deadline']}"
            if line["expired"] != "0.00":
                text += f"; {line['expired']} lost (deadline {line['deadline']} passed)"
            if line["no_route"] != "0.00":
                text += f"; {line['no_route']} above the allowed rate, no route"
            if line["lost"] != "0.00":
                text += f"; {line['lost']} lost: {line['lost_reason']}"
            out.append(text)
            for finding in line["findings"]:
                if finding["caveat"]:
                    out.append(f"      caveat ({finding['rule']}): {finding['caveat']}")
    if data["domestic_dividends"]:
        out.append("")
        out.append(f"{data['domestic_dividends']} dividend{'s' if data['domestic_dividends'] != 1 else ''} from the country of residence (nothing withheld abroad).")
    return "\n".join(out) + "\n"


def render_markdown(data: dict[str, Any]) -> str:
    out = [f"# Dividend withholding as of {data['as_of']}", "",
           "| source | currency | dividends | gross | withheld | reclaimable | first deadline | how | lost | creditable |",
           "|---|---|---:|---:|---:|---:|---|---|---:|---:|"]
    for t in data["countries"]:
        how = f"{t['form']}, {t['authority']}" if t["form"] else "-"
        lost = _dec_sum(t["expired"], t["no_route"], t["lost"])
        out.append(f"| {t['source_country']} | {t['currency']} | {t['dividends']} | {t['gross']} | {t['withheld']} | {t['reclaimable']} | "
                   f"{t['next_deadline'] or '-'} | {how} | {lost} | {t['creditable']} |")
    out += ["", "| date | security | account | gross | withheld | allowed | reclaim | deadline | lost | why lost |",
            "|---|---|---|---:|---:|---:|---:|---|---:|---|"]
    for d in data["dividends"]:
        lost = _dec_sum(d["expired"], d["no_route"], d["lost"])
        why = d["lost_reason"] or ("deadline passed" if d["expired"] != "0.00" else ("no route" if d["no_route"] != "0.00" else ""))
        out.append(f"| {d['date']} | {d['security']} | {d['account']} | {d['gross']} | {d['withheld']} | {_rate(d['allowed_rate'])} | "
                   f"{d['reclaimable']} | {d['deadline'] or '-'} | {lost} | {why} |")
    return "\n".join(out) + "\n"


def render_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in data["dividends"]:
        row = {**d, "dividend": d["id"]}
        writer.writerow(csv_safe_row(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS]))  # no formula can start a cell
    return buffer.getvalue()


def _dec_sum(*values: str) -> str:
    from decimal import Decimal

    return format(sum((Decimal(v) for v in values), Decimal(0)), "f")
