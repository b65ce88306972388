"""Inventory API: balances, the ledger, stock movements, par levels, alerts and scanning."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import ALL_ROLES, STOCK_ISSUERS, STOCK_MOVERS
from supply_app.auth.service import facility_ids_for
from supply_app.catalog.service import get_part
from supply_app.errors import InvalidInput, NotFound
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_facility
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint
from supply_app.inventory import service
from supply_app.inventory.models import Lot
from supply_app.inventory.schemas import (
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

blp = ApiBlueprint("inventory", __name__, url_prefix="/api/v1", description="Inventory")

FACILITY = "/facilities/<int(max=2147483647):facility_id>"


def _facility(facility_id: int) -> Facility:
    """A facility the caller belongs to (404 otherwise, as if it did not exist)."""
    return get_facility(db.session, api_user(), facility_id)


def named_lot(data: dict[str, Any]) -> Lot:
    """The lot named by lot_id, checked against part_id when the client sent one.

    A lot none of the caller's facilities ever held is the 404 that reading it gives, before
    anything about it (its number, its part) can show in another error.
    """
    lot = _visible_lot(data["lot_id"])
    part_id = data.get("part_id")
    if part_id is not None and lot.part_id != part_id:
        raise InvalidInput(
            f"Lot {lot.lot_number} belongs to {lot.part.part_number}, not part {part_id}.",
            field="part_id",
        )
    return lot


def _visible_lot(lot_id: int) -> Lot:
    """A lot one of the caller's facilities has held (404 otherwise, as if absent)."""
    lot = service.get_lot(db.session, lot_id)
    if not service.held_by(db.session, lot, facility_ids_for(db.session, api_user())):
        raise NotFound(f"No lot with id {lot_id}.")
    return lot


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
        rows = service.part_totals(db.session, facility.id, facility.today())
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
            db.session,
            facility=facility,
            part=part,
            eaches=args["eaches"],
            on_date=facility.today(),
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
            "items": service.alerts(db.session, facility),
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
        holdings = service.holdings(db.session, lot.id, facility_ids_for(db.session, api_user()))
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


def _received(data: dict[str, Any]) -> tuple[service.ReceivedLot, int]:
    """The lot a receipt brings in (typed and scanned fields agreed) and its eaches.

    :raises InvalidInput: see inventory.received_lot; or more eaches than one movement holds.
    """
    scan = service.parse_scan(db.session, data["scan"]) if "scan" in data else None
    typed_part = get_part(db.session, data["part_id"]) if "part_id" in data else None
    received = service.received_lot(
        db.session,
        scan=scan,
        part=typed_part,
        lot_number=data.get("lot_number"),
        expiry_date=data.get("expiry_date"),
        serial=data.get("serial"),
    )
    per_pack = received.units_per_package or received.part.units_per_pack
    eaches = data.get("eaches") or data["packs"] * per_pack
    if eaches > service.MAX_EACHES:
        raise InvalidInput(f"At most {service.MAX_EACHES} eaches per receipt.", field="packs")
    return received, eaches


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
        received, eaches = _received(data)
        value = service.receipt_value(
            db.session,
            part=received.part,
            eaches=eaches,
            on_date=facility.today(),
            unit_cost_cents=data.get("unit_cost"),
        )
        return service.receive(
            db.session,
            facility=facility,
            eaches=eaches,
            value_cents=value,
            actor=api_user(),
            reason=data["reason"],
            note=data.get("note"),
            **received.lot_fields(),
        )


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
            lot = service.lot_for_scan(
                db.session,
                service.parse_scan(db.session, data["scan"]),
                facility=facility,
                part=get_part(db.session, data["part_id"]) if "part_id" in data else None,
            )
        else:
            lot = named_lot(data)
        return service.issue(
            db.session,
            facility=facility,
            lot=lot,
            eaches=data["eaches"],
            actor=api_user(),
            note=data.get("note"),
        )


def _on_named_lot(action: Callable[..., Any], facility_id: int, data: dict[str, Any], **fields):
    """Run a stock action on the lot the body names, at one of the caller's facilities."""
    return action(
        db.session,
        facility=_facility(facility_id),
        lot=named_lot(data),
        actor=api_user(),
        note=data.get("note"),
        **fields,
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
        return _on_named_lot(
            service.adjust,
            facility_id,
            data,
            eaches=data["eaches"],
            reason=data["reason"],
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
        return _on_named_lot(
            service.waste, facility_id, data, eaches=data["eaches"], reason=data["reason"]
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
            lot=named_lot(data),
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
        record, movement = _on_named_lot(service.count, facility_id, data, counted=data["counted"])
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
