"""Maintainer helper: writes schemas/scenario.schema.json and schemas/targets.schema.json from these readable
dicts (see docs/scenario-format.md and docs/planning.md). Edit here and run it; never edit the JSON by hand."""
import json
from pathlib import Path

# Numbers written as text obey the limits of every number taxpack reads (engine/core/limits.py): at most
# 15 digits before the decimal point and 20 after it.
WHOLE = r"\d{1,15}"
FRACTION = r"(\.\d{1,20})?"

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "a date, YYYY-MM-DD"}
COUNTRY = {"type": "string", "pattern": r"^[A-Z]{2}$", "description": "an ISO 3166-1 alpha-2 country code, e.g. CA"}
CURRENCY = {"type": "string", "pattern": r"^[A-Z]{3}$", "description": "an ISO 4217 currency code, e.g. USD"}
ID = {"type": "string", "minLength": 1, "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", "description": "an id: letters, digits, _ . : -"}
AMOUNT = {"type": "number", "description": "a decimal number (written without quotes, or as a quoted decimal string)"}
AMOUNT_OR_TEXT = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": rf"^-?{WHOLE}{FRACTION}$"}], "description": "a decimal number"}
POSITIVE = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": rf"^{WHOLE}{FRACTION}$"}], "description": "a positive decimal number"}
NONNEG = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": rf"^{WHOLE}{FRACTION}$"}], "description": "a decimal number, 0 or more"}
# A rate is a fraction: 43.41% is written 0.4341. A marginal rate of 7 (700%) or -0.4 is a mistake, said at its place.
RATE = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string", "pattern": r"^(0(\.\d{1,20})?|1(\.0{1,20})?)$"}],
        "description": "a rate between 0 and 1: 43.41% is written 0.4341"}

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
        "pool": {**ID, "description": "a separate cost pool (the id of an entry of cost_pools) the units go into or come from"},
    },
}
SIGNED = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": rf"^-?{WHOLE}{FRACTION}$"}], "description": "a decimal number, may be negative"}
RATIO = {"type": "object", "required": ["new", "old"], "additionalProperties": False,
         "description": "new units for every old unit: a 4-for-1 split is {new: 4, old: 1}, a 1-for-10 consolidation {new: 1, old: 10}",
         "properties": {"new": POSITIVE, "old": POSITIVE}}
