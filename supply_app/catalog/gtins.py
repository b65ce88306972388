"""Barcodes (GTINs) linked to parts: the catalog file's, and those users teach after a scan.

The shipped catalog lists no GTINs (none are published), so the first scan of a label names
no part. A user who receives or moves stock links the label's GTIN to its part once
(audited); from then on every door that reads a scan (receipts, order receipts, issues,
cases, stock forms) finds the part through catalog.service.part_for_gtin. Admins see, change
and remove taught links; the catalog file's links change only with the file.
"""

from __future__ import annotations

from biip import ParseError
from biip.gtin import Gtin
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from supply_app.auth.models import User
from supply_app.auth.permissions import BARCODES_ARE_GLOBAL, GTIN_ADMINS, GTIN_TEACHERS
from supply_app.auth.service import record_audit, require_every_facility, require_role
from supply_app.catalog.models import Part, PartGtin
from supply_app.catalog.rules import LABEL_GTIN, PACKAGE_LEVEL
from supply_app.clock import utcnow
from supply_app.errors import Conflict, InvalidInput, NotFound


def gtin_links() -> Select:
    """Every GTIN link with its part, by part number then GTIN."""
    return (
        select(PartGtin)
        .join(Part, Part.id == PartGtin.part_id)
        .options(joinedload(PartGtin.part), joinedload(PartGtin.taught_by))
        .order_by(Part.part_number, PartGtin.gtin)
    )


def get_link(session: Session, link_id: int) -> PartGtin:
    """A GTIN link by id.

    :raises NotFound: no such link.
    """
    link = session.get(PartGtin, link_id)
    if link is None:
        raise NotFound(f"No barcode link with id {link_id}.")
    return link


def package_units(part: Part, level: str) -> int:
    """Eaches in the package a label is on: one each, or one pack of the part."""
    return part.units_per_pack if PACKAGE_LEVEL.check(level, "package") == "pack" else 1


def _checked_gtin(gtin: str) -> str:
    gtin = LABEL_GTIN.check(gtin, "gtin")
    try:
        Gtin.parse(gtin)
    except ParseError:
        raise InvalidInput(f"GTIN {gtin} has a wrong check digit.", field="gtin") from None
    return gtin


def _usable(part: Part) -> Part:
    if not part.active:
        raise InvalidInput(f"{part.part_number} is no longer in the catalog.", field="part_id")
    return part


def _snapshot(link: PartGtin) -> dict:
    return {"gtin": link.gtin, "part_number": link.part.part_number, "units": link.units}


def teach_gtin(session: Session, *, gtin: str, part: Part, level: str, actor: User) -> PartGtin:
    """Link an unknown GTIN to a part; every scan of it names the part from now on. Audited.

    :raises Forbidden: a role that does not receive or move stock.
    :raises InvalidInput: not a label's GTIN, a wrong check digit, or a retired part.
    :raises Conflict: the GTIN is already linked (to this part or another).
    """
    require_role(actor, *GTIN_TEACHERS)
    gtin = _checked_gtin(gtin)
    _usable(part)
    owner = session.scalar(select(PartGtin).where(PartGtin.gtin == gtin))
    if owner is not None:
        raise _linked_already(owner)
    link = PartGtin(
        part_id=part.id,
        gtin=gtin,
        units=package_units(part, level),
        source="taught",
        taught_by_id=actor.id,
        taught_at=utcnow(),
    )
    session.add(link)
    try:
        session.flush()
    except IntegrityError:  # taught by someone else at the same moment: the unique key decides
        raise _linked_already(None) from None
    record_audit(
        session,
        actor=actor,
        action="gtin.link",
        entity=("part_gtin", link.id),
        after=_snapshot(link),
    )
    return link


def _linked_already(owner: PartGtin | None) -> Conflict:
    where = f" to {owner.part.part_number}" if owner is not None else ""
    return Conflict(
        f"That barcode is already linked{where}; scan it again (an administrator can change "
        "the link under Catalog → Barcodes).",
        field="gtin",
    )


def _taught(link: PartGtin) -> PartGtin:
    if link.source != "taught":
        raise InvalidInput(
            f"GTIN {link.gtin} comes from the catalog file; it changes when the file does.",
            field="gtin",
        )
    return link


def change_gtin(
    session: Session, *, link: PartGtin, part: Part, level: str, actor: User
) -> PartGtin:
    """Point a taught GTIN at another part or package size (admins); audited.

    :raises Forbidden: not an admin holding every facility.
    :raises InvalidInput: a catalog link or retired part.
    """
    require_role(actor, *GTIN_ADMINS)
    require_every_facility(actor, BARCODES_ARE_GLOBAL)
    _taught(link)
    before = _snapshot(link)
    link.part = _usable(part)
    link.units = package_units(part, level)
    session.flush()
    after = _snapshot(link)
    if after != before:
        record_audit(
            session,
            actor=actor,
            action="gtin.change",
            entity=("part_gtin", link.id),
            before=before,
            after=after,
        )
    return link


def remove_gtin(session: Session, *, link: PartGtin, actor: User) -> None:
    """Remove a taught GTIN link (admins); the next scan of it names no part. Audited.

    :raises Forbidden: not an admin holding every facility.
    :raises InvalidInput: a catalog link.
    """
    require_role(actor, *GTIN_ADMINS)
    require_every_facility(actor, BARCODES_ARE_GLOBAL)
    _taught(link)
    record_audit(
        session,
        actor=actor,
        action="gtin.unlink",
        entity=("part_gtin", link.id),
        before=_snapshot(link),
    )
    session.delete(link)
    session.flush()
