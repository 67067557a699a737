"""The quick row check never accepts a row that the scenario schema rejects (it may only be faster)."""

from __future__ import annotations

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from taxpack.engine.core.schemas import load_schema
from taxpack.engine.inputs.row_check import transaction_ok

SCHEMA = load_schema("scenario")["properties"]["transactions"]["items"]
VALIDATOR = jsonschema.validators.validator_for(load_schema("scenario"))(SCHEMA)

text = st.sampled_from(["b1", "", "x y", "-a", "A.b:c-d_e", "2024-01-10", "2024-1-10", "2024-01-10\n", "USD", "usd", "fifo",
                        "12.50", "-1", "0", "1e3", "١٢", "buy", "sell", "Buy"])
number = st.one_of(st.integers(-5, 5), st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10, max_value=10), st.booleans())
value = st.one_of(text, number, st.none(), st.lists(st.fixed_dictionaries({"transaction": text, "quantity": st.one_of(text, number)}), max_size=2))
keys = st.sampled_from(["id", "account", "security", "date", "side", "quantity", "price", "fees", "currency",
                        "settlement_date", "lots", "in_kind", "note", "pool", "other"])
rows = st.dictionaries(keys, value, max_size=13)
base = {"id": "b1", "account": "a", "security": "S", "date": "2024-01-10", "side": "buy", "quantity": 1, "price": 2}


@settings(max_examples=3000, deadline=None)
@given(rows)
def test_never_accepts_what_the_schema_rejects(row: dict) -> None:
    if transaction_ok(row):
        assert VALIDATOR.is_valid(row), row


@settings(max_examples=3000, deadline=None)
@given(st.dictionaries(keys, value, max_size=4))
def test_near_valid_rows(change: dict) -> None:
    row = {**base, **change}
    if transaction_ok(row):
        assert VALIDATOR.is_valid(row), row


def test_accepts_ordinary_rows() -> None:
    assert transaction_ok(base)
    assert transaction_ok({**base, "side": "sell", "lots": [{"transaction": "b0", "quantity": "1.5"}], "fees": "0.00", "currency": "CAD"})
