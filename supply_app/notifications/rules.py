"""What people may type about notifications: an email address."""

from __future__ import annotations

from supply_app.rules import Choice, Identifier

#: A plain ASCII address (local part and a dotted domain); no display names, no comments,
#: no line breaks, so nothing typed can add a header to a message.
EMAIL = Identifier(
    "email address",
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+",
    254,
    hint="an address such as jane.doe@example.mil",
)
NOTICE_KIND = Choice("notice kind", (("digest", "Daily digest"), ("recall", "Recall notice")))
NOTICE_STATUS = Choice(
    "notice status",
    (
        ("pending", "Waiting to be sent"),
        ("claimed", "Being sent (or a run stopped before confirming it)"),
        ("sent", "Sent"),
        ("failed", "Failed; sent again by the next run"),
    ),
)
