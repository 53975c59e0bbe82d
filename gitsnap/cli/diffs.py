"""Rendering org-state differences (snapshot diff, org diff, a dry run's changes) for a human.

Like ``git diff --stat`` plus field lines: a summary line per collection, then each entity and its
changed fields, at most ``ENTITIES_SHOWN`` per collection (``--json`` and ``--patch`` have everything).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .base import short

if TYPE_CHECKING:
    from ..models import CollectionDiff, DiffSide, FieldChange, RefChange, SnapshotDiff

VALUE_WIDTH = 60
ENTITIES_SHOWN = 20


def render_diff(diff: SnapshotDiff, header: bool = True) -> str:
    """The summary lines, then the entities and fields; 'No differences' when there are none."""
    lines = [f"from {_side(diff.from_)}", f"  to {_side(diff.to)}"] if header else []
    summary = [f"  org.yaml: {len(diff.org)} field(s) changed"] if diff.org else []
    for name, collection in diff.collections.items():
        if not collection.empty:
            summary.append(f"  {name}: {len(collection.added)} added, {len(collection.removed)} removed, "
                           f"{len(collection.changed)} changed")
    if diff.other_files:
        summary.append(f"  other files: {len(diff.other_files)} changed")
    if not summary:
        return "\n".join([*lines, "No differences"])
    lines += summary
    if diff.org:
        lines += ["", "org.yaml", *(_field(change) for change in diff.org)]
    for name, collection in diff.collections.items():
        if not collection.empty:
            lines += ["", name, *_collection_lines(collection)]
    if diff.other_files:
        lines += ["", "other files", *(f"  {path}" for path in diff.other_files)]
    return "\n".join(lines)


def render_changes(changes: list[RefChange]) -> str:
    """What a dry run would move: each ref old -> new, and a live branch's entity diff."""
    if not changes:
        return "and move no ref."
    lines = ["and move:"]
    for change in changes:
        old, new = short(change.old) if change.old else "(new)", short(change.new) if change.new else "(deleted)"
        lines.append(f"  {change.ref}  {old} -> {new}")
        if change.diff is not None:
            lines += ["    " + line if line else "" for line in render_diff(change.diff, header=False).splitlines()]
    return "\n".join(lines)


def _side(side: DiffSide) -> str:
    if side.kind == "snapshot":
        return f"snapshot {side.snapshot_id} {side.name!r} ({short(side.commit)})"
    if side.kind == "org":
        return f"org {side.spec} live ({short(side.commit)})"
    if side.kind == "source":
        return f"{side.spec} (what the platform exports now)"
    return f"{side.spec} ({short(side.commit)})" if side.commit else side.spec


def _collection_lines(collection: CollectionDiff) -> list[str]:
    entries = [(f"  + {e.id}  {e.name or ''}".rstrip(), []) for e in collection.added]
    entries += [(f"  - {e.id}  {e.name or ''}".rstrip(), []) for e in collection.removed]
    entries += [(f"  ~ {e.id}  {e.name or ''}".rstrip(), [f"  {_field(change)}" for change in e.fields])
                for e in collection.changed]
    lines = [line for head, fields in entries[:ENTITIES_SHOWN] for line in (head, *fields)]
    if len(entries) > ENTITIES_SHOWN:
        lines.append(f"  ... and {len(entries) - ENTITIES_SHOWN} more (--json or --patch shows every one)")
    return lines


def _field(change: FieldChange) -> str:
    if change.change == "added":
        return f"    + {change.path}: {_value(change.new)}"
    if change.change == "removed":
        return f"    - {change.path}: {_value(change.old)}"
    if isinstance(change.old, str) and isinstance(change.new, str) and ("\n" in change.old or "\n" in change.new):
        return (f"    ~ {change.path}: text changed ({len(change.old.splitlines())} -> "
                f"{len(change.new.splitlines())} lines; --patch shows them)")
    return f"    ~ {change.path}: {_value(change.old)} -> {_value(change.new)}"


def _value(value: Any) -> str:
    return clip(json.dumps(value, ensure_ascii=False, default=str), VALUE_WIDTH)


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
