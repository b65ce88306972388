"""Money as integer cents: the one way amounts are read from people and written for them.

No Flask and no database here, so the API, the UI, the CLI, exports and services share it.
Amounts are read in one plain decimal form (ASCII digits, an optional point and one or two
decimals); anything else, from "1e3" and "5_000" to fullwidth digits, is refused rather
than guessed at.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from supply_app.rules import Rule


def format_cents(cents: int) -> str:
    """Integer cents as a plain decimal string with two places: 123456 -> "1234.56"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def dollars(cents: int | None) -> str:
    """Integer cents for people: "$1,234.56", negative as "−$5.00", None as "—"."""
    if cents is None:
        return "—"
    sign = "−" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}.{part:02d}"


@dataclass(frozen=True)
class Amount(Rule):
    """An amount within bounds, read from text such as "1234.50", kept as an integer of its
    smallest unit: cents, or for another number of places (a percentage with two, a wage
    index with four) hundredths or ten-thousandths."""

    label: str
    maximum_cents: int
    minimum_cents: int = 0
    places: int = 2
    example: str = "1250.00"

    def clean(self, value: Any) -> int:
        """The integer within bounds."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._refuse("must be an amount in cents.")
        if not self.minimum_cents <= value <= self.maximum_cents:
            raise self._refuse(
                f"must be between {self.format(self.minimum_cents)} and "
                f"{self.format(self.maximum_cents)}."
            )
        return value

    def parse(self, text: Any) -> int:
        """The integer from text in the one plain form: digits, then optionally . and up to
        `places` digits."""
        match = _amount(self.places).fullmatch(text) if isinstance(text, str) else None
        if match is None or (match.group(1) and self.minimum_cents >= 0):
            raise self._refuse(
                f"must be written with the digits 0-9 and at most {self.places} decimals, such "
                f'as "{self.example}" (no $, %, commas or spaces).'
            )
        sign, whole, part = match.groups()
        value = int(whole) * 10**self.places + int((part or "0").ljust(self.places, "0"))
        return self.clean(-value if sign else value)

    def format(self, value: int) -> str:
        """The integer as plain decimal text with every place: 12000 -> "120.00"."""
        if self.places == 2:
            return format_cents(value)
        sign = "-" if value < 0 else ""
        whole, part = divmod(abs(int(value)), 10**self.places)
        return f"{sign}{whole}.{part:0{self.places}d}"

    @property
    def json_pattern(self) -> str:
        """The accepted text as a JSON Schema / HTML pattern."""
        sign = "-?" if self.minimum_cents < 0 else ""
        unit = 10**self.places
        digits = len(str(max(self.maximum_cents, -self.minimum_cents) // unit))
        return f"^{sign}[0-9]{{1,{digits}}}(\\.[0-9]{{1,{self.places}}})?$"


@functools.cache
def _amount(places: int) -> re.Pattern[str]:
    return re.compile(rf"(-?)([0-9]{{1,15}})(?:\.([0-9]{{1,{places}}}))?", re.ASCII)


#: A price or cost: up to $10,000,000.00 (far above any real pack or fee).
PRICE = Amount("amount", maximum_cents=1_000_000_000)
#: A money figure the app reports (margins, ledger values): signed, as wide as the columns.
FIGURE = Amount("amount", maximum_cents=10**17, minimum_cents=-(10**17))
