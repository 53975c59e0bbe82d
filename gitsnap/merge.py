"""Three-way merge of org configuration: the engine of ``gitsnap snapshot upgrade`` (and of ``pull --merge``).

A pure library: documents and handles in, documents and handles out; no git, no refs, no I/O. (It is
kept whole past the usual size: values, lists, entities and configs are one recursion with one
set of rules, and the conflict records it returns are its own contract.)
*base* is the snapshot an org was applied from, *ours* the org's live config (the tenant's
customisations), *theirs* the newer snapshot. The rules, from one value up:

Values (``merge_values``)
    Equal on both sides: taken once. Equal to base on one side: the other side's value. Changed on
    both: two mappings merge per key, recursively (when base is a mapping too, or absent); a list
    merges per id (below); anything else is a conflict at that path. Equality is JSON's: ``1``,
    ``1.0``, ``True`` and ``"1"`` all differ. A key a side lacks is ``ABSENT``, which is not null:
    a delete against a change is a conflict.
    When base is absent and both sides added different values (two mappings, two id lists), there is
    no base to say who changed what: what both hold equally is taken, and every other difference,
    a key or item only one side has included, is a conflict whose base is absent.

Lists
    A list is one value, unless every item of the base, ours and theirs lists is an object with a
    string ``id`` and no id appears twice in a list: then it merges per id like a collection (item
    paths ``stages[id="s2"].name``). Order, decided per pair of items in the result: the order both
    sides give them; else the order of the one side that holds both; where the sides disagree, the
    side that changed the order from base. A disagreement base cannot settle (it lacks an item), or
    orders that contradict each other, among the items any answer to a conflict could keep, make the
    whole list one value (a conflict at its path), so answers never turn up new conflicts. Items
    nothing orders (added on different sides at one place) go run by run: after an item comes the
    item that follows it on a side, else the item earliest in its side's list, then the smaller id.
    So the order never depends on which side is ours.

Entities (``merge_collection``)
    Each collection is a mapping id -> document, merged as one mapping: added on one side only:
    taken; on both identically: once; on both differently: merged without a base (above). Deleted
    on one side, unchanged on the other: deleted; changed on the other: a conflict with field ``""``.

Conflicts
    ``MergeConflict`` records ``{collection, id, field, path, base, ours, theirs}``; ``field`` is the
    path inside the entity as ``snapshot_diff`` writes it (``settings.delay_minutes``,
    ``labels["a b"]``), ``""`` for the whole entity. A side's absent value is ``ABSENT`` in Python and
    an omitted key in JSON (``null`` is a value). An unresolved conflict leaves the base value in the
    merged document (absent when base is absent): the result is only written when no conflict remains.

Resolving
    ``resolve`` maps a path to ``"ours"``, ``"theirs"`` or ``"base"``: ``<collection>/<id>/<field>``
    answers the conflict at that field, ``<collection>/<id>`` answers every conflict of that entity
    (the whole-entity one, or all its fields); an exact field path wins. A conflict's ``path`` is
    the exact key, so a script answers ``{c["path"]: "theirs" for c in conflicts}``. ``strategy``
    answers every conflict no path answered. A path that matches no conflict raises ``BadResolution``.
    Answered conflicts are reported in ``resolved`` with their ``resolution``.

Handles (``merge_config``)
    Each side gives per collection id -> handle (the blob id of the entity's canonical file) and a
    ``load(handle)``. Handles decide first: only an entity whose three handles all differ is
    loaded and merged, so the cost follows what changed on both sides, not the size of the org.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from typing import Any, Literal

from .errors import InvalidInput
from .models import Result, result

Choice = Literal["ours", "theirs", "base"]
CHOICES = ("ours", "theirs", "base")
STRATEGIES = ("ours", "theirs")
Handle = Hashable  # a blob id in gitsnap; anything compared with ``==``


class _Sentinel:
    """A named marker that survives copy and pickle as itself."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> str:
        return self._name


