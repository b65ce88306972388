"""Each pricing rule on its own, with amounts checked by hand, and each invalid input refused."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Any

import pytest

from supply_app.coding import (
    ANTERIOR_KNEE_NERVES,
    GENICULAR_NERVES,
    Claim,
    ClaimLine,
    CodingError,
    DuplicateNerve,
    InvalidClaim,
    InvalidModifier,
    InvalidUnits,
    Laterality,
    ScheduleMismatch,
    ScheduleNotFound,
    SiteNotPayable,
    TooManyUnits,
    UnknownCode,
    UnknownNerve,
    filing_deadline,
    load_schedule,
    price_claim,
    to_cents,
)
from tests.support.coding import DOS, NON_QP, QP, D, claim, device, price

ALL_GENICULAR = ClaimLine("64624", nerves=GENICULAR_NERVES, laterality="RT")
TWO_GENICULAR = ClaimLine("64624", nerves=("superolateral", "inferomedial"), laterality="RT")


def amounts(line: Any) -> tuple[Decimal, Decimal, Decimal | None]:
    return line.facility_amount, line.professional_amount, line.device_amount


def text(priced: Any) -> str:
    return " ".join([*priced.explanation, *(n for line in priced.lines for n in line.explanation)])


# The source page's table, to the cent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "code", "facility", "professional"),
    [
        ("HOPD", "64640", "903.63", "112.12"),
        ("ASC", "64640", "197.04", "112.12"),
        ("office", "64640", "0.00", "269.21"),
        ("HOPD", "64624", "1995.02", "133.93"),
        ("ASC", "64624", "948.66", "133.93"),
        ("office", "64624", "0.00", "413.55"),
    ],
)
def test_the_source_page_table_is_reproduced_to_the_cent(
    site: str, code: str, facility: str, professional: str
) -> None:
    priced = price(site, ClaimLine(code, units=1), track=QP)
    assert (priced.facility_total, priced.professional_total) == (D(facility), D(professional))
    assert priced.total == D(facility) + D(professional)
    assert priced.complete


@pytest.mark.parametrize(
    ("site", "code", "professional"),
    [
        ("office", "64640", "267.88"),  # 8.02 × 33.4009 = 267.875218
        ("HOPD", "64640", "111.56"),  # 3.34 × 33.4009 = 111.559006
        ("office", "64624", "411.50"),  # 12.32 × 33.4009 = 411.499088
        ("ASC", "64624", "133.27"),  # 3.99 × 33.4009 = 133.269591
    ],
)
def test_the_non_qualifying_conversion_factor(site: str, code: str, professional: str) -> None:
    priced = price(site, ClaimLine(code, units=1), track=NON_QP)
    assert priced.professional_total == D(professional)
    assert priced.conversion_factor == D("33.4009")


# Site of service ------------------------------------------------------------------------------


def test_hopd_pays_opps_plus_pfs_facility_plus_device() -> None:
    priced = price(
        "HOPD", ClaimLine("64640", units=1), ClaimLine("C9809"), overrides=device("10", "HOPD")
    )
    assert [amounts(line) for line in priced.lines] == [
        (D("903.63"), D("112.12"), D("0.00")),
        (D("0.00"), D("0.00"), D("10.00")),
    ]
    assert "facility from OPPS" in priced.explanation[1]
    assert "professional from PFS (professional facility rate)" in priced.explanation[1]


def test_asc_pays_asc_plus_pfs_facility_plus_device() -> None:
    priced = price(
        "ASC", ClaimLine("64640", units=1), ClaimLine("C9809"), overrides=device("10", "ASC")
    )
    assert (priced.facility_total, priced.professional_total) == (D("197.04"), D("112.12"))
    assert priced.device_total == D("10.00")
    assert "facility from ASC" in priced.explanation[1]


def test_the_office_pays_the_pfs_non_facility_rate_only() -> None:
    priced = price("office", ClaimLine("64640", units=1))
    assert amounts(priced.lines[0]) == (D("0.00"), D("269.21"), D("0.00"))
    assert "no facility or device payment" in priced.explanation[1]


def test_c9809_is_not_payable_in_the_office() -> None:
    with pytest.raises(SiteNotPayable, match="only in ASC, HOPD") as caught:
        price("office", ClaimLine("64640", units=1), ClaimLine("C9809"))
    assert caught.value.field == "lines[1].code"


# Order of adjustments: base rounds first, then 50, then 52 ---------------------------------------


@pytest.mark.parametrize(
    ("site", "facility", "professional"),
    [
        ("office", "0.00", "620.33"),  # 413.55 × 1.5 = 620.325
        ("HOPD", "2992.53", "200.90"),  # 1995.02 × 1.5; 133.93 × 1.5 = 200.895
        ("ASC", "1422.99", "200.90"),  # 948.66 × 1.5
    ],
)
def test_bilateral_is_150_percent_of_one_side(site: str, facility: str, professional: str) -> None:
    by_modifier = price(site, ClaimLine("64624", modifiers=frozenset({"50"})))
    by_laterality = price(site, ClaimLine("64624", laterality=Laterality.BILATERAL))
    for priced in (by_modifier, by_laterality):
        assert (priced.facility_total, priced.professional_total) == (D(facility), D(professional))
        assert priced.lines[0].laterality is Laterality.BILATERAL
        assert "modifier 50 (bilateral) at 150%" in text(priced)


def test_the_base_amount_rounds_to_cents_before_bilateral() -> None:
    # 3.34 × 33.5675 = 112.11545 -> 112.12 -> × 1.5 = 168.18 (unrounded it would be 168.17).
    priced = price("ASC", ClaimLine("64640", nerves=("afcn",), laterality="50"))
    assert priced.professional_total == D("168.18")


@pytest.mark.parametrize(
    ("site", "facility", "professional"),
    [
        ("office", "0.00", "206.78"),  # 413.55 × 0.5 = 206.775
        ("HOPD", "997.51", "66.97"),  # 1995.02 × 0.5; 133.93 × 0.5 = 66.965
        ("ASC", "474.33", "66.97"),  # 948.66 × 0.5
    ],
)
def test_fewer_than_three_genicular_nerves_derive_modifier_52_at_half(
    site: str, facility: str, professional: str
) -> None:
    priced = price(site, TWO_GENICULAR)
    assert (priced.facility_total, priced.professional_total) == (D(facility), D(professional))
    assert priced.lines[0].modifiers == ("52", "RT")
    assert "2 of 3 nerves named" in text(priced)
    explicit = price(site, ClaimLine("64624", modifiers=frozenset({"52", "RT"})))
    assert explicit.total == priced.total


def test_modifier_52_with_all_three_nerves_named_is_refused() -> None:
    line = ClaimLine("64624", nerves=GENICULAR_NERVES, modifiers=frozenset({"52"}))
    with pytest.raises(InvalidModifier, match="all 3 nerves") as caught:
        price("ASC", line)
    assert caught.value.field == "lines[0].modifiers"


def test_bilateral_applies_before_reduced_service() -> None:
    # 133.93 × 1.5 = 200.895 -> 200.90, × 0.5 = 100.45; the other order would give 100.46.
    line = ClaimLine("64624", nerves=("superomedial",), laterality="50")
    priced = price("ASC", line)
    assert priced.professional_total == D("100.45")
    notes = priced.lines[0].explanation
    assert [n.split(";")[0] for n in notes if "PFS: modifier" in n] == [
        "PFS: modifier 50 (bilateral) at 150% = $200.90 [confirmed: pfs_bilateral], as 64624's "
        "bilateral indicator is 1 [uncertain: background]",
        "PFS: modifier 52 (reduced service) at 50% = $100.45 [uncertain: pfs_52]",
    ]


def test_asc_bills_both_sides_as_two_ranked_lines_not_one_at_150_percent() -> None:
    # ASCs do not use modifier 50 on Medicare claims: 64624-RT and 64624-LT, each ranked.
    # 64624-RT 948.66 (rank 1, 100%) + 64624-LT 948.66 × 50% = 474.33 (rank 2), then
    # 64640 × 2 at 197.04 × 50% = 98.52 each: 948.66 + 474.33 + 98.52 + 98.52 = 1620.03.
    # (One line at 150% ranked first would have been the same 1422.99 for the knees, but
    # the sides now rank with everything else on the claim.)
    priced = price(
        "ASC",
        ClaimLine("64624", nerves=GENICULAR_NERVES, laterality="50"),
        ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="RT"),
    )
    assert priced.facility_total == D("1620.03")
    explained = text(priced)
    assert "both sides billed as two lines, 64624-RT and 64624-LT" in explained
    assert "64624-LT ranks 2 of 4, paid 50% = $474.33" in explained
    # A reduced bilateral knee: each side 948.66 × 50% (52) = 474.33, and a 52 line is not
    # discounted further: 474.33 + 474.33 = 948.66.
    reduced = price("ASC", ClaimLine("64624", nerves=("superomedial",), laterality="50"))
    assert reduced.facility_total == D("948.66")


# Multiple procedures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "facility", "professional"),
    [
        ("HOPD", "1807.27", "224.24"),  # status T: 903.63 + 2 × 451.82; 112.12 + 2 × 56.06
        ("ASC", "394.08", "224.24"),  # 197.04 + 2 × 98.52
        ("office", "0.00", "538.43"),  # 269.21 + 2 × 134.61 (134.605 rounds up)
    ],
)
def test_extra_units_rank_as_procedures_at_half(
    site: str, facility: str, professional: str
) -> None:
    priced = price(site, ClaimLine("64640", nerves=("lfcn", "afcn", "mfcn"), laterality="LT"))
    assert (priced.facility_total, priced.professional_total) == (D(facility), D(professional))
    assert "ranks 3 of 3, paid 50%" in text(priced)


def test_five_units_round_each_discounted_unit() -> None:
    priced = price("office", ClaimLine("64640", units=5))
    assert priced.total == D("807.65")  # 269.21 + 4 × 134.61, each unit rounded


def test_a_pfs_modifier_52_line_ranks_and_is_discounted_like_any_other() -> None:
    # 64640 269.21 ranks first; 64624-52 206.78 ranks second at 50%: 103.39. The exemption
    # for 52 is the ASC's (AAPC); the PFS rule names none (reference 3.3, 3.4).
    priced = price("office", ClaimLine("64640", units=1), TWO_GENICULAR)
    assert [line.professional_amount for line in priced.lines] == [D("269.21"), D("103.39")]
    assert "not discounted further" not in text(priced)
    assert "64624-RT ranks 2 of 2, paid 50% = $103.39" in text(priced)


def test_a_facility_modifier_52_line_is_never_discounted_further() -> None:
    # ASC: both knees reduced, 948.66 × 50% = 474.33 each; the second ranks 2 and keeps 100%.
    priced = price(
        "ASC",
        ClaimLine("64624", nerves=("superomedial",), laterality="RT"),
        ClaimLine("64624", nerves=("superomedial",), laterality="LT"),
    )
    assert [line.facility_amount for line in priced.lines] == [D("474.33"), D("474.33")]
    assert "not discounted further [confirmed: asc_mppr]" in text(priced)
    assert "except modifier 52 lines [confirmed: asc_mppr]" in text(priced)


def test_a_modifier_52_line_ranks_by_its_reduced_amount() -> None:
    # ASC: 64624-52 474.33 is still above 64640 197.04, so 64640 takes the 50%.
    priced = price("ASC", TWO_GENICULAR, ClaimLine("64640", units=1))
    assert [line.facility_amount for line in priced.lines] == [D("474.33"), D("98.52")]


def test_pfs_procedures_beyond_the_fifth_are_flagged_by_report() -> None:
    priced = price(
        "office",
        ClaimLine("64624", laterality="RT"),
        ClaimLine("64624", laterality="LT"),
        ClaimLine("64640", units=5),
    )
    # 413.55 + 206.78 (413.55 × 0.5 = 206.775) + 5 × 134.61
    assert priced.total == D("1293.38")
    assert [w for w in priced.warnings if "by report" in w] == [
        "PFS: 64640 unit 4 is procedure 6; beyond the 5th the contractor prices by report, "
        "and 50% is assumed here.",
        "PFS: 64640 unit 5 is procedure 7; beyond the 5th the contractor prices by report, "
        "and 50% is assumed here.",
    ]


def test_a_j1_line_packages_the_other_opps_procedures() -> None:
    priced = price("HOPD", ALL_GENICULAR, ClaimLine("64640", nerves=("afcn",), laterality="RT"))
    assert [line.facility_amount for line in priced.lines] == [D("1995.02"), D("0.00")]
    assert "packages 64640-RT at $0.00" in text(priced)
    # The summary is no surer than the status it rests on: J1 for 64624 is uncertain.
    [summary] = [line for line in priced.explanation if line.startswith("OPPS: 64624-RT")]
    assert "[confirmed: opps_si]" in summary
    assert "(by 64624 status indicator J1 [uncertain: background], 64640 status" in summary
    # The professional side is not packaged: 133.93 + 112.12 × 0.5.
    assert priced.professional_total == D("189.99")


def test_a_reduced_j1_line_still_packages_the_others() -> None:
    priced = price("HOPD", TWO_GENICULAR, ClaimLine("64640", units=2))
    assert priced.facility_total == D("997.51")


def test_two_j1_lines_pay_one_comprehensive_payment() -> None:
    priced = price("HOPD", ClaimLine("64624", laterality="RT"), ClaimLine("64624", laterality="LT"))
    # Equal amounts: the tie goes by code, then laterality, so LT is primary whatever the order.
    assert [line.facility_amount for line in priced.lines] == [D("0.00"), D("1995.02")]
    assert priced.professional_total == D("200.90")  # 133.93 + 66.97 (66.965)


@pytest.mark.parametrize("site", ["HOPD", "ASC"])
def test_c9809_is_never_discounted_or_packaged(site: str) -> None:
    priced = price(site, ALL_GENICULAR, ClaimLine("C9809"), overrides=device("300", site))
    assert priced.lines[1].device_amount == D("300.00")
    assert priced.device_total == D("300.00")


@pytest.mark.parametrize("site", ["HOPD", "ASC"])
def test_an_unpriced_device_is_reported_not_zeroed(site: str) -> None:
    priced = price(site, ClaimLine("64640", units=1), ClaimLine("C9809"))
    assert priced.lines[1].device_amount is None
    assert (priced.device_total, priced.device_priced, priced.complete) == (None, False, False)
    assert priced.total == priced.facility_total + priced.professional_total
    assert any("unpriced" in w and f"(2026, 'C9809', '{site}')" in w for w in priced.warnings)
    assert "device unpriced" in priced.explanation[-2]


def test_c9809_warns_that_it_is_described_for_post_surgical_pain() -> None:
    priced = price("ASC", ClaimLine("C9809"), overrides=device("1", "ASC"))
    assert any("post-surgical pain" in w for w in priced.warnings)
    assert not any("post-surgical" in w for w in price("ASC", ALL_GENICULAR).warnings)


# Units and modifiers --------------------------------------------------------------------------


def test_64640_units_are_the_distinct_nerves_named() -> None:
    line = price("office", ClaimLine("64640", nerves=("isn_inferior", "afcn"))).lines[0]
    assert (line.units, line.nerves) == (2, ("afcn", "isn_inferior"))
    agreeing = price("office", ClaimLine("64640", units=2, nerves=("afcn", "lfcn")))
    assert agreeing.lines[0].units == 2


@pytest.mark.parametrize(
    ("line", "error", "field"),
    [
        (ClaimLine("64640", units=0), InvalidUnits, "lines[0].units"),
        (ClaimLine("64640", units=-1), InvalidUnits, "lines[0].units"),
        (ClaimLine("64640", units=True), InvalidUnits, "lines[0].units"),
        (ClaimLine("64640", units=1.0), InvalidUnits, "lines[0].units"),
        (ClaimLine("64640"), InvalidUnits, "lines[0].nerves"),
        (ClaimLine("64640", units=3, nerves=("afcn",)), InvalidUnits, "lines[0].units"),
        (ClaimLine("64640", units=6), TooManyUnits, "lines[0].units"),
        (ClaimLine("64640", nerves=ANTERIOR_KNEE_NERVES[:6]), TooManyUnits, "lines[0].nerves"),
        (ClaimLine("64624", units=2), TooManyUnits, "lines[0].units"),
        (ClaimLine("64624", units=2, nerves=GENICULAR_NERVES), InvalidUnits, "lines[0].units"),
        (ClaimLine("64640", units=2, laterality="50"), InvalidUnits, "lines[0].units"),
        (ClaimLine("C9809", units=2), TooManyUnits, "lines[0].units"),
        (ClaimLine("99999", units=1), UnknownCode, "lines[0].code"),
        (ClaimLine("64640", nerves=("afcn", "afcn")), DuplicateNerve, "lines[0].nerves"),
        (ClaimLine("64640", nerves=("sciatic",)), UnknownNerve, "lines[0].nerves"),
        (ClaimLine("64640", nerves=("superolateral",)), UnknownNerve, "lines[0].nerves"),
        (ClaimLine("64624", nerves=("afcn",)), UnknownNerve, "lines[0].nerves"),
        (ClaimLine("C9809", nerves=("afcn",)), UnknownNerve, "lines[0].nerves"),
        (ClaimLine("64640", nerves="afcn"), UnknownNerve, "lines[0].nerves"),
        (
            ClaimLine("64640", units=1, modifiers=frozenset({"51"})),
            InvalidModifier,
            "lines[0].modifiers",
        ),
        (ClaimLine("64640", units=1, modifiers="RT"), InvalidModifier, "lines[0].modifiers"),
        (ClaimLine("64640", units=1, laterality="XX"), InvalidModifier, "lines[0].laterality"),
        (
            ClaimLine("64640", units=1, laterality="RT", modifiers=frozenset({"LT"})),
            InvalidModifier,
            "lines[0].laterality",
        ),
        (
            ClaimLine("64640", units=1, modifiers=frozenset({"RT", "LT"})),
            InvalidModifier,
            "lines[0].laterality",
        ),
        (
            ClaimLine("64640", units=1, modifiers=frozenset({"RT", "50"})),
            InvalidModifier,
            "lines[0].laterality",
        ),
        (ClaimLine("C9809", modifiers=frozenset({"50"})), InvalidModifier, "lines[0].modifiers"),
        (ClaimLine("C9809", modifiers=frozenset({"52"})), InvalidModifier, "lines[0].modifiers"),
    ],
)
def test_an_invalid_line_raises_a_specific_error(
    line: ClaimLine, error: type[CodingError], field: str
) -> None:
    with pytest.raises(error) as caught:
        price("HOPD", line)
    assert caught.value.field == field
    assert caught.value.message


def test_more_than_five_branches_is_an_error_that_says_so() -> None:
    with pytest.raises(TooManyUnits, match="at most 5 units per date of service"):
        price("office", ClaimLine("64640", nerves=ANTERIOR_KNEE_NERVES[:6]))


@pytest.mark.parametrize(
    ("lines", "error", "field"),
    [
        (  # 3 + 3 branches: over the 5 per date of service
            (
                ClaimLine("64640", nerves=("afcn", "lfcn", "mfcn"), laterality="RT"),
                ClaimLine("64640", nerves=("afcn", "lfcn", "mfcn"), laterality="LT"),
            ),
            TooManyUnits,
            "lines[1].nerves",
        ),
        (
            (ClaimLine("64624", laterality="RT"), ClaimLine("64624", modifiers=frozenset({"RT"}))),
            TooManyUnits,
            "lines[1]",
        ),
        (
            (ClaimLine("64624", laterality="50"), ClaimLine("64624", laterality="LT")),
            TooManyUnits,
            "lines[1]",
        ),
        (
            (
                ClaimLine("64640", nerves=("afcn",), laterality="RT"),
                ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="RT"),
            ),
            DuplicateNerve,
            "lines[1].nerves",
        ),
        (
            (
                ClaimLine("64640", nerves=("afcn",), laterality="50"),
                ClaimLine("64640", nerves=("afcn",), laterality="LT"),
            ),
            DuplicateNerve,
            "lines[1].nerves",
        ),
        ((ClaimLine("C9809"), ClaimLine("C9809")), TooManyUnits, "lines[1].units"),
    ],
)
def test_limits_that_span_lines(
    lines: tuple[ClaimLine, ...], error: type[CodingError], field: str
) -> None:
    with pytest.raises(error) as caught:
        price("HOPD", *lines)
    assert caught.value.field == field


def test_the_same_nerves_on_both_knees_are_fine() -> None:
    priced = price(
        "office",
        ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="RT"),
        ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="LT"),
    )
    assert priced.total == D("673.04")  # 269.21 + 3 × 134.61


def test_laterality_and_other_modifiers_are_carried_on_every_line() -> None:
    priced = price(
        "ASC",
        ClaimLine("64640", nerves=("afcn",), modifiers=frozenset({"lt", "XS"})),
        ClaimLine("64624", laterality=Laterality.RT),
        ClaimLine("c9809"),
        overrides=device("5", "ASC"),
    )
    assert [(line.code, line.laterality, line.modifiers) for line in priced.lines] == [
        ("64640", Laterality.LT, ("LT", "XS")),
        ("64624", Laterality.RT, ("RT",)),
        ("C9809", None, ()),
    ]


# Timely filing and schedule year -------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "deadline"),
    [
        (date(2026, 3, 2), date(2027, 3, 2)),
        (date(2026, 1, 1), date(2027, 1, 1)),
        (date(2026, 12, 31), date(2027, 12, 31)),
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2027, 2, 28), date(2028, 2, 28)),
    ],
)
def test_filing_deadline_is_twelve_months_after_service(service: date, deadline: date) -> None:
    assert filing_deadline(service) == deadline


def test_the_priced_claim_carries_its_filing_deadline() -> None:
    priced = price("office", ClaimLine("64640", units=1))
    assert priced.filing_deadline == date(2027, 3, 2)
    assert "file by 2027-03-02" in priced.explanation[-1]


@pytest.mark.parametrize("service", [date(2025, 12, 31), date(2027, 1, 1)])
def test_a_date_of_service_without_a_schedule_is_an_error(service: date) -> None:
    with pytest.raises(ScheduleNotFound, match=f"year {service.year}; schedules") as caught:
        price_claim(claim("office", ClaimLine("64640", units=1), dos=service))
    assert caught.value.field == "date_of_service"


def test_a_schedule_passed_in_must_match_the_date_of_service() -> None:
    wrong_year = claim("office", ClaimLine("64640", units=1), dos=date(2027, 6, 1))
    with pytest.raises(ScheduleMismatch, match="CY2027"):
        price_claim(wrong_year, schedule=load_schedule(2026))
    right = price_claim(claim("office", ClaimLine("64640", units=1)), schedule=load_schedule(2026))
    assert right.schedule_year == 2026


# The claim as a whole and the result ---------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (Claim("clinic", DOS, QP, (ClaimLine("64640", units=1),)), "site_of_service"),
        (Claim("HOPD", DOS, "medicaid", (ClaimLine("64640", units=1),)), "cf_track"),
        (
            Claim("HOPD", datetime(2026, 3, 2, 9), QP, (ClaimLine("64640", units=1),)),
            "date_of_service",
        ),
        (Claim("HOPD", "2026-03-02", QP, (ClaimLine("64640", units=1),)), "date_of_service"),
        (Claim("HOPD", DOS, QP, ()), "lines"),
        (Claim("HOPD", DOS, QP, ClaimLine("64640", units=1)), "lines"),
        (Claim("HOPD", DOS, QP, ("64640",)), "lines[0]"),
        ("not a claim", "claim"),
    ],
)
def test_an_invalid_claim_raises_invalid_claim(bad: Any, field: str) -> None:
    with pytest.raises(InvalidClaim) as caught:
        price_claim(bad)
    assert caught.value.field == field


def test_to_dict_is_json_with_money_as_decimal_strings() -> None:
    priced = price("HOPD", ALL_GENICULAR, ClaimLine("C9809"))
    data = json.loads(json.dumps(priced.to_dict()))
    assert data["facility_total"] == "1995.02"
    assert data["conversion_factor"] == "33.5675"
    assert data["device_total"] is None
    assert data["lines"][0]["laterality"] == "RT"
    assert data["lines"][0]["modifiers"] == ["RT"]
    assert data["lines"][1]["device_amount"] is None
    assert data["site_of_service"] == "HOPD"
    assert data["filing_deadline"] == "2027-03-02"
    assert data["schedule_version"] == load_schedule(2026).version


def test_to_cents() -> None:
    assert to_cents(D("1995.02")) == 199502
    assert to_cents(D("0.00")) == 0
    for bad in (D("1.234"), D("NaN"), 1.5):
        with pytest.raises(ValueError, match="whole number of cents"):
            to_cents(bad)  # type: ignore[arg-type]


def test_the_callers_decimal_context_cannot_change_a_price() -> None:
    line = ClaimLine("64640", nerves=("afcn", "lfcn"))
    expected = price("office", line).total
    with localcontext() as context:
        context.prec = 3
        assert price("office", line).total == expected == D("403.82")


def test_the_explanation_names_every_rule_applied() -> None:
    priced = price(
        "HOPD",
        TWO_GENICULAR,
        ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="RT"),
        ClaimLine("C9809"),
        overrides=device("250", "HOPD"),
    )
    explained = text(priced)
    for phrase in (
        "Schedule CY2026 (version CY2026.3-",
        "picked by the date of service 2026-03-02",
        "Site of service HOPD",
        "PFS conversion factor 33.5675",
        "2 of 3 nerves named",
        "modifier 52 (reduced service) at 50%",
        "2 distinct nerve branch(es) named",
        "packaged into the comprehensive payment",
        "PFS multiple procedures",
        "status indicator H1",
        "[override: caller]",
        "Totals: facility $997.51",
        "Timely filing: file by 2027-03-02",
    ):
        assert phrase in explained, phrase
