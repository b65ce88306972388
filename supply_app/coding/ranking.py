"""Medicare's rules between a claim's units: comprehensive packaging, then the
multiple-procedure ranking, each unit paid and explained with the facts it rests on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from supply_app.coding.claims import REDUCED, CheckedLine, Laterality
from supply_app.coding.money import ZERO, cents, percent, usd
from supply_app.coding.schedule import Figure, Indicator, PaymentSystem


@dataclass
class Unit:
    """One procedure in one payment system: a unit of a line, after modifiers 50 and 52."""

    line: CheckedLine
    number: int
    amount: Decimal | None
    indicator: Indicator
    assigned: Figure  # the code's indicator value, whose confidence the rule rests on too
    paid: Decimal | None = None
    side: Laterality | None = None  # a bilateral line priced as two lines: which one

    @property
    def tag(self) -> str:
        tag = self.line.entry.code + f"-{self.side}" if self.side else self.line.tag
        return tag + (f" unit {self.number}" if self.line.units > 1 else "")

    def rank_key(self) -> tuple[Any, ...]:
        # Highest first. On a tie the line open to discount goes first and the rest follow a
        # fixed order, so the total never depends on the order the lines were given in.
        line = self.line
        side = self.side is Laterality.LT  # RT before LT, as the lines are billed
        order = (line.entry.code, str(line.laterality), line.index, side, self.number)
        return (-self.amount, REDUCED in line.modifiers, *order)


def pay_units(
    system: PaymentSystem,
    units: list[Unit],
    notes: dict[int, list[str]],
    warnings: list[str],
    rules: bool = True,
) -> list[str]:
    """Pay each unit: comprehensive packaging, then multiple-procedure ranking, else in full.

    Without Medicare's rules (a payer that says so) every unit is paid its amount. Ranking
    needs every amount: when one is unknown the system's units are all left unpriced.
    """
    explanation: list[str] = []
    ranked_here = [u for u in units if u.indicator.discounted or u.indicator.comprehensive]
    if rules and any(u.amount is None for u in ranked_here):
        missing = sorted({u.line.entry.code for u in ranked_here if u.amount is None})
        for unit in units:
            notes[unit.line.index].append(
                f"{system.label}: {unit.tag} unpriced: {', '.join(missing)} has no amount, so "
                "the multiple-procedure ranking cannot be applied"
            )
        warnings.append(
            f"The {system.component} payment is unpriced: {', '.join(missing)} has no "
            f"{system.label} amount (contractor-priced). Give it in the payer's fee table or "
            "an override; until then the total covers the priced components only."
        )
        return explanation
    explanation += _rank(system, units if rules else [], notes, warnings)
    for unit in units:
        if unit.paid is None:  # alone in its ranking, or never discounted nor packaged
            unit.paid = unit.amount
    return explanation


def _rank(
    system: PaymentSystem, units: list[Unit], notes: dict[int, list[str]], warnings: list[str]
) -> list[str]:
    """Medicare's comprehensive packaging, then its multiple-procedure ranking."""
    explanation = []
    comprehensive = sorted((u for u in units if u.indicator.comprehensive), key=Unit.rank_key)
    comprehensive = sorted((u for u in units if u.indicator.comprehensive), key=Unit.rank_key)
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
            f"{system.label}: {primary.tag} is {rule.value} {rule.cite()}; it pays "
            f"{usd(primary.paid)}"
            + (f" and packages {tags} at $0.00" if packaged else "")
            + f" (by {_assigned(system, [primary, *packaged])})."
        )
    ranked = sorted(
        (u for u in units if u.paid is None and u.indicator.discounted), key=Unit.rank_key
    )
    if len(ranked) > 1:
        factor = system.multiple_procedure_factor
        exempt = system.reduced_unranked
        exempt = exempt if exempt is not None and exempt.value else None
        for rank, unit in enumerate(ranked, 1):
            unit.paid, how = unit.amount, "100%"
            if rank > 1 and exempt and REDUCED in unit.line.modifiers:
                how = f"100%, as a modifier 52 line is not discounted further {exempt.cite()}"
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
            f"{percent(factor.value)} {factor.cite()}"
            + (f", except modifier 52 lines {exempt.cite()}" if exempt else "")
            + ": "
            + "; ".join(f"{u.tag} {usd(u.amount)} → {usd(u.paid)}" for u in ranked)
            + f" (by {_assigned(system, ranked)})."
        )
    return explanation


def _assigned(system: PaymentSystem, units: list[Unit]) -> str:
    """The codes' indicator values these units were ranked or packaged by, each cited, so a
    summary is never surer than the weakest fact it rests on."""
    name = system.indicator_field.replace("_", " ")
    seen = dict.fromkeys((u.line.entry.code, u.assigned) for u in units)
    return ", ".join(f"{code} {name} {fig.value} {fig.cite()}" for code, fig in seen)