ABSENT = _Sentinel("ABSENT")  # a side that does not hold the key, item or entity
_NO_BASE = _Sentinel("_NO_BASE")  # below a value both sides added: no base to tell who changed what
_UNSETTLED = _Sentinel("_UNSETTLED")  # two list items the sides order differently, and base cannot tell who moved

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")  # snapshot_diff's rule, so both write the same field paths


class BadResolution(InvalidInput, ValueError):
    """A resolve path that matches no conflict, or a choice the merge does not know (exit 2)."""


# --- results (to move to models.py with the rewrite) -----------------------------------------------


@dataclass(frozen=True)
class FieldConflict:
    """Different changes at one path of a value; ``resolution`` is the side taken, None if left open."""

    field: str
    base: Any
    ours: Any
    theirs: Any
    resolution: Choice | None = None


@result
class MergeConflict(Result):
    """A conflict of one entity, as ``snapshot upgrade`` lists it; absent sides are omitted in JSON."""

    collection: str
    id: str
    field: str
    base: Any = ABSENT
    ours: Any = ABSENT
    theirs: Any = ABSENT
    resolution: Choice | None = None

    @property
    def path(self) -> str:
        return conflict_path(self.collection, self.id, self.field)

    def to_json(self) -> dict[str, Any]:
        # By hand because an absent side is an omitted key, which a field default cannot express.
        data: dict[str, Any] = {"collection": self.collection, "id": self.id, "field": self.field, "path": self.path}
        for side in ("base", "ours", "theirs"):
            if (value := getattr(self, side)) is not ABSENT:
                data[side] = value
        if self.resolution is not None:
            data["resolution"] = self.resolution
        return data


@result
class MergeSummary(Result):
    """What a collection's merge does to ours, one count per entity, and its conflicts."""

    kept: int = 0  # ours' entity as it is
    taken: int = 0  # theirs' version replaces ours'
    merged: int = 0  # a document with changes from both sides (or base's, when a conflict left it)
    added: int = 0  # not in ours, in the result
    deleted: int = 0  # in ours, not in the result
    conflicts: int = 0
    resolved: int = 0


@dataclass(frozen=True)
class Merged:
    """A document the merge made, which neither side has as it is: the caller serialises it."""

    document: dict[str, Any]


@dataclass
class CollectionMerge:
    """One collection merged: id -> document, and the conflicts left open and answered."""

    entities: dict[str, Any] = field(default_factory=dict)
    conflicts: list[MergeConflict] = field(default_factory=list)
    resolved: list[MergeConflict] = field(default_factory=list)


@dataclass(frozen=True)
class Config:
    """One side of a merge: collection -> entity id -> handle, and how to load a handle's document."""

    collections: Mapping[str, Mapping[str, Handle]]
    load: Callable[[Handle], Any]


@dataclass
class MergeResult:
    """collection -> id -> a side's handle (reused) or ``Merged``; conflicts; per-collection summary."""

    collections: dict[str, dict[str, Handle | Merged]] = field(default_factory=dict)
    conflicts: list[MergeConflict] = field(default_factory=list)
    resolved: list[MergeConflict] = field(default_factory=list)
    summary: dict[str, MergeSummary] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.conflicts


# --- paths -------------------------------------------------------------------------------------------


def key_path(path: str, key: Any) -> str:
    """``path.key``, or ``path["key"]`` for a key that is not plain (as snapshot_diff writes them)."""
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def item_path(path: str, item_id: str) -> str:
    """``path[id="s2"]``: a list item merged by id is named by its id, which holds on every side."""
    return f"{path}[id={json.dumps(item_id, ensure_ascii=False)}]"


def conflict_path(collection: str, entity_id: str, field_path: str) -> str:
    """The resolve key of a conflict: ``<collection>/<id>``, then ``/<field>`` unless the whole entity."""
    return f"{collection}/{entity_id}/{field_path}" if field_path else f"{collection}/{entity_id}"


# --- values ------------------------------------------------------------------------------------------


