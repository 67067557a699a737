"""Maintainer helper: writes schemas/scenario.schema.json from this readable dict (see docs/scenario-format.md)."""
import json
from pathlib import Path

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "a date, YYYY-MM-DD"}
COUNTRY = {"type": "string", "pattern": r"^[A-Z]{2}$", "description": "an ISO 3166-1 alpha-2 country code, e.g. CA"}
CURRENCY = {"type": "string", "pattern": r"^[A-Z]{3}$", "description": "an ISO 4217 currency code, e.g. USD"}
ID = {"type": "string", "minLength": 1, "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", "description": "an id: letters, digits, _ . : -"}
AMOUNT = {"type": "number", "description": "a decimal number (written without quotes, or as a quoted decimal string)"}
AMOUNT_OR_TEXT = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}], "description": "a decimal number"}
POSITIVE = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d+)?$"}], "description": "a positive decimal number"}
NONNEG = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d+)?$"}], "description": "a decimal number, 0 or more"}

LOTS = {
    "description": "a lot method (fifo, lifo, hifo, lofo, average) or a list of {transaction: ID, quantity: N} for specific identification",
    "anyOf": [
        {"enum": ["fifo", "lifo", "hifo", "lofo", "average"]},
        {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["transaction", "quantity"], "additionalProperties": False,
                                                   "properties": {"transaction": ID, "quantity": POSITIVE}}},
    ],
}
TRANSACTION = {
    "type": "object",
    "required": ["id", "account", "security", "date", "side", "quantity", "price"],
    "additionalProperties": False,
    "properties": {
        "id": ID, "account": ID, "security": ID, "date": DATE,
        "side": {"enum": ["buy", "sell"]},
        "quantity": POSITIVE, "price": NONNEG, "fees": NONNEG,
        "currency": CURRENCY, "settlement_date": DATE, "lots": LOTS,
        "in_kind": {"type": "boolean", "description": "a transfer in kind (e.g. a contribution of a position to a TFSA)"},
        "note": {"type": "string"},
    },
}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://taxpack.dev/schemas/scenario.schema.json",
    "title": "taxpack scenario, format 1",
    "description": "A household, its executed history and its candidate trades. See docs/scenario-format.md.",
    "type": "object",
    "required": ["taxpack", "as_of", "taxpayers", "accounts", "securities"],
    "additionalProperties": False,
    "properties": {
        "taxpack": {"const": 1, "description": "the scenario format version"},
        "id": ID,
        "as_of": DATE,
        "taxpayers": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "residence"], "additionalProperties": False, "properties": {
                "id": ID, "residence": COUNTRY,
                "citizenship": {"type": "array", "items": COUNTRY},
                "filing_status": {"enum": ["single", "married_joint", "married_separate", "head_of_household"]},
                "spouse": ID,
                "other_income": {"type": "object", "propertyNames": {"pattern": r"^[A-Z]{2}$"}, "additionalProperties": AMOUNT_OR_TEXT,
                                 "description": "taxable income other than these trades, per jurisdiction, in that pack's currency"},
                "marginal_rate": {"type": "object", "propertyNames": {"pattern": r"^[A-Z]{2}$"}, "additionalProperties": AMOUNT_OR_TEXT,
                                  "description": "the taxpayer's marginal rate per jurisdiction, e.g. {CA: 0.4341}"},
                "resident_since": DATE,
                "residence_changes": {"type": "array", "items": {"type": "object", "required": ["date", "to"], "additionalProperties": False,
                                                                 "properties": {"date": DATE, "to": COUNTRY}}},
            }}},
        "accounts": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "owner", "country", "currency"], "additionalProperties": False, "properties": {
                "id": ID, "owner": ID, "country": COUNTRY, "currency": CURRENCY,
                "wrapper": {"type": "string", "pattern": r"^[a-z0-9_]+$", "description": "taxable, or a wrapper a pack defines (ira, roth_ira, rrsp, tfsa, pea...)"},
            }}},
        "securities": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "currency", "country"], "additionalProperties": False, "properties": {
                "id": ID, "currency": CURRENCY, "country": COUNTRY,
                "kind": {"enum": ["share", "etf", "fund", "bond"]},
                "identity_group": ID, "listed": {"type": "boolean"}, "fractional": {"type": "boolean"},
                "dividend_yield": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string"}], "description": "annual dividend yield, e.g. 0.015"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "ex_dividend_dates": {"type": "array", "items": DATE, "description": "known upcoming ex-dividend dates (for holding-period rules such as US qualified dividends)"},
                "isin": {"type": "string"}, "name": {"type": "string"},
            }}},
        "identity_groups": {"type": "array", "items": {
            "type": "object", "required": ["id"], "additionalProperties": False, "properties": {
                "id": ID, "level": {"enum": ["identical", "substantially_identical"]},
                "confidence": {"enum": ["high", "medium", "low"]}, "note": {"type": "string"}}}},
        "transactions": {"type": "array", "items": TRANSACTION},
        "trades": {"type": "array", "items": TRANSACTION},
        "fx": {"type": "object", "additionalProperties": False, "properties": {"rates": {"type": "string", "description": "a CSV file date,currency,quote,rate, relative to this file"}}},
        "prices": {"type": "array", "description": "optional market prices (fair market value) for `taxpack exit`; see docs/residency.md",
                   "items": {"type": "object", "required": ["security", "date", "price", "currency"], "additionalProperties": False, "properties": {
                       "security": ID, "date": DATE, "price": NONNEG, "currency": CURRENCY}}},
    },
}

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "schemas" / "scenario.schema.json"
    out.write_text(json.dumps(SCHEMA, indent=2) + "\n", encoding="utf-8")
    print(out)
