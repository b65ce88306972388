"""Inventory API: balances, the ledger, stock movements, par levels, alerts and scanning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import ALL_ROLES, STOCK_ISSUERS, STOCK_MOVERS
from supply_app.auth.service import facility_ids_for
from supply_app.catalog.models import Part
from supply_app.catalog.service import get_part, price_in_effect
from supply_app.errors import InvalidInput, NotFound
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_facility
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint
from supply_app.inventory import service
from supply_app.inventory.models import Lot, StockBalance
from supply_app.inventory.schemas import (
    LOT_NUMBER,
    AdjustmentIn,
    AlertsOut,
    CountIn,
    CountOut,
    IssueIn,
    LotOut,
    MovementOut,
    MovementPage,
    MovementQuery,
    ParLevelsIn,
    ParLevelsOut,
    PartStockPage,
    PickListOut,
    PickQuery,
    ReceiptIn,
    ReverseIn,
    ScanIn,
    ScanOut,
    StockPage,
    StockQuery,
    TraceQuery,
    TransferIn,
    TransferOut,
    WasteIn,
)
from supply_app.inventory.service import ScanResult

blp = ApiBlueprint("inventory", __name__, url_prefix="/api/v1", description="Inventory")

FACILITY = "/facilities/<int(max=2147483647):facility_id>"


def _facility(facility_id: int) -> Facility:
    """A facility the caller belongs to (404 otherwise, as if it did not exist)."""
    return get_facility(db.session, api_user(), facility_id)


def _lot(data: dict[str, Any]) -> Lot:
    """The lot named by lot_id, checked against part_id when the client sent one.

    A lot none of the caller's facilities ever held is the 404 that reading it gives, before
    anything about it (its number, its part) can show in another error.
    """
    lot = _visible_lot(data["lot_id"])
    _check_part(lot, data.get("part_id"))
    return lot


def _visible_lot(lot_id: int) -> Lot:
    """A lot one of the caller's facilities has held (404 otherwise, as if absent)."""
    lot = service.get_lot(db.session, lot_id)
    allowed = facility_ids_for(db.session, api_user())
    if allowed is not None:
        held = db.session.scalar(
            select(StockBalance.id)
            .where(StockBalance.lot_id == lot.id, StockBalance.facility_id.in_(allowed))
            .limit(1)
        )
        if held is None:
            raise NotFound(f"No lot with id {lot_id}.")
    return lot


def _check_part(lot: Lot, part_id: int | None) -> None:
    if part_id is not None and lot.part_id != part_id:
        raise InvalidInput(
            f"Lot {lot.lot_number} belongs to {lot.part.part_number}, not part {part_id}.",
            field="part_id",
        )


def _agree(scanned: Any, typed: Any, field: str) -> Any:
    """The scanned value, the typed one, or either when they agree; never a silent override."""
    if scanned is not None and typed is not None and scanned != typed:
        raise InvalidInput(f"The scan says {scanned}, but {field} says {typed}.", field=field)
    return scanned if scanned is not None else typed


def _valid_lot_number(value: str) -> str:
    try:
        LOT_NUMBER(value)
    except ValidationError as exc:
        raise InvalidInput(f"Lot number {value!r} is not usable.", field="lot_number") from exc
    return value


# --------------------------------------------------------------------------- reads


@blp.route(f"{FACILITY}/stock")
class Stock(MethodView):
    """Balances of a facility."""

    @roles(*ALL_ROLES)
    @blp.arguments(StockQuery, location="query")
    @blp.response(200, StockPage)
    def get(self, args, facility_id):
        """Balances by part and lot (FEFO order): eaches, packs + loose, value, expiry."""
        facility = _facility(facility_id)
        stmt = service.balances_query(facility.id, args.get("part_id"), args["include_empty"])
        return paginate(db.session, stmt, args["page"], args["per_page"])


