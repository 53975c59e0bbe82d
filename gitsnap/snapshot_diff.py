"""The difference between two org states: per collection the entities added, removed and changed,
and for a changed entity the fields that differ (``settings.delay_minutes``, ``stages[2].name``).

Each side is a snapshot id, an org id (its live state) or any git revision. The trees are compared
by id, so equal subtrees are never read and only the blobs that differ are loaded: the cost grows
with what changed, not with the size of the org.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any

from . import yamlio
from .errors import NotFound, RepositoryError
from .gitstore import GitStore
from .layout import CHATS, CONFIG_COLLECTIONS, ORG, STUBS, place_of
from .models import (
    CollectionDiff,
    DiffSide,
    EntityChange,
    EntityRef,
    FieldChange,
    SnapshotDiff,
    is_identifier,
)
from .orgs import org_ref
from .snapshots import SNAPSHOT_ID, locate, read_snapshot

DIFF_COLLECTIONS = (*CONFIG_COLLECTIONS, "users", STUBS)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")

Blobs = Callable[[str | None], Any]


def resolve_side(store: GitStore, spec: str) -> DiffSide:
    """A snapshot id first, then an org id (its live state), then any git revision."""
    if SNAPSHOT_ID.fullmatch(spec.lower()) and (located := locate(store, spec.lower())):
        snapshot = read_snapshot(store, located)
        return DiffSide(spec=spec, kind="snapshot", commit=snapshot.commit, snapshot_id=snapshot.id, name=snapshot.name)
    if is_identifier(spec) and (tip := store.refs.read(org_ref(spec))):
        return DiffSide(spec=spec, kind="org", commit=tip)
    commit = store.resolve_commit(spec)
    if commit is None:
        raise NotFound(f"{spec!r} is neither a snapshot id, an org nor a git revision in {store.path} "
                       f"(gitsnap snapshot list, gitsnap org list)")
    return DiffSide(spec=spec, kind="revision", commit=commit)


def diff_states(store: GitStore, a: str, b: str, patch: bool = False) -> SnapshotDiff:
    """What changed from ``a`` to ``b``, entity by entity; with ``patch`` also a unified YAML diff."""
    side_a, side_b = resolve_side(store, a), resolve_side(store, b)
    trees = (store.objects.read_commit(side.commit).tree for side in (side_a, side_b))
    return diff_trees(store, side_a, next(trees), side_b, next(trees), patch)


def diff_trees(store: GitStore, side_a: DiffSide, tree_a: str | None, side_b: DiffSide, tree_b: str | None,
               patch: bool = False) -> SnapshotDiff:
    """The entity/field differences between two org trees (None: no tree yet); only differing blobs are read."""
    files = list(store.trees.diff(tree_a, tree_b))
    raw: dict[str, bytes] = {}

    def read(sha: str | None) -> bytes | None:
        if sha is None:
            return None
        if sha not in raw:
            raw[sha] = store.objects.read_blob(sha)
        return raw[sha]

    def load(sha: str | None) -> Any:
        data = read(sha)
        try:
            return None if data is None else yamlio.load(data)
        except yamlio.UNREADABLE as error:
            raise RepositoryError(f"blob {sha} is not YAML gitsnap can read ({str(error).splitlines()[0]}); "
                                  "gitsnap verify names its file") from error

    org: list[FieldChange] = []
    collections = {name: CollectionDiff() for name in DIFF_COLLECTIONS}
    stubs: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    other: list[str] = []
    for path, old, new in files:
        place = place_of(path)
        if place is None:
            other.append(path)
        elif place.collection == ORG:
            org = field_changes(load(old), load(new))
        elif place.collection == STUBS:
            stubs.setdefault(place.key, {})[_join(CHATS, place.chat) if place.chat else ""] = (old, new)
        else:
            _entity(collections[place.collection], place.key, load(old), load(new))
    for stubref, changed in stubs.items():
        _stub(collections[STUBS], stubref, changed, load)
    text = unified_patch(files, read) if patch else None
    return SnapshotDiff(from_=side_a, to=side_b, org=org, collections=collections, other_files=other, patch=text)


def _entity(diff: CollectionDiff, entity_id: str, old: Any, new: Any) -> None:
    if old is None:
        diff.added.append(EntityRef(id=entity_id, name=_name(new)))
    elif new is None:
        diff.removed.append(EntityRef(id=entity_id, name=_name(old)))
    else:
        diff.changed.append(EntityChange(id=entity_id, name=_name(new) or _name(old), fields=field_changes(old, new)))


def _name(data: Any) -> str | None:
    """What people call an entity: its name, or a prompt's title."""
    if isinstance(data, dict):
        for key in ("name", "title"):
            if isinstance(data.get(key), str):
                return data[key]
    return None


