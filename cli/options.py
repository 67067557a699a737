"""Option parsers shared by several commands (amounts of money are exact decimals, never floats)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

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
    within_limits(number, value)
    return number


def within_limits(number: Decimal, text: str) -> None:
    """The limits every number taxpack reads obeys (core/limits.py), for numbers given as options."""
    from taxpack.engine.core.limits import NUMBER_EXPECTED, number_problem

    problem = number_problem(number, text)
    if problem:
        raise click.BadParameter(f"{problem} (expected {NUMBER_EXPECTED})")


def checked_output(path: Path | None, option: str, inputs: list[tuple[str, Path | str | None]]) -> None:
    """Before the run: the output file of `option` can be written and is none of `inputs` (exit 3 if not)."""
    if path is None:
        return
    from taxpack.engine.core.files import check_output

    check_output(path, option, inputs)


def pack_inputs(pack_paths: tuple[Path, ...]) -> list[tuple[str, Path | str | None]]:
    """The files of the --pack options, as inputs an output may not overwrite (a folder's pack.yaml too)."""
    out: list[tuple[str, Path | str | None]] = []
    for path in pack_paths:
        out.append(("a --pack file", path))
        out.append(("a --pack file", Path(path) / "pack.yaml"))
    return out


def security_prices(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Decimal]:
    """A click callback for a repeatable SECURITY=PRICE option: {security: price}, prices exact decimals."""
    out = {}
    for value in values:
        sid, sep, price = value.partition("=")
        try:
            if not sep or not sid:
                raise InvalidOperation
            number = Decimal(price)
        except InvalidOperation:
            raise click.BadParameter(f"'{value}' is not SECURITY=PRICE (expected e.g. VTI=231.50)") from None
        if not number.is_finite() or number <= 0:
            raise click.BadParameter(f"'{value}': the price is not a positive number (expected e.g. VTI=231.50)")
        within_limits(number, price)
        out[sid] = number
    return out


ORDERS_HELP = ("Also write the orders to this CSV file: one line per sale lot (with the lot's purchase date and cost, "
               "for specific identification) and per purchase, and the dates before which not to buy back (docs/planning.md).")
LIMIT_HELP = "Limit price for the orders file, SECURITY=PRICE (repeatable; without it the orders have no limit)."


def write_orders(path: Path, text: str) -> None:
    """The orders file, written whole (temporary file, then renamed) so a broker upload never reads half of it."""
    from taxpack.engine.core.files import write_text_atomic

    write_text_atomic(path, text)
