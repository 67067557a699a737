"""Every broker format `taxpack import` reads, by the name given on the command line.

Adding a format is a new module in this package that defines `IMPORTER`, and its line here;
tests/imports/test_formats.py fails when a module is not listed.
"""

from __future__ import annotations

from taxpack.engine.inputs.importers import degiro, ibkr_flex_csv, ibkr_flex_xml, questrade, schwab
from taxpack.engine.inputs.importers.statement import Importer

FORMATS: dict[str, Importer] = {
    importer.name: importer
    for importer in (ibkr_flex_xml.IMPORTER, ibkr_flex_csv.IMPORTER, schwab.IMPORTER, questrade.IMPORTER, degiro.IMPORTER)
}
