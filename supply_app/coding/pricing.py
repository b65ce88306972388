"""Price a claim the way Medicare would, from the schedule's data, explaining every step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from supply_app.coding.claims import (
    BILATERAL,
    REDUCED,
    CheckedLine,
    Claim,
    Laterality,
    check_header,
    check_lines,
)
from supply_app.coding.errors import ScheduleMismatch, ScheduleNotFound, SiteNotPayable
from supply_app.coding.money import ZERO, cents, decimal_context, percent, usd
from supply_app.coding.schedule import (
    COMPONENTS,
    CFTrack,
    FeeSchedule,
    Indicator,
    PaymentSystem,
    SiteOfService,
    jsonable,
    load_schedule,
)


@dataclass(frozen=True)
class PricedLine:
    """One priced line: its allowed amount per component and how each was reached."""

    code: str
    units: int
    modifiers: tuple[str, ...]
    laterality: Laterality | None
    nerves: tuple[str, ...]
    facility_amount: Decimal
    professional_amount: Decimal
    device_amount: Decimal | None  # None: the line has a device component nobody priced
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class PricedClaim:
    """A priced claim: per-line and total amounts, warnings, filing deadline, explanation."""

    schedule_year: int
    schedule_version: str
    site_of_service: SiteOfService
    cf_track: CFTrack
    conversion_factor: Decimal
    date_of_service: date
    lines: tuple[PricedLine, ...]
    facility_total: Decimal
    professional_total: Decimal
    device_total: Decimal | None
    device_priced: bool
    total: Decimal  # of the priced components only when complete is False
    complete: bool
    warnings: tuple[str, ...]
    filing_deadline: date
    explanation: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: money as decimal strings ('903.63'), dates ISO, None kept."""
        return jsonable(self)


@dataclass
class _Unit:
    """One procedure in one payment system: a unit of a line, after modifiers 50 and 52."""

    line: CheckedLine
    number: int
    amount: Decimal | None
    indicator: Indicator
    paid: Decimal | None = None

    @property
    def tag(self) -> str:
        return self.line.tag + (f" unit {self.number}" if self.line.units > 1 else "")

    def rank_key(self) -> tuple[Any, ...]:
        # Highest first. On a tie the line open to discount goes first and the rest follow a
        # fixed order, so the total never depends on the order the lines were given in.
        line = self.line
        order = (line.entry.code, str(line.laterality), line.index, self.number)
        return (-self.amount, REDUCED in line.modifiers, *order)


def filing_deadline(date_of_service: date) -> date:
    """The last day to file a Medicare claim: the date of service plus 12 months."""
    try:
        return date_of_service.replace(year=date_of_service.year + 1)
    except ValueError:  # 29 February has no twin next year: the period ends on 28 February
        return date(date_of_service.year + 1, 2, 28)


def price_claim(
    claim: Claim,
    *,
    overrides: Mapping[tuple[int, str, str], Decimal] | None = None,
    schedule: FeeSchedule | None = None,
) -> PricedClaim:
    """Price a claim from the schedule its date of service picks, explaining every rule."""
    with decimal_context():
        site, track, dos = check_header(claim)
        schedule = _schedule_for(dos, schedule)
        if overrides:
            schedule = schedule.with_overrides(overrides)
        lines = check_lines(claim.lines, schedule)
        systems = schedule.systems_at(site)
        _check_payable(schedule, systems, lines, site)
        cf = schedule.conversion_factors[track]
        explanation = [
            f"Schedule CY{schedule.year} (version {schedule.version}), picked by the date of "
            f"service {dos}.",
            _site_rule(site, systems),
            f"PFS conversion factor {cf.value} for the {track} track {cf.cite()}.",
        ]
        notes = {line.index: list(line.notes) for line in lines}
        warnings = list(dict.fromkeys(w.value for line in lines if (w := line.entry.warning)))
        paid: dict[tuple[int, str], list[Decimal | None]] = defaultdict(list)
        for system in systems:
            units = [
                unit
                for line in lines
                if system.name in line.entry.systems
                for unit in _units(system, site, line, cf.value, notes[line.index])
            ]
            explanation += _pay(system, units, notes, warnings)
            for unit in units:
                paid[unit.line.index, system.component].append(unit.paid)
        priced = tuple(_priced_line(line, paid, notes[line.index]) for line in lines)
        return _priced_claim(schedule, site, track, cf.value, dos, priced, explanation, warnings)


