"""Claim inputs, and their validation into checked lines ready to price."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from supply_app.coding.errors import (
    DuplicateNerve,
    InvalidClaim,
    InvalidModifier,
    InvalidUnits,
    TooManyUnits,
    UnknownNerve,
)
from supply_app.coding.nerves import NERVE_LABELS, NERVE_SETS
from supply_app.coding.schedule import CFTrack, CodeEntry, FeeSchedule, SiteOfService

BILATERAL = "50"
REDUCED = "52"
MODIFIERS = MappingProxyType(
    {
        BILATERAL: "bilateral procedure",
        REDUCED: "reduced services",
        "RT": "right side",
        "LT": "left side",
        "59": "distinct procedural service",
        "XE": "separate encounter",
        "XP": "separate practitioner",
        "XS": "separate structure",
        "XU": "unusual non-overlapping service",
        "76": "repeat procedure by the same physician",
    }
)


class Laterality(StrEnum):
    """The side a line treats; BILATERAL is modifier 50 (one line, both sides)."""

    RT = "RT"
    LT = "LT"
    BILATERAL = BILATERAL


@dataclass(frozen=True)
class ClaimLine:
    """One billed code: units or the nerves named, modifiers and laterality."""

    code: str
    units: int | None = None
    nerves: tuple[str, ...] = ()
    modifiers: frozenset[str] = frozenset()
    laterality: str | None = None


@dataclass(frozen=True)
class Claim:
    """A claim to price: site and date of service, PFS conversion-factor track, lines."""

    site_of_service: SiteOfService | str
    date_of_service: date
    cf_track: CFTrack | str
    lines: tuple[ClaimLine, ...]


@dataclass(frozen=True)
class CheckedLine:
    """A valid line: units resolved, modifier 52 derived, laterality folded into modifiers."""

    index: int
    entry: CodeEntry
    units: int
    nerves: tuple[str, ...]
    modifiers: frozenset[str]
    laterality: Laterality | None
    notes: tuple[str, ...]

    @property
    def tag(self) -> str:
        """How explanations name the line, e.g. '64640-RT'."""
        return self.entry.code + (f"-{self.laterality}" if self.laterality else "")

    @property
    def sides(self) -> tuple[Laterality | None, ...]:
        """The sides the line covers; modifier 50 covers both."""
        if self.laterality is Laterality.BILATERAL:
            return (Laterality.RT, Laterality.LT)
        return (self.laterality,)


def check_header(claim: Claim) -> tuple[SiteOfService, CFTrack, date]:
    """Validate the claim's site of service, CF track and date of service."""
    if not isinstance(claim, Claim):
        raise InvalidClaim(f"expected a Claim, not {type(claim).__name__}", field="claim")
    site = _member(SiteOfService, claim.site_of_service, "site_of_service")
    track = _member(CFTrack, claim.cf_track, "cf_track")
    dos = claim.date_of_service
    if not isinstance(dos, date) or isinstance(dos, datetime):
        raise InvalidClaim(f"date_of_service must be a date, not {dos!r}", field="date_of_service")
    return site, track, dos


def check_lines(lines: Sequence[ClaimLine], schedule: FeeSchedule) -> tuple[CheckedLine, ...]:
    """Validate every line, then the limits that span lines; raise the first problem."""
    if isinstance(lines, str | bytes) or not isinstance(lines, Sequence) or not lines:
        raise InvalidClaim("a claim needs at least one line", field="lines")
    checked = tuple(_check_line(index, line, schedule) for index, line in enumerate(lines))
    _check_sides(checked)
    _check_mue(checked, schedule)
    return checked


