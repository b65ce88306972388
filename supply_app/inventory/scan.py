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
    batch: str | None  # AI 10, the batch/lot
    expiry_date: date | None
    serial: str | None  # AI 21


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


HRI_ELEMENT = re.compile(r"\((\d{2,4})\)([^()]*)")


def _unreadable(detail: str) -> InvalidInput:
    return InvalidInput(f"The barcode cannot be read as written: {detail}", field="scan")


def hri_elements(text: str) -> list[tuple[str, str]]:
    """(AI, value) pairs of human-readable label text, exactly as written.

    Spaces around an element are layout (printed labels put them there); a space inside a
    value, an AI with no value, a bracket inside a value or text outside the elements
    would have to be dropped or guessed at to read the label, so they are refused.

    :raises InvalidInput: naming what cannot be read.
    """
    elements = []
    end = 0
    for match in HRI_ELEMENT.finditer(text):
        between = text[end : match.start()]
        if between.strip():
            raise _unreadable(f"{between.strip()!r} is not part of any element.")
        ai, value = match.group(1), match.group(2).strip()
        if not value:
            raise _unreadable(f"AI ({ai}) has no value.")
        if any(c.isspace() for c in value):
            raise _unreadable(f"AI ({ai}) reads {value!r}, and GS1 values have no spaces.")
        elements.append((ai, value))
        end = match.end()
    if text[end:].strip():
        raise _unreadable(f"{text[end:].strip()!r} is not part of any element.")
    return elements


def read_gs1(raw: str) -> Gs1Fields | None:
    """Parse raw as GS1, or return None when it is plain text.

    Read strictly: every AI at most once, and every value exactly as the label carries it.

    :raises InvalidInput: the string claims to be GS1 but cannot be read as written, names
        an AI twice, or its GTIN check digit is wrong.
    """
    payload = gs1_payload(raw)
    if payload is None:
        return None
    data, is_hri = payload
    if FNC1 * 2 in data:  # a separator with nothing before it: an element went missing
        raise _unreadable("two field separators follow each other, so an element is empty.")
    written = hri_elements(data) if is_hri else None
    try:
        message = GS1Message.parse_hri(data) if is_hri else GS1Message.parse(data)
    except ParseError as exc:
        raise InvalidInput(
            f"The barcode looks like GS1 but cannot be read: {exc}", field="scan"
        ) from exc
    elements = [(e.ai.ai, e) for e in message.element_strings]
    if written is not None and [(ai, e.value) for ai, e in elements] != written:
        raise _unreadable("its elements do not read back as the text gives them.")
    found: dict[str, object] = {}
    for ai, element in elements:
        if ai in found:
            raise InvalidInput(
                f"The barcode carries AI ({ai}) more than once; a label names each AI once, "
                "so it is not read. Check the label and type the fields instead.",
                field="scan",
            )
        found[ai] = element.date if ai == "17" else element.value
    gtin = found.get("01")
    if gtin is not None and not _valid_gtin(str(gtin)):
        raise InvalidInput(f"GTIN {gtin} in the barcode has a wrong check digit.", field="scan")
    expiry = found.get("17")
    return Gs1Fields(
        gtin=str(gtin) if gtin is not None else None,
        batch=str(found["10"]) if "10" in found else None,
        expiry_date=expiry if isinstance(expiry, date) else None,
        serial=str(found["21"]) if "21" in found else None,
    )
