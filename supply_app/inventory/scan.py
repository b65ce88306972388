"""GS1 barcode reading (GS1-128, GS1 DataMatrix, HRI text) that never misreads plain text.

A string is read as GS1 only when it says so: a GS1 symbology identifier (]C1, ]d2, ]Q3,
]e0, ]J1), a leading FNC1 (GS, 0x1D), human-readable brackets "(01)...", or an AI 01 GTIN
with a valid check digit at the very start. Anything else is plain text, so a lot number
such as "10D9T" is never split into AI 10 + "D9T" (the OCA/wms #1248 failure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from biip import ParseError
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin

from supply_app.errors import InvalidInput

GS1_SYMBOLOGY_IDS = ("]C1", "]d2", "]Q3", "]e0", "]J1")
FNC1 = "\x1d"
UNPREFIXED_GTIN = re.compile(r"01(\d{14})")


@dataclass(frozen=True)
class Gs1Fields:
    """The application identifiers inventory cares about, read from one barcode."""

    gtin: str | None
    lot_number: str | None
    expiry_date: date | None
    serial: str | None


def _valid_gtin(digits: str) -> bool:
    try:
        Gtin.parse(digits)
    except ParseError:
        return False
    return True


def gs1_payload(raw: str) -> tuple[str, bool] | None:
    """The element-string data to parse and whether it is HRI text, or None when not GS1."""
    for prefix in GS1_SYMBOLOGY_IDS:
        if raw.startswith(prefix):
            return raw[len(prefix) :].lstrip(FNC1), False
    if raw.startswith(FNC1):
        return raw.lstrip(FNC1), False
    if raw.startswith("(") and re.match(r"\(\d{2,4}\)", raw):
        return raw, True
    match = UNPREFIXED_GTIN.match(raw)
    if match and _valid_gtin(match.group(1)):
        return raw, False
    return None


def read_gs1(raw: str) -> Gs1Fields | None:
    """Parse raw as GS1, or return None when it is plain text.

    :raises InvalidInput: the string claims to be GS1 but cannot be read, or its GTIN
        check digit is wrong.
    """
    payload = gs1_payload(raw)
    if payload is None:
        return None
    data, is_hri = payload
    try:
        message = GS1Message.parse_hri(data) if is_hri else GS1Message.parse(data)
    except ParseError as exc:
        raise InvalidInput(
            f"The barcode looks like GS1 but cannot be read: {exc}", field="scan"
        ) from exc
    found: dict[str, object] = {}
    for element in message.element_strings:
        found[element.ai.ai] = element.date if element.ai.ai == "17" else element.value
    gtin = found.get("01")
    if gtin is not None and not _valid_gtin(str(gtin)):
        raise InvalidInput(f"GTIN {gtin} in the barcode has a wrong check digit.", field="scan")
    expiry = found.get("17")
    return Gs1Fields(
        gtin=str(gtin) if gtin is not None else None,
        lot_number=str(found["10"]) if "10" in found else None,
        expiry_date=expiry if isinstance(expiry, date) else None,
        serial=str(found["21"]) if "21" in found else None,
    )