DIVIDEND = {
    "type": "object",
    "required": ["id", "account", "security", "date", "gross"],
    "additionalProperties": False,
    "properties": {
        "id": ID, "account": ID, "security": ID,
        "date": {**DATE, "description": "the payment date, YYYY-MM-DD"},
        "gross": {**NONNEG, "description": "the dividend before tax, in currency"},
        "withheld": {**SIGNED, "description": "tax withheld at source, in currency (positive; a refund booked later is negative)"},
        "currency": CURRENCY,
        "source_country": {**COUNTRY, "description": "the country that withheld the tax (default: the security's country)"},
        "kind": {"enum": ["dividend", "in_lieu"], "description": "dividend, or a payment in lieu of a dividend (shares on loan)"},
        "ex_date": DATE,
        "note": {"type": "string"},
    },
}
CORPORATE_ACTION = {
    "type": "object",
    "required": ["id", "type", "security", "date"],
    "additionalProperties": False,
    "description": "an event of the issuer: split, identifier_change, merger, spin_off, return_of_capital, stock_dividend (docs/scenario-format.md)",
    "properties": {
        "id": ID,
        "type": {"enum": ["split", "identifier_change", "merger", "spin_off", "return_of_capital", "stock_dividend"]},
        "security": ID, "date": {**DATE, "description": "the effective date, YYYY-MM-DD"},
        "account": {**ID, "description": "only this account (default: every account holding the security)"},
        "new_security": {**ID, "description": "the security received (identifier_change, merger, spin_off; a split that also changes the ISIN)"},
        "ratio": RATIO,
        "added": {**POSITIVE, "description": "split: the units the account received, when the ratio is not given"},
        "cash": {**NONNEG, "description": "merger: cash received besides the new shares (boot), total for the account"},
        "cash_in_lieu": {**NONNEG, "description": "cash paid for a fraction of a new unit, total for the account"},
        "amount": {**NONNEG, "description": "return_of_capital: total for the account; stock_dividend: the amount per new share (the increase of paid-up capital, CA s.248(1))"},
        "amount_per_share": {**NONNEG, "description": "return_of_capital per unit held"},
        "fmv_old": {**NONNEG, "description": "spin_off: value of one old unit right after the distribution"},
        "fmv_new": {**NONNEG, "description": "spin_off: value of one new unit right after the distribution; merger with cash: value of one new unit on the exchange date"},
        "cost_fraction": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string", "pattern": r"^(0(\.\d{1,20})?|1(\.0{1,20})?)$"}],
                          "description": "spin_off: share of the old cost that moves to the new units, as the issuer states it (e.g. Form 8937)"},
        "elected": {"type": "boolean", "description": "spin_off: the holder made the election the law requires for deferral (CA s.86.1)"},
        "currency": CURRENCY,
        "note": {"type": "string"},
    },
}
COST_ADJUSTMENT = {
    "type": "object",
    "required": ["id", "account", "security", "date", "amount", "reason"],
    "additionalProperties": False,
    "properties": {
        "id": ID, "account": ID, "security": ID, "date": DATE,
        "amount": {**SIGNED, "description": "added to the cost (negative: reduces it), in currency"},
        "reason": {"type": "string", "minLength": 1, "description": "why, e.g. 'T3 2025 box 42 return of capital'"},
        "currency": CURRENCY,
        "jurisdictions": {"type": "array", "items": COUNTRY, "description": "only under these lenses (default: every lens)"},
    },
}
COST_POOL = {
    "type": "object",
    "required": ["id", "account", "security", "reason"],
    "additionalProperties": False,
    "properties": {
        "id": ID, "account": ID, "security": ID,
        "reason": {"type": "string", "pattern": r"^[a-z0-9_]+$", "description": "why the law keeps these units apart, a reason the pack knows (employee_option)"},
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
        "base_currency": {**CURRENCY, "description": "the currency of the household's totals (default: that of the first taxpayer's country)"},
        "taxpayers": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "residence"], "additionalProperties": False, "properties": {
                "id": ID, "residence": COUNTRY,
                "citizenship": {"type": "array", "items": COUNTRY},
                "filing_status": {"enum": ["single", "married_joint", "married_separate", "head_of_household"]},
                "spouse": ID,
                "other_income": {"type": "object", "propertyNames": {"pattern": r"^[A-Z]{2}$"}, "additionalProperties": AMOUNT_OR_TEXT,
                                 "description": "taxable income other than these trades, per jurisdiction, in that pack's currency"},
                "marginal_rate": {"type": "object", "propertyNames": {"pattern": r"^[A-Z]{2}$"}, "additionalProperties": RATE,
                                  "description": "the taxpayer's marginal rate per jurisdiction, e.g. {CA: 0.4341}"},
                "resident_since": DATE,
                "residence_changes": {"type": "array", "items": {"type": "object", "required": ["date", "to"], "additionalProperties": False,
                                                                 "properties": {"date": DATE, "to": COUNTRY}}},
                "carry_forward": {"type": "object", "propertyNames": {"pattern": r"^[A-Z]{2}$"}, "additionalProperties": {
                    "type": "array", "items": {"type": "object", "required": ["basket", "amount", "year"], "additionalProperties": False, "properties": {
                        "basket": {"type": "string", "description": "a basket of that pack's `year` section (e.g. short, long; all)"},
                        "amount": {**AMOUNT_OR_TEXT, "description": "the loss still to use, a positive amount in that pack's currency"},
                        "year": {"type": "integer", "minimum": 1900, "maximum": 2200, "description": "the tax year the loss arose in"},
                        "original": {**AMOUNT_OR_TEXT, "description": "the loss as it arose, when a pack caps each year's use at a share of it (PL: 50% a year)"}}}},
                    "description": "losses carried in from earlier years, per jurisdiction (docs/scenario-format.md)"},
                "realised": {"type": "object", "propertyNames": {"pattern": r"^[A-Z]{2}$"}, "additionalProperties": {
                    "type": "object", "additionalProperties": AMOUNT_OR_TEXT},
                    "description": "gains (+) and losses (-) already realised this tax year outside the scenario, per jurisdiction and basket"},
                "next_year_income": {"type": "object", "propertyNames": {"pattern": r"^[A-Z]{2}$"}, "additionalProperties": AMOUNT_OR_TEXT,
                                     "description": "other taxable income expected next year, per jurisdiction (for 'sell on 1 January' advice)"},
            }}},
        "accounts": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "owner", "country", "currency"], "additionalProperties": False, "properties": {
                "id": ID, "owner": ID, "country": COUNTRY, "currency": CURRENCY,
                "wrapper": {"type": "string", "pattern": r"^[a-z0-9_]+$", "description": "taxable, or a wrapper a pack defines (ira, roth_ira, rrsp, tfsa, pea...)"},
            }}},
        "securities": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "currency", "country"], "additionalProperties": False, "properties": {
                "id": ID, "currency": CURRENCY, "country": COUNTRY,
                "kind": {"enum": ["share", "etf", "fund", "bond", "crypto"]},
                "fund_kind": {"enum": ["equity", "mixed", "real_estate", "foreign_real_estate", "bond", "money_market", "other"],
                              "description": "what a fund or ETF invests in (DE InvStG: equity fund > 50% equities, mixed fund >= 25%; real_estate; foreign_real_estate)"},
                "pfic_election": {"enum": ["qef", "mark_to_market", "none"],
                                  "description": "for a US person holding a non-US fund (a PFIC): the election made for it (default: none, the excess-distribution regime of §1291)"},
                "identity_group": ID, "listed": {"type": "boolean"}, "fractional": {"type": "boolean"},
                "dividend_yield": {**RATE, "description": "annual dividend yield, a rate between 0 and 1, e.g. 0.015"},
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
        "dividends": {"description": "dividends received and the tax withheld: a list, or a YAML file holding the list, relative to this file",
                      "anyOf": [{"type": "array", "items": DIVIDEND}, {"type": "string", "minLength": 1}]},
        "corporate_actions": {"type": "array", "items": CORPORATE_ACTION},
        "cost_adjustments": {"type": "array", "items": COST_ADJUSTMENT},
        "cost_pools": {"type": "array", "items": COST_POOL},
        "fx": {"type": "object", "additionalProperties": False, "properties": {"rates": {
            "type": "string", "minLength": 1, "description": "a CSV file date,currency,quote,rate, relative to this file, in its folder (or one given with --data-dir)"}}},
        "prices": {"type": "array", "description": "optional market prices (fair market value): for `taxpack exit` (docs/residency.md) and for the yearly taxes on funds, which need each fund's price on the last trading day of every year held (or on 1 January) and on deemed-disposal dates (docs/scenario-format.md)",
                   "items": {"type": "object", "required": ["security", "date", "price", "currency"], "additionalProperties": False, "properties": {
                       "security": ID, "date": DATE, "price": NONNEG, "currency": CURRENCY}}},
    },
}

