"""Upgrading old ``.loom`` files, one version step at a time.

When the format changes, bump ``CURRENT_VERSION`` and register ``migrate_vN_to_vN+1`` in
``MIGRATIONS``: a pure function from the old file's data to the next version's, which may
raise ValueError with a message for the user. Keep a golden file of every version in
``tests/data/`` so each step stays tested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CURRENT_VERSION = 4

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def migrate_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds blocks (an optional ``blocks`` section, and node types naming a block);
    every version-1 file is a version-2 file without blocks."""
    if "blocks" in data:
        raise ValueError("a version-1 file cannot hold blocks; was its version changed by hand?")
    return data


def migrate_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 adds how a node learns (``lr_factor``, ``fresh`` on the model's nodes); every
    version-2 file is a version-3 file whose nodes all learn at the run's rate."""
    nodes = data.get("nodes")
    for item in nodes if isinstance(nodes, list) else []:
        if isinstance(item, dict) and ("lr_factor" in item or "fresh" in item):
            raise ValueError(f"a version-2 file cannot say how a node learns ({item.get('id')!r}); "
                             "was its version changed by hand?")
    return data


def migrate_v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 4 adds where an imported node came from (``origin``, its module's path in the
    original model); every version-3 file is a version-4 file drawn in NetLoom."""
    blocks = data.get("blocks")
    bodies = [data, *(b for b in blocks.values() if isinstance(b, dict))] if isinstance(blocks, dict) else [data]
    for body in bodies:
        nodes = body.get("nodes")
        for item in nodes if isinstance(nodes, list) else []:
            if isinstance(item, dict) and "origin" in item:
                raise ValueError(f"a version-3 file cannot say where a node was imported from ({item.get('id')!r}); "
                                 "was its version changed by hand?")
    return data


# version N -> function turning a version-N file into a version-(N+1) file
MIGRATIONS: dict[int, Migration] = {1: migrate_v1_to_v2, 2: migrate_v2_to_v3, 3: migrate_v3_to_v4}


def migrate(data: dict[str, Any], version: int, target: int = CURRENT_VERSION) -> dict[str, Any]:
    """Apply the chain of migrations from ``version`` up to ``target``."""
    while version < target:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ValueError(f"no upgrade from version {version} to {version + 1} is known")
        data = step(dict(data))
        version += 1
        data["format_version"] = version
    return data