def _stub(diff: CollectionDiff, stubref: str, changed: dict[str, tuple[str | None, str | None]],
          load: Callable[[str | None], Any]) -> None:
    """A stub is added or removed with its stub.yaml; otherwise its file changes are field changes."""
    old, new = changed.get("", (True, True))
    if old is None:
        diff.added.append(EntityRef(id=stubref))
        return
    if new is None:
        diff.removed.append(EntityRef(id=stubref))
        return
    fields: list[FieldChange] = []
    for prefix, (before, after) in sorted(changed.items()):
        if before is None:
            fields.append(FieldChange(path=prefix, change="added", new=load(after)))
        elif after is None:
            fields.append(FieldChange(path=prefix, change="removed", old=load(before)))
        else:
            fields += field_changes(load(before), load(after), prefix)
    diff.changed.append(EntityChange(id=stubref, fields=fields))


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """The differences between two loaded documents, as dotted paths (list items by index)."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in [*old, *(key for key in new if key not in old)]:
            where = _join(path, key)
            if key not in new:
                changes.append(FieldChange(path=where, change="removed", old=old[key]))
            elif key not in old:
                changes.append(FieldChange(path=where, change="added", new=new[key]))
            else:
                changes += field_changes(old[key], new[key], where)
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for index in range(max(len(old), len(new))):
            where = f"{path}[{index}]"
            if index >= len(new):
                changes.append(FieldChange(path=where, change="removed", old=old[index]))
            elif index >= len(old):
                changes.append(FieldChange(path=where, change="added", new=new[index]))
            else:
                changes += field_changes(old[index], new[index], where)
        return changes
    if type(old) is type(new) and old == new:  # 1 and True are equal in Python, not in YAML
        return []
    return [FieldChange(path=path, change="changed", old=old, new=new)]


def _join(path: str, key: Any) -> str:
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


# --- the unified patch -------------------------------------------------------------------------------


def unified_patch(files: list[tuple[str, str | None, str | None]], read: Callable[[str | None], bytes | None]) -> str:
    """The changed files as ``git diff`` shows them (git apply takes it)."""
    out: list[str] = []
    for path, old, new in files:
        before, after = read(old), read(new)
        out.append(f"diff --git a/{path} b/{path}\n")
        if old is None:
            out.append(f"new file mode 100644\nindex 0000000..{new[:7]}\n")
        elif new is None:
            out.append(f"deleted file mode 100644\nindex {old[:7]}..0000000\n")
        else:
            out.append(f"index {old[:7]}..{new[:7]} 100644\n")
        if b"\0" in (before or b"") or b"\0" in (after or b""):
            out.append(f"Binary files {_label('a', path, old)} and {_label('b', path, new)} differ\n")
            continue
        lines = difflib.unified_diff(_lines(before), _lines(after), _label("a", path, old), _label("b", path, new))
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _label(side: str, path: str, sha: str | None) -> str:
    return f"{side}/{path}" if sha else "/dev/null"


def _lines(data: bytes | None) -> list[str]:
    """Lines split at newlines only, as git splits them (str.splitlines also splits at \\f, \\u2028...)."""
    if not data:
        return []
    lines = data.decode("utf-8", "replace").split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
