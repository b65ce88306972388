"""Messages in the words people use: no rule citations, no API field names.

The services and the coding module write for every door; the API keeps their exact text
(field names and citations help a programmer). The UI passes them through `plain` first.
"""

from __future__ import annotations

import re

#: A citation the coding module appends, e.g. "[confirmed: seed]" or "[uncertain: mai]".
CITATION = re.compile(
    r"\s*\[(?:confirmed|derived|uncertain|not_found|estimate)\b[^\]]*\]|\s*\[[a-z][a-z0-9_]*\]"
)
#: A line of a list in an API body, e.g. "supplies[1]" or "lines.0".
LIST_ITEM = re.compile(r"\b(supplies|procedures|lines)(?:\[(\d+)\]|\.(\d+))\.?")
LIST_WORDS = {"supplies": "supply line", "procedures": "procedure line", "lines": "line"}
#: snake_case names (part_id, expiry_date, to_facility_id) as words.
SNAKE = re.compile(r"\b([a-z]+(?:_[a-z]+)+)\b")


def _list_item(match: re.Match[str]) -> str:
    number = int(match.group(2) or match.group(3)) + 1
    return f"{LIST_WORDS[match.group(1)]} {number} "


def _words(match: re.Match[str]) -> str:
    name = match.group(1)
    return name.removesuffix("_id").replace("_", " ")


def plain(text: str) -> str:
    """The message without citations, list indexes or field names."""
    text = CITATION.sub("", str(text))
    text = LIST_ITEM.sub(_list_item, text)
    return SNAKE.sub(_words, text).replace("  ", " ").strip()
