"""The nerves a code can name, read from data/nerves.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType


def _load() -> tuple[Mapping[str, tuple[str, ...]], Mapping[str, str]]:
    raw = json.loads((resources.files(__package__) / "data" / "nerves.json").read_text("utf-8"))
    own = {name: s for name, s in raw["sets"].items() if "nerves" in s}
    sets = {name: tuple(n["slug"] for n in s["nerves"]) for name, s in own.items()}
    for name, s in raw["sets"].items():  # a set made of other sets, in their order
        if "includes" in s:
            sets[name] = tuple(slug for part in s["includes"] for slug in sets[part])
    labels = {n["slug"]: n["label"] for s in own.values() for n in s["nerves"]}
    return MappingProxyType(sets), MappingProxyType(labels)


NERVE_SETS, NERVE_LABELS = _load()
ANTERIOR_KNEE_NERVES = NERVE_SETS["anterior_knee"]
GENICULAR_NERVES = NERVE_SETS["genicular"]
