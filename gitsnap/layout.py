"""The org tree: where each part of an org lives, and the one-document form to and from its files.

::

    org.yaml                         id, name, other org settings
    users/<userId>.yaml              pipelines/<id>.yaml  automations/<id>.yaml  prompts/<id>.yaml  templates/<id>.yaml
    stubs/<stubref>/stub.yaml        stubref, data
    stubs/<stubref>/chats/<chat>.yaml

Paths are relative to the tree's root, with ``/``. The same rules serve a directory being imported,
a tree being exported, verified, diffed or merged: this module is the only one that spells them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from . import yamlio

if TYPE_CHECKING:
    from .records import OrgExport, Stub

ORG_FILE = "org.yaml"
YAML = ".yaml"
STUBS = "stubs"
STUB_FILE = "stub.yaml"
CHATS = "chats"
CONFIG_COLLECTIONS = ("pipelines", "automations", "prompts", "templates")
ENTITY_COLLECTIONS = ("users", *CONFIG_COLLECTIONS)
TOP_LEVEL = (ORG_FILE, *ENTITY_COLLECTIONS, STUBS)
ORG = "org"


class Place(NamedTuple):
    """What one file of the org tree holds: org.yaml, an entity, a stub's stub.yaml or one of its chats."""

    collection: str  # "org", an entity collection, or "stubs"
    key: str | None = None  # the entity id or stubref
    chat: str | None = None  # for a stub's chat file

    @property
    def path(self) -> str:
        if self.collection == ORG:
            return ORG_FILE
        if self.collection != STUBS:
            return f"{self.collection}/{self.key}{YAML}"
        return f"{STUBS}/{self.key}/{CHATS}/{self.chat}{YAML}" if self.chat else f"{STUBS}/{self.key}/{STUB_FILE}"


def entity_path(collection: str, key: str) -> str:
    return Place(collection, key).path


def stub_dir(stubref: str) -> str:
    return f"{STUBS}/{stubref}"


@lru_cache(maxsize=1 << 16)  # an import asks once per file in each of its passes
def place_of(path: str) -> Place | None:
    """The place a file path names, or None when it is not part of the layout."""
    parts = path.split("/")
    if parts == [ORG_FILE]:
        return Place(ORG)
    if len(parts) == 2 and parts[0] in ENTITY_COLLECTIONS and _stem(parts[1]):
        return Place(parts[0], _stem(parts[1]))
    if len(parts) == 3 and parts[0] == STUBS and parts[2] == STUB_FILE:
        return Place(STUBS, parts[1])
    if len(parts) == 4 and parts[0] == STUBS and parts[2] == CHATS and _stem(parts[3]):
        return Place(STUBS, parts[1], _stem(parts[3]))
    return None


def is_layout_dir(path: str) -> bool:
    """Whether a directory path can hold files of the layout (``users``, ``stubs/x``, ``stubs/x/chats``)."""
    parts = path.split("/")
    return (len(parts) == 1 and parts[0] in (*ENTITY_COLLECTIONS, STUBS)) or \
        (len(parts) in (2, 3) and parts[0] == STUBS and parts[2:] in ([], [CHATS]))


def _stem(name: str) -> str | None:
    return name[: -len(YAML)] if name.endswith(YAML) and len(name) > len(YAML) else None


def key_problem(place: Place, data: Any) -> str | None:
    """Why a file's document does not belong at its place (its id, or ``_id``, or stubref is another), or None."""
    if place.chat is not None or place.collection == ORG or not isinstance(data, dict):
        return None
    key = "stubref" if place.collection == STUBS else "id"
    value = data.get(key, data.get("_id")) if key == "id" else data.get(key)
    if value is not None and value != place.key:
        return f"{key}: {value!r} does not match the file name {place.key!r}"
    return None


# --- files -> the one-document form ----------------------------------------------------------------


SKIP = object()  # what a loader returns for a file it leaves out of the document (reused unchanged)


@dataclass
class Assembled:
    """The one-document form of an org tree's files, where each part came from, and what did not fit."""

    document: dict[str, Any] = field(default_factory=dict)
    places: dict[tuple, str] = field(default_factory=dict)  # a pydantic location prefix -> its file
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, problem)

    def where(self, loc: tuple, root: str = "") -> str:
        """The file and the field inside it that a location in the document points to."""
        for length in (4, 2, 1):
            prefix = tuple(loc[:length])
            if prefix in self.places:
                rest = ".".join(str(part) for part in loc[length:])
                return f"{self.places[prefix]}: {rest}" if rest else self.places[prefix]
        return document_path(root, loc)


