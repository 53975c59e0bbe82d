"""Trees: built incrementally from a spec over a base tree, looked into by path, walked and compared by id.

A tree spec maps names to file contents (bytes), nested specs, objects already in the store
(``Existing``), or None (delete). Unchanged blobs and subtrees of the base are reused by id, so a
change writes only the new blob and the trees on its path, and equal subtrees are never read.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple, Union

from dulwich.errors import ObjectFormatException

from .errors import RepositoryError
from .gitobjects import Objects
from .gitpack import TREE

try:  # the C parser dulwich's Tree uses, without importing dulwich.objects for a read
    from dulwich._objects import parse_tree
except ImportError:  # dulwich built without its C extensions
    from dulwich.objects import parse_tree

if TYPE_CHECKING:  # dulwich's object classes are imported where trees are written
    from dulwich.objects import ShaFile, Tree

BLOB_MODE = 0o100644
TREE_MODE = stat.S_IFDIR


class Existing(NamedTuple):
    """An object already in the store, placed into a new tree by id."""

    mode: int
    sha: str


TreeSpec = Mapping[str, Union[bytes, "TreeSpec", Existing, None]]


class Trees:
    """Tree reading and writing over an object store."""

    def __init__(self, objects: Objects):
        self._objects = objects

    def _tree(self, sha: str) -> Tree:
        """dulwich's Tree object, to build a new tree on."""
        from dulwich.objects import Tree

        try:
            return Tree.from_raw_string(TREE, self._tree_raw(sha), sha.encode())
        except (ObjectFormatException, ValueError) as error:
            raise RepositoryError(f"tree {sha} cannot be read: {error}") from error

    def _tree_raw(self, sha: str) -> bytes:
        type_num, raw = self._objects.raw(sha)
        if type_num != TREE:
            raise RepositoryError(f"object {sha} is not a tree")
        return raw

    def _parsed(self, sha: str) -> list[tuple[bytes, int, bytes]]:
        """(name, mode, hex id) of a tree's entries, in the tree's own (git's sorted) order."""
        raw = self._tree_raw(sha)
        try:
            return list(parse_tree(raw, 20))
        except (ObjectFormatException, ValueError) as error:
            raise RepositoryError(f"tree {sha} cannot be read: {error}") from error

    def entries(self, tree_id: str) -> list[tuple[str, int, str]]:
        """(name, mode, id) of a tree's direct entries; names undecodable as UTF-8 kept escaped."""
        return [(name.decode("utf-8", "backslashreplace"), mode, sha.decode())
                for name, mode, sha in self._parsed(tree_id)]

    def size(self, tree_id: str) -> int:
        """How many entries a tree has (none of them decoded)."""
        return len(self._parsed(tree_id))

    def lookup(self, tree_id: str, path: str) -> tuple[int, str] | None:
        """(mode, id) of ``path`` inside a tree, or None."""
        mode, sha = TREE_MODE, tree_id
        for part in path.split("/"):
            if not stat.S_ISDIR(mode):
                return None
            wanted = part.encode()
            entry = next((entry for entry in self._parsed(sha) if entry[0] == wanted), None)
            if entry is None:
                return None
            mode, sha = entry[1], entry[2].decode()
        return mode, sha

    def read_file(self, tree_id: str, name: str) -> bytes | None:
        """The contents of the regular file ``name`` directly in a tree, or None (read fast, for long walks)."""
        found = self.lookup(tree_id, name)
        return self._objects.read_blob(found[1]) if found and stat.S_ISREG(found[0]) else None

    def walk(self, tree_id: str, prefix: str = "") -> Iterator[tuple[str, int, str]]:
        """Every non-tree entry below a tree as (path, mode, id), depth first, sorted by path."""
        for name, mode, sha in self.entries(tree_id):
            path = f"{prefix}{name}"
            if stat.S_ISDIR(mode):
                yield from self.walk(sha, path + "/")
            else:
                yield path, mode, sha

    def diff(self, old: str | None, new: str | None, prefix: str = "") -> Iterator[tuple[str, str | None, str | None]]:
        """(path, old id, new id) of every file that differs; equal subtrees are never read."""
        if old == new:
            return
        old_entries = {name: (mode, sha) for name, mode, sha in self._parsed(old)} if old else {}
        new_entries = {name: (mode, sha) for name, mode, sha in self._parsed(new)} if new else {}
        for name in sorted(old_entries.keys() | new_entries.keys()):  # only differing entries are decoded
            before, after = old_entries.get(name), new_entries.get(name)
            if before == after:
                continue
            path = f"{prefix}{name.decode('utf-8', 'backslashreplace')}"
            old_tree = before[1].decode() if before and stat.S_ISDIR(before[0]) else None
            new_tree = after[1].decode() if after and stat.S_ISDIR(after[0]) else None
            if old_tree or new_tree:
                yield from self.diff(old_tree, new_tree, path + "/")
            old_blob = before[1].decode() if before and not old_tree else None
            new_blob = after[1].decode() if after and not new_tree else None
            if old_blob or new_blob:
                yield path, old_blob, new_blob

    @staticmethod
    def id_of(entries: Mapping[str, tuple[int, str]]) -> str:
        """The id a tree of these entries (name -> (mode, id)) has; nothing is written."""
        from dulwich.objects import Tree

        tree = Tree()
        for name, (mode, sha) in entries.items():
            tree.add(name.encode(), mode, sha.encode())
        return tree.id.decode()

    def build(self, spec: TreeSpec, base: str | None = None, replace: bool = True) -> str:
        """Write the tree ``spec`` describes and return its id.

        With ``replace`` the spec is the whole tree; otherwise it is laid over ``base``. Either way
        unchanged blobs and subtrees of ``base`` are reused and only new objects are written.
        """
        from dulwich.objects import Tree

        new_objects: list[ShaFile] = []
        tree = self._build(spec, base, replace, new_objects)
        if tree is None:
            tree = Tree()
            new_objects.append(tree)
        self._objects.write(new_objects)
        return tree.id.decode()

    def _build(self, spec: TreeSpec, base_id: str | None, replace: bool, out: list[ShaFile]) -> Tree | None:
        from dulwich.objects import Blob, Tree

        base = self._tree(base_id) if base_id else None
        base_entries = {e.path: (e.mode, e.sha) for e in base.iteritems()} if base is not None else {}
        if replace and base is not None and _same_entries(spec, base_entries):
            return base  # a re-import's unchanged collection: no tree of thousands of entries built again
        tree = Tree()
        if not replace:
            for name, (mode, sha) in base_entries.items():
                tree.add(name, mode, sha)
        for name, value in spec.items():
            key = name.encode()
            old = base_entries.get(key)
            if value is None:
                if key in tree:
                    del tree[key]
                continue
            if isinstance(value, bytes):
                blob = Blob.from_string(value)
                mode, sha = BLOB_MODE, blob.id
                if old != (mode, sha):
                    out.append(blob)
            elif isinstance(value, Existing):
                mode, sha = value.mode, value.sha.encode()
            else:
                sub_base = old[1].decode() if old and stat.S_ISDIR(old[0]) else None
                subtree = self._build(value, sub_base, replace, out)
                if subtree is None:
                    if key in tree:
                        del tree[key]
                    continue
                mode, sha = TREE_MODE, subtree.id
            tree.add(key, mode, sha)
        if not tree.items():
            return None
        if base is None or tree.id != base.id:
            out.append(tree)
        return tree


def _same_entries(spec: TreeSpec, entries: Mapping[bytes, tuple[int, bytes]]) -> bool:
    """Whether ``spec`` names exactly these existing entries (name -> (mode, id)), nothing new."""
    if len(spec) != len(entries):
        return False
    for name, value in spec.items():
        if not isinstance(value, Existing) or entries.get(name.encode()) != (value.mode, value.sha.encode()):
            return False
    return True