def merge_values(base: Any, ours: Any, theirs: Any, path: str = "", *,
                 choose: Callable[[str], Choice | None] | None = None) -> tuple[Any, list[FieldConflict]]:
    """One JSON value merged (``ABSENT`` for a missing side); ``choose(path)`` answers a conflict or not.

    The result shares unchanged parts with the inputs: copy it before changing it.
    """
    walk = _Walk(choose or (lambda path: None))
    return walk.value(base, ours, theirs, path), walk.conflicts


class _Walk:
    """One merge's way down a value: how conflicts are answered, and the conflicts met."""

    def __init__(self, choose: Callable[[str], Choice | None]):
        self.choose = choose
        self.conflicts: list[FieldConflict] = []

    def value(self, base: Any, ours: Any, theirs: Any, path: str) -> Any:
        if _same(ours, theirs) or _same(base, theirs):
            return ours
        if _same(base, ours):
            return theirs
        if isinstance(ours, dict) and isinstance(theirs, dict) and (_no_value(base) or isinstance(base, dict)):
            return self.mapping(base, ours, theirs, path, key_path)
        if (ids := _list_ids(base, ours, theirs)) is not None:
            return self.listing(base, ours, theirs, path, ids)
        return self.conflict(base, ours, theirs, path)

    def mapping(self, base: Any, ours: dict, theirs: dict, path: str, child: Callable[[str, Any], str]) -> dict:
        merged = {}
        for key in dict.fromkeys([*ours, *theirs, *(base if isinstance(base, dict) else ())]):
            below = base.get(key, ABSENT) if isinstance(base, dict) else _NO_BASE
            value = self.value(below, ours.get(key, ABSENT), theirs.get(key, ABSENT), child(path, key))
            if value is not ABSENT:
                merged[key] = value
        return merged

    def listing(self, base: Any, ours: list, theirs: list, path: str, ids: tuple[list[str], ...]) -> list:
        sides = (_by_id(base) if isinstance(base, list) else _NO_BASE, _by_id(ours), _by_id(theirs))
        # Whether the orders merge is decided before any conflict is answered, over every item an
        # answer could keep, so that answering a conflict never turns up others.
        kept = [item for item in dict.fromkeys([*ids[1], *ids[2]]) if not _dropped(item, *sides)]
        order = _order(*ids, present=kept)
        if order is None:
            return self.conflict(base, ours, theirs, path)
        items = self.mapping(*sides, path, item_path)
        if len(items) < len(order):  # an answer dropped an item
            order = _order(*ids, present=items)
        return [items[item_id] for item_id in order]

    def conflict(self, base: Any, ours: Any, theirs: Any, path: str) -> Any:
        base = ABSENT if base is _NO_BASE else base
        choice = self.choose(path)
        self.conflicts.append(FieldConflict(path, base, ours, theirs, choice))
        return {"ours": ours, "theirs": theirs}.get(choice, base)


def _no_value(base: Any) -> bool:
    return base is ABSENT or base is _NO_BASE


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1, 1.0 and True differ (Python calls them equal), and so do 0.0 and -0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return a == b


def _ids(value: Any) -> list[str] | None:
    """The item ids of a list of objects that all have a string ``id``, none twice; else None."""
    if not isinstance(value, list):
        return None
    ids = [item.get("id") if isinstance(item, dict) else None for item in value]
    if not all(isinstance(item_id, str) for item_id in ids) or len(set(ids)) < len(ids):
        return None
    return ids


def _list_ids(base: Any, ours: Any, theirs: Any) -> tuple[list[str], list[str], list[str]] | None:
    """The three sides' item ids when the lists merge per id (an absent base has no items)."""
    sides = ([] if _no_value(base) else _ids(base), _ids(ours), _ids(theirs))
    return None if None in sides else sides


def _by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


def _dropped(item: str, base: Any, ours: dict, theirs: dict) -> bool:
    """Whether the merge drops a list item, however its conflicts are answered."""
    mine, yours = ours.get(item, ABSENT), theirs.get(item, ABSENT)
    below = base.get(item, ABSENT) if isinstance(base, dict) else _NO_BASE
    return (mine is ABSENT and (yours is ABSENT or _same(below, yours))) or (yours is ABSENT and _same(below, mine))