def _member(enum: type[StrEnum], value: Any, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        accepted = ", ".join(repr(m.value) for m in enum)
        message = f"{field} must be one of {accepted}, not {value!r}"
        raise InvalidClaim(message, field=field) from None


def _check_line(index: int, line: ClaimLine, schedule: FeeSchedule) -> CheckedLine:
    where = f"lines[{index}]"
    if not isinstance(line, ClaimLine) or not isinstance(line.code, str):
        raise InvalidClaim(f"{where} must be a ClaimLine with a code", field=where)
    entry = schedule.code(line.code.strip().upper(), field=f"{where}.code")
    modifiers = _modifiers(line.modifiers, f"{where}.modifiers")
    laterality = _laterality(line.laterality, modifiers, f"{where}.laterality")
    nerves = _nerves(entry, line.nerves, f"{where}.nerves")
    units, derived, notes = _units(entry, line.units, nerves, modifiers, where)
    modifiers = (modifiers | derived) - set(Laterality)
    if laterality:
        modifiers |= {laterality.value}
    _check_adjustments(entry, schedule, modifiers, units, where)
    return CheckedLine(index, entry, units, nerves, frozenset(modifiers), laterality, notes)


def _modifiers(raw: Any, field: str) -> frozenset[str]:
    # A bare string would iterate as characters: "RT" is not {"R", "T"}.
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise InvalidModifier(f"modifiers must be a set such as {{'RT'}}, not {raw!r}", field=field)
    modifiers = frozenset(str(m).strip().upper() for m in raw)
    if unknown := sorted(modifiers - MODIFIERS.keys()):
        message = f"modifier {unknown[0]!r} is not accepted; use {', '.join(MODIFIERS)}"
        raise InvalidModifier(message, field=field)
    return modifiers


def _laterality(raw: Any, modifiers: frozenset[str], field: str) -> Laterality | None:
    sides = {Laterality(m) for m in modifiers if m in set(Laterality)}
    if raw is not None:
        try:
            sides.add(Laterality(str(raw).strip().upper()))
        except ValueError:
            raise InvalidModifier(
                f"laterality must be RT, LT or 50, not {raw!r}", field=field
            ) from None
    if len(sides) > 1:
        raise InvalidModifier(
            f"conflicting laterality {', '.join(sorted(sides))}: RT and LT name one side each, "
            "modifier 50 bills both sides on one line",
            field=field,
        )
    return sides.pop() if sides else None


def _nerves(entry: CodeEntry, raw: Any, field: str) -> tuple[str, ...]:
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise UnknownNerve(f"nerves must be a sequence such as ('afcn',), not {raw!r}", field=field)
    nerves = [str(n).strip().lower() for n in raw]
    if not nerves:
        return ()
    if entry.nerve_set is None:
        raise UnknownNerve(f"{entry.code} is not billed by nerve; give units", field=field)
    allowed = NERVE_SETS[entry.nerve_set.value]
    for nerve in nerves:
        if nerve not in allowed:
            raise UnknownNerve(
                f"{nerve!r} is not a nerve {entry.code} covers; use one of {', '.join(allowed)}",
                field=field,
            )
    for nerve, count in Counter(nerves).items():
        if count > 1:
            raise DuplicateNerve(f"the {NERVE_LABELS[nerve]} is named twice", field=field)
    return tuple(sorted(nerves, key=allowed.index))


def _units(
    entry: CodeEntry, raw: Any, nerves: tuple[str, ...], modifiers: frozenset[str], where: str
) -> tuple[int, frozenset[str], tuple[str, ...]]:
    """Resolve units from the nerves named (per the code's unit basis) or the units given."""
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int) or raw < 1):
        raise InvalidUnits(
            f"{entry.code}: units must be a whole number of at least 1, not {raw!r}",
            field=f"{where}.units",
        )
    basis, code = entry.unit_basis, entry.code
    if not nerves:
        if raw is None and basis.value == "per_nerve":
            raise InvalidUnits(
                f"{code} is billed per nerve branch: name the nerves or give units",
                field=f"{where}.nerves",
            )
        return raw or 1, frozenset(), ()
    names = ", ".join(NERVE_LABELS[n] for n in nerves)
    if basis.value == "per_nerve":
        units, derived = len(nerves), frozenset()
        note = f"{code}: {units} distinct nerve branch(es) named ({names}), one unit each"
    else:  # nerve_bundle: one unit covers the whole set on one side
        full, modifier = NERVE_SETS[entry.nerve_set.value], entry.partial_bundle_modifier
        units, derived = 1, frozenset()
        note = f"{code}: all {len(full)} nerves named ({names}), one unit"
        if len(nerves) < len(full):
            derived = frozenset({modifier.value})
            note = (
                f"{code}: {len(nerves)} of {len(full)} nerves named ({names}): one unit with "
                f"modifier {modifier.value} (reduced service) {modifier.cite()}"
            )
        elif modifier.value in modifiers:
            raise InvalidModifier(
                f"{code}: modifier {modifier.value} reports a reduced service, "
                f"but all {len(full)} nerves are named",
                field=f"{where}.modifiers",
            )
    if raw is not None and raw != units:
        raise InvalidUnits(
            f"{code}: {raw} units disagree with the {len(nerves)} nerve(s) named, "
            f"which make {units}; give nerves or units",
            field=f"{where}.units",
        )
    return units, derived, (f"{note} {basis.cite()}",)


