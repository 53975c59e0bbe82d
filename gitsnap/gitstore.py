"""The git layer over dulwich: objects, incremental trees, commits, tags, refs moved by compare-and-swap.

Objects are always written before a ref moves, and a ref only moves by compare-and-swap against
the value read, so a crash or a concurrent writer never leaves a ref on an incomplete commit.
"""

from __future__ import annotations

import os
import random
import re
import stat
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple, TypeVar, Union

from dulwich.errors import NotGitRepository
from dulwich.file import FileLocked
from dulwich.objects import (
    Blob,
    Commit,
    ShaFile,
    Tag,
    Tree,
    hex_to_sha,
    object_class,
    parse_tree,
)
from dulwich.pack import write_pack
from dulwich.repo import Repo, get_user_identity

from .errors import Conflict, InvalidInput, NotFound, RepositoryError
from .gitmessage import (
    CommitInfo,
    Identity,
    TagInfo,
    local_offset,
    parse_commit,
    parse_git_date,
)

T = TypeVar("T")
BLOB_MODE = 0o100644
TREE_MODE = stat.S_IFDIR
PACK_THRESHOLD = 64  # at least this many new objects go into one pack, not loose files
CAS_ATTEMPTS = 200
LOCK_PATIENCE = 2.0  # seconds a ref lock may be held by another writer before it is called stale


class Existing(NamedTuple):
    """An object already in the store, placed into a new tree by id."""

    mode: int
    sha: str


# A tree spec maps names to file contents, nested specs, existing objects, or None (delete).
TreeSpec = Mapping[str, Union[bytes, "TreeSpec", Existing, None]]


def _commit_info(commit: Commit) -> CommitInfo:
    return CommitInfo(
        id=commit.id.decode(),
        tree=commit.tree.decode(),
        parents=tuple(p.decode() for p in commit.parents),
        message=commit.message.decode("utf-8", "replace"),
        author=Identity.parse(commit.author, commit.author_time, commit.author_timezone),
        committer=Identity.parse(commit.committer, commit.commit_time, commit.commit_timezone),
    )


# --- the store --------------------------------------------------------------------------------------


