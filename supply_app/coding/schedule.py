"""Fee schedules: one JSON file per calendar year, every figure with its source and confidence."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from supply_app.coding.errors import InvalidOverride, ScheduleError, ScheduleNotFound, UnknownCode
from supply_app.coding.money import cents
from supply_app.coding.nerves import NERVE_SETS

_DATA = resources.files(__package__) / "data"
_SCHEDULE_FILE = re.compile(r"cy(\d{4})\.json")
COMPONENTS = ("facility", "professional", "device")
UNIT_BASES = ("per_nerve", "nerve_bundle", "count")
_INDICATOR_FLAGS = ("discounted", "comprehensive", "packaged_by_comprehensive", "rank_limit")


class SiteOfService(StrEnum):
    """Where the service was given; it picks the payment systems."""

    HOPD = "HOPD"
    ASC = "ASC"
    OFFICE = "office"


class CFTrack(StrEnum):
    """Which PFS conversion factor applies to the billing clinician."""

    NON_QUALIFYING = "non_qualifying"
    QUALIFYING_APM = "qualifying_apm"


@dataclass(frozen=True)
class Figure:
    """One figure with its source and confidence mark; value None means not found."""

    value: Any
    source: str
    confidence: str
    note: str = ""

    def cite(self) -> str:
        """Short citation for explanations, e.g. '[confirmed: seed]'."""
        return f"[{self.confidence}: {self.source}]"


@dataclass(frozen=True)
class Indicator:
    """What one indicator value means for ranking within its payment system."""

    definition: Figure
    discounted: bool = False
    comprehensive: bool = False
    packaged_by_comprehensive: bool = False
    rank_limit: int | None = None


@dataclass(frozen=True)
class PaymentSystem:
    """A payment system: the component it pays, where, from which figure, under which rules."""

    name: str
    label: str
    component: str
    basis: str  # "amount": the figure is dollars; "rvu": the figure is RVUs × conversion factor
    pays: Mapping[SiteOfService, tuple[str, str]]  # site -> (figure name, label)
    source: str
    indicator_field: str
    indicators: Mapping[str, Indicator]
    bilateral_indicators: Mapping[str, Figure]  # empty unless each code carries its own
    group_field: str | None = None
    multiple_procedure_factor: Figure | None = None
    bilateral_factor: Figure | None = None
    # Both sides as two lines (RT, LT), each ranked, instead of one line at a factor.
    bilateral_lines: Figure | None = None
    # Modifier 52's factor here is the contractor's call, so the amount is an estimate.
    reduced_estimate: Figure | None = None
    # Whether a modifier 52 line is exempt from the multiple-procedure discount here.
    reduced_unranked: Figure | None = None
    # The share of a payment a hospital wage index adjusts (the rest is paid as is).
    labor_share: Figure | None = None

    def indicator(self, entry: CodeEntry) -> tuple[Figure, Indicator]:
        """The code's indicator figure in this system and what it means."""
        figure = entry.systems[self.name][self.indicator_field]
        return figure, self.indicators[figure.value]

    def bilateral(self, entry: CodeEntry) -> Figure | None:
        """The modifier 50 factor for the code here, or None when modifier 50 does not apply."""
        if self.bilateral_lines is not None:
            return None  # both sides are priced as two lines, never at a factor
        factor = self.bilateral_factor
        if (indicator := self.bilateral_indicator(entry)) is not None:
            factor = self.bilateral_indicators[indicator.value]
        return factor if factor is not None and factor.value is not None else None

    def bilateral_indicator(self, entry: CodeEntry) -> Figure | None:
        """The code's own bilateral indicator here (the PFS's), which picks its factor."""
        return (
            entry.systems[self.name].get("bilateral_indicator")
            if self.bilateral_indicators
            else None
        )

    def takes_both_sides(self, entry: CodeEntry) -> bool:
        """Whether a line for both sides (modifier 50) can be priced here."""
        return self.bilateral_lines is not None or self.bilateral(entry) is not None

    def reduced(self, entry: CodeEntry) -> Figure | None:
        """The modifier 52 factor for the code here, or None when modifier 52 does not apply."""
        return entry.systems[self.name].get("reduced_service_factor")


