"""Errors the coding module raises instead of returning a wrong number."""

from __future__ import annotations


class CodingError(ValueError):
    """A claim, override or schedule the module refuses to price; `field` names the input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ScheduleError(CodingError):
    """A schedule file is malformed."""


class ScheduleNotFound(ScheduleError):
    """No schedule file exists for the year asked for."""


class ScheduleMismatch(CodingError):
    """The schedule passed in is not the one the date of service picks."""


class InvalidOverride(CodingError):
    """An override key or amount cannot be applied."""


class InvalidClaim(CodingError):
    """The claim as a whole is malformed: site, CF track, date or lines."""


class UnknownCode(CodingError):
    """A line bills a code the schedule does not have."""


class InvalidUnits(CodingError):
    """A line's units are not a positive whole number or disagree with its nerves."""


class TooManyUnits(InvalidUnits):
    """Units exceed the code's limit per line, per side or per date of service."""


class InvalidModifier(CodingError):
    """A modifier or laterality is unknown, contradictory or does not apply to the code."""


class UnknownNerve(CodingError):
    """A nerve is not one the code covers."""


class DuplicateNerve(CodingError):
    """The same nerve is billed twice on the same side."""


class SiteNotPayable(CodingError):
    """A code has no payment at the claim's site of service."""


class InvalidPayer(CodingError):
    """A payer's terms cannot price a claim: a missing percentage or wage index, a bad row."""
