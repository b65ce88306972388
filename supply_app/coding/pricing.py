"""Price a claim the way Medicare would, from the schedule's data, explaining every step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
from supply_app.coding.payers import (
    MEDICARE_NATIONAL,
    Basis,
    Payer,
    Slot,
    check_payer,
    payer_base,
)
from supply_app.coding.ranking import Unit, pay_units
from supply_app.coding.schedule import (
    COMPONENTS,
    CFTrack,
    CodeEntry,
    FeeSchedule,
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
    facility_amount: Decimal | None  # None: a contractor-priced amount nobody gave
    professional_amount: Decimal | None
    device_amount: Decimal | None  # None: the line has a device component nobody priced
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class PricedClaim:
    """A priced claim: per-line and total amounts, warnings, filing deadline, explanation.

    Priced for one payer (Medicare national unless another is given); `billed` is False
    for a payer that is not billed, whose amounts are all zero.
    """

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
    payer: str = MEDICARE_NATIONAL.name
    basis: str = Basis.MEDICARE_NATIONAL.value
    billed: bool = True
    estimated: bool = False  # an amount is the contractor's to set (PFS modifier 52)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: money as decimal strings ('903.63'), dates ISO, None kept."""
        return jsonable(self)


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
    payer: Payer | None = None,
) -> PricedClaim:
    """Price a claim from the schedule its date of service picks, explaining every rule.

    A payer's terms (a percentage, a fee table, the wage index) replace Medicare's amounts
    before the rules are applied; Medicare national when no payer is given.
    """
    with decimal_context():
        payer = check_payer(payer or MEDICARE_NATIONAL)
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
            f"Priced for {payer.describe()}.",
        ]
        if not payer.billed:
            explanation[1:] = [
                f"{payer.describe()}: no collection is expected; the case carries its supply "
                "and equipment costs only."
            ]
        elif not payer.medicare_rules:
            explanation.append(
                f"{payer.name} pays every unit in full: Medicare's multiple-procedure and "
                "packaging rules do not apply to it."
            )
        pricing = _Pricing(payer, site, dos, cf.value)
        notes = {line.index: list(line.notes) for line in lines}
        warnings = list(dict.fromkeys(w.value for line in lines if (w := line.entry.warning)))
        paid: dict[tuple[int, str], list[Decimal | None]] = defaultdict(list)
        for system in systems if payer.billed else ():
            units = [
                unit
                for line in lines
                if system.name in line.entry.systems
                for unit in pricing.units(system, line, notes[line.index])
            ]
            explanation += pay_units(system, units, notes, warnings, payer.medicare_rules)
            for unit in units:
                paid[unit.line.index, system.component].append(unit.paid)
        priced = tuple(_priced_line(line, paid, notes[line.index]) for line in lines)
        result = _priced_claim(
            schedule, site, track, cf.value, dos, priced, explanation, warnings, payer
        )
        return replace(
            result,
            payer=payer.name,
            basis=payer.basis.value,
            billed=payer.billed,
            estimated=bool(pricing.estimates),
        )


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


