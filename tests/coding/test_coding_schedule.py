"""The CY2026 schedule file: its figures, their sources, loading by year and overrides."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from supply_app.coding import (
    ANTERIOR_KNEE_NERVES,
    GENICULAR_NERVES,
    NERVE_LABELS,
    ClaimLine,
    InvalidOverride,
    ScheduleError,
    ScheduleNotFound,
    available_years,
    load_schedule,
)
from supply_app.coding import schedule as schedule_module
from tests.support.coding import D, device, price

DATA = resources.files("supply_app.coding") / "data"


def _figures(value: Any) -> Iterator[dict[str, Any]]:
    """Every {value, source, confidence} dict in the JSON form of a schedule."""
    if isinstance(value, dict):
        if {"value", "source", "confidence"} <= value.keys():
            yield value
        for item in value.values():
            yield from _figures(item)


def test_cy2026_is_available() -> None:
    assert 2026 in available_years()
    assert load_schedule(2026).year == 2026


@pytest.mark.parametrize("year", [2025, 2027, "2026", True])
def test_a_year_without_a_schedule_is_a_clear_error(year: Any) -> None:
    with pytest.raises(ScheduleNotFound, match="schedules exist for 2026") as caught:
        load_schedule(year)
    assert caught.value.field == "year"


def test_every_figure_names_a_listed_source_and_confidence_mark() -> None:
    schedule = load_schedule(2026)
    figures = list(_figures(schedule.to_dict()))
    assert len(figures) > 50
    for figure in figures:
        assert figure["source"] in schedule.sources
        assert figure["confidence"] in schedule.confidence_marks


def test_the_device_amount_is_held_as_unknown_not_zero() -> None:
    nopain = load_schedule(2026).codes["C9809"].systems["NOPAIN"]
    for name in ("hopd_payment", "asc_payment"):
        assert nopain[name].value is None
        assert nopain[name].confidence == "not_found"


@pytest.mark.parametrize(
    ("code", "system", "name", "value", "confidence"),
    [
        ("64640", "OPPS", "apc", "5443", "confirmed"),
        ("64640", "OPPS", "payment", D("903.63"), "confirmed"),
        ("64640", "OPPS", "status_indicator", "T", "uncertain"),
        ("64640", "ASC", "payment", D("197.04"), "confirmed"),
        ("64640", "ASC", "payment_indicator", "P3", "derived"),
        ("64640", "PFS", "non_facility_rvus", D("8.02"), "confirmed"),
        ("64640", "PFS", "facility_rvus", D("3.34"), "confirmed"),
        ("64640", "PFS", "multiple_procedure_indicator", "2", "uncertain"),
        ("64640", "PFS", "bilateral_indicator", "1", "uncertain"),
        ("64640", "PFS", "global_days", "010", "confirmed"),
        ("64640", "PFS", "reduced_service_factor", D("0.5"), "uncertain"),
        ("64624", "OPPS", "apc", "5431", "confirmed"),
        ("64624", "OPPS", "payment", D("1995.02"), "confirmed"),
        ("64624", "OPPS", "status_indicator", "J1", "uncertain"),
        ("64624", "OPPS", "reduced_service_factor", D("0.5"), "confirmed"),
        ("64624", "ASC", "payment", D("948.66"), "confirmed"),
        ("64624", "ASC", "payment_indicator", "G2", "derived"),
        ("64624", "PFS", "non_facility_rvus", D("12.32"), "confirmed"),
        ("64624", "PFS", "facility_rvus", D("3.99"), "confirmed"),
        ("64624", "PFS", "global_days", "010", "uncertain"),
        ("C9809", "NOPAIN", "status_indicator", "H1", "uncertain"),
    ],
)
def test_code_figures_match_the_sources(
    code: str, system: str, name: str, value: Any, confidence: str
) -> None:
    figure = load_schedule(2026).codes[code].systems[system][name]
    assert (figure.value, figure.confidence) == (value, confidence)


@pytest.mark.parametrize(
    ("code", "mue", "mai"), [("64640", 5, "3"), ("64624", 1, "1"), ("C9809", 1, "2")]
)
def test_mue_and_its_adjudication_indicator(code: str, mue: int, mai: str) -> None:
    entry = load_schedule(2026).codes[code]
    assert entry.mue.value == mue
    assert entry.mue_adjudication_indicator.value == mai
    assert entry.mue_adjudication_indicator.confidence == "uncertain"


def test_pfs_conversion_factors() -> None:
    factors = load_schedule(2026).conversion_factors
    assert factors["non_qualifying"].value == Decimal("33.4009")
    assert factors["qualifying_apm"].value == Decimal("33.5675")


def test_nerve_sets_come_from_the_data_file() -> None:
    assert ANTERIOR_KNEE_NERVES == (
        "lfcn",
        "ilfcn",
        "afcn",
        "mfcn",
        "imfcn",
        "spbsn",
        "isn_superior",
        "isn_inferior",
    )
    assert GENICULAR_NERVES == ("superolateral", "superomedial", "inferomedial")
    assert set(NERVE_LABELS) == {*ANTERIOR_KNEE_NERVES, *GENICULAR_NERVES}
    assert NERVE_LABELS["spbsn"] == "suprapatellar branch of the saphenous nerve"


def test_the_schedule_is_read_only() -> None:
    schedule = load_schedule(2026)
    with pytest.raises(TypeError):
        schedule.codes["64640"] = schedule.codes["64624"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.year = 2027  # type: ignore[misc]


def test_to_dict_is_json_with_money_as_strings() -> None:
    data = json.loads(json.dumps(load_schedule(2026).to_dict()))
    assert data["codes"]["64640"]["systems"]["OPPS"]["payment"]["value"] == "903.63"
    assert data["codes"]["C9809"]["systems"]["NOPAIN"]["hopd_payment"]["value"] is None


def test_version_carries_the_revision_and_a_digest_of_the_file() -> None:
    digest = hashlib.sha256((DATA / "cy2026.json").read_bytes()).hexdigest()[:8]
    assert load_schedule(2026).version == f"CY2026.3-{digest}"


def test_overrides_make_a_new_schedule_and_leave_the_loaded_one_alone() -> None:
    loaded = load_schedule(2026)
    overridden = loaded.with_overrides(device("250", "HOPD"))
    assert overridden.codes["C9809"].systems["NOPAIN"]["hopd_payment"].value == D("250.00")
    assert overridden.codes["C9809"].systems["NOPAIN"]["hopd_payment"].confidence == "override"
    assert loaded.codes["C9809"].systems["NOPAIN"]["hopd_payment"].value is None
    assert load_schedule(2026) is loaded
    assert overridden.codes["C9809"].systems["NOPAIN"]["asc_payment"].value is None


def test_version_changes_with_each_override_and_is_repeatable() -> None:
    loaded = load_schedule(2026)
    first = loaded.with_overrides(device("250.00", "HOPD")).version
    assert first.startswith(loaded.version + "+ovr:")
    assert loaded.with_overrides(device("250", "HOPD")).version == first
    assert loaded.with_overrides(device("251.00", "HOPD")).version != first
    assert loaded.with_overrides(device("250.00", "ASC")).version != first


def test_overrides_for_another_year_leave_the_schedule_as_it_is() -> None:
    loaded = load_schedule(2026)
    assert loaded.with_overrides({(2027, "C9809", "HOPD"): D("1.00")}) is loaded


def test_overrides_given_to_one_pricing_do_not_leak_into_the_next() -> None:
    line = ClaimLine("C9809")
    assert price("HOPD", line, overrides=device("99.99", "HOPD")).device_total == D("99.99")
    assert price("HOPD", line).device_total is None


def test_an_override_can_set_a_facility_amount_too() -> None:
    overrides = {(2026, "64640", "ASC"): D("200.00")}
    priced = price("ASC", ClaimLine("64640", units=1), overrides=overrides)
    assert priced.facility_total == D("200.00")
    assert "[override: caller]" in " ".join(priced.lines[0].explanation)


@pytest.mark.parametrize(
    "overrides",
    [
        {(2026, "C9809", "HOPD"): 12.5},
        {(2026, "C9809", "HOPD"): True},
        {(2026, "C9809", "HOPD"): "12.50"},
        {(2026, "C9809", "HOPD"): D("-1.00")},
        {(2026, "C9809", "HOPD"): D("1.234")},
        {(2026, "C9809", "HOPD"): D("NaN")},
        {("2026", "C9809", "HOPD"): D("1.00")},
        {(2026, "C9809", "clinic"): D("1.00")},
        {(2026, "C9809"): D("1.00")},
        {(2026, "99999", "HOPD"): D("1.00")},
        {(2026, "C9809", "office"): D("1.00")},
        {(2026, "64640", "office"): D("1.00")},
        {(2026, "C9809", "HOPD"): D("1.00"), (2026, "c9809", "HOPD"): D("2.00")},
        [((2026, "C9809", "HOPD"), D("1.00"))],
    ],
)
def test_bad_overrides_are_refused(overrides: Any) -> None:
    with pytest.raises(InvalidOverride) as caught:
        load_schedule(2026).with_overrides(overrides)
    assert caught.value.field == "overrides"


@pytest.fixture
def edited_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write an edited copy of cy2026.json to a temporary data folder and load it from there."""
    original = json.loads((DATA / "cy2026.json").read_text("utf-8"))

    def write(edit: Any) -> None:
        data = json.loads(json.dumps(original))
        edit(data)
        (tmp_path / "cy2026.json").write_text(json.dumps(data), "utf-8")

    monkeypatch.setattr(schedule_module, "_DATA", tmp_path)
    load_schedule.cache_clear()
    yield write
    load_schedule.cache_clear()


