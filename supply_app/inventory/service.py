"""Inventory's operations in one import path: `from supply_app.inventory import service`.

Each job lives in its own module; this module only gathers them for callers:

* valuation   what stock is worth (moving average, pro-rata pack prices, receipt value)
* ledger      balances and their ledger rows: locks, conditional decrements, verify
* lots        lots, scans and what they name, the received lot of every receiving door
* movements   receipts, issues, waste and transfers
* corrections adjustments, counts and reversals
* queries     balances, totals, FEFO picks, burn rates, ledger pages
* par_levels  par levels and alerts
"""

from __future__ import annotations

from supply_app.inventory.corrections import adjust, count, get_movement, reverse, transfer_legs
from supply_app.inventory.errors import InsufficientStock, LotExpired
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
    "InsufficientStock",
    "LotExpired",
    "ReceivedLot",
    "ScanResult",
    "adjust",
    "alerts",
    "balances_query",
    "check_batch",
    "count",
    "find_lot",
    "get_lot",
    "get_movement",
    "half_up_div",
    "held_by",
    "held_lot_named",
    "holdings",
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
    "receipt_value",
    "receive",
    "received_lot",
    "reverse",
    "reversed_ids",
    "set_par_levels",
    "share_of_value",
    "transfer",
    "transfer_legs",
    "value_at_pack_price",
    "verify",
    "waste",
]
