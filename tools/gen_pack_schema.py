"""One-off helper kept for maintainers: writes schemas/pack.schema.json from this readable dict.

Edit the dict, run `python tools/gen_pack_schema.py`, commit both. tests/test_packaging.py checks they agree.
"""
import json
from pathlib import Path

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "a date, YYYY-MM-DD"}
ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_.-]*$", "description": "a lowercase id: letters, digits, _ . -"}
COUNTRY = {"type": "string", "pattern": r"^[A-Z]{2}$", "description": "an ISO 3166-1 alpha-2 country code, e.g. US"}
CURRENCY = {"type": "string", "pattern": r"^[A-Z]{3}$", "description": "an ISO 4217 currency code, e.g. USD"}
SOURCE_REF = {"type": "string", "description": "the id of an entry in `sources`"}
PARAM_REF = {
    "type": "object",
    "required": ["param"],
    "additionalProperties": False,
    "properties": {"param": {"type": "string", "description": "the name of a parameter of this pack"}},
    "description": "a reference to a dated parameter: {param: name}",
}
NUMBER = {"type": "number"}
DURATION = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
    "properties": {k: {"type": "integer", "minimum": 0} for k in ("days", "weeks", "months", "years")},
    "description": "a duration: {days: N}, {weeks: N}, {months: N} or {years: N}",
}
def ref_or(schema):
    return {"oneOf": [PARAM_REF, schema]}

SECTION_COMMON = {"source": SOURCE_REF, "note": {"type": "string"}, "uncertain": {"type": "string", "description": "why this is unsettled; carried into every finding that relies on it"}}

def section(props, required=("source",), extra=False):
    return {
        "type": "object",
        "required": list(required),
        "additionalProperties": extra,
        "properties": {**SECTION_COMMON, **props},
    }

RECLAIM = {
    "type": "object", "required": ["form", "authority", "deadline", "source"], "additionalProperties": False,
    "description": "how a non-resident reclaims this country's withholding above the treaty rate (read by taxpack reclaim)",
    "properties": {
        **SECTION_COMMON,
        "form": {"type": "string", "description": "the form or application, as the authority names it"},
        "authority": {"type": "string", "description": "where the claim goes"},
        "deadline": {"type": "object", "required": ["from"], "additionalProperties": False,
                     "description": "the last day a claim can reach the authority: a duration counted from an anchor",
                     "properties": {
                         "years": {"type": "integer", "minimum": 0}, "months": {"type": "integer", "minimum": 0},
                         "from": {"enum": ["payment_date", "end_of_payment_year", "start_of_payment_year", "day_after_payment_year"],
                                  "description": "the anchor: the payment date, 31 December or 1 January of the payment year, or `day` of the next year"},
                         "day": {"type": "string", "pattern": r"^\d{2}-\d{2}$", "description": "MM-DD, with from: day_after_payment_year"},
                         **SECTION_COMMON}},
    },
}


def action_rule(props, required=("source",)):
    return {"type": "object", "required": list(required), "additionalProperties": False, "properties": {**SECTION_COMMON, **props}}


CORPORATE_ACTIONS = {
    "split": action_rule({}),
    "identifier_change": action_rule({}),
    "share_exchange": action_rule({
        "deferred": {"type": "boolean", "description": "a share-for-share exchange is not a disposal: the new shares take the old cost and holding period"},
        "boot": action_rule({"treatment": {"enum": ["gain_up_to_boot", "reduces_cost", "income"],
                                           "description": "cash received besides the shares: a gain up to the cash (US §356), a reduction of the new shares' cost (CA s.86), capital income (DE §20(4a) S.2)"}},
                            required=("treatment",)),
        "successor": action_rule({"identity": {"enum": ["identical", "substantially_identical"], "description": "how loss rules see the new shares against the old"}},
                                 required=("identity", "source")),
    }, required=("source", "deferred")),
    "spin_off": action_rule({
        "allocation": {"enum": ["relative_fmv"], "description": "the old cost divided by the values right after the distribution (or the issuer's fraction)"},
        "requires_election": {"type": "boolean", "description": "deferral only on the holder's election (CA s.86.1); otherwise the new shares are a dividend at their value"},
    }, required=("source", "allocation")),
    "return_of_capital": action_rule({"excess": {"enum": ["capital_gain"], "description": "what a return above the cost is"}}, required=("source", "excess")),
    "stock_dividend": action_rule({"treatment": {"enum": ["spread_cost", "income_at_amount"],
                                                 "description": "the old cost spread over old and new shares (US §307), or income equal to the amount, which is the new shares' cost (CA s.248(1), s.52(3))"}},
                                  required=("source", "treatment")),
    "cash_in_lieu": action_rule({"treatment": {"enum": ["sale_of_fraction"]}}, required=("source", "treatment")),
}