TARGET_ID = {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]*$", "description": "an id: letters, digits, _ . : -"}
TARGETS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://taxpack.dev/schemas/targets.schema.json",
    "title": "taxpack plan targets, format 1",
    "description": "Household target weights, drift band, cash per account, gain budget, do-not-sell and restricted lists for `taxpack plan`. See docs/planning.md.",
    "type": "object",
    "required": ["taxpack", "targets"],
    "additionalProperties": False,
    "$defs": {
        "id": TARGET_ID,
        "decimal": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": rf"^-?{WHOLE}{FRACTION}$"}], "description": "a decimal number"},
        "nonneg": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": rf"^{WHOLE}{FRACTION}$"}], "description": "a decimal number, 0 or more"},
        "positive": {"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                               {"type": "string", "pattern": r"^(?!0*(\.0*)?$)\d{1,15}(\.\d{1,20})?$"}],
                     "description": "a positive decimal number"},
        "weight": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string", "pattern": r"^(0(\.\d{1,20})?|1(\.0{1,20})?)$"}],
                   "description": "a weight between 0 and 1"},
        "holding": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]*(@[A-Za-z0-9][A-Za-z0-9_.:-]*)?$", "description": "SECURITY or SECURITY@ACCOUNT"},
    },
    "properties": {
        "taxpack": {"const": 1, "description": "the targets format version"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "the household's reference currency (default: the first taxpayer's residence pack currency)"},
        "band": {"$ref": "#/$defs/weight", "description": "the drift band: each target's weight may end this far (absolute, e.g. 0.02 = 2 points) from its target"},
        "targets": {
            "type": "array",
            "minItems": 1,
            "description": "target weights of the household's invested value, by security or by group of interchangeable securities; they add up to 1",
            "items": {
                "type": "object",
                "required": ["weight"],
                "additionalProperties": False,
                "oneOf": [{"required": ["security"]}, {"required": ["group"]}],
                "properties": {
                    "security": {"$ref": "#/$defs/id"},
                    "group": {"$ref": "#/$defs/id", "description": "an identity group of the scenario, or a name for `members`"},
                    "members": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/id"},
                                "description": "the securities of the group (default: the scenario's identity group of that id)"},
                    "weight": {"$ref": "#/$defs/weight"},
                },
            },
        },
        "prices": {"type": "object", "additionalProperties": {"$ref": "#/$defs/positive"},
                   "description": "today's price per security, in the security's currency (default: the latest price in the scenario)"},
        "accounts": {
            "type": "object",
            "description": "cash per account, in the account's currency",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "invest": {"$ref": "#/$defs/nonneg", "description": "cash in the account to invest"},
                    "raise": {"$ref": "#/$defs/nonneg", "description": "cash to raise in the account (left as cash after the plan)"},
                },
            },
        },
        "gain_budget": {"type": "object", "additionalProperties": {"$ref": "#/$defs/decimal"},
                        "description": "per jurisdiction: the most net gain the plan may realise, in that lens's currency"},
        "do_not_sell": {"type": "array", "items": {"$ref": "#/$defs/holding"},
                        "description": "holdings the plan must not sell: SECURITY (every account) or SECURITY@ACCOUNT"},
        "restricted": {"type": "array", "items": {"$ref": "#/$defs/holding"}, "description": "securities the plan must not buy: SECURITY or SECURITY@ACCOUNT"},
        "leakage_years": {"$ref": "#/$defs/nonneg",
                          "description": "years of dividend withholding leakage counted against holding a security in a leaking account (default 1)"},
        "wash_sales": {"enum": ["avoid", "allow_if_worth_it"],
                       "description": "avoid: never trigger a loss rule; allow_if_worth_it (default): only when the plan is cheaper with it, and the plan says by how much"},
    },
}

if __name__ == "__main__":
    folder = Path(__file__).resolve().parent.parent / "schemas"
    for name, schema in (("scenario.schema.json", SCHEMA), ("targets.schema.json", TARGETS)):
        out = folder / name
        out.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
        print(out)