@dataclass(frozen=True)
class CodeEntry:
    """One code: its unit rules, limits, warning and figures per payment system."""

    code: str
    descriptor: Figure
    unit_basis: Figure
    mue: Figure
    mue_adjudication_indicator: Figure
    systems: Mapping[str, Mapping[str, Figure]]
    nerve_set: Figure | None = None
    partial_bundle_modifier: Figure | None = None
    warning: Figure | None = None
    # No national amount: priced only by a payer's table or an override.
    contractor_priced: Figure | None = None


@dataclass(frozen=True)
class FeeSchedule:
    """A calendar year's fee schedule, read-only; overrides make a new one."""

    year: int
    revision: int
    version: str
    confidence_marks: Mapping[str, str]
    sources: Mapping[str, str]
    conversion_factors: Mapping[str, Figure]
    mue_adjudication_indicators: Mapping[str, Figure]
    systems: Mapping[str, PaymentSystem]
    codes: Mapping[str, CodeEntry]

    def code(self, code: str, *, field: str | None = None) -> CodeEntry:
        """The entry for a code; UnknownCode when this year's schedule lacks it."""
        try:
            return self.codes[code]
        except KeyError:
            known = ", ".join(self.codes)
            raise UnknownCode(
                f"CY{self.year} has no code {code!r}; it prices {known}", field=field
            ) from None

    def systems_at(self, site: SiteOfService) -> tuple[PaymentSystem, ...]:
        """The payment systems that pay at a site, in file order."""
        return tuple(system for system in self.systems.values() if site in system.pays)

    def with_overrides(self, overrides: Mapping[tuple[int, str, str], Decimal]) -> FeeSchedule:
        """A copy with the overrides keyed to this year applied; this schedule is unchanged."""
        if not isinstance(overrides, Mapping):
            raise InvalidOverride(
                "overrides must map (year, code, site) to a Decimal", field="overrides"
            )
        codes = dict(self.codes)
        applied: dict[tuple[str, SiteOfService], Decimal] = {}
        for key, amount in overrides.items():
            year, code, site = _override_key(key)
            if year != self.year:
                continue  # an override for another year does not change this one
            if (code, site) in applied:
                raise InvalidOverride(f"override {key!r} is given twice", field="overrides")
            if code not in codes:
                raise InvalidOverride(
                    f"override {key!r}: CY{year} has no code {code}", field="overrides"
                )
            system = self._amount_system(codes[code], site, key)
            name = system.pays[site][0]
            figures = codes[code].systems[system.name]
            old = figures[name]
            applied[code, site] = _override_amount(key, amount)
            new = Figure(applied[code, site], "caller", "override", f"replaces {old.value}")
            codes[code] = replace(
                codes[code],
                systems=MappingProxyType(
                    {**codes[code].systems, system.name: MappingProxyType({**figures, name: new})}
                ),
            )
        if not applied:
            return self
        canonical = "\n".join(f"{c}|{s}|{a}" for (c, s), a in sorted(applied.items()))
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
        return replace(self, codes=MappingProxyType(codes), version=f"{self.version}+ovr:{digest}")

    def to_dict(self) -> dict[str, Any]:
        """The schedule as JSON-ready data (Decimals as strings)."""
        return jsonable(self)

    def _amount_system(self, entry: CodeEntry, site: SiteOfService, key: Any) -> PaymentSystem:
        # An override replaces a dollar figure, so the code needs exactly one at that site.
        found = [
            system
            for system in self.systems_at(site)
            if system.basis == "amount" and system.name in entry.systems
        ]
        if len(found) != 1:
            raise InvalidOverride(
                f"override {key!r}: {entry.code} has no single dollar amount at {site}",
                field="overrides",
            )
        return found[0]


