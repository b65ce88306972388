"""Input rules: the shape of everything people type, defined once and enforced at every door.

A rule cleans a value (raising RuleBroken with a message for the person who typed it) and
describes itself (label, bounds, pattern, choices). The marshmallow fields in
`supply_app.http`, the WTForms fields in `supply_app.web.fields`, the CLI's click types and
the services all use the same rule object, so a limit cannot drift between them. Each domain
declares its own rules in its `rules.py`; this module holds only the kinds of rule.

The kinds share three stances:
* identifiers (lot numbers, codes, references) are printable ASCII matched whole, so a
  trailing newline, a zero-width space or a fullwidth digit never makes a look-alike;
* free text (names, notes, reasons) takes any Unicode except control characters and lone
  surrogates, bounded in length;
* numbers, amounts and dates are read from ASCII digits in one plain form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from supply_app.clock import known_zones
from supply_app.errors import InvalidInput


class RuleBroken(ValueError):
    """A value a rule refuses; str() is a message for the person who typed it."""


def _describe(char: str) -> str:
    """A character named for a person: 'U+0000 (NULL)'."""
    name = unicodedata.name(char, "") or {"\x00": "NULL", "\n": "LINE FEED"}.get(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} ({name})" if name else code


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character free text may not hold, described, or None.

    Refused: control characters (C0, DEL, C1), apart from line feed and tab where the text
    may span lines, and lone surrogates (which no database can store).
    """
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and not (multiline and char in "\n\t")):
            return _describe(char)
    return None


class Rule:
    """What every kind of rule offers: clean a value, or check it on behalf of a service."""

    label: str

    def clean(self, value: Any) -> Any:  # pragma: no cover - every kind defines it
        """The value as stored, or RuleBroken."""
        raise NotImplementedError

    def check(self, value: Any, field: str) -> Any:
        """clean() for services: the same refusal as an InvalidInput naming the field."""
        try:
            return self.clean(value)
        except RuleBroken as exc:
            raise InvalidInput(str(exc), field=field) from exc

    def _refuse(self, detail: str) -> RuleBroken:
        return RuleBroken(f"{self.label[:1].upper()}{self.label[1:]} {detail}")


@dataclass(frozen=True)
class Text(Rule):
    """Free text: any Unicode except control characters and lone surrogates, bounded.

    Surrounding white space is trimmed (unless trim is off, as for passwords); multiline
    text keeps its line breaks (as \\n).
    """

    label: str
    max_length: int
    min_length: int = 1
    multiline: bool = False
    trim: bool = True

    def clean(self, value: Any) -> str:
        """The trimmed text, or RuleBroken naming what to fix."""
        if not isinstance(value, str):
            raise self._refuse("must be text.")
        if self.multiline:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        bad = forbidden_character(value, multiline=self.multiline)
        if bad is not None:
            raise self._refuse(f"cannot contain the control character {bad}.")
        if self.trim:
            value = value.strip()
        if not self.min_length <= len(value) <= self.max_length:
            raise self._refuse(self.length_hint())
        return value

    def length_hint(self) -> str:
        """How long the text may be, in words."""
        if self.min_length == 0:
            return f"must be at most {self.max_length} characters."
        return f"must be {self.min_length} to {self.max_length} characters."


@dataclass(frozen=True)
class Identifier(Rule):
    """An identifier of printable ASCII matched whole against a pattern.

    `hint` says, for a person, what the identifier looks like. With `upper`, lower-case
    ASCII letters are taken as capitals (a DoDAAC typed as w81xwh is W81XWH).
    """

    label: str
    pattern: str
    max_length: int
    hint: str
    min_length: int = 1
    upper: bool = False

    def clean(self, value: Any) -> str:
        """The identifier, or RuleBroken with the hint."""
        if not isinstance(value, str):
            raise self._refuse("must be text.")
        if self.upper and value.isascii():
            value = value.upper()
        if not (
            self.min_length <= len(value) <= self.max_length
            and value.isascii()
            and self.regex.fullmatch(value)
        ):
            raise self._refuse(f"is {self.hint}.")
        return value

    @property
    def regex(self) -> re.Pattern[str]:
        """The compiled pattern (ASCII classes only)."""
        return _compiled(self.pattern)

    @property
    def json_pattern(self) -> str:
        """The pattern anchored for JSON Schema / HTML (where $ ends the string)."""
        return f"^(?:{self.pattern})$"


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern, re.ASCII)
    return _PATTERNS[pattern]


