"""Payers laid over the schedule: worked examples with the arithmetic written out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from supply_app.coding import (
    Basis,
    ClaimLine,
    FeeRow,
    InvalidPayer,
    Payer,
    PricedClaim,
    SiteOfService,
    price_claim,
)
from tests.support.coding import NON_QP, QP, D, claim

TWO_RIGHT = ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="RT")
ONE_RIGHT = ClaimLine("64640", nerves=("afcn",), laterality="RT")


def row(
    code: str, site: str, component: str, amount: str, modifier: str | None = None, **dates: date
) -> FeeRow:
    """A fee-table row effective from 1 January 2026 unless dates say otherwise."""
    return FeeRow(
        code,
        SiteOfService(site),
        component,
        D(amount),
        dates.get("effective_from", date(2026, 1, 1)),
        dates.get("effective_to"),
        modifier,
    )


def priced(site: str, *lines: ClaimLine, payer: Payer, track: str = QP) -> PricedClaim:
    """Price a 2 March 2026 claim for a payer."""
    return price_claim(claim(site, *lines, track=track), payer=payer)


def text(claim: PricedClaim) -> str:
    """The claim's explanation and its lines' notes as one text."""
    return " ".join([*claim.explanation, *(n for line in claim.lines for n in line.explanation)])


TRICARE = Payer(
    "TRICARE (CMAC locality 0100)",
    Basis.FEE_TABLE,
    fees=(
        row("64640", "HOPD", "facility", "850.00"),
        row("64640", "HOPD", "professional", "101.50"),
    ),
)


def test_an_active_duty_case_is_not_billed_and_collects_nothing() -> None:
    active = Payer("Active duty", Basis.NOT_BILLED)
    result = priced("HOPD", TWO_RIGHT, payer=active)
    assert (result.billed, result.total, result.complete) == (False, D("0.00"), True)
    assert result.payer == "Active duty"
    assert result.basis == "not_billed"
    assert "no collection is expected" in text(result)


def test_a_tricare_fee_table_case_keeps_medicare_s_ranking() -> None:
    # Facility: 850.00 (rank 1) + 850.00 × 50% = 425.00 (rank 2) = 1275.00.
    # Professional (CMAC): 101.50 + 101.50 × 50% = 50.75 → 152.25. Total 1427.25.
    result = priced("HOPD", TWO_RIGHT, payer=TRICARE)
    assert (result.facility_total, result.professional_total) == (D("1275.00"), D("152.25"))
    assert result.total == D("1427.25")
    assert "TRICARE (CMAC locality 0100) fee table: 64640 hospital outpatient payment" in text(
        result
    )


def test_a_commercial_120_percent_case() -> None:
    # Facility 903.63 × 120% = 1084.356 → 1084.36; professional 112.12 × 120% = 134.544
    # → 134.54; total 1218.90.
    commercial = Payer("Commercial 120%", Basis.PERCENT_OF_MEDICARE, percent=D("120"))
    result = priced("HOPD", ONE_RIGHT, payer=commercial)
    assert (result.facility_total, result.professional_total) == (D("1084.36"), D("134.54"))
    assert result.total == D("1218.90")
    assert "Commercial 120%: 120% of $903.63 = $1,084.36" in text(result)


def test_a_64624_52_office_case_is_an_estimate() -> None:
    # Non-qualifying CF: 12.32 RVUs × 33.4009 = 411.499 → 411.50; modifier 52 at 50% =
    # 205.75, an estimate: under the PFS the contractor sets the reduction.
    line = ClaimLine("64624", nerves=("superomedial",), laterality="RT")
    result = price_claim(claim("office", line, track=NON_QP))
    assert result.professional_total == D("205.75")
    assert result.estimated is True
    assert "an estimate" in text(result)
    full = price_claim(claim("office", ClaimLine("64624", units=1, laterality="RT")))
    assert full.estimated is False


def test_a_locality_adjusted_hopd_case() -> None:
    # OPPS: 903.63 × (0.6 × 1.1234 + 0.4) = 903.63 × 1.07404 = 970.5347 → 970.53.
    # The professional amount stays national (112.12): no GPCIs in our sources.
    local = Payer("Medicare, locality", Basis.MEDICARE_LOCALITY, wage_index=D("1.1234"))
    result = priced("HOPD", ONE_RIGHT, payer=local)
    assert (result.facility_total, result.professional_total) == (D("970.53"), D("112.12"))
    assert "× (0.6 × wage index 1.1234 + 0.4) = $970.53" in text(result)


def test_a_locality_adjusted_asc_case_uses_the_asc_labour_share() -> None:
    # ASC: 197.04 × (0.5 × 0.8500 + 0.5) = 197.04 × 0.925 = 182.262 → 182.26.
    local = Payer("Medicare, locality", Basis.MEDICARE_LOCALITY, wage_index=D("0.8500"))
    result = priced("ASC", ONE_RIGHT, payer=local)
    assert result.facility_total == D("182.26")
    assert "[uncertain: background]" in text(result)  # the ASC labour share is unsourced


def test_a_table_row_for_modifier_52_is_the_payer_s_own_figure() -> None:
    # The table gives 64624-52 at 700.00: used as is, not 1995.02 × 50%.
    payer = Payer(
        "Contract", Basis.FEE_TABLE, fees=(row("64624", "HOPD", "facility", "700.00", "52"),)
    )
    line = ClaimLine("64624", nerves=("superomedial",), laterality="RT")
    result = priced("HOPD", line, payer=payer)
    assert result.facility_total == D("700.00")
    assert result.complete is False  # the table has no professional 64624 amount


def test_a_table_row_applies_only_within_its_dates() -> None:
    later = Payer(
        "Contract",
        Basis.FEE_TABLE,
        fees=(row("64640", "HOPD", "facility", "1.00", effective_from=date(2026, 4, 1)),),
    )
    result = priced("HOPD", ONE_RIGHT, payer=later)
    assert result.facility_total == D("0.00")
    assert result.complete is False
    assert "has no 64640 hospital outpatient payment at HOPD on 2026-03-02" in text(result)


def test_a_table_s_percentage_prices_the_codes_it_does_not_list() -> None:
    # Facility from the table (850.00); professional 112.12 × 110% = 123.332 → 123.33.
    payer = Payer(
        "Contract",
        Basis.FEE_TABLE,
        percent=D("110"),
        fees=(row("64640", "HOPD", "facility", "850.00"),),
    )
    result = priced("HOPD", ONE_RIGHT, payer=payer)
    assert (result.facility_total, result.professional_total) == (D("850.00"), D("123.33"))
    assert result.complete is True


def test_0441t_is_unpriced_nationally_and_priced_by_a_table() -> None:
    line = ClaimLine("0441T", nerves=("afcn", "superomedial"), laterality="RT")
    national = price_claim(claim("HOPD", line))
    assert (national.total, national.complete) == (D("0.00"), False)
    assert any("0441T has no OPPS amount (contractor-priced)" in w for w in national.warnings)
    # The contractor's table: 600.00 + 600.00 × 50% = 900.00 facility; 150.00 + 75.00 = 225.00.
    cgs = Payer(
        "CGS contractor",
        Basis.FEE_TABLE,
        fees=(
            row("0441T", "HOPD", "facility", "600.00"),
            row("0441T", "HOPD", "professional", "150.00"),
        ),
    )
    result = priced("HOPD", line, payer=cgs)
    assert (result.facility_total, result.professional_total, result.complete) == (
        D("900.00"),
        D("225.00"),
        True,
    )


def test_a_table_without_the_device_says_the_gap_is_in_the_table() -> None:
    # TRICARE's table has no C9809 row: an override of Medicare's amount would not help.
    result = priced("HOPD", ONE_RIGHT, ClaimLine("C9809"), payer=TRICARE)
    assert (result.device_priced, result.complete) == (False, False)
    [warning] = [w for w in result.warnings if "device component" in w]
    assert "TRICARE (CMAC locality 0100)'s fee table has no HOPD device amount" in warning
    assert "Add a row (C9809, HOPD, device) to the payer's table" in warning
    assert "override" not in warning
    national = price_claim(claim("HOPD", ONE_RIGHT, ClaimLine("C9809"), track=QP))
    assert any("Set one with an override (2026, 'C9809', 'HOPD')" in w for w in national.warnings)


def test_a_fee_table_names_the_component_it_prices() -> None:
    # The professional amount is the PFS's facility rate: named as professional, never as
    # the facility's payment.
    result = priced("HOPD", ONE_RIGHT, payer=TRICARE)
    assert "fee table: 64640 professional facility rate at HOPD $101.50" in text(result)


def test_a_payer_may_pay_every_unit_in_full() -> None:
    # Without Medicare's rules: 850.00 × 2 = 1700.00 and 101.50 × 2 = 203.00.
    flat = Payer("Flat contract", Basis.FEE_TABLE, fees=TRICARE.fees, medicare_rules=False)
    result = priced("HOPD", TWO_RIGHT, payer=flat)
    assert (result.facility_total, result.professional_total) == (D("1700.00"), D("203.00"))


@pytest.mark.parametrize(
    ("payer", "field"),
    [
        (Payer("P", Basis.PERCENT_OF_MEDICARE), "percent"),
        (Payer("P", Basis.PERCENT_OF_MEDICARE, percent=D("-1")), "percent"),
        (Payer("P", Basis.MEDICARE_LOCALITY), "wage_index"),
        (Payer("P", Basis.MEDICARE_LOCALITY, wage_index=D("0")), "wage_index"),
        (Payer("P", Basis.FEE_TABLE, fees=(row("64640", "HOPD", "facility", "1.005"),)), "fees[0]"),
        (
            Payer("P", Basis.FEE_TABLE, fees=(row("64640", "HOPD", "facility", "1", "59"),)),
            "fees[0]",
        ),
    ],
)
def test_terms_that_cannot_price_are_refused_by_field(payer: Payer, field: str) -> None:
    with pytest.raises(InvalidPayer) as caught:
        priced("HOPD", ONE_RIGHT, payer=payer)
    assert caught.value.field == field


def test_the_payer_never_changes_the_benchmark() -> None:
    national = price_claim(claim("HOPD", TWO_RIGHT))
    assert priced("HOPD", TWO_RIGHT, payer=TRICARE).total != national.total
    assert price_claim(claim("HOPD", TWO_RIGHT)) == national
    assert national.payer == "Medicare national"
    assert isinstance(national.total, Decimal)
