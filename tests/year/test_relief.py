"""Relief between countries: a US citizen resident in Canada (treaty art. XXIV(4), saving clause XXIX(2)).

Canada, the country of residence, taxes the gain and credits none of the US tax (a non-citizen would owe
the US nothing on Canadian shares); the US taxes its citizen and credits the Canadian tax up to its own
tax on that income, the NIIT excepted (no foreign tax credit reduces it). The figures are the research
example USCA-G-1, derived from the treaty text and IRC §1(h), §1411, §904 [D]: no published example
with numbers was found (IRS Pub. 514 and the Technical Explanation give none for a gain)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from taxpack.engine.consequences.check import run_check
from taxpack.engine.consequences.serialize import to_json_dict
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set

DATA = Path(__file__).parent / "data"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "household" / "scenario.yaml"


def test_us_credits_canadian_tax_up_to_its_own_tax_not_the_niit() -> None:
    result = run_check(load_scenario(DATA / "us_citizen_in_canada.yaml"), pack_set())
    (trade,) = result.trades
    by = {c.jurisdiction: c for c in trade.consequences}
    # Canada: 100,000 x 1/2 x 53.53% = 26,765.00; no credit for US tax (art. XXIV(4)(a)).
    assert by["CA"].estimated_tax == D("26765.0000")
    assert by["CA"].foreign_tax_credit == 0
    # US: 15% on 100,000 stacked on 200,000 of income = 15,000, plus NIIT 3.8% on 100,000 = 3,800.
    assert by["US"].estimated_tax == D("18800.000")
    # The credit: the Canadian tax (26,765 USD at par), limited to the US tax less the NIIT.
    assert by["US"].foreign_tax_credit == D("15000.000")
    assert by["US"].net_tax == D("3800.000")
    credit = [f for f in by["US"].findings if f.code == "foreign_tax_credit"]
    assert credit and credit[0].amount == D("15000.000") and "XXIV" in credit[0].message
    household = to_json_dict(result)["summary"]["household"]
    assert household["gross_tax"] == "45565.00" and household["credits"] == "15000.00" and household["net_tax"] == "30565.00"
    (us,) = [lens for lens in household["lenses"] if lens["jurisdiction"] == "US"]
    assert us["unused_foreign_tax"] == {"ca": "11765.00"}  # carried back 1 and forward 10 years (reported)


def test_the_bundled_example_household_pays_less_than_the_sum_of_its_lenses() -> None:
    data = to_json_dict(run_check(load_scenario(EXAMPLE), pack_set()))
    household = data["summary"]["household"]
    assert D(household["net_tax"]) < D(household["gross_tax"])
    (us,) = [lens for lens in household["lenses"] if lens["jurisdiction"] == "US"]
    assert us["net_tax"] == "0.00"  # the US tax on the year's gains is all credited against Canada's
    sap = next(t for t in data["trades"] if t["security"] == "SAP")
    us_sap = next(c for c in sap["consequences"] if c["jurisdiction"] == "US")
    credit = next(f for f in us_sap["findings"] if f["code"] == "foreign_tax_credit")
    # What the SAP sale adds to the US bill beyond the credit is the loss offset it takes away from the
    # MSFT sale before it (the US year then has a net gain, not a net loss deducted from income).
    assert D(us_sap["net_tax"]) == -D(next(c for c in next(t for t in data["trades"] if t["security"] == "MSFT")["consequences"]
                                        if c["jurisdiction"] == "US")["net_tax"])
    assert D(credit["amount"]) > 0


def test_two_lenses_without_relief_data_are_both_counted_with_a_caveat(tmp_path: Path) -> None:
    treaties = pack_set().get("treaties") or next(p for p in pack_set().packs if p.kind == "treaties")
    text = Path(treaties.path if treaties.path.endswith(".yaml") else Path(treaties.path) / "pack.yaml").read_text(encoding="utf-8")
    start = text.index("\nrelief:\n") + 1
    end = text.index("\ntreaties:\n")
    (tmp_path / "treaties").mkdir()
    (tmp_path / "treaties" / "pack.yaml").write_text(text[:start] + text[end + 1:], encoding="utf-8")
    us = pack_set().get("US")
    assert us is not None
    us_text = (Path(us.path) / "pack.yaml" if Path(us.path).is_dir() else Path(us.path)).read_text(encoding="utf-8")
    us_text = us_text.replace("    - {basis: residence, when: citizenship, source: us-ca-treaty-xxiv}\n", "")
    (tmp_path / "us").mkdir()
    (tmp_path / "us" / "pack.yaml").write_text(us_text, encoding="utf-8")
    packs = pack_set([tmp_path / "treaties", tmp_path / "us"])
    result = run_check(load_scenario(DATA / "us_citizen_in_canada.yaml"), packs)
    by = {c.jurisdiction: c for c in result.trades[0].consequences}
    assert by["US"].foreign_tax_credit == 0
    (finding,) = [f for f in by["US"].findings if f.code == "no_relief"]
    assert "both taxes are counted" in finding.message and finding.caveat
