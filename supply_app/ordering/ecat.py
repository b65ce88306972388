"""The ECAT order-entry export of an order: header fields, one row per line, the total."""

from __future__ import annotations

import csv
import io
from typing import Any

from supply_app.cells import csv_safe
from supply_app.money import format_cents
from supply_app.ordering.models import PurchaseOrder
from supply_app.ordering.service import require_state

ECAT_COLUMNS = (
    "contract_number",
    "document_number",
    "ship_to_dodaac",
    "fund_code",
    "priority",
    "required_delivery_date",
    "line_number",
    "part_number",
    "description",
    "unit_of_issue",
    "units_per_pack",
    "quantity",
    "unit_price",
    "extended_price",
)


def ecat_export(order: PurchaseOrder) -> dict[str, Any]:
    """The order as ECAT order entry needs it: header, one row per line, and the total.

    :raises InvalidTransition: drafts (no prices or document number yet) and cancelled
        orders are not exported.
    """
    require_state(order, "export")
    header = {
        "contract_number": order.contract_number,
        "document_number": order.document_number,
        "ship_to_dodaac": order.ship_to_dodaac,
        "fund_code": order.fund_code,
        "priority": f"{order.priority:02d}",
        "required_delivery_date": order.required_delivery_date.isoformat(),
    }
    rows = [
        {
            **header,
            "line_number": number,
            "part_number": line.part.part_number,
            "description": line.part.description,
            "unit_of_issue": line.part.unit_of_issue,
            "units_per_pack": line.units_per_pack,
            "quantity": line.packs,
            "unit_price": format_cents(line.unit_price_cents),  # type: ignore[arg-type]
            "extended_price": format_cents(line.extended_cents),  # type: ignore[arg-type]
        }
        for number, line in enumerate(order.lines, start=1)
    ]
    return {**header, "lines": rows, "total": format_cents(order.total_cents or 0)}


def ecat_csv(order: PurchaseOrder) -> str:
    """The ECAT export as CSV text: a header row, then one row per order line.

    It starts with a UTF-8 byte-order mark, so Excel shows the descriptions' "iovera°" as
    written (without one it guesses a Windows code page and shows "ioveraÂ°").
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=ECAT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in ecat_export(order)["lines"]:
        writer.writerow({key: csv_safe(value) for key, value in row.items()})
    return out.getvalue()