def _schedule_for(dos: date, schedule: FeeSchedule | None) -> FeeSchedule:
    """The date of service picks the schedule; never fall back to another year."""
    if schedule is None:
        try:
            return load_schedule(dos.year)
        except ScheduleNotFound as exc:
            message = f"{exc.message} (the year of the date of service {dos})"
            raise ScheduleNotFound(message, field="date_of_service") from None
    if schedule.year != dos.year:
        raise ScheduleMismatch(
            f"the schedule given is CY{schedule.year}, but the date of service {dos} "
            f"needs CY{dos.year}",
            field="date_of_service",
        )
    return schedule


def _check_payable(
    schedule: FeeSchedule,
    systems: tuple[PaymentSystem, ...],
    lines: tuple[CheckedLine, ...],
    site: SiteOfService,
) -> None:
    for line in lines:
        if not any(system.name in line.entry.systems for system in systems):
            where = {str(s) for name in line.entry.systems for s in schedule.systems[name].pays}
            raise SiteNotPayable(
                f"{line.entry.code} is not payable in the {site} setting; it is paid only in "
                f"{', '.join(sorted(where))}",
                field=f"lines[{line.index}].code",
            )


def _site_rule(site: SiteOfService, systems: tuple[PaymentSystem, ...]) -> str:
    paid = [f"{s.component} from {s.label} ({s.pays[site][1]})" for s in systems]
    unpaid = [c for c in COMPONENTS if c not in {s.component for s in systems}]
    cites = " ".join(sorted({f"[{s.source}]" for s in systems}))
    rule = "; ".join(paid) + (f"; no {' or '.join(unpaid)} payment" if unpaid else "")
    return f"Site of service {site}: {rule} {cites}."


def _units(
    system: PaymentSystem, site: SiteOfService, line: CheckedLine, cf: Decimal, notes: list[str]
) -> list[_Unit]:
    """The line's units in one system, each at its base amount adjusted by 50 then 52."""
    entry, (name, label) = line.entry, system.pays[site]
    base = entry.systems[system.name][name]
    amount = None
    if base.value is None:
        notes.append(f"{system.label}: {entry.code} has no {label} in the schedule {base.cite()}")
    elif system.basis == "rvu":
        amount = cents(base.value, cf)
        notes.append(
            f"{system.label} {label}: {base.value} RVUs × {cf} = {usd(amount)} {base.cite()}"
        )
    else:
        amount = cents(base.value)
        group = system.group_field
        grouped = f" ({group.upper()} {entry.systems[system.name][group].value})" if group else ""
        notes.append(f"{system.label} {label}{grouped}: {usd(amount)} {base.cite()}")
    # Bilateral first, then reduced service, each rounded: the order CMS applies them in.
    for modifier, factor, what in (
        (BILATERAL, system.bilateral(entry), "bilateral"),
        (REDUCED, system.reduced(entry), "reduced service"),
    ):
        if amount is not None and modifier in line.modifiers:
            amount = cents(amount, factor.value)
            notes.append(
                f"{system.label}: modifier {modifier} ({what}) at {percent(factor.value)} = "
                f"{usd(amount)} {factor.cite()}"
            )
    figure, indicator = system.indicator(entry)
    notes.append(
        f"{system.label}: {system.indicator_field.replace('_', ' ')} {figure.value}, "
        f"{indicator.definition.value} {figure.cite()}"
    )
    return [_Unit(line, number, amount, indicator) for number in range(1, line.units + 1)]


