"""Inventory's operations in one import path: `from supply_app.inventory import service`.

Each job lives in its own module; this module only gathers them for callers:

* valuation   what stock is worth (moving average, pro-rata pack prices, receipt value)
* ledger      balances and their ledger rows: locks, conditional decrements, verify
* lots        lots, scans and what they name, the received lot of every receiving door
* movements   receipts, issues, waste and transfers
* corrections adjustments, counts and reversals
* queries     balances, totals, FEFO picks, burn rates, ledger pages
* par_levels  par levels and alerts
* holds       lots on hold under a recall (asked by the ledger before every change)
* recalls     recall notices: place, add lots, holders and their dispositions, release, close
* returns     returns to the vendor under an RGA, and the credit they are owed
"""

from __future__ import annotations

from supply_app.inventory.corrections import (
    adjust,
    count,
    get_movement,
    is_order_receipt,
    reverse,
    reversed_by,
    transfer_legs,
)
from supply_app.inventory.errors import InsufficientStock, LotExpired, LotOnHold, RgaExpired
from supply_app.inventory.holds import holds_on
from supply_app.inventory.ledger import Discrepancy, verify
from supply_app.inventory.lots import (
    ReceivedLot,
    ScanResult,
    check_batch,
    find_lot,
    get_lot,
    held_by,
    held_lot_named,
    load_lots,
    lot_for_scan,
    parse_scan,
    received_lot,
)
from supply_app.inventory.movements import issue, issue_many, receive, transfer, waste
from supply_app.inventory.par_levels import alerts, par_levels, set_par_levels
from supply_app.inventory.queries import (
    balances_query,
    holdings,
    issued_eaches_by_part,
    ledger_page,
    on_hand,
    on_hand_by_part,
    part_totals,
    pick_fefo,
    reversed_ids,
)
from supply_app.inventory.recalls import (
    Holder,
    add_lots,
    close_recall,
    get_recall,
    holders,
    holding_facility_ids,
    place_recall,
    recalled_lots,
    recalls_query,
    release_recall,
)
from supply_app.inventory.returns import (
    check_rga,
    credit_expected_cents,
    get_return,
    record_credit,
    return_to_vendor,
    returns_query,
)
from supply_app.inventory.rules import MAX_EACHES
from supply_app.inventory.valuation import (
    half_up_div,
    receipt_value,
    share_of_value,
    value_at_pack_price,
)

__all__ = [
    "MAX_EACHES",
    "Discrepancy",
    "Holder",
    "InsufficientStock",
    "LotExpired",
    "LotOnHold",
    "ReceivedLot",
    "RgaExpired",
    "ScanResult",
    "add_lots",
    "adjust",
    "alerts",
    "balances_query",
    "check_batch",
    "check_rga",
    "close_recall",
    "count",
    "credit_expected_cents",
    "find_lot",
    "get_lot",
    "get_movement",
    "get_recall",
    "get_return",
    "half_up_div",
    "held_by",
    "held_lot_named",
    "holders",
    "holding_facility_ids",
    "holdings",
    "holds_on",
    "is_order_receipt",
    "issue",
    "issue_many",
    "issued_eaches_by_part",
    "ledger_page",
    "load_lots",
    "lot_for_scan",
    "on_hand",
    "on_hand_by_part",
    "par_levels",
    "parse_scan",
    "part_totals",
    "pick_fefo",
    "place_recall",
    "recalled_lots",
    "recalls_query",
    "receipt_value",
    "receive",
    "received_lot",
    "record_credit",
    "release_recall",
    "return_to_vendor",
    "returns_query",
    "reverse",
    "reversed_by",
    "reversed_ids",
    "set_par_levels",
    "share_of_value",
    "transfer",
    "transfer_legs",
    "value_at_pack_price",
    "verify",
    "waste",
]