def _order(base: list[str], ours: list[str], theirs: list[str], present: Collection[str]) -> list[str] | None:
    """The merged list's order of the ``present`` items (see the module's docstring); None if it has none."""
    # The common case, one side's ids as in base (it only edited items), is the other side's order:
    # the pairwise rule gives the same, in linear time instead of quadratic.
    for still, moved in ((ours, theirs), (theirs, ours)):
        if still == base and set(present) <= set(moved):
            return [item for item in moved if item in present]
    ranks = [{item: n for n, item in enumerate(side)} for side in (base, ours, theirs)]
    items = [item for item in dict.fromkeys([*ours, *theirs]) if item in present]
    later: dict[str, set[str]] = {item: set() for item in items}
    for x, y in combinations(items, 2):
        first = _first(*(rank[x] < rank[y] if x in rank and y in rank else None for rank in ranks))
        if first is _UNSETTLED:
            return None
        if first is not None:
            later[x if first else y].add(y if first else x)
    return _sorted_after(items, later, ranks[1:])


def _first(base: bool | None, ours: bool | None, theirs: bool | None) -> bool | None | _Sentinel:
    """Whether x comes before y given whether each side puts it first (None: it lacks one of them)."""
    if ours is None or ours == theirs:
        return theirs
    if theirs is None:
        return ours
    if base is None:
        return _UNSETTLED
    return theirs if ours == base else ours


def _sorted_after(items: list[str], later: dict[str, set[str]], ranks: list[dict[str, int]]) -> list[str] | None:
    """``items`` with each before everything in ``later[item]``, run by run; None on a cycle."""
    waiting = dict.fromkeys(items, 0)
    for after in later.values():
        for item in after:
            waiting[item] += 1
    follows = {item: set() for item in items}
    for rank in ranks:
        side = [item for item in rank if item in waiting]
        for before, after in zip(side, side[1:]):
            follows[before].add(after)
    ready = {item for item in items if not waiting[item]}
    order: list[str] = []
    while ready:
        # Continue the run the last item started; else the item earliest in its side's list.
        candidates = (follows[order[-1]] & ready if order else set()) or ready
        item = min(candidates, key=lambda item: (min(rank[item] for rank in ranks if item in rank), item))
        order.append(item)
        ready.discard(item)
        for after in later[item]:
            waiting[after] -= 1
            if not waiting[after]:
                ready.add(after)
    return order if len(order) == len(items) else None


# --- collections and configs -------------------------------------------------------------------------


class _Resolver:
    """Answers conflicts from resolve paths, then the strategy."""

    def __init__(self, resolve: Mapping[str, str] | None, strategy: str | None):
        resolve = dict(resolve or {})
        bad = [f"{path}={choice}" for path, choice in resolve.items() if choice not in CHOICES]
        if bad:
            raise BadResolution(f"resolve choices must be one of {', '.join(CHOICES)}; got {', '.join(bad)}")
        if strategy is not None and strategy not in STRATEGIES:
            raise BadResolution(f"strategy must be ours or theirs, got {strategy!r}")
        self.resolve: dict[str, Choice] = resolve  # type: ignore[assignment]
        self.strategy: Choice | None = strategy  # type: ignore[assignment]

    def choose(self, collection: str, entity_id: str, field_path: str) -> Choice | None:
        for path in (conflict_path(collection, entity_id, field_path), conflict_path(collection, entity_id, "")):
            if path in self.resolve:
                return self.resolve[path]
        return self.strategy

    def check(self, conflicts: list[MergeConflict]) -> None:
        """BadResolution naming every resolve path that matches no conflict of the merge."""
        known = [conflict.path for conflict in conflicts]
        matched = {*known, *(conflict_path(conflict.collection, conflict.id, "") for conflict in conflicts)}
        unmatched = [path for path in self.resolve if path not in matched]
        if unmatched:
            shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
            raise BadResolution(f"no conflict at resolve path {', '.join(map(repr, unmatched))} (a path is "
                                f"<collection>/<id>[/<field>]; this merge's conflicts: {shown or 'none'})")


