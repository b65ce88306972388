"""A payer's terms: how it reimburses, entered as data laid over the year's schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from supply_app.coding.claims import BILATERAL, REDUCED
from supply_app.coding.errors import InvalidPayer
from supply_app.coding.money import cents, percent, usd
from supply_app.coding.schedule import COMPONENTS, FeeSchedule, SiteOfService


class Basis(StrEnum):
    """How a payer reimburses."""

    MEDICARE_NATIONAL = "medicare_national"
    MEDICARE_LOCALITY = "medicare_locality"
    PERCENT_OF_MEDICARE = "percent_of_medicare"
    FEE_TABLE = "fee_table"
    NOT_BILLED = "not_billed"


BASIS_LABELS = {
    Basis.MEDICARE_NATIONAL: "Medicare national rates",
    Basis.MEDICARE_LOCALITY: "Medicare rates, facility payment adjusted by the wage index",
    Basis.PERCENT_OF_MEDICARE: "a percentage of Medicare",
    Basis.FEE_TABLE: "its own fee table",
    Basis.NOT_BILLED: "not billed",
}
# Modifiers a fee-table row may name: the ones that change what a line pays.
FEE_MODIFIERS = (BILATERAL, REDUCED)


@dataclass(frozen=True)
class FeeRow:
    """One amount of a payer's table: a code's component at a site, from a date."""

    code: str
    site: SiteOfService
    component: str
    amount: Decimal
    effective_from: date
    effective_to: date | None = None  # inclusive; None: until replaced
    modifier: str | None = None  # the amount for a line carrying this modifier


@dataclass(frozen=True)
class Payer:
    """A payer's terms. `percent` is the share of Medicare (Decimal('120') for 120%); for a
    fee table it prices the codes the table does not list, which are unpriced without it."""

    name: str
    basis: Basis
    percent: Decimal | None = None
    wage_index: Decimal | None = None  # the facility's, for the locality basis
    fees: tuple[FeeRow, ...] = ()
    medicare_rules: bool = True  # multiple-procedure, packaging and modifier rules apply

    @property
    def billed(self) -> bool:
        """Whether anything is collected from this payer."""
        return self.basis is not Basis.NOT_BILLED

    def describe(self) -> str:
        """How explanations name the payer and its basis."""
        how = BASIS_LABELS[self.basis]
        if self.basis is Basis.PERCENT_OF_MEDICARE:
            how = f"{self.percent.normalize():f}% of Medicare"
        elif self.basis is Basis.MEDICARE_LOCALITY:
            how += f" {self.wage_index}"
        return f"{self.name} ({how})"


MEDICARE_NATIONAL = Payer("Medicare national", Basis.MEDICARE_NATIONAL)


def check_payer(payer: Payer) -> Payer:
    """The payer when its terms can price a claim; InvalidPayer naming the field otherwise."""
    if not isinstance(payer, Payer):
        raise InvalidPayer(f"expected a Payer, not {type(payer).__name__}", field="payer")
    basis = Basis(payer.basis)
    if basis is Basis.PERCENT_OF_MEDICARE and payer.percent is None:
        raise InvalidPayer(f"{payer.name} pays a percentage of Medicare: give it", field="percent")
    if payer.percent is not None and not _decimal_between(payer.percent, 0, 1000):
        raise InvalidPayer(f"{payer.name}: the percentage must be 0 to 1000", field="percent")
    if basis is Basis.MEDICARE_LOCALITY and payer.wage_index is None:
        raise InvalidPayer(
            f"{payer.name} adjusts by the wage index: set the facility's wage index",
            field="wage_index",
        )
    wage_index = payer.wage_index
    if wage_index is not None and not (_decimal_between(wage_index, 0, 10) and wage_index > 0):
        raise InvalidPayer("the wage index must be above 0 and below 10", field="wage_index")
    for index, row in enumerate(payer.fees):
        _check_row(row, f"fees[{index}]")
    return payer


def _decimal_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and low <= value < high


def _check_row(row: FeeRow, where: str) -> None:
    if not isinstance(row, FeeRow) or row.component not in COMPONENTS:
        raise InvalidPayer(f"{where} must be a FeeRow of a known component", field=where)
    if row.modifier is not None and row.modifier not in FEE_MODIFIERS:
        raise InvalidPayer(f"{where}: modifier must be one of {FEE_MODIFIERS}", field=where)
    if not _decimal_between(row.amount, 0, 10**9) or cents(row.amount) != row.amount:
        raise InvalidPayer(f"{where}: the amount must be whole cents, not negative", field=where)
    if row.effective_to is not None and row.effective_to < row.effective_from:
        raise InvalidPayer(f"{where}: it ends before it starts", field=where)


def fee_row_misfit(
    schedule: FeeSchedule, code: str, site: SiteOfService, component: str, modifier: str | None
) -> tuple[str, str] | None:
    """Why a fee-table row could never price a line under this schedule, as (field, reason);
    None when some claim can use it. A row that prices nothing is a mistake in the file."""
    system = next((s for s in schedule.systems_at(site) if s.component == component), None)
    if system is None:
        return "component", f"Nothing pays a {component} amount in the {site} setting."
    entry = schedule.codes.get(code)
    if entry is None or system.name not in entry.systems:
        paid = sorted(
            s.component for s in schedule.systems_at(site) if entry and s.name in entry.systems
        )
        has = f"it has {' and '.join(paid)} amounts there" if paid else "it is not paid there"
        return "component", f"{code} has no {component} amount in the {site} setting; {has}."
    if modifier == REDUCED and system.reduced(entry) is None:
        return "modifier", f"Modifier 52 does not apply to {code}."
    if modifier == BILATERAL and not system.takes_both_sides(entry):
        return "modifier", f"Modifier 50 does not apply to {code} in the {site} setting."
    return None


@dataclass(frozen=True)
class Base:
    """What a payer pays for one unit of a line in one system, before ranking."""

    amount: Decimal | None
    note: str
    modifier_priced: str | None = None  # the table's amount already reflects this modifier


@dataclass(frozen=True)
class Slot:
    """What one line is paid for in one system: code, site, component, modifiers, date."""

    code: str
    site: SiteOfService
    component: str
    label: str  # how explanations name the amount, e.g. "hospital outpatient payment"
    modifiers: frozenset[str]
    on: date


def payer_base(
    payer: Payer,
    slot: Slot,
    medicare: Decimal | None,
    labor_share: tuple[Decimal, str] | None,
) -> Base | None:
    """The payer's amount in place of Medicare's (`medicare`); None: Medicare's stands."""
    basis = payer.basis
    if basis is Basis.MEDICARE_LOCALITY and labor_share is not None and medicare is not None:
        share, cite = labor_share
        factor = share * payer.wage_index + (1 - share)
        amount = cents(medicare, factor)
        return Base(
            amount,
            f"{payer.name}: {usd(medicare)} × ({share} × wage index {payer.wage_index} + "
            f"{1 - share}) = {usd(amount)} {cite}",
        )
    if basis is Basis.MEDICARE_LOCALITY:
        return Base(
            medicare,
            f"{payer.name}: the {slot.label} is not adjusted by the wage index (a locality figure "
            "for it comes from a payer's fee table)",
        )
    if basis is Basis.PERCENT_OF_MEDICARE:
        return _percent(payer, medicare, slot.label)
    if basis is Basis.FEE_TABLE:
        return _table(payer, slot, medicare)
    return None