def test_an_unchanged_copy_loads(edited_schedule: Any) -> None:
    edited_schedule(lambda data: None)
    assert load_schedule(2026).codes["64640"].systems["OPPS"]["payment"].value == D("903.63")


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d["codes"]["64640"]["OPPS"]["payment"].update(source="blog"), "source"),
        (lambda d: d["codes"]["64640"]["OPPS"]["payment"].update(confidence="sure"), "source"),
        (lambda d: d["codes"]["64640"]["OPPS"]["payment"].update(value=None), "unranked device"),
        (lambda d: d["codes"]["64640"]["OPPS"].pop("status_indicator"), "lacks"),
        (lambda d: d["codes"]["64640"]["OPPS"]["status_indicator"].update(value="Q9"), "unknown"),
        (lambda d: d["codes"]["64640"]["nerve_set"].update(value="elbow"), "nerve_set"),
        (lambda d: d["codes"]["64640"]["mue"].update(value=0), "MUE"),
        (lambda d: d["conversion_factors"].pop("qualifying_apm"), "conversion factors"),
        (lambda d: d.update(year=2025), "year 2025"),
        (lambda d: d["codes"]["64640"].pop("descriptor"), "malformed"),
        (lambda d: d["systems"]["PFS"]["pays"].update(clinic={}), "malformed"),
    ],
)
def test_a_malformed_schedule_is_refused(edited_schedule: Any, edit: Any, problem: str) -> None:
    edited_schedule(edit)
    with pytest.raises(ScheduleError, match=problem):
        load_schedule(2026)
