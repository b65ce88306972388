"""Demo cases at the demo facilities, recorded through the service (stock consumed, priced).

Idempotent: a case whose reference already exists at its facility is left alone. Needs the
demo stock (inventory's demo) first; without it a case is skipped and the line says so.
C9809 stays unpriced until finance sets an override, which the margin report flags. The
cases name their payers (an active-duty case, a TRICARE case); the rest take the
facility's default.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.cases.models import ProcedureCase
from supply_app.cases.service import record_case
from supply_app.catalog.models import Part
from supply_app.coding import available_years
from supply_app.errors import DomainError
from supply_app.facilities.models import Facility
from supply_app.payers.demo import ACTIVE_DUTY, TRICARE
from supply_app.payers.models import Payer

GENICULAR = ["superolateral", "superomedial", "inferomedial"]
DEMO_CASES: tuple[dict[str, Any], ...] = (
    {
        "facility": "DEMO-HOPD",
        "reference": "DEMO-H-001",
        "days_ago": 3,
        "laterality": "RT",
        "procedures": [
            {"code": "64640", "nerves": ["afcn", "isn_superior", "isn_inferior"]},
            {"code": "C9809"},
        ],
        "supplies": [("STT2190-5", 1), ("CRX2111-10", 1)],
    },
    {
        "facility": "DEMO-ASC",
        "reference": "DEMO-A-001",
        "days_ago": 10,
        "laterality": "LT",
        "procedures": [{"code": "64624", "nerves": GENICULAR}, {"code": "C9809"}],
        "supplies": [("STT2309-5", 1), ("CRX2111-10", 1)],
    },
    {
        "facility": "DEMO-HOPD",
        "reference": "DEMO-H-002",
        "days_ago": 2,
        "laterality": "LT",
        "payer": ACTIVE_DUTY,
        "procedures": [{"code": "64640", "nerves": ["afcn", "isn_superior"]}],
        "supplies": [("STT2190-5", 1), ("CRX2111-10", 1)],
    },
    {
        "facility": "DEMO-HOPD",
        "reference": "DEMO-H-003",
        "days_ago": 1,
        "laterality": "RT",
        "payer": TRICARE,
        "procedures": [{"code": "64640", "nerves": ["afcn", "isn_superior"]}],
        "supplies": [("STT2190-5", 1), ("CRX2111-10", 1)],
    },
    {
        "facility": "DEMO-CLINIC",
        "reference": "DEMO-O-001",
        "days_ago": 20,
        "laterality": "bilateral",
        "procedures": [
            {"code": "64640", "nerves": ["lfcn", "afcn"], "laterality": "RT"},
            {"code": "64640", "nerves": ["lfcn"], "laterality": "LT"},
        ],
        "supplies": [("STT2190-5", 2), ("CRX2111-10", 2)],
    },
)
DEMO_RECORDER = "clinician"


def demo_date(facility: Facility, days_ago: int) -> date | None:
    """A past date of service at the facility in the newest year with a fee schedule, or None."""
    newest = max(available_years())
    day = min(facility.today(), date(newest, 12, 31)) - timedelta(days=days_ago)
    return day if day.year == newest else None


def load_demo_cases(session: Session) -> list[str]:
    """Record the demo cases that do not exist yet; return a line saying what happened."""
    recorder = session.scalar(select(User).where(User.username == DEMO_RECORDER))
    if recorder is None:
        return ["Demo cases: skipped (no demo clinician)."]
    recorded, skipped = [], []
    for spec in DEMO_CASES:
        outcome = _demo_case(session, recorder, spec)
        if outcome is not None:
            (recorded if outcome == "" else skipped).append(
                spec["reference"] + (f" ({outcome})" if outcome else "")
            )
    if not recorded and not skipped:
        return ["Demo cases: already recorded."]
    lines = [f"Demo cases recorded: {', '.join(recorded)}."] if recorded else []
    return lines + ([f"Demo cases skipped: {'; '.join(skipped)}."] if skipped else [])


def _demo_case(session: Session, recorder: User, spec: dict[str, Any]) -> str | None:
    """Record one demo case: None if it exists, '' when recorded, else why it was skipped."""
    facility = session.scalar(select(Facility).where(Facility.code == spec["facility"]))
    if facility is None:
        return "no such facility"
    exists = session.scalar(
        select(ProcedureCase.id).where(
            ProcedureCase.facility_id == facility.id,
            ProcedureCase.reference == spec["reference"],
        )
    )
    if exists is not None:
        return None
    day = demo_date(facility, spec["days_ago"])
    if day is None:
        return "no fee schedule for the current year"
    parts = {p.part_number: p.id for p in session.scalars(select(Part))}
    data = {
        "facility_id": facility.id,
        "reference": spec["reference"],
        "date_of_service": day,
        "laterality": spec["laterality"],
        "procedures": spec["procedures"],
        "supplies": [{"part_id": parts[n], "eaches": e} for n, e in spec["supplies"]],
    }
    if "payer" in spec:
        data["payer_id"] = session.scalar(select(Payer.id).where(Payer.name == spec["payer"]))
    savepoint = session.begin_nested()
    try:
        record_case(session, user=recorder, data=data)
    except DomainError as exc:  # e.g. no demo stock yet: leave nothing half-written
        savepoint.rollback()
        return exc.detail
    savepoint.commit()
    return ""
