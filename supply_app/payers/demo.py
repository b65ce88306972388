"""Demo payers and equipment costs: the categories a DoD facility meets, with example figures.

Idempotent: a payer or equipment figure that exists is left as it is. The fee table is an
example shaped like a CMAC locality extract, not real TRICARE rates.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.cases.equipment import equipment_costs, set_equipment_cost
from supply_app.facilities.models import Facility
from supply_app.payers.models import Payer
from supply_app.payers.service import create_payer, replace_fees

ACTIVE_DUTY = "Active duty (not billed)"
TRICARE = "TRICARE (example CMAC table)"
COMMERCIAL = "Commercial, 120% of Medicare"
DEMO_PAYERS = (
    {
        "name": ACTIVE_DUTY,
        "basis": "not_billed",
        "note": "An MTF bills nobody for active-duty care (health.mil, Uniform Business Office).",
    },
    {
        "name": TRICARE,
        "basis": "fee_table",
        "note": "Example figures shaped like a CMAC locality extract; load your own table.",
    },
    {"name": COMMERCIAL, "basis": "percent_of_medicare", "percent_hundredths": 12_000},
)
TRICARE_TABLE = """code,site_of_service,component,modifier,amount,effective_from,effective_to
64640,HOPD,facility,,850.00,2026-01-01,
64640,HOPD,professional,,101.50,2026-01-01,
64640,ASC,facility,,185.00,2026-01-01,
64640,ASC,professional,,101.50,2026-01-01,
64640,office,professional,,242.30,2026-01-01,
64624,HOPD,facility,,1880.00,2026-01-01,
64624,HOPD,professional,,121.10,2026-01-01,
64624,ASC,facility,,890.00,2026-01-01,
64624,ASC,professional,,121.10,2026-01-01,
64624,office,professional,,372.40,2026-01-01,
"""
#: A $7,200.00 handpiece over 5 years of 200 cases: $7.20 a case at each demo facility.
DEMO_EQUIPMENT = {"acquisition": 720_000, "salvage": 0, "life_years": 5, "cases_per_year": 200}
#: Which demo facility starts with which default payer.
DEMO_DEFAULTS = {"DEMO-ASC": COMMERCIAL}


def load_demo_payers(session: Session, facility_codes: list[str]) -> list[str]:
    """Create the demo payers, defaults and equipment figures that are missing."""
    made = []
    for spec in DEMO_PAYERS:
        if session.scalar(select(Payer.id).where(Payer.name == spec["name"])) is None:
            payer = create_payer(session, data=dict(spec), actor=None)
            if payer.basis == "fee_table":
                replace_fees(session, payer=payer, text=TRICARE_TABLE, actor=None)
            made.append(payer.name)
    facilities = session.scalars(select(Facility).where(Facility.code.in_(facility_codes)))
    for facility in facilities:
        if facility.code in DEMO_DEFAULTS and made:
            name = DEMO_DEFAULTS[facility.code]
            facility.default_payer_id = session.scalar(select(Payer.id).where(Payer.name == name))
        if not equipment_costs(session, facility):
            set_equipment_cost(
                session, facility=facility, serial=None, data=dict(DEMO_EQUIPMENT), actor=None
            )
    session.flush()
    if not made:
        return ["Demo payers: already there."]
    return [f"Demo payers: {', '.join(made)} (example figures); handpieces cost $7.20 a case."]
