"""What people may ask the reports for: groupings and export formats."""

from __future__ import annotations

from supply_app.rules import Choice

GROUPING = Choice(
    "grouping",
    (
        ("case", "Case"),
        ("facility", "Facility"),
        ("month", "Month of service"),
        ("site_of_service", "Site of service"),
        ("code_mix", "Code mix"),
        ("payer", "Payer"),
    ),
)
EXPORT_FORMAT = Choice("format", (("csv", "CSV"), ("xlsx", "Excel (XLSX)")))
