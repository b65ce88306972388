"""Properties that hold for every valid claim the strategies can build."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from supply_app.coding import (
    ANTERIOR_KNEE_NERVES,
    GENICULAR_NERVES,
    CFTrack,
    Claim,
    ClaimLine,
    PricedClaim,
    SiteOfService,
    price_claim,
)
from tests.support.coding import DOS

Overrides = dict[tuple[int, str, str], Decimal]
MODIFIER_SETS = st.sampled_from([frozenset(), frozenset({"52"}), frozenset({"59"})])


def _nerves(pool: tuple[str, ...], max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(pool), unique=True, max_size=max_size)


@st.composite
def claims(draw: st.DrawFn) -> tuple[Claim, Overrides]:
    """A valid claim: within the MUEs, one genicular unit per side, the device off the office."""
    site = draw(st.sampled_from(list(SiteOfService)))
    lines = []
    right = draw(_nerves(ANTERIOR_KNEE_NERVES, 5))
    left = draw(_nerves(ANTERIOR_KNEE_NERVES, 5 - len(right)))
    for side, nerves in (("RT", right), ("LT", left)):
        if nerves:
            modifiers = draw(MODIFIER_SETS)
            lines.append(
                ClaimLine("64640", nerves=tuple(nerves), laterality=side, modifiers=modifiers)
            )
    spare = [n for n in ANTERIOR_KNEE_NERVES if n not in right and n not in left]
    if len(right) + len(left) < 5 and draw(st.booleans()):
        lines.append(ClaimLine("64640", nerves=(draw(st.sampled_from(spare)),), laterality="50"))
    for side in draw(st.sampled_from([(), ("RT",), ("LT",), ("RT", "LT"), ("50",)])):
        genicular = draw(st.lists(st.sampled_from(GENICULAR_NERVES), unique=True, min_size=1))
        lines.append(ClaimLine("64624", nerves=tuple(genicular), laterality=side))
    overrides: Overrides = {}
    if site is not SiteOfService.OFFICE and draw(st.booleans()):
        lines.append(ClaimLine("C9809"))
        if draw(st.booleans()):
            cents = draw(st.integers(min_value=0, max_value=500_000))
            overrides[2026, "C9809", site] = Decimal(cents).scaleb(-2)
    if not lines:
        lines.append(ClaimLine("64640", units=draw(st.integers(min_value=1, max_value=5))))
    claim = Claim(site, DOS, draw(st.sampled_from(list(CFTrack))), tuple(lines))
    return claim, overrides


def _money(priced: PricedClaim) -> list[Decimal]:
    amounts: list[Any] = [priced.facility_total, priced.professional_total, priced.total]
    amounts.append(priced.device_total)
    for line in priced.lines:
        amounts += [line.facility_amount, line.professional_amount, line.device_amount]
    return [amount for amount in amounts if amount is not None]


def _one_unit(line: ClaimLine) -> ClaimLine:
    if line.units:
        return replace(line, units=1)
    if line.code == "64640":
        return replace(line, nerves=line.nerves[:1])  # one unit per nerve branch
    return line  # a 64624 bundle and C9809 are one unit already


def _components(priced: PricedClaim, index: int) -> tuple[Decimal, ...]:
    line = priced.lines[index]
    return (line.facility_amount, line.professional_amount, line.device_amount or Decimal(0))


@settings(max_examples=300, deadline=None)
@given(claims())
def test_every_amount_is_a_non_negative_whole_number_of_cents(
    case: tuple[Claim, Overrides],
) -> None:
    claim, overrides = case
    for amount in _money(price_claim(claim, overrides=overrides)):
        assert amount >= 0
        assert amount.as_tuple().exponent == -2


@settings(max_examples=300, deadline=None)
@given(claims())
def test_the_totals_add_up(case: tuple[Claim, Overrides]) -> None:
    claim, overrides = case
    priced = price_claim(claim, overrides=overrides)
    lines = priced.lines
    assert priced.facility_total == sum(line.facility_amount for line in lines)
    assert priced.professional_total == sum(line.professional_amount for line in lines)
    devices = [line.device_amount for line in lines]
    assert priced.device_total == (None if None in devices else sum(devices))  # type: ignore[arg-type]
    assert priced.complete is priced.device_priced is (None not in devices)
    device = sum(d for d in devices if d is not None)
    assert priced.total == priced.facility_total + priced.professional_total + device


@settings(max_examples=300, deadline=None)
@given(claims(), st.randoms(use_true_random=False))
def test_line_order_never_changes_the_totals(case: tuple[Claim, Overrides], rng: Any) -> None:
    claim, overrides = case
    shuffled = list(claim.lines)
    rng.shuffle(shuffled)
    first = price_claim(claim, overrides=overrides)
    second = price_claim(replace(claim, lines=tuple(shuffled)), overrides=overrides)
    for name in ("facility_total", "professional_total", "device_total", "total"):
        assert getattr(first, name) == getattr(second, name), name


@settings(max_examples=300, deadline=None)
@given(claims())
def test_a_discount_never_raises_a_payment(case: tuple[Claim, Overrides]) -> None:
    # A line's undiscounted amount is one unit of it priced alone, times its units: ranking,
    # packaging and other lines on the claim may only lower that.
    claim, overrides = case
    priced = price_claim(claim, overrides=overrides)
    for index, line in enumerate(claim.lines):
        alone = price_claim(replace(claim, lines=(_one_unit(line),)), overrides=overrides)
        units = priced.lines[index].units
        for paid, undiscounted in zip(
            _components(priced, index), _components(alone, 0), strict=True
        ):
            assert paid <= undiscounted * units