@blp.route(f"{FACILITY}/stock/parts")
class StockByPart(MethodView):
    """Per-part totals of a facility."""

    @roles(*ALL_ROLES)
    @blp.arguments(StockQuery, location="query")
    @blp.response(200, PartStockPage)
    def get(self, args, facility_id):
        """Totals per part: eaches, usable (unexpired) eaches, packs + loose, value."""
        facility = _facility(facility_id)
        rows = service.part_totals(db.session, facility.id, service.today())
        if args.get("part_id") is not None:
            rows = [r for r in rows if r["part"].id == args["part_id"]]
        page, per_page = args["page"], args["per_page"]
        return {
            "items": rows[(page - 1) * per_page : page * per_page],
            "meta": {
                "page": page,
                "per_page": per_page,
                "total": len(rows),
                "pages": max(1, -(-len(rows) // per_page)),
            },
        }


def _movement_page(
    args: dict[str, Any], *, facility_ids: Iterable[int] | None, lot_id: int | None
) -> dict[str, Any]:
    """A keyset page of movements with the after_id that fetches the next one."""
    items = service.ledger_page(
        db.session,
        facility_ids=facility_ids,
        after_id=args["after_id"],
        limit=args["limit"],
        lot_id=lot_id,
        kind=args.get("kind"),
    )
    more = len(items) == args["limit"]
    return {"items": items, "next_after_id": items[-1].id if more else None}


@blp.route(f"{FACILITY}/movements")
class Movements(MethodView):
    """The ledger of a facility."""

    @roles(*ALL_ROLES)
    @blp.arguments(MovementQuery, location="query")
    @blp.response(200, MovementPage)
    def get(self, args, facility_id):
        """Movement history, oldest first, keyset-paged by after_id and limit."""
        facility = _facility(facility_id)
        return _movement_page(args, facility_ids=[facility.id], lot_id=args.get("lot_id"))


@blp.route(f"{FACILITY}/pick-list")
class PickList(MethodView):
    """FEFO picking."""

    @roles(*ALL_ROLES)
    @blp.arguments(PickQuery, location="query")
    @blp.response(200, PickListOut)
    def get(self, args, facility_id):
        """Lots to pick eaches of a part from, earliest expiry first (409 if short)."""
        facility = _facility(facility_id)
        part = get_part(db.session, args["part_id"])
        picks = service.pick_fefo(
            db.session, facility=facility, part=part, eaches=args["eaches"], on_date=service.today()
        )
        return {
            "part_id": part.id,
            "eaches": args["eaches"],
            "picks": [{"lot": lot, "eaches": n} for lot, n in picks],
        }


@blp.route(f"{FACILITY}/alerts")
class Alerts(MethodView):
    """Stock alerts."""

    @roles(*ALL_ROLES)
    @blp.response(200, AlertsOut)
    def get(self, facility_id):
        """Parts below min, lots expiring within the facility's window, expired stock."""
        facility = _facility(facility_id)
        return {
            "expiry_window_days": facility.expiry_window_days,
            "items": service.alerts(db.session, facility, service.today()),
        }


@blp.route(f"{FACILITY}/par-levels")
class ParLevels(MethodView):
    """Par levels of a facility."""

    @roles(*ALL_ROLES)
    @blp.response(200, ParLevelsOut)
    def get(self, facility_id):
        """Min/max eaches per part."""
        facility = _facility(facility_id)
        return {"items": service.par_levels(db.session, facility.id)}

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(ParLevelsIn)
    @blp.response(200, ParLevelsOut)
    def put(self, data, facility_id):
        """Replace the facility's par levels (audited)."""
        facility = _facility(facility_id)
        levels = service.set_par_levels(
            db.session, facility=facility, levels=data["levels"], actor=api_user()
        )
        return {"items": levels}


@blp.route("/lots/<int(max=2147483647):lot_id>")
class LotDetail(MethodView):
    """One lot."""

    @roles(*ALL_ROLES)
    @blp.response(200, LotOut)
    def get(self, lot_id):
        """A lot and its holdings at your facilities (404 if none of them ever held it)."""
        lot = _visible_lot(lot_id)
        allowed = facility_ids_for(db.session, api_user())
        stmt = (
            select(StockBalance)
            .where(StockBalance.lot_id == lot.id)
            .order_by(StockBalance.facility_id)
        )
        if allowed is not None:
            stmt = stmt.where(StockBalance.facility_id.in_(allowed))
        holdings = list(db.session.scalars(stmt))
        return {
            "id": lot.id,
            "part_id": lot.part_id,
            "part": lot.part,
            "lot_number": lot.lot_number,
            "expiry_date": lot.expiry_date,
            "gtin": lot.gtin,
            "serial": lot.serial,
            "batch": lot.batch,
            "holdings": holdings,
        }


@blp.route("/lots/<int(max=2147483647):lot_id>/trace")
class LotTrace(MethodView):
    """Where a lot went."""

    @roles(*ALL_ROLES)
    @blp.arguments(TraceQuery, location="query")
    @blp.response(200, MovementPage)
    def get(self, args, lot_id):
        """A lot's movements at your facilities (receipts, cases, transfers), keyset-paged."""
        lot = _visible_lot(lot_id)
        return _movement_page(
            args, facility_ids=facility_ids_for(db.session, api_user()), lot_id=lot.id
        )


@blp.route("/scan")
class Scan(MethodView):
    """Barcode parsing."""

    @roles(*ALL_ROLES)
    @write_endpoint
    @blp.arguments(ScanIn)
    @blp.response(200, ScanOut)
    def post(self, data):
        """Read a GS1-128 / GS1 DataMatrix string; a non-GS1 string is a plain lot number."""
        return service.parse_scan(db.session, data["scan"])


# --------------------------------------------------------------------------- movements


def _receipt_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Part, lot, expiry, serial, GTIN and eaches of a receipt, from typed fields and scan."""
    scan = service.parse_scan(db.session, data["scan"]) if "scan" in data else None
    if scan is not None and scan.gs1 and scan.part is None:
        raise InvalidInput(
            f"GTIN {scan.gtin} is not in the catalog." if scan.gtin else "The scan has no GTIN.",
            field="scan",
        )
    scanned_part = scan.part.id if scan and scan.part else None
    part_id = _agree(scanned_part, data.get("part_id"), "part_id")
    serial = _agree(scan.serial if scan else None, data.get("serial"), "serial")
    # A serialised unit is its own lot: its serial is its lot number.
    lot_number = _agree(
        scan.lot_number if scan else None, data.get("lot_number") or serial, "lot_number"
    )
    expiry = _agree(scan.expiry_date if scan else None, data.get("expiry_date"), "expiry_date")
    for name, value in (("part_id", part_id), ("lot_number", lot_number), ("expiry_date", expiry)):
        if value is None:
            raise InvalidInput(f"{name} is required (typed or scanned).", field=name)
    part = get_part(db.session, part_id)
    per_package = scan.units_per_package if scan and scan.units_per_package else None
    eaches = data.get("eaches") or data["packs"] * (per_package or part.units_per_pack)
    return {
        "part": part,
        "lot_number": _valid_lot_number(lot_number),
        "expiry_date": expiry,
        "serial": serial,
        "batch": scan.batch if scan and scan.serial else None,
        "gtin": scan.gtin if scan else None,
        "eaches": eaches,
    }


def _receipt_value(part: Part, eaches: int, unit_cost: int | None) -> int:
    """Value of a receipt: given cost per each, else the contract pack price pro rata."""
    if unit_cost is not None:
        return unit_cost * eaches
    price = price_in_effect(db.session, part.id, service.today())
    if price is None:
        raise InvalidInput(
            f"{part.part_number} has no contract price today; give unit_cost.", field="unit_cost"
        )
    return service.value_at_pack_price(price.unit_price_cents, part.units_per_pack, eaches)


@blp.route(f"{FACILITY}/receipts")
class Receipts(MethodView):
    """Receipts outside an order."""

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(ReceiptIn)
    @blp.response(201, MovementOut)
    def post(self, data, facility_id):
        """Receive opening balance, loan, donation or return stock (typed or scanned)."""
        facility = _facility(facility_id)
        fields = _receipt_fields(data)
        if fields["eaches"] > service.MAX_EACHES:
            raise InvalidInput(f"At most {service.MAX_EACHES} eaches per receipt.", field="packs")
        return service.receive(
            db.session,
            facility=facility,
            value_cents=_receipt_value(fields["part"], fields["eaches"], data.get("unit_cost")),
            actor=api_user(),
            reason=data["reason"],
            note=data.get("note"),
            **fields,
        )


def _scanned_lot(facility: Facility, scan: ScanResult, part_id: int | None) -> Lot:
    """The lot a scan names: GS1 gives part + lot; a plain lot number needs the part or must
    be unique among lots this facility holds."""
    if scan.gs1:
        if scan.part is None or scan.lot_number is None:
            raise InvalidInput("The scan must carry a catalog GTIN and a lot.", field="scan")
        _agree(scan.part.id, part_id, "part_id")
        candidates = [service.find_lot(db.session, part=scan.part, lot_number=scan.lot_number)]
    elif part_id is not None:
        part = get_part(db.session, part_id)
        candidates = [service.find_lot(db.session, part=part, lot_number=scan.lot_number)]
    else:
        candidates = list(
            db.session.scalars(
                select(Lot)
                .join(StockBalance, StockBalance.lot_id == Lot.id)
                .where(
                    StockBalance.facility_id == facility.id,
                    StockBalance.on_hand > 0,
                    Lot.lot_number == scan.lot_number,
                )
            )
        )
        if len(candidates) > 1:
            raise InvalidInput(
                f"Lot number {scan.lot_number} exists for several parts; give part_id.",
                field="part_id",
            )
    lot = candidates[0] if candidates else None
    if lot is None:
        raise NotFound(f"No lot {scan.lot_number} on file for that part.")
    if scan.expiry_date is not None and scan.expiry_date != lot.expiry_date:
        raise InvalidInput(
            f"The scan says expiry {scan.expiry_date}, the lot on file {lot.expiry_date}.",
            field="scan",
        )
    if scan.serial is not None:
        service.check_batch(lot, scan.batch)
    return lot


@blp.route(f"{FACILITY}/issues")
class Issues(MethodView):
    """Issues for use."""

    @roles(*STOCK_ISSUERS)
    @write_endpoint
    @blp.arguments(IssueIn)
    @blp.response(201, MovementOut)
    def post(self, data, facility_id):
        """Issue eaches of a lot (by id or scan); 409 insufficient-stock or lot-expired."""
        facility = _facility(facility_id)
        if "scan" in data:
            scan = service.parse_scan(db.session, data["scan"])
            lot = _scanned_lot(facility, scan, data.get("part_id"))
        else:
            lot = _lot(data)
        return service.issue(
            db.session,
            facility=facility,
            lot=lot,
            eaches=data["eaches"],
            actor=api_user(),
            note=data.get("note"),
        )


@blp.route(f"{FACILITY}/adjustments")
class Adjustments(MethodView):
    """Corrections."""

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(AdjustmentIn)
    @blp.response(201, MovementOut)
    def post(self, data, facility_id):
        """Adjust a balance up or down with a reason code."""
        facility = _facility(facility_id)
        return service.adjust(
            db.session,
            facility=facility,
            lot=_lot(data),
            eaches=data["eaches"],
            reason=data["reason"],
            actor=api_user(),
            note=data.get("note"),
            unit_cost_cents=data.get("unit_cost"),
        )


@blp.route(f"{FACILITY}/waste")
class Waste(MethodView):
    """Waste."""

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(WasteIn)
    @blp.response(201, MovementOut)
    def post(self, data, facility_id):
        """Waste expired, damaged, contaminated or recalled stock."""
        facility = _facility(facility_id)
        return service.waste(
            db.session,
            facility=facility,
            lot=_lot(data),
            eaches=data["eaches"],
            reason=data["reason"],
            actor=api_user(),
            note=data.get("note"),
        )


@blp.route(f"{FACILITY}/transfers")
class Transfers(MethodView):
    """Transfers between facilities."""

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(TransferIn)
    @blp.response(201, TransferOut)
    def post(self, data, facility_id):
        """Send stock to another of your facilities; out and in post together."""
        source = _facility(facility_id)
        destination = _facility(data["to_facility_id"])
        out, inbound = service.transfer(
            db.session,
            source=source,
            destination=destination,
            lot=_lot(data),
            eaches=data["eaches"],
            actor=api_user(),
            note=data.get("note"),
        )
        return {"out": out, "inbound": inbound}


@blp.route(f"{FACILITY}/counts")
class Counts(MethodView):
    """Physical counts."""

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(CountIn)
    @blp.response(201, CountOut)
    def post(self, data, facility_id):
        """Record a count; any difference is posted as a physical_count adjustment."""
        facility = _facility(facility_id)
        record, movement = service.count(
            db.session,
            facility=facility,
            lot=_lot(data),
            counted=data["counted"],
            actor=api_user(),
            note=data.get("note"),
        )
        return {"count": record, "movement": movement}


@blp.route("/movements/<int(max=2147483647):movement_id>/reverse")
class Reverse(MethodView):
    """Reversals."""

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(ReverseIn)
    @blp.response(201, MovementOut)
    def post(self, data, movement_id):
        """Reverse a movement once (both legs of a transfer; you must hold both facilities)."""
        movement = service.get_movement(db.session, movement_id)
        for leg in service.transfer_legs(db.session, movement):
            try:
                _facility(leg.facility_id)
            except NotFound:
                raise NotFound(f"No stock movement with id {movement_id}.") from None
        return service.reverse(
            db.session, movement=movement, actor=api_user(), reason=data["reason"]
        )
