"""What people may type about users and tokens."""

from __future__ import annotations

from supply_app.rules import Choice, Identifier, Text, WholeNumber

USERNAME = Identifier(
    "username",
    r"[A-Za-z0-9][A-Za-z0-9._@-]{2,79}",
    80,
    min_length=3,
    hint="3 to 80 letters, digits and . _ @ -, starting with a letter or digit",
)
MIN_PASSWORD_LENGTH = 10
#: Any characters but control characters, kept exactly as typed (never trimmed).
PASSWORD = Text("password", 200, min_length=MIN_PASSWORD_LENGTH, trim=False)
DISPLAY_NAME = Text("display name", 120)
#: What a sign-in form takes: any name and password shaped text (a wrong one is a wrong
#: guess, answered like any other), never control characters.
SIGN_IN_NAME = Text("username", 80)
SIGN_IN_PASSWORD = Text("password", 200, trim=False)
ROLE = Choice(
    "role",
    (
        ("viewer", "Viewer: reads stock, orders and cases"),
        ("clinician", "Clinician: records cases"),
        ("materials", "Materials manager: stock and par levels"),
        ("purchaser", "Purchaser: orders"),
        ("finance", "Finance: margin reports and fee schedules"),
        ("admin", "Administrator: everything, and users"),
    ),
)
TOKEN_NAME = Text("token name", 80)
#: The first characters of a token, as shown when it was issued (sat_ and 8 more).
TOKEN_PREFIX_SHOWN = Identifier(
    "token prefix", r"sat_[A-Za-z0-9_-]{8}", 12, min_length=12, hint="sat_ and 8 more characters"
)
TOKEN_DAYS = WholeNumber("days", 1, 366)