def _percent(payer: Payer, medicare: Decimal | None, label: str) -> Base:
    if medicare is None:
        return Base(None, f"{payer.name}: no Medicare {label} to take a percentage of")
    amount = cents(medicare, payer.percent / 100)
    return Base(
        amount, f"{payer.name}: {percent(payer.percent / 100)} of {usd(medicare)} = {usd(amount)}"
    )


def _table(payer: Payer, slot: Slot, medicare: Decimal | None) -> Base:
    code, site, label, on = slot.code, slot.site, slot.label, slot.on
    rows = {
        row.modifier: row
        for row in payer.fees
        if row.code == code
        and row.site == site
        and row.component == slot.component
        and row.effective_from <= on
        and (row.effective_to is None or on <= row.effective_to)
    }
    for modifier in (*(m for m in FEE_MODIFIERS if m in slot.modifiers), None):
        if (row := rows.get(modifier)) is not None:
            tag = code + (f"-{modifier}" if modifier else "")
            since = f"effective {row.effective_from}" + (
                f" to {row.effective_to}" if row.effective_to else ""
            )
            return Base(
                row.amount,
                f"{payer.name} fee table: {tag} {label} at {site} {usd(row.amount)} ({since})",
                modifier,
            )
    if payer.percent is not None:
        return _percent(payer, medicare, label)
    return Base(None, f"{payer.name}: its fee table has no {code} {label} at {site} on {on}")