def _merge_entity(collection: str, entity_id: str, base: Any, ours: Any, theirs: Any, resolver: _Resolver,
                  into: CollectionMerge | MergeResult) -> Any:
    """One entity's documents merged; its conflicts go to ``into``, open or answered."""
    merged, conflicts = merge_values(base, ours, theirs, choose=partial(resolver.choose, collection, entity_id))
    for conflict in conflicts:
        record = MergeConflict(collection=collection, id=entity_id, **vars(conflict))
        (into.resolved if conflict.resolution else into.conflicts).append(record)
    return merged


def merge_collection(collection: str, base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any], *,
                     resolve: Mapping[str, str] | None = None, strategy: str | None = None) -> CollectionMerge:
    """One collection's documents (id -> document per side) merged entity by entity."""
    resolver = _Resolver(resolve, strategy)
    result = CollectionMerge()
    for entity_id in sorted(base.keys() | ours.keys() | theirs.keys()):
        sides = (side.get(entity_id, ABSENT) for side in (base, ours, theirs))
        merged = _merge_entity(collection, entity_id, *sides, resolver, result)
        if merged is not ABSENT:
            result.entities[entity_id] = merged
    resolver.check([*result.conflicts, *result.resolved])
    return result


def merge_config(base: Config, ours: Config, theirs: Config, *,
                 resolve: Mapping[str, str] | None = None, strategy: str | None = None) -> MergeResult:
    """Every collection of the three configs merged, loading only entities changed on both sides."""
    resolver = _Resolver(resolve, strategy)
    result = MergeResult()
    configs = (base, ours, theirs)
    for collection in dict.fromkeys(name for config in configs for name in config.collections):
        handles = [config.collections.get(collection, {}) for config in configs]
        entities, summary = result.collections.setdefault(collection, {}), result.summary.setdefault(
            collection, MergeSummary())
        open_before, resolved_before = len(result.conflicts), len(result.resolved)
        for entity_id in sorted(handles[0].keys() | handles[1].keys() | handles[2].keys()):
            sides = [side.get(entity_id, ABSENT) for side in handles]
            merged = _merge_handles(collection, entity_id, configs, sides, resolver, result)
            if merged is not ABSENT:
                entities[entity_id] = merged
            _count(summary, merged, *sides[1:])
        summary.conflicts = len(result.conflicts) - open_before
        summary.resolved = len(result.resolved) - resolved_before
    resolver.check([*result.conflicts, *result.resolved])
    return result


def _merge_handles(collection: str, entity_id: str, configs: tuple[Config, Config, Config], handles: list[Any],
                   resolver: _Resolver, result: MergeResult) -> Any:
    """The entity's handle when at most one side changed it; else its documents merged (a side's handle if equal)."""
    base, ours, theirs = handles
    if ours == theirs or base == theirs:
        return ours
    if base == ours:
        return theirs
    docs = [ABSENT if handle is ABSENT else config.load(handle) for config, handle in zip(configs, handles)]
    merged = _merge_entity(collection, entity_id, *docs, resolver, result)
    if merged is ABSENT:
        return ABSENT
    # A conflict answered with one side, or left at base, can give a side's document back: reuse its blob.
    for doc, handle in zip((docs[1], docs[2], docs[0]), (ours, theirs, base)):
        if doc is not ABSENT and _same(merged, doc):
            return handle
    return Merged(merged)


def _count(summary: MergeSummary, merged: Any, ours: Any, theirs: Any) -> None:
    """One entity in the summary, as what the merge does to ours."""
    if merged is ABSENT:
        if ours is not ABSENT:
            summary.deleted += 1
    elif ours is ABSENT:
        summary.added += 1
    elif merged == ours:
        summary.kept += 1
    elif merged == theirs:
        summary.taken += 1
    else:
        summary.merged += 1