@dataclass
class _Pricing:
    """What one claim is priced for: the payer, the site, the date and the PFS factor."""

    payer: Payer
    site: SiteOfService
    on: date
    cf: Decimal
    estimates: list[str] = field(default_factory=list)

    def units(self, system: PaymentSystem, line: CheckedLine, notes: list[str]) -> list[Unit]:
        """The line's units in one system, each at its base amount adjusted by 50 then 52."""
        entry = line.entry
        amount = self._medicare(system, entry, notes)
        priced_modifier = None
        labor = system.labor_share
        slot = Slot(
            entry.code,
            self.site,
            system.component,
            system.pays[self.site][1],
            line.modifiers,
            self.on,
        )
        base = payer_base(self.payer, slot, amount, (labor.value, labor.cite()) if labor else None)
        if base is not None:
            amount, priced_modifier = base.amount, base.modifier_priced
            notes.append(base.note)
        # Bilateral first, then reduced service, each rounded: the order CMS applies them in.
        for modifier, factor, what in (
            (BILATERAL, system.bilateral(entry), "bilateral"),
            (REDUCED, system.reduced(entry), "reduced service"),
        ):
            if amount is None or modifier not in line.modifiers or modifier == priced_modifier:
                continue
            if factor is None:  # both sides priced as two lines below
                continue
            amount = cents(amount, factor.value)
            note = (
                f"{system.label}: modifier {modifier} ({what}) at {percent(factor.value)} = "
                f"{usd(amount)} {factor.cite()}"
            )
            if modifier == BILATERAL and (basis := system.bilateral_indicator(entry)):
                note += f", as {entry.code}'s bilateral indicator is {basis.value} {basis.cite()}"
            if modifier == REDUCED and system.reduced_estimate is not None:
                estimate = system.reduced_estimate
                note += f"; an estimate: {estimate.note} {estimate.cite()}"
                self.estimates.append(f"{entry.code} {system.label}")
            notes.append(note)
        figure, indicator = system.indicator(entry)
        notes.append(
            f"{system.label}: {system.indicator_field.replace('_', ' ')} {figure.value}, "
            f"{indicator.definition.value} {figure.cite()}"
        )
        sides: tuple[Laterality | None, ...] = (None,)
        if BILATERAL in line.modifiers and system.bilateral_lines is not None:
            sides, rule = (Laterality.RT, Laterality.LT), system.bilateral_lines
            notes.append(
                f"{system.label}: both sides billed as two lines, {entry.code}-RT and "
                f"{entry.code}-LT, each ranked on its own {rule.cite()}"
            )
        return [
            Unit(line, number, amount, indicator, figure, side=side)
            for side in sides
            for number in range(1, line.units + 1)
        ]

    def _medicare(self, system: PaymentSystem, entry: CodeEntry, notes: list[str]) -> Any:
        """The schedule's amount for one unit here (None when it has none)."""
        name, label = system.pays[self.site]
        base = entry.systems[system.name][name]
        if base.value is None:
            notes.append(
                f"{system.label}: {entry.code} has no {label} in the schedule {base.cite()}"
            )
            return None
        if system.basis == "rvu":
            amount = cents(base.value, self.cf)
            notes.append(
                f"{system.label} {label}: {base.value} RVUs × {self.cf} = {usd(amount)} "
                f"{base.cite()}"
            )
            return amount
        amount = cents(base.value)
        group = system.group_field
        grouped = f" ({group.upper()} {entry.systems[system.name][group].value})" if group else ""
        notes.append(f"{system.label} {label}{grouped}: {usd(amount)} {base.cite()}")
        return amount


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


def _device_unpriced(code: str, site: SiteOfService, year: int, dos: date, payer: Payer) -> str:
    """What to do about a device component nobody priced: where the amount is missing."""
    if payer.basis is Basis.FEE_TABLE:
        where = (
            f"{payer.name}'s fee table has no {site} device amount for it on {dos}. Add a "
            f"row ({code}, {site}, device) to the payer's table"
        )
    else:
        where = (
            f"there is no {site} amount for it in CY{year}. Set one with an override "
            f"({year}, {code!r}, {str(site)!r})"
        )
    return (
        f"The device component of {code} is unpriced: {where}; until then the total covers "
        "the priced components only."
    )


def _priced_sum(amounts: Any) -> Decimal:
    """The sum of the amounts that are priced (None: unpriced, left out)."""
    return sum((amount for amount in amounts if amount is not None), ZERO)


def _priced_claim(
    schedule: FeeSchedule,
    site: SiteOfService,
    track: CFTrack,
    cf: Decimal,
    dos: date,
    lines: tuple[PricedLine, ...],
    explanation: list[str],
    warnings: list[str],
    payer: Payer,
) -> PricedClaim:
    facility = _priced_sum(line.facility_amount for line in lines)
    professional = _priced_sum(line.professional_amount for line in lines)
    devices = [line.device_amount for line in lines]
    device_priced = None not in devices
    device = _priced_sum(devices)
    complete = device_priced and None not in (
        amount for line in lines for amount in (line.facility_amount, line.professional_amount)
    )
    total = facility + professional + device
    for line in lines:
        if line.device_amount is None:
            warnings.append(_device_unpriced(line.code, site, schedule.year, dos, payer))
    deadline = filing_deadline(dos)
    explanation += [
        f"Totals: facility {usd(facility)} + professional {usd(professional)} + device "
        f"{usd(device) if device_priced else 'unpriced'} = {usd(total)}"
        + ("." if complete else " (priced components only)."),
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
        complete=complete,
        warnings=tuple(warnings),
        filing_deadline=deadline,
        explanation=tuple(explanation),
    )
