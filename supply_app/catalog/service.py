"""Catalog operations: sync the ECAT file, search parts, manage contract prices."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import PRICES_ARE_GLOBAL
from supply_app.auth.service import record_audit, require_every_facility
from supply_app.catalog.models import ContractPrice, Part, PartGtin
from supply_app.catalog.schemas import CatalogFileIn, CatalogPartIn
from supply_app.errors import Conflict, DomainError, InvalidInput, NotFound

PART_FIELDS = (
    "generation",
    "description",
    "category",
    "units_per_pack",
    "unit_of_issue",
    "tip_spec",
    "nerve_stimulation",
    "contract_number",
    "contract_vehicle",
)


class CatalogFileError(DomainError):
    """The catalog file cannot be used; the message names the record and the field."""

    status = 422
    slug = "catalog-file-invalid"
    title = "Catalog file invalid"


@dataclass
class SyncReport:
    """What a catalog sync did, part number by part number."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the sync wrote anything."""
        return bool(self.created or self.updated or self.deactivated)


def _describe(messages: Any) -> str:
    """Flatten marshmallow messages into 'field: message' text."""
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_describe(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(_describe(m) for m in messages)
    return str(messages)


def load_catalog_file(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate the whole catalog file before anything is written.

    :raises CatalogFileError: unreadable JSON, or a record with a bad or missing field.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogFileError(f"{path}: cannot read catalog JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise CatalogFileError(f"{path}: the top level must be an object with 'parts'.")
    try:
        header = CatalogFileIn().load(document)
    except ma.ValidationError as exc:
        raise CatalogFileError(f"{path}: {_describe(exc.messages)}") from exc
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(header["parts"]):
        label = f"parts[{index}] ({raw.get('part_number', 'no part_number')})"
        try:
            record = CatalogPartIn().load(raw)
        except ma.ValidationError as exc:
            raise CatalogFileError(f"{path}: {label}: {_describe(exc.messages)}") from exc
        if record["contract_number"] != header["contract_number"]:
            raise CatalogFileError(
                f"{path}: {label}: contract_number: {record['contract_number']!r} differs "
                f"from the file's contract {header['contract_number']!r}."
            )
        if record["part_number"] in seen:
            raise CatalogFileError(
                f"{path}: {label}: part_number: duplicates parts[{seen[record['part_number']]}]."
            )
        seen[record["part_number"]] = index
        records.append(record)
    return records


def sync_catalog(session: Session, records: list[dict[str, Any]]) -> SyncReport:
    """Upsert validated records by part number; parts missing from the file are deactivated.

    :raises CatalogFileError: a GTIN already belongs to another part.
    """
    report = SyncReport()
    existing = {part.part_number: part for part in session.scalars(select(Part))}
    for record in records:
        part = existing.pop(record["part_number"], None)
        if part is None:
            part = Part(part_number=record["part_number"], active=True)
            session.add(part)
            report.created.append(record["part_number"])
            _apply_record(session, part, record)
        elif _apply_record(session, part, record):
            report.updated.append(part.part_number)
        else:
            report.unchanged.append(part.part_number)
    for part in existing.values():
        if part.active:
            part.active = False
            report.deactivated.append(part.part_number)
    session.flush()
    return report


def _apply_record(session: Session, part: Part, record: dict[str, Any]) -> bool:
    """Copy a record onto a part; returns True when anything changed."""
    changed = not part.active
    part.active = True
    for name in PART_FIELDS:
        if getattr(part, name) != record[name]:
            setattr(part, name, record[name])
            changed = True
    wanted = {g["gtin"]: g["units"] for g in record["gtins"]}
    current = {g.gtin: g.units for g in part.gtins if g.source == "catalog"}
    if wanted != current:
        _sync_gtins(session, part, record["part_number"], wanted)
        changed = True
    return changed


def _sync_gtins(session: Session, part: Part, part_number: str, wanted: dict[str, int]) -> None:
    """Make the part's catalog GTINs the file's; links users taught stay (or join the file's).

    :raises CatalogFileError: a GTIN of the file belongs to another part.
    """
    mine = {g.gtin: g for g in part.gtins}
    for gtin in wanted.keys() - mine.keys():
        owner = session.scalar(select(PartGtin).where(PartGtin.gtin == gtin))
        if owner is not None and owner.part is not part:
            how = "was linked by a user" if owner.source == "taught" else "already belongs"
            raise CatalogFileError(
                f"{part_number}: gtins: {gtin} {how} to {owner.part.part_number}."
            )
    kept = [g for g in part.gtins if g.source == "taught" and g.gtin not in wanted]
    for gtin, units in sorted(wanted.items()):
        link = mine.get(gtin) or PartGtin(gtin=gtin)
        link.units, link.source = units, "catalog"
        link.taught_by_id, link.taught_at = None, None
        kept.append(link)
    part.gtins = kept


def parts_query(q: str | None = None, category: str | None = None) -> Select:
    """Parts matching a text search and category, in part-number order."""
    stmt = select(Part).order_by(Part.part_number, Part.id)
    if q:
        pattern = f"%{q.lower()}%"
        stmt = stmt.where(or_(Part.part_number.ilike(pattern), Part.description.ilike(pattern)))
    if category:
        stmt = stmt.where(Part.category == category)
    return stmt


def get_part(session: Session, part_id: int) -> Part:
    """Load a part by id.

    :raises NotFound: no such part.
    """
    part = session.get(Part, part_id)
    if part is None:
        raise NotFound(f"No part with id {part_id}.")
    return part


def get_part_by_number(session: Session, part_number: str) -> Part:
    """Load a part by its ECAT part number.

    :raises NotFound: no such part.
    """
    part = session.scalar(select(Part).where(Part.part_number == part_number))
    if part is None:
        raise NotFound(f"No part numbered {part_number!r} in the catalog.")
    return part


def part_for_gtin(session: Session, gtin: str) -> PartGtin | None:
    """The catalog GTIN entry (part and eaches per package) for a scanned GTIN."""
    return session.scalar(select(PartGtin).where(PartGtin.gtin == gtin))


def price_in_effect(session: Session, part_id: int, on: date) -> ContractPrice | None:
    """The contract price of a part in effect on a date, in one query."""
    return session.scalar(
        select(ContractPrice)
        .where(
            ContractPrice.part_id == part_id,
            ContractPrice.effective_from <= on,
            or_(ContractPrice.effective_to.is_(None), ContractPrice.effective_to >= on),
        )
        .order_by(ContractPrice.effective_from.desc())
        .limit(1)
    )


def prices_query(part_id: int | None = None, on: date | None = None) -> Select:
    """Contract prices, newest first, optionally for one part or one date."""
    stmt = select(ContractPrice).order_by(
        ContractPrice.part_id, ContractPrice.effective_from.desc(), ContractPrice.id
    )
    if part_id is not None:
        stmt = stmt.where(ContractPrice.part_id == part_id)
    if on is not None:
        stmt = stmt.where(
            ContractPrice.effective_from <= on,
            or_(ContractPrice.effective_to.is_(None), ContractPrice.effective_to >= on),
        )
    return stmt


def set_contract_price(
    session: Session,
    *,
    part: Part,
    unit_price_cents: int,
    effective_from: date,
    effective_to: date | None,
    note: str | None,
    actor: User | None,
) -> ContractPrice:
    """Add a price for a part from a date; an open-ended earlier price is ended the day before.

    :raises Forbidden: an actor who does not hold every facility (prices apply to all).
    :raises InvalidInput: a non-positive price or dates in the wrong order.
    :raises Conflict: the range overlaps a price that is not open-ended before it.
    """
    if actor is not None:
        require_every_facility(actor, PRICES_ARE_GLOBAL)
    if unit_price_cents <= 0:
        raise InvalidInput("A contract price must be above zero.", field="unit_price")
    if effective_to is not None and effective_to < effective_from:
        raise InvalidInput("effective_to must be on or after effective_from.", field="effective_to")
    far_future = date.max
    for other in session.scalars(
        select(ContractPrice).where(ContractPrice.part_id == part.id).with_for_update()
    ):
        other_end = other.effective_to or far_future
        overlaps = other.effective_from <= (effective_to or far_future) and (
            effective_from <= other_end
        )
        if not overlaps:
            continue
        if other.effective_to is None and other.effective_from < effective_from:
            before = {"effective_to": None}
            other.effective_to = effective_from - timedelta(days=1)
            record_audit(
                session,
                actor=actor,
                action="price.end",
                entity=("contract_price", other.id),
                before=before,
                after={"effective_to": other.effective_to.isoformat()},
            )
            continue
        raise Conflict(
            f"{part.part_number} already has a price from {other.effective_from.isoformat()} "
            f"to {other.effective_to.isoformat() if other.effective_to else 'open-ended'}; "
            "choose dates that do not overlap it.",
            field="effective_from",
        )
    price = ContractPrice(
        part_id=part.id,
        unit_price_cents=unit_price_cents,
        effective_from=effective_from,
        effective_to=effective_to,
        note=note,
        created_by_id=actor.id if actor else None,
    )
    session.add(price)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="price.set",
        entity=("contract_price", price.id),
        after={
            "part_number": part.part_number,
            "unit_price_cents": unit_price_cents,
            "effective_from": effective_from.isoformat(),
            "effective_to": effective_to.isoformat() if effective_to else None,
            "note": note,
        },
    )
    return price