CONDITION = {
    "description": "a condition over trade facts: {fact: NAME, OP: VALUE} or all/any/not",
    "type": "object",
    "oneOf": [
        {"required": ["all"], "additionalProperties": False, "properties": {"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}},
        {"required": ["any"], "additionalProperties": False, "properties": {"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}},
        {"required": ["not"], "additionalProperties": False, "properties": {"not": {"$ref": "#/$defs/condition"}}},
        {
            "required": ["fact"],
            "additionalProperties": False,
            "minProperties": 2,
            "maxProperties": 2,
            "properties": {
                "fact": {"type": "string", "description": "a trade fact, see docs/pack-format.md#facts"},
                **{op: {"description": f"operator {op}"} for op in ("eq", "ne", "lt", "le", "gt", "ge")},
                "in": {"type": "array"},
                "not_in": {"type": "array"},
                "exists": {"type": "boolean"},
            },
        },
    ],
}

WRAPPER = section({
    "title": {"type": "string"},
    "taxable": {"type": "boolean", "description": "false: trades inside are outside the taxable computation"},
    "own_pool": {"type": "boolean", "description": "true: a separate trust with its own lots"},
    "kind": {"enum": ["retirement", "tax_free", "savings", "education", "other"]},
    "recognised_by_treaty": {"type": "boolean"},
}, required=("source", "taxable"))

LOSS_RULE = section({
    "id": ID,
    "code": {"type": "string", "description": "finding code, e.g. wash_sale, superficial_loss, four_week_rule, two_month_rule"},
    "title": {"type": "string"},
    "applies_to": {"type": "object", "additionalProperties": False, "properties": {
        "listed": {"type": "boolean"}, "kinds": {"type": "array", "items": {"enum": ["share", "etf", "fund", "bond"]}}}},
    "identity": {"enum": ["identical", "substantially_identical"]},
    "window": {"type": "object", "additionalProperties": False, "required": ["before", "after"], "properties": {
        "before": ref_or(DURATION), "after": ref_or(DURATION),
        "month_rounding": {"enum": ["decreasing", "increasing"], "description": "one month after 31 January: decreasing = 28/29 Feb, increasing = 1 Mar"},
        "exclude_sale_day": {"type": "boolean", "description": "true (default): the sale day is not one of the N days, so 30 days either side is D-30..D+30 (CA: Interpretation Act s.27(5)); false: the sale day counts as day 1 (D-29..D+29)"},
        "date": {"enum": ["trade", "settlement"], "description": "the date of each trade the window is measured on (default trade); settlement uses a trade's settlement_date when given"},
    }},
    "who": {"type": "object", "additionalProperties": False, "properties": {
        "own_accounts": {"enum": ["all", "taxable"]},
        "spouse": {"type": "boolean"},
        "wrappers": {"type": "object", "additionalProperties": {"enum": ["counts", "permanent", "ignored", "uncertain"]},
                     "description": "wrapper name -> how a purchase there counts: counts (deferred), permanent (loss lost for good), ignored, uncertain (flag)"},
    }},
    "held_at_end": {"type": "boolean", "description": "the replacement must still be held at the end of the window (CA); caps the loss denied by the units held then"},
    "effect": {"enum": ["add_to_replacement_basis", "usable_against_reacquired", "defer_until_replacement_sold"],
               "description": "add_to_replacement_basis (US, CA): the loss goes into the replacement's basis; usable_against_reacquired (IE): only against a gain on the shares bought back; defer_until_replacement_sold (ES): released when they are sold"},
    "match_order": {"enum": ["acquisition", "proportional"],
                    "description": "acquisition (US §1091(c)): sold and replacement units paired share for share in order of acquisition, each replacement unit absorbing one loss, the units bought with the sold ones excluded; proportional (CA IT-456R): least of (sold, acquired in the window, held at its end) / sold x loss, prorated among the holders"},
    "tacking": {"type": "boolean"},
    "severity": {"enum": ["info", "warning", "blocking"]},
    "split_uncertain": {"type": "string", "description": "match_order proportional: the caveat a finding carries when more than one holder "
                                                         "(the seller, a spouse, a registered plan) acquired in the window and the denied loss is split among them"},
    "split_source": {**SOURCE_REF, "description": "the source of how the split is read (default: the rule's source)"},
}, required=("source", "id", "code", "identity", "window", "effect"))

TREATY_ACCOUNT_FIELDS = {
    "dividends": ref_or(NUMBER), "interest": ref_or(NUMBER), "creditable": {"type": "boolean"},
    "own_tax": {"type": "boolean", "description": "the tax withheld is the holder's own tax in the source country (a citizen it taxes "
                                                  "wherever they live): credited on that country's return, never lost"},
    "source": SOURCE_REF, "note": {"type": "string"}, "uncertain": {"type": "string"}}
TREATY_ACCOUNT = {
    "type": "object", "required": ["source"], "additionalProperties": False, "properties": {
        **TREATY_ACCOUNT_FIELDS,
        "citizens": {"type": "object", "required": ["source"], "additionalProperties": False, "properties": TREATY_ACCOUNT_FIELDS,
                     "description": "the case when the holder is a citizen of the source country (a US person's TFSA)"}}}

HELD = {"type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {"from": DURATION, "more_than": DURATION, "until": DURATION, "at_most": DURATION},
        "description": "a holding-period band from the start of each lot's holding period, in calendar terms: held at least `from` (or more "
                       "than `more_than`) and less than `until` (or at most `at_most`), each bound given once; e.g. Slovenia's rate after 5, 10, "
                       "15 years, PT more than 2 years"}

BASKET = {
    "type": "object", "required": ["id"], "additionalProperties": False,
    "properties": {
        "id": ID, "title": {"type": "string"},
        "terms": {"type": "array", "items": {"enum": ["short", "long", "none"]}},
        "kinds": {"type": "array", "items": {"enum": ["share", "etf", "fund", "bond", "currency", "crypto"]}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "countries": {"type": "array", "items": COUNTRY},
        "sign": {"enum": ["gain", "loss"]},
        "losses": {"enum": ["allowed", "not_allowed", "ordinary"],
                   "description": "not_allowed: a loss counts for nothing; ordinary: a net loss reduces other income at the marginal rate (no limit, not carried)"},
        "allowance": {"type": "boolean"},
        "carry": {"type": "boolean"},
        "tax": {"type": "object", "description": "this basket's own rate, as capital_gains.estimate (method flat|brackets|marginal_rate)"},
        "stack_on": {"type": "array", "items": ID},
        "held": HELD,
        "listed": {"type": "boolean", "description": "true: listed securities only (the scenario's securities[].listed); false: unlisted only"},
        "loss_weight": {**ref_or(NUMBER), "description": "share of the basket's net loss of the year that counts when it meets other baskets "
                                                           "(SE 0.7: a net loss on listed shares is deductible at 70% against other capital income)"},
        "proceeds_exempt": {
            "type": "object", "additionalProperties": False,
            "anyOf": [{"required": ["at_most"]}, {"required": ["below"]}],
            "description": "the basket's gains are exempt and its losses count for nothing when the year's sale prices (before selling costs) "
                           "of the amounts in the baskets `of` are at most / below the limit (CZ CZK 100,000; FI EUR 1,000)",
            "properties": {"at_most": ref_or(NUMBER), "below": ref_or(NUMBER),
                           "of": {"type": "array", "minItems": 1, "items": ID, "description": "the baskets whose sale prices count (default: this one)"},
                           "source": SOURCE_REF}},
        "proceeds_cap": {
            "type": "object", "required": ["above", "into"], "additionalProperties": False,
            "description": "when the year's sale prices P of the basket's amounts exceed `above`, the share (P - above) / P of its gains and losses "
                           "moves into basket `into` (CZ: time-tested income above CZK 40 million is taxable)",
            "properties": {"above": ref_or(NUMBER), "into": ID,
                           "applies": {"oneOf": [PARAM_REF, {"type": "boolean"}], "description": "a boolean or a boolean parameter: whether the cap is in force"},
                           "source": SOURCE_REF, "note": {"type": "string"}}},
        "inclusion": {**ref_or(NUMBER), "description": "share of this basket's net gain that is taxable (DE equity funds 0.7); default 1"},
        "fund_kinds": {"type": "array", "items": {"enum": ["equity", "mixed", "real_estate", "foreign_real_estate", "bond", "money_market", "other", "none"]},
                       "description": "the security's fund_kind (none: not given)"},
        "elections": {"type": "array", "items": {"enum": ["qef", "mark_to_market", "none"]},
                      "description": "the holder's election for a foreign fund (the scenario's pfic_election; not given counts as none)"},
        "foreign": {"type": "boolean", "description": "true: securities domiciled outside the pack's jurisdiction; false: inside it"},
        "acquired_before": {**DATE, "description": "units whose holding period began before this day (DE Altbestand: 2009-01-01)"},
        "weight": {**ref_or(NUMBER), "description": "share of every amount, gains and losses, that counts before netting (DE 0.7 for equity funds: the partial exemption also reduces losses)"},
        "into": {**ID, "description": "the basket whose net this basket's weighted net joins (one pot of several weights)"},
        "taxed_before": {"type": "object", "required": ["method", "source"], "additionalProperties": False,
                         "description": "the unrealised gain was taxed year by year before the sale: the sale's gain is reduced by what was taxed (docs/pack-sections.md)",
                         "properties": {
                             "method": {"enum": ["vorabpauschale", "mark_to_market", "deemed_disposal"]},
                             "rate": {**ref_or(NUMBER), "description": "vorabpauschale: the base rate of each year (dated)"},
                             "factor": {**ref_or(NUMBER), "description": "vorabpauschale: the share of value x rate taxed (0.7)"},
                             "every": {**ref_or(DURATION), "description": "deemed_disposal: the period after acquisition (and each further one)"},
                             "tax": {"type": "object", "description": "deemed_disposal: the rate of the deemed disposal, as capital_gains.estimate"},
                             "source": SOURCE_REF, "note": {"type": "string"}, "uncertain": {"type": "string"}}},
        "source": SOURCE_REF, "note": {"type": "string"}, "uncertain": {"type": "string"},
    },
}

RULE = {
    "type": "object",
    "required": ["id", "when", "then"],
    "additionalProperties": False,
    "properties": {
        "id": ID,
        "title": {"type": "string"},
        "description": {"type": "string"},
        "when": {"$ref": "#/$defs/condition"},
        "then": {
            "type": "object",
            "required": ["code", "severity", "message", "source"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                "severity": {"enum": ["info", "warning", "blocking"]},
                "message": {"type": "string", "description": "may use {fact.name} placeholders"},
                "source": SOURCE_REF,
                "caveat": {"type": "string"},
            },
        },
    },
}

PACK_TEST = {
    "type": "object",
    "required": ["name", "scenario", "expect"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "source": SOURCE_REF,
        "scenario": {"oneOf": [{"type": "object"}, {"type": "string", "description": "a scenario file, relative to this file"}]},
        "expect": {"type": "object", "description": "trade id -> jurisdiction -> expected figures and findings; see docs/pack-format.md#tests"},
    },
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://taxpack.dev/schemas/pack.schema.json",
    "title": "taxpack jurisdiction pack, format 1",
    "description": "A versioned, declarative tax jurisdiction pack. See docs/pack-format.md.",
    "type": "object",
    "required": ["format", "id", "kind", "title", "version", "coverage", "sources"],
    "additionalProperties": False,
    "$defs": {"condition": CONDITION},
    "properties": {
        "format": {"const": 1, "description": "the pack format version"},
        "id": ID,
        "kind": {"enum": ["jurisdiction", "treaties"]},
        "jurisdiction": COUNTRY,
        "title": {"type": "string"},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$", "description": "a semantic version, MAJOR.MINOR.PATCH"},
        "currency": CURRENCY,
        "coverage": {"type": "object", "required": ["from", "to"], "additionalProperties": False,
                     "properties": {"from": DATE, "to": DATE}, "description": "the dates this pack answers for"},
        "rounding": {"type": "object", "required": ["quantum", "mode"], "additionalProperties": False, "properties": {
            "quantum": {"type": "number", "exclusiveMinimum": 0}, "mode": {"enum": ["half_even", "half_up", "down", "up"]}, "source": SOURCE_REF}},
        "sources": {"type": "object", "minProperties": 1, "propertyNames": ID, "additionalProperties": {
            "type": "object", "required": ["citation", "confidence"], "additionalProperties": False, "properties": {
                "citation": {"type": "string"}, "url": {"type": "string", "pattern": "^https?://", "description": "a web address starting with http:// or https://"},
                "confidence": {"enum": ["verified", "secondary", "unverified", "open"]},
                "retrieved": DATE, "note": {"type": "string"}}}},
        "parameters": {"type": "object", "propertyNames": {"pattern": r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"}, "additionalProperties": {
            "type": "object", "required": ["description", "unit", "values"], "additionalProperties": False, "properties": {
                "description": {"type": "string"},
                "unit": {"enum": ["money", "rate", "days", "weeks", "months", "years", "count", "boolean", "text", "brackets", "table"]},
                "currency": CURRENCY,
                "by": {"type": "string", "description": "a taxpayer attribute the value is keyed by, e.g. filing_status"},
                "confirmed_until": {**DATE, "description": "the last day the values are confirmed by a publication (an indexed amount): "
                                                           "read for a later day, the last value applies with a caveat that the figure is not yet published"},
                "values": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": r"^\d{4}-\d{2}-\d{2}$"}, "additionalProperties": {
                    "type": "object", "required": ["value", "source"], "additionalProperties": False, "properties": {
                        "value": {}, "source": SOURCE_REF, "uncertain": {"type": "string"}, "note": {"type": "string"}}}}}}},
        "scope": section({
            "residents": {"type": "boolean"},
            "citizens": {"type": "boolean", "description": "taxes its citizens wherever they live"},
            "non_resident_gains": {"type": "boolean", "description": "taxes non-residents on gains from securities held or issued here"},
            "non_resident_gains_source": SOURCE_REF,
        }),
        "holding_period": section({
            "rule": {"enum": ["calendar_more_than", "days_more_than", "none"]},
            "long_term_after": ref_or(DURATION),
            "date": {"enum": ["trade", "settlement"]},
        }, required=("source", "rule")),
        "lots": section({
            "pool_scope": {"enum": ["account", "taxable_accounts", "taxpayer"]},
            "methods": {"type": "array", "minItems": 1, "items": {"enum": ["fifo", "lifo", "hifo", "lofo", "specific", "average"]}},
            "default": {"enum": ["fifo", "lifo", "hifo", "lofo", "average"]},
            "mandatory": {"enum": ["fifo", "lifo", "average"]},
            "average_kinds": {"type": "array", "items": {"enum": ["share", "etf", "fund", "bond"]}},
            "fees": {"type": "object", "additionalProperties": False, "properties": {
                "buy": {"enum": ["add_to_cost", "ignore"]}, "sell": {"enum": ["deduct_from_proceeds", "ignore"]}}},
            "separate_pools": {"type": "object", "propertyNames": {"pattern": r"^[a-z0-9_]+$"},
                               "description": "reasons the law keeps units apart from identical units (a scenario's cost_pools[].reason), each with the period within which they must be sold",
                               "additionalProperties": {"type": "object", "required": ["within", "source"], "additionalProperties": False,
                                                        "properties": {"within": DURATION, **SECTION_COMMON}}},
            "identification": {
                "type": "array", "minItems": 1,
                "description": "statutory identification ahead of the lot method, in order of priority (docs/lots.md#identification-rules): "
                               "same_day (UK TCGA 1992 s.105), within_before (IE TCA 1997 s.581(1)), within_after (UK s.106A(5))",
                "items": {"type": "object", "required": ["rule", "source"], "additionalProperties": False, "properties": {
                    "rule": {"enum": ["same_day", "within_before", "within_after"],
                             "description": "same_day: acquisitions on the disposal's day, as one; within_before: units still held bought in the window before it; "
                                            "within_after: acquisitions in the window after its day (they never enter the pool)"},
                    "window": {**ref_or(DURATION), "description": "the period counted from the disposal's day (required but for same_day)"},
                    "order": {"enum": ["fifo", "lifo"], "description": "inside the window: earliest acquisitions first (fifo, default) or latest first (lifo)"},
                    **SECTION_COMMON}}},
        }, required=("source", "pool_scope", "methods", "default")),
        "fx": section({
            "legs": {"enum": ["each_leg_own_date"]},
            "date": {"enum": ["trade", "settlement"]},
            "missing_rate": {"enum": ["error", "nearest_earlier"]},
            "max_lookback_days": {"type": "integer", "minimum": 0},
            "settlement_source": {**SOURCE_REF, "description": "with date: settlement, each sale in another currency gets an fx_settlement_date finding citing "
                                                               "this source: the effect of the settlement-date rates against the trade date's, or that no settlement date was given"},
            "currency_gains": {"type": "object"},
        }, required=("source", "legs", "date", "missing_rate")),
        "capital_gains": section({
            "taxed": {"type": "boolean"},
            "inclusion_rate": ref_or(NUMBER),
            "allowance": ref_or(NUMBER),
            "estimate": {"type": "object"},
            "loss_offset": {"type": "object"},
        }, extra=True),
        "year": section({
            "starts": {"type": "string", "pattern": r"^\d{2}-\d{2}$", "description": "the first day of the tax year, MM-DD (default 01-01)"},
            "baskets": {"type": "array", "minItems": 1, "items": BASKET,
                        "description": "categories of gains and losses, in order: an amount goes to the first basket it matches"},
            "offsets": {"type": "array", "items": {"type": "object", "required": ["loss", "against"], "additionalProperties": False, "properties": {
                "loss": ID, "against": {"type": "array", "minItems": 1, "items": ID}, "share": ref_or(NUMBER), "source": SOURCE_REF,
                "note": {"type": "string"}}}, "description": "a basket's net loss reduces other baskets' net gains, in this order"},
            "carry_forward": {"type": "object", "required": ["years"], "additionalProperties": False, "properties": {
                "years": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 0}, PARAM_REF],
                          "description": "years a loss may be carried (null: without limit; 0: not carried)"},
                "keeps_basket": {"type": "boolean", "description": "a carried loss comes back in its own basket (US character)"},
                "into": {**ID, "description": "the basket carried losses come back in when they do not keep their own"},
                "annual_share": {**ref_or(NUMBER), "description": "at most this share of each year's loss (as it arose) may be used in any one year (PL 0.5)"},
                "source": SOURCE_REF, "note": {"type": "string"}}},
            "other_income_offset": {"type": "object", "required": ["limit"], "additionalProperties": False, "properties": {
                "limit": ref_or(NUMBER), "order": {"type": "array", "items": ID},
                "saving": {"enum": ["marginal_rate", "none"]}, "source": SOURCE_REF, "note": {"type": "string"}}},
            "allowance_order": {"type": "array", "items": ID, "description": "baskets the capital_gains allowance covers, in order"},
            "allowance_threshold": {"oneOf": [{"type": "boolean"}, {"enum": ["at_most", "below"]}],
                                    "description": "the allowance is a threshold (Freigrenze): at_most (or true): gains up to it are free, above it taxed in full; "
                                                   "below: only gains below it are free (LU: under EUR 500)"},
            "carry_back": {"type": "object", "required": ["years"], "additionalProperties": False,
                           "description": "the year's net loss may instead reduce the tax of the years before it (HU tax compensation); reported, not priced",
                           "properties": {"years": {"anyOf": [{"type": "integer", "minimum": 0}, PARAM_REF]}, "source": SOURCE_REF, "note": {"type": "string"}}},
            "deemed_cost": {
                "type": "object", "required": ["shares", "source"], "additionalProperties": False,
                "description": "a deemed acquisition cost, a share of the sale price, used where it gives a lower gain than the actual cost (SE schablonmetoden, FI hankintameno-olettama)",
                "properties": {
                    "shares": {"type": "array", "minItems": 1, "description": "the first entry whose matchers hold gives the share",
                               "items": {"type": "object", "required": ["share"], "additionalProperties": False, "properties": {
                                   "share": ref_or(NUMBER), "kinds": {"type": "array", "items": {"enum": ["share", "etf", "fund", "bond", "currency", "crypto"]}},
                                   "listed": {"type": "boolean"}, "held": HELD, "source": SOURCE_REF, "note": {"type": "string"}}}},
                    "per": {"enum": ["sale", "lot"], "description": "the better cost chosen for the whole sale (default) or lot by lot"},
                    "price": {"enum": ["net", "gross"], "description": "net (default): the sale price after the selling costs the pack deducts; "
                                                                      "gross: before them (they are then not deducted either)"},
                    **SECTION_COMMON}},
        }),
        "loss_rules": {"type": "array", "items": LOSS_RULE},
        "no_loss_rule": section({"finding": {"type": "boolean"}}, required=("source",)),
        "corporate_actions": section(CORPORATE_ACTIONS),
        "withholding": section({
            "dividends_non_resident": ref_or(NUMBER), "interest_non_resident": ref_or(NUMBER),
            "dividends_resident": ref_or(NUMBER), "relief": {"enum": ["at_source", "refund"]},
            "reclaim": RECLAIM,
        }, extra=True),
        "foreign_tax_credit": section({}, extra=True),
        "exit_tax": section({}, extra=True),
        "arrival": section({}, extra=True),
        "wrappers": {"type": "object", "propertyNames": ID, "additionalProperties": WRAPPER},
        "treaties": {"type": "array", "items": {
            "type": "object", "required": ["source_country", "resident_of", "dividends", "source"], "additionalProperties": False,
            "properties": {
                "source_country": COUNTRY, "resident_of": COUNTRY, "from": DATE, "to": DATE,
                "dividends": ref_or(NUMBER), "interest": ref_or(NUMBER), "relief": {"enum": ["at_source", "refund"]},
                "article": {"type": "string"}, "source": SOURCE_REF, "note": {"type": "string"}, "uncertain": {"type": "string"},
                "accounts": {"type": "object", "additionalProperties": TREATY_ACCOUNT},
            }}},
        "relief": {"type": "array", "items": {
            "type": "object", "required": ["country", "for_tax_of", "credit", "source"], "additionalProperties": False,
            "description": "treaty relief between two countries' taxes on the same income (docs/pack-sections.md)",
            "properties": {
                "country": COUNTRY, "for_tax_of": COUNTRY,
                "basis": {"enum": ["source", "residence", "citizenship"], "description": "the basis on which for_tax_of taxes"},
                "when": {"enum": ["source", "residence", "citizenship"], "description": "the basis on which country taxes"},
                "credit": {"enum": ["full", "as_source_country", "exemption", "none"]},
                "article": {"type": "string"}, "source": SOURCE_REF, "note": {"type": "string"}, "uncertain": {"type": "string"}}}},
        "rules": {"type": "array", "items": RULE},
        "tests": {"type": "array", "items": PACK_TEST},
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "jurisdiction"}}}, "then": {"required": ["jurisdiction", "currency", "scope", "lots", "holding_period", "fx"]}},
    ],
}

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "schemas" / "pack.schema.json"
    out.write_text(json.dumps(SCHEMA, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tests_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://taxpack.dev/schemas/pack-tests.schema.json",
        "title": "taxpack pack test file, format 1",
        "description": "A file under a pack's tests/ folder: a list of test cases, or {tests: [...]}.",
        "$defs": {"test": PACK_TEST},
        "oneOf": [
            {"type": "array", "items": {"$ref": "#/$defs/test"}},
            {"type": "object", "required": ["tests"], "additionalProperties": False,
             "properties": {"tests": {"type": "array", "items": {"$ref": "#/$defs/test"}}}},
        ],
    }
    (out.parent / "pack-tests.schema.json").write_text(json.dumps(tests_schema, indent=2) + "\n", encoding="utf-8")
    print(out)
