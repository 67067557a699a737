"""Option parsers shared by several commands (amounts of money are exact decimals, never floats)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click


def amount(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    """A click callback: an amount of money, 0 or more, read as an exact decimal."""
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"'{value}' is not a decimal number (expected e.g. 5000 or 12.50)") from None
    if not number.is_finite() or number < 0:
        raise click.BadParameter(f"'{value}' is not a positive amount (expected e.g. 5000 or 12.50)")
    return number