def _check_adjustments(
    entry: CodeEntry, schedule: FeeSchedule, modifiers: frozenset[str], units: int, where: str
) -> None:
    """Modifiers 50 and 52 apply only where every payment system of the code has a factor."""
    systems = [schedule.systems[name] for name in entry.systems]
    if BILATERAL in modifiers and not all(s.takes_both_sides(entry) for s in systems):
        raise InvalidModifier(
            f"{entry.code} cannot be billed bilateral (50)", field=f"{where}.modifiers"
        )
    if REDUCED in modifiers and not all(s.reduced(entry) for s in systems):
        raise InvalidModifier(
            f"{entry.code} cannot be billed reduced (52)", field=f"{where}.modifiers"
        )
    if BILATERAL in modifiers and units != 1:
        # 150% prices one unit done on both sides; more is ambiguous, so refuse to guess.
        raise InvalidUnits(
            f"{entry.code} with modifier 50 is one unit covering both sides, not {units}; "
            "bill more nerves as separate RT and LT lines",
            field=f"{where}.units",
        )


def _check_sides(lines: tuple[CheckedLine, ...]) -> None:
    """A nerve bundle covers a side once; a nerve is billed once per side."""
    bundles: dict[tuple[str, Laterality | None], int] = {}
    nerves: dict[tuple[str, Laterality | None, str], int] = {}
    for line in lines:
        code = line.entry.code
        for side in line.sides:
            side_name = side or "an unstated side"
            if line.entry.unit_basis.value == "nerve_bundle":
                earlier = bundles.setdefault((code, side), line.index)
                if earlier != line.index:
                    raise TooManyUnits(
                        f"{code} bills one unit per side, and lines[{earlier}] already bills "
                        f"{side_name}",
                        field=f"lines[{line.index}]",
                    )
            for nerve in line.nerves:
                earlier = nerves.setdefault((code, side, nerve), line.index)
                if earlier != line.index:
                    raise DuplicateNerve(
                        f"the {NERVE_LABELS[nerve]} on {side_name} is already billed under "
                        f"{code} in lines[{earlier}]",
                        field=f"lines[{line.index}].nerves",
                    )


def _check_mue(lines: tuple[CheckedLine, ...], schedule: FeeSchedule) -> None:
    """Units within the code's MUE, per line or per date of service as its MAI says."""
    per_day: Counter[str] = Counter()
    for line in lines:
        entry = line.entry
        per_day[entry.code] += line.units
        mai = schedule.mue_adjudication_indicators[entry.mue_adjudication_indicator.value]
        count = line.units if mai.value == "line" else per_day[entry.code]
        if count > entry.mue.value:
            scope = "on one line" if mai.value == "line" else "per date of service"
            raise TooManyUnits(
                f"{entry.code} allows at most {entry.mue.value} units {scope} "
                f"(MUE {entry.mue.value} {entry.mue.cite()}, "
                f"MAI {entry.mue_adjudication_indicator.value} "
                f"{entry.mue_adjudication_indicator.cite()}); this claim bills {count}",
                field=f"lines[{line.index}]" + (".nerves" if line.nerves else ".units"),
            )
