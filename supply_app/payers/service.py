"""Payers: create, change and list them, load their fee tables, and hand their terms to the
coding module. Every function takes its session and never commits.

A payer applies to every facility's cases, so only a user who holds every facility (admins
and finance) changes one; any user who can read the margin report can read them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from supply_app.auth.models import User
from supply_app.auth.permissions import PAYERS_ARE_GLOBAL
from supply_app.auth.service import record_audit, require_every_facility
from supply_app.coding import Basis, FeeRow, SiteOfService
from supply_app.coding import Payer as PayerTerms
from supply_app.errors import Conflict, InvalidInput, NotFound
from supply_app.facilities.models import Facility
from supply_app.payers import rules
from supply_app.payers.feetable import FeeLine, FeeTableRefused, read_fee_table
from supply_app.payers.models import Payer, PayerFee
from supply_app.rules import Rule

MEDICARE_NATIONAL = "Medicare national"
FIELD_RULES: dict[str, Rule] = {
    "name": rules.PAYER_NAME,
    "basis": rules.BASIS,
    "percent_hundredths": rules.PERCENT,
    "note": rules.PAYER_NOTE,
}
FLAGS = ("medicare_rules", "active")
AUDITED = (*FIELD_RULES, *FLAGS, "revision")


def list_payers(session: Session, *, include_inactive: bool = True) -> list[Payer]:
    """Every payer, by name, each with its fee rows counted (one query for the list)."""
    stmt = select(Payer).order_by(Payer.name)
    if not include_inactive:
        stmt = stmt.where(Payer.active)
    payers = list(session.scalars(stmt))
    counts = dict(
        session.execute(select(PayerFee.payer_id, func.count()).group_by(PayerFee.payer_id)).all()
    )
    for payer in payers:
        payer.counted_fee_rows = counts.get(payer.id, 0)
    return payers


def get_payer(session: Session, payer_id: int, *, field: str | None = None) -> Payer:
    """A payer by id.

    :raises NotFound: no such payer (InvalidInput naming `field` when it came in a body).
    """
    payer = session.get(Payer, payer_id)
    if payer is None:
        if field is not None:
            raise InvalidInput(f"No payer with id {payer_id}.", field=field)
        raise NotFound(f"No payer with id {payer_id}.")
    return payer


def _lock(session: Session, payer: Payer) -> None:
    """Lock the payer row (FOR UPDATE on PostgreSQL) and read it afresh before changing it.

    Two changes to one payer take their turns: each gets a revision of its own, and two
    fee tables' rows are never mixed (SQLite's one writer at a time gives the same).
    """
    session.scalar(
        select(Payer)
        .where(Payer.id == payer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    session.expire(payer, ["fees"])


def _with_table(session: Session, payer_id: int) -> Payer | None:
    """The payer and its fee table read afresh in one statement, so the revision a case
    is stamped with is the one whose table priced it, even while the table is replaced."""
    stmt = (
        select(Payer)
        .where(Payer.id == payer_id)
        .options(joinedload(Payer.fees))
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).unique().one_or_none()


def usable_payer(session: Session, payer_id: int, field: str) -> Payer:
    """An active payer a case or facility may name (with its table, when it prices by more
    than Medicare national).

    :raises InvalidInput: no such payer, or one that is deactivated.
    """
    payer = get_payer(session, payer_id, field=field)
    if payer.basis != Basis.MEDICARE_NATIONAL:
        payer = _with_table(session, payer_id) or payer
    if not payer.active:
        raise InvalidInput(f"The payer {payer.name!r} is deactivated; choose another.", field=field)
    return payer


def default_payer(session: Session, payer_id: int, field: str) -> Payer:
    """An active payer to become a facility's default, its row share-locked and read afresh.

    A deactivation locks the row for update and then looks for facilities defaulting to
    it, so the two take turns: a payer is never left the default of a facility while it
    is deactivated.

    :raises InvalidInput: no such payer, or one that is deactivated.
    """
    payer = session.scalar(
        select(Payer)
        .where(Payer.id == payer_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if payer is None:
        raise InvalidInput(f"No payer with id {payer_id}.", field=field)
    if not payer.active:
        raise InvalidInput(f"The payer {payer.name!r} is deactivated; choose another.", field=field)
    return payer


def standard_payer(session: Session) -> Payer:
    """The Medicare national payer every new facility starts with, made when missing."""
    payer = session.scalar(select(Payer).where(Payer.name == MEDICARE_NATIONAL))
    if payer is not None:
        return payer
    payer = Payer(
        name=MEDICARE_NATIONAL,
        basis=Basis.MEDICARE_NATIONAL.value,
        medicare_rules=True,
        active=True,
        revision=1,
        note="The benchmark: Medicare national rates.",
    )
    try:
        with session.begin_nested():
            session.add(payer)
    except IntegrityError:  # another request made it first
        return session.scalar(select(Payer).where(Payer.name == MEDICARE_NATIONAL))
    return payer


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    clean = {}
    for name, value in data.items():
        if name in FLAGS:
            clean[name] = bool(value)
        elif name in FIELD_RULES:
            clean[name] = None if value is None else FIELD_RULES[name].check(value, name)
        else:
            raise InvalidInput(f"A payer has no field {name!r}.", field=name)
    return clean


def _check_terms(payer: Payer) -> None:
    if payer.basis == Basis.PERCENT_OF_MEDICARE and payer.percent_hundredths is None:
        raise InvalidInput(
            "A payer that pays a percentage of Medicare needs the percentage, such as 120.00.",
            field="percent",
        )


def _snapshot(payer: Payer) -> dict[str, Any]:
    return {name: getattr(payer, name) for name in AUDITED}


def _check_name(session: Session, name: str, payer_id: int | None = None) -> None:
    stmt = select(Payer.id).where(func.lower(Payer.name) == name.lower())
    if payer_id is not None:
        stmt = stmt.where(Payer.id != payer_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"A payer named {name!r} already exists.", field="name")


def create_payer(session: Session, *, data: dict[str, Any], actor: User | None) -> Payer:
    """Create a payer from validated data; audited.

    :raises Forbidden: an actor who does not hold every facility (payers apply to all).
    :raises InvalidInput: a percentage payer without its percentage.
    :raises Conflict: the name is taken.
    """
    if actor is not None:
        require_every_facility(actor, PAYERS_ARE_GLOBAL)
    data = _checked({"medicare_rules": True, "active": True, **data})
    _check_name(session, data["name"])
    payer = Payer(**data, revision=1)
    _check_terms(payer)
    session.add(payer)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="payer.create",
        entity=("payer", payer.id),
        after=_snapshot(payer),
    )
    return payer


def update_payer(
    session: Session, *, payer: Payer, changes: dict[str, Any], actor: User | None
) -> Payer:
    """Change a payer's terms; a change to how it pays makes its cases stale. Audited.

    :raises Forbidden: as create_payer.
    :raises InvalidInput: nothing to change; terms that cannot price.
    :raises Conflict: the new name is taken; deactivating a facility's default payer.
    """
    if actor is not None:
        require_every_facility(actor, PAYERS_ARE_GLOBAL)
    if not changes:
        raise InvalidInput("Send at least one field to change.")
    changes = _checked(changes)
    _lock(session, payer)
    if "name" in changes:
        _check_name(session, changes["name"], payer.id)
    if changes.get("active") is False:
        _check_not_default(session, payer)
    before = _snapshot(payer)
    for name, value in changes.items():
        setattr(payer, name, value)
    _check_terms(payer)
    if any(
        before[name] != getattr(payer, name)
        for name in ("basis", "percent_hundredths", "medicare_rules")
    ):
        payer.revision += 1
    session.flush()
    after = _snapshot(payer)
    if before != after:
        record_audit(
            session,
            actor=actor,
            action="payer.update",
            entity=("payer", payer.id),
            before=before,
            after=after,
        )
    return payer


def _check_not_default(session: Session, payer: Payer) -> None:
    codes = session.scalars(
        select(Facility.code).where(Facility.default_payer_id == payer.id).order_by(Facility.code)
    ).all()
    if codes:
        raise Conflict(
            f"{payer.name} is the default payer at {', '.join(codes)}; choose another default "
            "there before deactivating it.",
            field="active",
        )


def replace_fees(
    session: Session, *, payer: Payer, text: str, actor: User | None
) -> list[PayerFee]:
    """Replace a payer's fee table with the rows of a CSV file, checked whole first; audited.

    The payer's cases become stale (its revision goes up) until repriced.

    :raises Forbidden: as create_payer.
    :raises InvalidInput: the file's problems, each with its row and column (`problems`);
        nothing is changed.
    """
    if actor is not None:
        require_every_facility(actor, PAYERS_ARE_GLOBAL)
    try:
        lines = read_fee_table(text)
    except FeeTableRefused as refused:
        first = refused.problems[0]
        where = f"row {first.row}" + (f", column {first.column}" if first.column else "")
        raise InvalidInput(
            f"The fee table was not loaded: {len(refused.problems)} problem(s), the first at "
            f"{where}: {first.message}",
            field="csv",
            problems=[p.as_dict() for p in refused.problems],
        ) from None
    _lock(session, payer)
    before = len(payer.fees)
    session.execute(delete(PayerFee).where(PayerFee.payer_id == payer.id))
    session.expire(payer, ["fees"])
    payer.__dict__.pop("counted_fee_rows", None)  # a list's count no longer holds
    rows = [PayerFee(payer_id=payer.id, **_columns(line)) for line in lines]
    session.add_all(rows)
    payer.revision += 1
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="payer.fees.replace",
        entity=("payer", payer.id),
        before={"rows": before},
        after={"rows": len(rows), "revision": payer.revision},
    )
    return rows


def _columns(line: FeeLine) -> dict[str, Any]:
    return {
        "code": line.code,
        "site_of_service": line.site_of_service,
        "component": line.component,
        "modifier": line.modifier,
        "amount_cents": line.amount_cents,
        "effective_from": line.effective_from,
        "effective_to": line.effective_to,
    }


def current_revisions(session: Session) -> dict[int, tuple[int, bool]]:
    """Every payer's revision and whether it adjusts by the facility's wage index."""
    rows = session.execute(select(Payer.id, Payer.revision, Payer.basis))
    return {pid: (rev, basis == Basis.MEDICARE_LOCALITY) for pid, rev, basis in rows}


def payers_with_fees(session: Session, ids: set[int]) -> dict[int, Payer]:
    """The payers named, each with its fee table loaded (for pricing many cases)."""
    stmt = (
        select(Payer)
        .where(Payer.id.in_(ids))
        .options(joinedload(Payer.fees))  # one statement: each revision with its own table
        .execution_options(populate_existing=True)
    )
    return {payer.id: payer for payer in session.scalars(stmt).unique()}


def terms(payer: Payer, wage_index: int | None) -> PayerTerms:
    """A payer as the coding module takes it: its terms, its table, the facility's index."""
    percent = payer.percent_hundredths
    return PayerTerms(
        name=payer.name,
        basis=Basis(payer.basis),
        percent=None if percent is None else Decimal(percent).scaleb(-2),
        wage_index=None if wage_index is None else Decimal(wage_index).scaleb(-4),
        fees=tuple(
            FeeRow(
                code=fee.code,
                site=SiteOfService(fee.site_of_service),
                component=fee.component,
                amount=Decimal(fee.amount_cents).scaleb(-2),
                effective_from=fee.effective_from,
                effective_to=fee.effective_to,
                modifier=fee.modifier or None,
            )
            for fee in payer.fees
        ),
        medicare_rules=payer.medicare_rules,
    )