def available_years() -> tuple[int, ...]:
    """The calendar years that have a schedule file, ascending."""
    found = (_SCHEDULE_FILE.fullmatch(item.name) for item in _DATA.iterdir())
    return tuple(sorted(int(match[1]) for match in found if match))


@cache
def load_schedule(year: int) -> FeeSchedule:
    """The fee schedule for a calendar year; ScheduleNotFound when no file exists for it."""
    if isinstance(year, bool) or not isinstance(year, int) or year not in available_years():
        years = ", ".join(map(str, available_years()))
        raise ScheduleNotFound(
            f"no fee schedule for calendar year {year!r}; schedules exist for {years}",
            field="year",
        )
    name = f"cy{year}.json"
    raw = (_DATA / name).read_bytes()
    try:
        schedule = _parse(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ScheduleError(f"{name} is malformed: {exc!r}") from exc
    problems = list(_problems(schedule))
    if schedule.year != year:
        problems.insert(0, f"it says year {schedule.year}")
    if problems:
        raise ScheduleError(f"{name}: " + "; ".join(problems))
    return schedule


def jsonable(value: Any) -> Any:
    """Convert dataclasses, mappings and Decimals to JSON-ready values (money as '903.63')."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _parse(raw: bytes) -> FeeSchedule:
    data = json.loads(raw, parse_float=Decimal)  # exact decimals: no float ever holds a price

    def figure(item: Mapping[str, Any]) -> Figure:
        return Figure(item["value"], item["source"], item["confidence"], item.get("note", ""))

    def figures(items: Mapping[str, Any]) -> Mapping[str, Figure]:
        return MappingProxyType({key: figure(item) for key, item in items.items()})

    def optional(item: Mapping[str, Any], key: str) -> Figure | None:
        return figure(item[key]) if key in item else None

    def indicator(item: Mapping[str, Any]) -> Indicator:
        flags = {k: item[k] for k in _INDICATOR_FLAGS if k in item}
        return Indicator(figure({**item, "value": item["meaning"]}), **flags)

    systems = {
        name: PaymentSystem(
            name=name,
            label=item["label"],
            component=item["component"],
            basis=item["basis"],
            pays=MappingProxyType(
                {SiteOfService(site): (p["figure"], p["label"]) for site, p in item["pays"].items()}
            ),
            source=item["source"],
            indicator_field=item["indicator_field"],
            indicators=MappingProxyType({k: indicator(v) for k, v in item["indicators"].items()}),
            group_field=item.get("group_field"),
            multiple_procedure_factor=optional(item, "multiple_procedure_factor"),
            bilateral_factor=optional(item, "bilateral_factor"),
            bilateral_indicators=figures(item.get("bilateral_indicators", {})),
            bilateral_lines=optional(item, "bilateral_lines"),
            reduced_estimate=optional(item, "reduced_estimate"),
            reduced_unranked=optional(item, "reduced_unranked"),
            labor_share=optional(item, "labor_share"),
        )
        for name, item in data["systems"].items()
    }
    codes = {
        code: CodeEntry(
            code=code,
            systems=MappingProxyType({k: figures(v) for k, v in entry.items() if k in systems}),
            **{k: figure(v) for k, v in entry.items() if k not in systems},
        )
        for code, entry in data["codes"].items()
    }
    return FeeSchedule(
        year=data["year"],
        revision=data["revision"],
        # The digest changes with any edit to the file, so stored prices can be flagged stale.
        version=f"CY{data['year']}.{data['revision']}-{hashlib.sha256(raw).hexdigest()[:8]}",
        confidence_marks=MappingProxyType(dict(data["confidence_marks"])),
        sources=MappingProxyType(dict(data["sources"])),
        conversion_factors=figures(data["conversion_factors"]),
        mue_adjudication_indicators=figures(data["mue_adjudication_indicators"]),
        systems=MappingProxyType(systems),
        codes=MappingProxyType(codes),
    )


def _problems(s: FeeSchedule) -> Iterator[str]:
    # Checks whose failure would otherwise surface mid-pricing as a KeyError or a wrong number.
    for where, figure in _figures(s, "schedule"):
        if figure.source not in s.sources or figure.confidence not in s.confidence_marks:
            yield f"{where} needs a listed source and confidence mark"
    if set(s.conversion_factors) != set(CFTrack):
        yield f"conversion factors must be exactly {', '.join(CFTrack)}"
    for system in s.systems.values():
        if system.component not in COMPONENTS or system.basis not in ("amount", "rvu"):
            yield f"system {system.name} has an unknown component or basis"
    for entry in s.codes.values():
        yield from _code_problems(s, entry)


def _code_problems(s: FeeSchedule, entry: CodeEntry) -> Iterator[str]:
    basis, code = entry.unit_basis.value, entry.code
    if basis not in UNIT_BASES:
        yield f"{code}: unit basis must be one of {', '.join(UNIT_BASES)}"
    if basis != "count" and (entry.nerve_set is None or entry.nerve_set.value not in NERVE_SETS):
        yield f"{code}: unit basis {basis} needs a known nerve_set"
    if basis == "nerve_bundle" and entry.partial_bundle_modifier is None:
        yield f"{code}: a nerve bundle needs a partial_bundle_modifier"
    if not isinstance(entry.mue.value, int) or entry.mue.value < 1:
        yield f"{code}: MUE must be a positive whole number"
    if entry.mue_adjudication_indicator.value not in s.mue_adjudication_indicators:
        yield f"{code}: unknown MUE adjudication indicator"
    for name, figures in entry.systems.items():
        system = s.systems[name]
        needed = {f for f, _ in system.pays.values()} | {system.indicator_field}
        if system.bilateral_indicators:
            needed.add("bilateral_indicator")
        if missing := needed - figures.keys():
            yield f"{code}.{name} lacks {', '.join(sorted(missing))}"
            continue
        if figures[system.indicator_field].value not in system.indicators:
            yield f"{code}.{name}: unknown {system.indicator_field}"
            continue
        bilateral = figures.get("bilateral_indicator")
        if system.bilateral_indicators and bilateral.value not in system.bilateral_indicators:
            yield f"{code}.{name}: unknown bilateral_indicator"
        _, rule = system.indicator(entry)
        unpriced = any(figures[f].value is None for f, _ in system.pays.values())
        ranked = system.component != "device" or rule.discounted or rule.comprehensive
        if unpriced and ranked and entry.contractor_priced is None:
            # Only the device, or a code the contractor prices, may be unknown: ranking
            # needs every amount, so an unknown one leaves the whole system unpriced.
            yield f"{code}.{name}: only an unranked device amount may be unknown"


def _figures(value: Any, where: str) -> Iterator[tuple[str, Figure]]:
    if isinstance(value, Figure):
        yield where, value
    elif is_dataclass(value):
        for f in fields(value):
            yield from _figures(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _figures(item, f"{where}.{key}")


def _override_key(key: Any) -> tuple[int, str, SiteOfService]:
    try:
        year, code, site = key
        if isinstance(year, bool) or not isinstance(year, int) or not isinstance(code, str):
            raise TypeError
        return year, code.strip().upper(), SiteOfService(site)
    except (TypeError, ValueError):
        raise InvalidOverride(
            f"override key {key!r} must be (year, code, site) with site one of "
            f"{', '.join(SiteOfService)}",
            field="overrides",
        ) from None


def _override_amount(key: Any, amount: Any) -> Decimal:
    # Decimal or int only: a float cannot hold a price exactly.
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise InvalidOverride(
            f"override {key!r} must be a Decimal, not {amount!r}", field="overrides"
        )
    amount = Decimal(amount)
    if not amount.is_finite() or amount < 0 or cents(amount) != amount:
        raise InvalidOverride(
            f"override {key!r} must be a non-negative whole number of cents, not {amount}",
            field="overrides",
        )
    return cents(amount)