@dataclass(frozen=True)
class Choice(Rule):
    """One of a fixed set of values, each with the words people see for it."""

    label: str
    options: tuple[tuple[str, str], ...]

    @property
    def values(self) -> tuple[str, ...]:
        """The stored values, in display order."""
        return tuple(value for value, _ in self.options)

    def words(self, value: str) -> str:
        """The label people see for a stored value (the value itself if unknown)."""
        return dict(self.options).get(value, value)

    def clean(self, value: Any) -> str:
        """The value if it is one of the options, else RuleBroken listing them."""
        if not isinstance(value, str) or value not in self.values:
            raise self._refuse(f"must be one of: {', '.join(self.values)}.")
        return value

    def only(self, *values: str) -> Choice:
        """The same rule narrowed to some of its options (a door that allows fewer)."""
        return Choice(self.label, tuple(o for o in self.options if o[0] in values))


_WHOLE = re.compile(r"-?[0-9]{1,15}", re.ASCII)


@dataclass(frozen=True)
class WholeNumber(Rule):
    """A whole number within bounds; typed as ASCII digits with an optional minus sign."""

    label: str
    minimum: int
    maximum: int

    def clean(self, value: Any) -> int:
        """The number if it is an integer within bounds (a float with no fraction counts)."""
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._refuse("must be a whole number.")
        if not self.minimum <= value <= self.maximum:
            raise self._refuse(f"must be between {self.minimum} and {self.maximum}.")
        return value

    def parse(self, text: str) -> int:
        """A number typed as text: ASCII digits only, no spaces, signs, separators or exponent."""
        if not _WHOLE.fullmatch(text) or (text.startswith("-") and self.minimum >= 0):
            raise self._refuse(
                f"must be a whole number from {self.minimum} to {self.maximum}, "
                "typed with the digits 0-9."
            )
        return self.clean(int(text))


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@dataclass(frozen=True)
class Day(Rule):
    """A calendar date, typed as YYYY-MM-DD, within a sane range of years."""

    label: str
    earliest: date = date(2000, 1, 1)
    latest: date = date(2099, 12, 31)

    def clean(self, value: Any) -> date:
        """The date if it lies in range."""
        if not isinstance(value, date):
            raise self._refuse("must be a date such as 2026-03-31.")
        if not self.earliest <= value <= self.latest:
            raise self._refuse(
                f"must be between {self.earliest.isoformat()} and {self.latest.isoformat()}."
            )
        return value

    @property
    def json_pattern(self) -> str | None:
        """The accepted text as a JSON Schema pattern, when the range is this century."""
        if (self.earliest, self.latest) != (date(2000, 1, 1), date(2099, 12, 31)):
            return None
        return r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"

    def parse(self, text: str) -> date:
        """A date typed as YYYY-MM-DD in ASCII digits."""
        try:
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise self._refuse("must be a date written YYYY-MM-DD, such as 2026-03-31.") from None
        return self.clean(day)


@dataclass(frozen=True)
class TimeZoneName(Rule):
    """An IANA time zone name, such as Pacific/Guam or Europe/Berlin."""

    label: str

    def clean(self, value: Any) -> str:
        """The zone name if this system knows it."""
        if not isinstance(value, str) or value not in known_zones():
            raise self._refuse("must be an IANA time zone name, such as America/New_York.")
        return value