def assemble(paths: Iterable[str], load: Callable[[str], Any], name: Callable[[str], str] = str) -> Assembled:
    """The document an org tree's files make; ``load(path)`` reads one (``SKIP`` leaves it out).

    ``name(path)`` is how problems and places name a file (a full path on disk, or ``ref: path``).
    """
    result = Assembled()
    stubs: dict[str, dict[str, Any]] = {}
    chats: dict[str, dict[str, Any]] = {}
    chat_files: dict[str, dict[str, str]] = {}
    for path in sorted(paths):
        place = place_of(path)
        if place is None:
            result.problems.append((name(path), "not part of the org-tree layout"))
            continue
        data = load(path)
        if data is SKIP:
            continue
        if (problem := key_problem(place, data)) is not None:
            result.problems.append((name(path), problem))
        if place.collection == ORG:
            result.document[ORG], result.places[(ORG,)] = data, name(path)
        elif place.chat is not None:
            chats.setdefault(place.key, {})[place.chat] = data
            chat_files.setdefault(place.key, {})[place.chat] = name(path)
        elif place.collection == STUBS:
            stubs[place.key] = data
        else:
            items = result.document.setdefault(place.collection, [])
            result.places[(place.collection, len(items))] = name(path)
            items.append(data)
    for stubref in sorted(chats.keys() - stubs.keys()):
        result.problems.append((name(stub_dir(stubref)), f"chats of a stub without {STUB_FILE}"))
    for stubref, stub in stubs.items():
        items = result.document.setdefault(STUBS, [])
        result.places[(STUBS, len(items))] = name(Place(STUBS, stubref).path)
        for chat, file in chat_files.get(stubref, {}).items():
            result.places[(STUBS, len(items), CHATS, chat)] = file
        if isinstance(stub, dict):
            stub[CHATS] = chats.get(stubref, {})
        items.append(stub)
    ordered = {ORG: result.document[ORG]} if ORG in result.document else {}
    result.document = {**ordered, **{c: result.document.get(c, []) for c in (*ENTITY_COLLECTIONS, STUBS)}}
    return result


def document_path(name: str, loc: tuple) -> str:
    """``name: pipelines[0].settings`` for a location inside a document."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"{name}: {path}" if path else name


# --- the one-document form -> files ----------------------------------------------------------------


def tree_spec(export: OrgExport, reused: Mapping[str, Any] = {}) -> dict[str, Any]:
    """The org tree in canonical YAML (path parts -> bytes) for a validated export.

    ``reused`` maps paths to what stands there instead (a blob already in the store, unchanged).
    """
    spec: dict[str, Any] = {ORG_FILE: yamlio.dump(export.org.canonical())}
    for collection in ENTITY_COLLECTIONS:
        files = {f"{e.id}{YAML}": yamlio.dump(e.canonical()) for e in getattr(export, collection)}
        if files:
            spec[collection] = files
    nest(reused, spec)
    stubs = {stub.stubref: stub_spec(stub) for stub in export.stubs}
    if stubs:
        spec[STUBS] = stubs
    return spec


def stub_spec(stub: Stub) -> dict[str, Any]:
    """A stub's directory: ``stub.yaml`` and ``chats/<chat>.yaml``."""
    stub_data = stub.canonical()
    chats = stub_data.pop(CHATS)
    entry: dict[str, Any] = {STUB_FILE: yamlio.dump(stub_data)}
    if chats:
        entry[CHATS] = {f"{name}{YAML}": yamlio.dump(chat) for name, chat in chats.items()}
    return entry


def nest(files: Mapping[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """A tree spec holding ``files`` (path -> value) laid into ``spec`` (a new one by default)."""
    spec = {} if spec is None else spec
    for path, value in files.items():
        *directories, file = path.split("/")
        folder = spec
        for directory in directories:
            folder = folder.setdefault(directory, {})
        folder[file] = value
    return spec


def flatten(spec: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """(path, value) of every file a tree spec describes."""
    for name, value in spec.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{name}/")
        else:
            yield f"{prefix}{name}", value
