"""Whole claims in each site of service, against numbers worked out by hand.

The arithmetic for each case is in the comments: every step rounds half-up to cents.
PFS rates: QP 64624 facility 3.99 × 33.5675 = 133.93, 64640 facility 3.34 × 33.5675 = 112.12
(half 56.06), 64624 non-facility 413.55, 64640 non-facility 269.21 (half 134.605 -> 134.61);
non-QP 133.27, 111.56 (half 55.78), 411.50, 267.88 (half 133.94).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from supply_app.coding import GENICULAR_NERVES, ClaimLine, SiteNotPayable
from tests.support.coding import NON_QP, QP, D, device, price

KNEE = (
    ClaimLine("64624", nerves=GENICULAR_NERVES, laterality="RT"),
    ClaimLine("64640", nerves=("afcn", "isn_superior"), laterality="RT"),
)
DEVICE = ClaimLine("C9809", laterality="RT")


@pytest.mark.parametrize(
    ("site", "track", "amount", "facility", "professional", "device_total", "total"),
    [
        # OPPS: 64624 J1 pays 1995.02 and packages both 64640 units.
        # PFS: 133.93 + 56.06 + 56.06 = 246.05. Device 250.00.
        ("HOPD", QP, "250.00", "1995.02", "246.05", "250.00", "2491.07"),
        # PFS non-QP: 133.27 + 55.78 + 55.78 = 244.83.
        ("HOPD", NON_QP, "250.00", "1995.02", "244.83", "250.00", "2489.85"),
        # Device unpriced: total of the priced components, 1995.02 + 246.05.
        ("HOPD", QP, None, "1995.02", "246.05", None, "2241.07"),
        # ASC: 948.66 + 197.04 × 0.5 × 2 = 948.66 + 98.52 + 98.52 = 1145.70.
        ("ASC", QP, "150.00", "1145.70", "246.05", "150.00", "1541.75"),
        ("ASC", NON_QP, "150.00", "1145.70", "244.83", "150.00", "1540.53"),
        ("ASC", QP, None, "1145.70", "246.05", None, "1391.75"),
    ],
)
def test_64624_plus_two_64640_plus_c9809(
    site: str,
    track: str,
    amount: str | None,
    facility: str,
    professional: str,
    device_total: str | None,
    total: str,
) -> None:
    overrides = device(amount, site) if amount else None
    priced = price(site, *KNEE, DEVICE, track=track, overrides=overrides)  # type: ignore[arg-type]
    assert priced.facility_total == D(facility)
    assert priced.professional_total == D(professional)
    assert priced.device_total == (D(device_total) if device_total else None)
    assert priced.total == D(total)
    assert priced.complete is (amount is not None)


def test_hopd_line_by_line() -> None:
    priced = price("HOPD", *KNEE, DEVICE, overrides=device("250", "HOPD"))
    assert [
        (line.code, line.facility_amount, line.professional_amount, line.device_amount)
        for line in priced.lines
    ] == [
        ("64624", D("1995.02"), D("133.93"), D("0.00")),
        ("64640", D("0.00"), D("112.12"), D("0.00")),
        ("C9809", D("0.00"), D("0.00"), D("250.00")),
    ]


def test_asc_line_by_line() -> None:
    priced = price("ASC", *KNEE, DEVICE, overrides=device("150", "ASC"))
    assert [
        (line.code, line.facility_amount, line.professional_amount, line.device_amount)
        for line in priced.lines
    ] == [
        ("64624", D("948.66"), D("133.93"), D("0.00")),
        ("64640", D("197.04"), D("112.12"), D("0.00")),
        ("C9809", D("0.00"), D("0.00"), D("150.00")),
    ]


@pytest.mark.parametrize(
    ("track", "professional"),
    [
        (QP, "682.77"),  # 413.55 + 134.61 + 134.61
        (NON_QP, "679.38"),  # 411.50 + 133.94 + 133.94
    ],
)
def test_the_office_without_the_device(track: str, professional: str) -> None:
    priced = price("office", *KNEE, track=track)  # type: ignore[arg-type]
    assert (priced.facility_total, priced.professional_total) == (D("0.00"), D(professional))
    assert (priced.device_total, priced.total, priced.complete) == (
        D("0.00"),
        D(professional),
        True,
    )


def test_the_office_refuses_the_device() -> None:
    with pytest.raises(SiteNotPayable):
        price("office", *KNEE, DEVICE, overrides=device("250", "HOPD", "ASC"))


BOTH_KNEES = (
    ClaimLine("64624", nerves=GENICULAR_NERVES, laterality="50"),
    ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="RT"),
    ClaimLine("64640", nerves=("afcn", "lfcn"), laterality="LT"),
    ClaimLine("C9809"),
)


@pytest.mark.parametrize(
    ("site", "facility", "professional", "total"),
    [
        # OPPS: 1995.02 × 1.5 = 2992.53 (J1), the four 64640 units packaged.
        # PFS: 133.93 × 1.5 = 200.895 -> 200.90, then 4 × 56.06 = 224.24: 425.14.
        ("HOPD", "2992.53", "425.14", "3667.67"),
        # ASC: 948.66 × 1.5 = 1422.99, then 4 × 98.52 = 394.08: 1817.07.
        ("ASC", "1817.07", "425.14", "2492.21"),
    ],
)
def test_both_knees(site: str, facility: str, professional: str, total: str) -> None:
    priced = price(site, *BOTH_KNEES, overrides=device("250", site))
    assert (priced.facility_total, priced.professional_total) == (D(facility), D(professional))
    assert priced.total == D(total)


def test_both_knees_in_the_office() -> None:
    # 413.55 × 1.5 = 620.325 -> 620.33, then 4 × 134.61 = 538.44.
    assert price("office", *BOTH_KNEES[:3]).total == D("1158.77")


def test_partial_genicular_with_anterior_branches_in_the_office() -> None:
    # 64640 × 3: 267.88 + 133.94 + 133.94 = 535.76. 64624-52: 411.50 × 0.5 = 205.75 ranks
    # fourth, and the PFS names no exemption for 52: 205.75 × 0.5 = 102.875 → 102.88.
    # Total 638.64.
    priced = price(
        "office",
        ClaimLine("64624", nerves=("superolateral", "superomedial"), laterality="LT"),
        ClaimLine("64640", nerves=("afcn", "lfcn", "spbsn"), laterality="LT"),
        track=NON_QP,
    )
    assert [line.professional_amount for line in priced.lines] == [D("102.88"), D("535.76")]
    assert priced.total == Decimal("638.64")
