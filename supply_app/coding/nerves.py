"""The nerves a code can name, read from data/nerves.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType


def _load() -> tuple[Mapping[str, tuple[str, ...]], Mapping[str, str]]:
    raw = json.loads((resources.files(__package__) / "data" / "nerves.json").read_text("utf-8"))
    sets = {name: tuple(n["slug"] for n in s["nerves"]) for name, s in raw["sets"].items()}
    labels = {n["slug"]: n["label"] for s in raw["sets"].values() for n in s["nerves"]}
    return MappingProxyType(sets), MappingProxyType(labels)


NERVE_SETS, NERVE_LABELS = _load()
ANTERIOR_KNEE_NERVES = NERVE_SETS["anterior_knee"]
GENICULAR_NERVES = NERVE_SETS["genicular"]