class GitStore:
    """A bare repository: objects, trees, commits, tags and refs moved by compare-and-swap."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        try:
            self.repo = Repo(self.path)
        except (NotGitRepository, FileNotFoundError, NotADirectoryError):
            raise NotFound(
                f"{self.path} is not a gitsnap repository (create one with: gitsnap init --repo {self.path})",
                title="Repository not found",
            )
        self.objects = self.repo.object_store
        self._packs: list = []  # the packs seen last, tried first by _raw
        self._objects_dir = os.path.join(self.path, "objects")

    def close(self) -> None:
        self.repo.close()

    @classmethod
    def init(cls, path: str | os.PathLike[str]) -> tuple[GitStore, bool]:
        """Create a bare repository at ``path``; (store, False) when one is already there."""
        path = os.fspath(path)
        if os.path.exists(os.path.join(path, "HEAD")):
            return cls(path), False
        if os.path.exists(path) and os.listdir(path):
            raise InvalidInput(f"{path} exists and is not empty; choose another --repo")
        os.makedirs(path, exist_ok=True)
        repo = Repo.init_bare(path)
        config = repo.get_config()
        config.set(("gc",), "auto", "0")  # dulwich's auto-gc would pack refs under writers
        config.write_to_path()
        repo.close()
        return cls(path), True

    # --- identity ---

    def identity(self, kind: str = "COMMITTER") -> Identity:
        """Who is acting, by git's rules: GIT_<KIND>_NAME/EMAIL/DATE, then repo and global config."""
        raw = get_user_identity(self.repo.get_config_stack(), kind)
        date = os.environ.get(f"GIT_{kind}_DATE")
        if date:
            seconds, tz = parse_git_date(date)
        else:
            seconds = int(time.time())
            tz = local_offset(seconds)
        return Identity.parse(raw, seconds, tz)

    # --- blobs and trees ---

    def _raw(self, sha: bytes) -> tuple[int, bytes]:
        """An object's type number and contents; RepositoryError when the repository lacks it."""
        found = self._find_raw(sha)
        if found is None:
            raise RepositoryError(f"object {sha.decode()} is missing from {self.path} (git fsck says more)")
        return found

    def _find_raw(self, sha: bytes) -> tuple[int, bytes] | None:
        """An object's type number and contents by its trusted id, not re-hashed (git does not either); None if absent.

        Tried in turn: the packs seen last, the loose object, then (like git) a rescan of the packs.
        This is several times faster than dulwich's lookup, which lists the pack directory and parses
        every object, on walks of thousands of objects.
        """
        binary = hex_to_sha(sha)
        for pack in self._packs:
            try:
                return pack.get_raw(binary)
            except (KeyError, OSError):  # not there, or a pack removed since (git gc): rescan below
                pass
        loose = self._read_loose(sha.decode())
        if loose is not None:
            return loose
        self._packs = self.objects.packs
        try:
            return self.objects.get_raw(sha)
        except KeyError:
            return None

    def _read_loose(self, sha: str) -> tuple[int, bytes] | None:
        """A loose object (zlib of ``<type> <size>\\0<contents>``) as (type number, contents), or None."""
        try:
            with open(f"{self._objects_dir}/{sha[:2]}/{sha[2:]}", "rb", buffering=0) as handle:
                data = zlib.decompress(handle.readall())
        except FileNotFoundError:
            return None
        except zlib.error:
            raise RepositoryError(f"loose object {sha} in {self.path} is corrupt (git fsck says more)")
        header, _, contents = data.partition(b"\0")
        kind = object_class(header.split(b" ", 1)[0])
        if kind is None:
            raise RepositoryError(f"loose object {sha} has an unknown type")
        return kind.type_num, contents

    def read_file(self, tree_id: str, name: str) -> bytes | None:
        """The contents of the file ``name`` directly in a tree, or None (read fast, for long walks)."""
        type_num, raw = self._raw(tree_id.encode())
        if type_num != Tree.type_num:
            raise RepositoryError(f"object {tree_id} is not a tree")
        for entry, mode, sha in parse_tree(raw, self.objects.object_format.oid_length):
            if entry == name.encode():
                return self._raw(sha)[1] if stat.S_ISREG(mode) else None
        return None

    def read_blob(self, sha: str) -> bytes:
        type_num, raw = self._raw(sha.encode())
        if type_num != Blob.type_num:
            raise RepositoryError(f"object {sha} is not a blob")
        return raw

    def blob_id(self, data: bytes) -> str:
        return Blob.from_string(data).id.decode()

    def tree_id(self, entries: Mapping[str, tuple[int, str]]) -> str:
        """The id a tree of these entries (name -> (mode, id)) has; nothing is written."""
        tree = Tree()
        for name, (mode, sha) in entries.items():
            tree.add(name.encode(), mode, sha.encode())
        return tree.id.decode()

    def build_tree(self, spec: TreeSpec, base: str | None = None, replace: bool = True) -> str:
        """Write the tree ``spec`` describes and return its id.

        With ``replace`` the spec is the whole tree; otherwise it is laid over ``base``. Either way
        unchanged blobs and subtrees of ``base`` are reused and only new objects are written.
        """
        new_objects: list[ShaFile] = []
        tree = self._build(spec, base, replace, new_objects)
        if tree is None:
            tree = Tree()
            new_objects.append(tree)
        self._store(new_objects)
        return tree.id.decode()

    def _build(self, spec: TreeSpec, base_id: str | None, replace: bool, out: list[ShaFile]) -> Tree | None:
        base = self._tree(base_id) if base_id else None
        base_entries = {e.path: (e.mode, e.sha) for e in base.iteritems()} if base is not None else {}
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

    def _store(self, candidates: list[ShaFile]) -> None:
        """Write the objects not yet in the store: one pack when there are many, else loose."""
        packs = self.objects.packs  # one scan of the pack directory for all lookups
        seen: set[bytes] = set()
        new_objects = []
        for obj in candidates:
            sha = obj.id
            if sha in seen or any(sha in pack for pack in packs) or self.objects.contains_loose(sha):
                continue
            seen.add(sha)
            new_objects.append(obj)
        if len(new_objects) >= PACK_THRESHOLD:
            self._write_pack(new_objects)
        else:
            for obj in new_objects:
                self.objects.add_object(obj)

    def _write_pack(self, new_objects: list[ShaFile]) -> None:
        """Write one pack and its index under temporary names, then rename them into place."""
        pack_dir = os.path.join(self.path, "objects", "pack")
        os.makedirs(pack_dir, exist_ok=True)
        temporary = os.path.join(pack_dir, f"tmp-gitsnap-{os.getpid()}-{random.getrandbits(32):08x}")
        checksum, _ = write_pack(temporary, new_objects, self.objects.object_format, deltify=False)
        final = os.path.join(pack_dir, f"pack-{checksum.hex()}")
        os.replace(temporary + ".pack", final + ".pack")
        os.replace(temporary + ".idx", final + ".idx")  # the index last: readers only see complete packs

    def _tree(self, sha: str | bytes) -> Tree:
        sha = sha.encode() if isinstance(sha, str) else sha
        type_num, raw = self._raw(sha)
        if type_num != Tree.type_num:
            raise RepositoryError(f"object {sha.decode()} is not a tree")
        return Tree.from_raw_string(type_num, raw, sha)

    def tree_entries(self, tree_id: str) -> list[tuple[str, int, str]]:
        """(name, mode, id) of a tree's direct entries; names undecodable as UTF-8 kept escaped."""
        return [
            (e.path.decode("utf-8", "backslashreplace"), e.mode, e.sha.decode())
            for e in self._tree(tree_id).iteritems()
        ]

    def lookup(self, tree_id: str, path: str) -> tuple[int, str] | None:
        """(mode, id) of ``path`` inside a tree, or None."""
        mode, sha = TREE_MODE, tree_id
        for part in path.split("/"):
            if not stat.S_ISDIR(mode):
                return None
            entries = {e.path: e for e in self._tree(sha).iteritems()}
            entry = entries.get(part.encode())
            if entry is None:
                return None
            mode, sha = entry.mode, entry.sha.decode()
        return mode, sha

    def walk(self, tree_id: str, prefix: str = "") -> Iterator[tuple[str, int, str]]:
        """Every non-tree entry below a tree as (path, mode, id), depth first, sorted by path."""
        for name, mode, sha in self.tree_entries(tree_id):
            path = f"{prefix}{name}"
            if stat.S_ISDIR(mode):
                yield from self.walk(sha, path + "/")
            else:
                yield path, mode, sha

    def diff_trees(self, old: str | None, new: str | None, prefix: str = "") -> Iterator[tuple[str, str | None, str | None]]:
        """(path, old id, new id) of every file that differs; equal subtrees are never read."""
        if old == new:
            return
        old_entries = {n: (m, s) for n, m, s in self.tree_entries(old)} if old else {}
        new_entries = {n: (m, s) for n, m, s in self.tree_entries(new)} if new else {}
        for name in sorted(old_entries.keys() | new_entries.keys()):
            before, after = old_entries.get(name), new_entries.get(name)
            if before == after:
                continue
            path = f"{prefix}{name}"
            old_tree = before[1] if before and stat.S_ISDIR(before[0]) else None
            new_tree = after[1] if after and stat.S_ISDIR(after[0]) else None
            if old_tree or new_tree:
                yield from self.diff_trees(old_tree, new_tree, path + "/")
            old_blob = before[1] if before and not old_tree else None
            new_blob = after[1] if after and not new_tree else None
            if old_blob or new_blob:
                yield path, old_blob, new_blob

    # --- commits and tags ---

    def write_commit(self, tree: str, parents: list[str], message: str, author: Identity | None = None) -> str:
        """Write a commit whose committer is the person running gitsnap."""
        committer = self.identity("COMMITTER")
        author = author or self.identity("AUTHOR")
        commit = Commit()
        commit.tree = tree.encode()
        commit.parents = [p.encode() for p in parents]
        commit.author, commit.author_time, commit.author_timezone = author.raw(), author.time, author.tz
        commit.committer = committer.raw()
        commit.commit_time, commit.commit_timezone = committer.time, committer.tz
        commit.encoding = b"UTF-8"
        commit.message = message.encode()
        self.objects.add_object(commit)
        return commit.id.decode()

    def read_commit(self, sha: str) -> CommitInfo:
        """A commit (an annotated tag is followed to its commit); NotFound when there is none."""
        found = self._find_raw(sha.encode())
        if found is None:
            raise NotFound(f"commit {sha} not found in {self.path}")
        type_num, raw = found
        if type_num == Commit.type_num:
            try:
                return parse_commit(sha, raw)
            except ValueError:  # an unusual shape: dulwich's full parser reads it or says what is wrong
                return _commit_info(Commit.from_raw_string(type_num, raw, sha.encode()))
        if type_num == Tag.type_num:
            return self.read_commit(Tag.from_raw_string(type_num, raw, sha.encode()).object[1].decode())
        raise NotFound(f"{sha} is not a commit")

    def history(self, tip: str | None) -> Iterator[CommitInfo]:
        """Commits from ``tip`` back along first parents, newest first."""
        while tip:
            commit = self.read_commit(tip)
            yield commit
            tip = commit.parents[0] if commit.parents else None

    def write_tag(self, target: str, name: str, message: str, tagger: Identity | None = None) -> str:
        """Write an annotated tag object on a commit; the tagger is the person running gitsnap unless given."""
        tagger = tagger or self.identity("COMMITTER")
        tag = Tag()
        tag.object = (Commit, target.encode())
        tag.name = name.encode()
        tag.tagger = tagger.raw()
        tag.tag_time, tag.tag_timezone = tagger.time, tagger.tz
        tag.message = message.encode()
        self.objects.add_object(tag)
        return tag.id.decode()

    def read_tag(self, sha: str) -> TagInfo:
        type_num, raw = self._raw(sha.encode())  # the fast read: listings read thousands of tags
        if type_num != Tag.type_num:
            raise NotFound(f"{sha} is not an annotated tag")
        tag = Tag.from_raw_string(type_num, raw, sha.encode())
        return TagInfo(
            id=tag.id.decode(),
            name=tag.name.decode(),
            target=tag.object[1].decode(),
            message=tag.message.decode("utf-8", "replace"),
            tagger=Identity.parse(tag.tagger, tag.tag_time, tag.tag_timezone),
        )

    def resolve_commit(self, revision: str) -> str | None:
        """The commit a git revision names (ref, short ref, id, with ``~n``/``^n`` suffixes), or None."""
        from dulwich.objectspec import parse_commit

        match = re.fullmatch(r"(.+?)((?:[~^]\d*)*)", revision)
        base, suffix = match.groups() if match else (revision, "")
        try:
            sha = parse_commit(self.repo, base.encode()).id.decode()
        except (KeyError, ValueError, NotImplementedError):
            return None
        for op, digits in re.findall(r"([~^])(\d*)", suffix):
            count = int(digits) if digits else 1
            steps = [1] * count if op == "~" else ([count] if count else [])
            for parent_number in steps:
                parents = self.read_commit(sha).parents
                if len(parents) < parent_number:
                    return None
                sha = parents[parent_number - 1]
        return sha

    # --- refs ---

    def read_ref(self, name: str) -> str | None:
        """One ref's value, read by its path (loose first, then packed-refs)."""
        refs = self.repo.refs
        value = refs.read_loose_ref(name.encode())
        if value is None:
            value = refs.get_packed_refs().get(name.encode())
        return value.decode() if value else None

    def list_refs(self, prefix: str) -> dict[str, str]:
        """Every ref under ``prefix`` (full names) with its value."""
        base = prefix.rstrip("/").encode()
        found = self.repo.refs.as_dict(base)
        return {f"{prefix.rstrip('/')}/{name.decode()}": sha.decode() for name, sha in found.items()}

    def ref_children(self, prefix: str) -> set[str]:
        """The names one level below ``prefix``, loose and packed, without reading any ref's value."""
        prefix = prefix.rstrip("/")
        directory = self.ref_path(prefix)
        names = set(os.listdir(directory)) if os.path.isdir(directory) else set()
        start = prefix.encode() + b"/"
        for name in self.repo.refs.get_packed_refs():
            if name.startswith(start):
                names.add(name[len(start):].split(b"/", 1)[0].decode("utf-8", "replace"))
        return names

    def swap_ref(self, name: str, old: str | None, new: str | None) -> bool:
        """Compare-and-swap one ref: create (old None), move, or delete (new None)."""
        refs, key = self.repo.refs, name.encode()
        if new is None:
            return refs.remove_if_equals(key, old.encode() if old else None)
        if old is None:
            return refs.add_if_new(key, new.encode())
        return refs.set_if_equals(key, old.encode(), new.encode())

    def update_ref(self, name: str, build: Callable[[str | None], tuple[str | None, T]]) -> T:
        """Move ``name`` to what ``build(tip)`` returns, by CAS; rebuild and retry on a lost race.

        ``build`` returns (new tip, result); a new tip of None or equal to the tip moves nothing. It
        runs again only when the tip moved: a ref locked by another writer is retried as built.
        """
        tip: str | None = None
        locked_since: float | None = None
        for attempt in range(CAS_ATTEMPTS):
            current = self.read_ref(name)
            if attempt == 0 or current != tip:
                tip = current
                new, result = build(tip)
                if new is None or new == tip:
                    return result
            try:
                if self.swap_ref(name, tip, new):
                    return result
                locked_since = None
            except FileLocked:
                locked_since = locked_since or time.monotonic()
                if time.monotonic() - locked_since > LOCK_PATIENCE:
                    raise Conflict(f"{name} has been locked for over {LOCK_PATIENCE:.0f} s: remove "
                                   f"{self.ref_path(name)}.lock if no gitsnap or git is running")
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** min(attempt, 6))))
        raise Conflict(f"{name} kept changing under {CAS_ATTEMPTS} attempts to update it; try again")

    def delete_ref(self, name: str, old: str) -> None:
        """Delete a ref if it still holds ``old``."""
        try:
            removed = self.swap_ref(name, old, None)
        except FileLocked:
            removed = False
        if not removed:
            raise Conflict(f"{name} changed while deleting it; nothing was deleted")

    def ref_path(self, name: str) -> str:
        return os.path.join(self.path, *name.split("/"))

    # --- ancestry ---

    def has_object(self, sha: str) -> bool:
        return sha.encode() in self.objects

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether commit ``ancestor`` is ``descendant`` or reachable from it through parents (git merge-base --is-ancestor)."""
        seen: set[str] = set()
        pending = [descendant]
        while pending:
            sha = pending.pop()
            if sha == ancestor:
                return True
            if sha in seen:
                continue
            seen.add(sha)
            try:
                pending.extend(self.read_commit(sha).parents)
            except NotFound:
                continue  # beyond what this repository has: not known to lead to ``ancestor``
        return False