def _pay(
    system: PaymentSystem, units: list[_Unit], notes: dict[int, list[str]], warnings: list[str]
) -> list[str]:
    """Pay each unit: comprehensive packaging, then multiple-procedure ranking, else in full."""
    explanation = []
    comprehensive = sorted((u for u in units if u.indicator.comprehensive), key=_Unit.rank_key)
    if comprehensive:
        primary = comprehensive[0]
        primary.paid = primary.amount
        packaged = [u for u in units if u is not primary and u.indicator.packaged_by_comprehensive]
        rule = primary.indicator.definition
        notes[primary.line.index].append(
            f"{system.label}: {primary.tag} is the comprehensive service, paid "
            f"{usd(primary.paid)} {rule.cite()}"
        )
        for unit in packaged:
            unit.paid = ZERO
            notes[unit.line.index].append(
                f"{system.label}: {unit.tag} packaged into the comprehensive payment for "
                f"{primary.tag}: $0.00 {rule.cite()}"
            )
        tags = ", ".join(u.tag for u in packaged)
        explanation.append(
            f"{system.label}: {primary.tag} is {rule.value}; it pays {usd(primary.paid)}"
            + (f" and packages {tags} at $0.00" if packaged else "")
            + f" {rule.cite()}."
        )
    ranked = sorted(
        (u for u in units if u.paid is None and u.indicator.discounted), key=_Unit.rank_key
    )
    if len(ranked) > 1:
        factor = system.multiple_procedure_factor
        for rank, unit in enumerate(ranked, 1):
            unit.paid, how = unit.amount, "100%"
            if rank > 1 and REDUCED in unit.line.modifiers:
                how = "100%, as a modifier 52 line is not discounted further"
            elif rank > 1:
                unit.paid, how = cents(unit.amount, factor.value), percent(factor.value)
            notes[unit.line.index].append(
                f"{system.label} multiple procedures: {unit.tag} ranks {rank} of {len(ranked)}, "
                f"paid {how} = {usd(unit.paid)} {factor.cite()}"
            )
            limit = unit.indicator.rank_limit
            if limit and rank > limit:
                warnings.append(
                    f"{system.label}: {unit.tag} is procedure {rank}; beyond the {limit}th the "
                    f"contractor prices by report, and {how} is assumed here."
                )
        explanation.append(
            f"{system.label} multiple procedures: highest paid 100%, the others "
            f"{percent(factor.value)} unless modifier 52 {factor.cite()}: "
            + "; ".join(f"{u.tag} {usd(u.amount)} → {usd(u.paid)}" for u in ranked)
            + "."
        )
    for unit in units:
        if unit.paid is None:  # alone in its ranking, or never discounted nor packaged
            unit.paid = unit.amount
    return explanation


def _priced_line(
    line: CheckedLine, paid: dict[tuple[int, str], list[Decimal | None]], notes: list[str]
) -> PricedLine:
    amounts: dict[str, Decimal | None] = {}
    for component in COMPONENTS:
        values = paid.get((line.index, component), [])
        amounts[component] = None if None in values else sum(values, ZERO)
    return PricedLine(
        code=line.entry.code,
        units=line.units,
        modifiers=tuple(sorted(line.modifiers)),
        laterality=line.laterality,
        nerves=line.nerves,
        facility_amount=amounts["facility"],
        professional_amount=amounts["professional"],
        device_amount=amounts["device"],
        explanation=tuple(notes),
    )


def _priced_claim(
    schedule: FeeSchedule,
    site: SiteOfService,
    track: CFTrack,
    cf: Decimal,
    dos: date,
    lines: tuple[PricedLine, ...],
    explanation: list[str],
    warnings: list[str],
) -> PricedClaim:
    facility = sum((line.facility_amount for line in lines), ZERO)
    professional = sum((line.professional_amount for line in lines), ZERO)
    devices = [line.device_amount for line in lines]
    device_priced = None not in devices
    device = sum((d for d in devices if d is not None), ZERO)
    total = facility + professional + device
    for line in lines:
        if line.device_amount is None:
            warnings.append(
                f"The device component of {line.code} is unpriced: the CY{schedule.year} "
                f"schedule has no {site} amount for it. Set one with an override "
                f"({schedule.year}, {line.code!r}, {str(site)!r}); until then the total covers "
                "the priced components only."
            )
    deadline = filing_deadline(dos)
    explanation += [
        f"Totals: facility {usd(facility)} + professional {usd(professional)} + device "
        f"{usd(device) if device_priced else 'unpriced'} = {usd(total)}"
        + ("." if device_priced else " (priced components only)."),
        f"Timely filing: file by {deadline}, the date of service plus 12 months (42 CFR 424.44).",
    ]
    return PricedClaim(
        schedule_year=schedule.year,
        schedule_version=schedule.version,
        site_of_service=site,
        cf_track=track,
        conversion_factor=cf,
        date_of_service=dos,
        lines=lines,
        facility_total=facility,
        professional_total=professional,
        device_total=device if device_priced else None,
        device_priced=device_priced,
        total=total,
        complete=device_priced,
        warnings=tuple(warnings),
        filing_deadline=deadline,
        explanation=tuple(explanation),
    )
