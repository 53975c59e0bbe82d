"""The object database: reading blobs, trees, commits and tags fast, and writing new objects safely.

New objects are written before any ref points at them: a few as loose files, many as one pack.
Every file is written under a temporary name and renamed into place, and a failure on the way (a
full disk, a read-only repository) removes what it wrote, so nothing is left that blocks the next
run and no reader ever sees half an object.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from .errors import NotFound, RepositoryError
from .gitmessage import CommitInfo, Identity, TagInfo, parse_commit, parse_tag
from .gitpack import BLOB, COMMIT, TAG, TYPE_NUMBERS, CorruptPack, PackReader, object_id

if TYPE_CHECKING:  # dulwich's object store and object classes are imported where objects are written
    from dulwich.object_store import DiskObjectStore
    from dulwich.objects import Commit, ShaFile

PACK_THRESHOLD = 64  # at least this many new objects go into one pack, not loose files


class Objects:
    """A repository's objects (``<git dir>/objects``), read by id and written in bulk."""

    def __init__(self, git_dir: str, in_memory: bool = False):
        self._git_dir = git_dir
        self._dir = os.path.join(git_dir, "objects")
        self._packs: list[PackReader] = []  # the packs seen last, tried first by raw()
        # A dry run writes here instead of to disk, and every read sees it first.
        self._in_memory: dict[str, tuple[int, bytes]] | None = {} if in_memory else None

    @cached_property
    def _store(self) -> DiskObjectStore:
        """dulwich's object store: for writing, and for what the readers here leave to it (alternates, a
        version 1 pack index, a corrupt pack's error)."""
        from dulwich.object_store import DiskObjectStore

        return DiskObjectStore(self._dir)

    def close(self) -> None:
        self._use_packs([])
        if "_store" in self.__dict__:
            self._store.close()

    # --- reading ---

    def raw(self, sha: str) -> tuple[int, bytes]:
        """An object's type number and contents; RepositoryError when the repository lacks it."""
        found = self.find_raw(sha)
        if found is None:
            raise RepositoryError(f"object {sha} is missing from {self._git_dir}{self._shallow_hint()} "
                                  "(git fsck says more)")
        return found

    def find_raw(self, sha: str) -> tuple[int, bytes] | None:
        """An object's type number and contents by its trusted id, not re-hashed (git does not either); None if absent.

        Tried in turn: the packs seen last, the loose object, then (like git) a rescan of the packs,
        and last dulwich's lookup (alternates, indexes these readers leave to it). This is several
        times faster than dulwich's lookup, which parses every object, on walks of thousands of objects.
        """
        if self._in_memory and sha in self._in_memory:
            return self._in_memory[sha]
        try:
            binary = bytes.fromhex(sha)
        except (ValueError, TypeError):
            binary = b""
        if len(binary) != 20 or len(sha) != 40:  # fromhex skips spaces
            raise RepositoryError(f"{sha!r} is not an object id")
        try:
            found = self._from_packs(binary)
            if found is None:
                found = self._read_loose(sha)
            if found is None and self._use_packs(self._pack_names()):  # new packs since (a fetch, git gc)
                found = self._from_packs(binary)
        except CorruptPack:  # dulwich's reader says what is wrong
            return self._store.get_raw(binary)
        if found is not None:
            return found
        try:
            return self._store.get_raw(binary)
        except KeyError:
            return None

    def _from_packs(self, binary: bytes) -> tuple[int, bytes] | None:
        for pack in self._packs:
            try:
                return pack.get_raw(binary)
            except KeyError:  # not in this pack
                pass
        return None

    def _pack_names(self) -> list[str]:
        """The packs of the repository, as paths without ``.idx``/``.pack``; newest first, as git tries them."""
        directory = os.path.join(self._dir, "pack")
        try:
            entries = {entry.name: entry for entry in os.scandir(directory)}
        except OSError:  # no pack directory yet
            return []
        names = []
        for name, entry in entries.items():
            if name.startswith("pack-") and name.endswith(".idx") and f"{name[:-4]}.pack" in entries:
                try:
                    names.append((entry.stat().st_mtime_ns, os.path.join(directory, name[:-4])))
                except OSError:  # removed since the listing
                    pass
        return [path for _mtime, path in sorted(names, reverse=True)]

    def _use_packs(self, bases: list[str]) -> bool:
        """Read the packs ``bases`` from now on (closing the readers of packs no longer there); whether any is new.

        A pack these readers cannot take (a version 1 index, an empty file) is left to dulwich's lookup.
        """
        kept = {reader.base: reader for reader in self._packs}
        readers, new = [], False
        for base in bases:
            reader = kept.pop(base, None)
            if reader is None:
                try:
                    reader, new = PackReader(base), True
                except (OSError, ValueError):
                    continue
            readers.append(reader)
        for reader in kept.values():
            reader.close()
        self._packs = readers
        return new

    def _read_loose(self, sha: str) -> tuple[int, bytes] | None:
        """A loose object (zlib of ``<type> <size>\\0<contents>``) as (type number, contents), or None."""
        try:
            with open(f"{self._dir}/{sha[:2]}/{sha[2:]}", "rb", buffering=0) as handle:
                data = zlib.decompress(handle.readall())
        except FileNotFoundError:
            return None
        except zlib.error:
            raise RepositoryError(f"loose object {sha} in {self._git_dir} is corrupt (git fsck says more)") from None
        header, _, contents = data.partition(b"\0")
        kind = TYPE_NUMBERS.get(header.split(b" ", 1)[0])
        if kind is None:
            raise RepositoryError(f"loose object {sha} in {self._git_dir} has an unknown type")
        return kind, contents

    def has(self, sha: str) -> bool:
        try:
            return self.find_raw(sha) is not None
        except RepositoryError:
            return False

    def read_blob(self, sha: str) -> bytes:
        type_num, raw = self.raw(sha)
        if type_num != BLOB:
            raise RepositoryError(f"object {sha} is not a blob")
        return raw

    def read_commit(self, sha: str) -> CommitInfo:
        """A commit (an annotated tag is followed to its commit); NotFound when there is none."""
        found = self.find_raw(sha)
        if found is None:
            raise NotFound(f"commit {sha} not found in {self._git_dir}{self._shallow_hint()}")
        type_num, raw = found
        if type_num == TAG:
            return self.read_commit(self.read_tag(sha).target)
        if type_num != COMMIT:
            raise NotFound(f"{sha} is not a commit")
        try:
            return parse_commit(sha, raw)
        except (ValueError, UnicodeDecodeError):  # an unusual shape: dulwich's full parser reads it or says why not
            from dulwich.objects import Commit

            return _commit_info(self._parse(Commit, raw, sha))

    def read_tag(self, sha: str) -> TagInfo:
        type_num, raw = self.raw(sha)
        if type_num != TAG:
            raise NotFound(f"{sha} is not an annotated tag")
        try:
            return parse_tag(sha, raw)
        except (ValueError, UnicodeDecodeError):  # an unusual shape: dulwich's full parser reads it or says why not
            return self._parse_tag(sha, raw)

    def _parse_tag(self, sha: str, raw: bytes) -> TagInfo:
        from dulwich.objects import Tag

        tag = self._parse(Tag, raw, sha)
        return TagInfo(id=sha, name=tag.name.decode("utf-8", "replace"), target=tag.object[1].decode(),
                       message=tag.message.decode("utf-8", "replace"),
                       tagger=Identity.parse(tag.tagger or b"", tag.tag_time or 0, tag.tag_timezone or 0))

    @staticmethod
    def _parse(kind: type[ShaFile], raw: bytes, sha: str):
        from dulwich.errors import ObjectFormatException

        try:
            parsed = kind.from_raw_string(kind.type_num, raw, sha.encode())
            parsed.check()
            return parsed
        except (ObjectFormatException, ValueError, TypeError, UnicodeDecodeError) as error:
            raise RepositoryError(f"{kind.__name__.lower()} {sha} cannot be read: {error}") from error

    def history(self, tip: str | None) -> Iterator[CommitInfo]:
        """Commits from ``tip`` back along first parents, newest first."""
        while tip:
            commit = self.read_commit(tip)
            yield commit
            tip = commit.parents[0] if commit.parents else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether commit ``ancestor`` is ``descendant`` or reachable from it (git merge-base --is-ancestor)."""
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
                # First parents last, so they are walked first: a fast-forward of a ref whose commits
                # have second parents (an alias move's version) is found without walking those sides.
                pending.extend(reversed(self.read_commit(sha).parents))
            except NotFound:
                continue  # beyond what this repository has: not known to lead to ``ancestor``
        return False

    def _shallow_hint(self) -> str:
        if os.path.exists(os.path.join(self._git_dir, "shallow")):
            return " (the repository is shallow: its history was cut off; fetch the whole history to read it)"
        return ""

    # --- writing ---

    @staticmethod
    def blob_id(data: bytes) -> str:
        return object_id(BLOB, data).hex()

    def write_commit(self, tree: str, parents: list[str], message: str, author: Identity, committer: Identity) -> str:
        from dulwich.objects import Commit

        commit = Commit()
        commit.tree = tree.encode()
        commit.parents = [p.encode() for p in parents]
        commit.author, commit.author_time, commit.author_timezone = author.raw(), author.time, author.tz
        commit.committer = committer.raw()
        commit.commit_time, commit.commit_timezone = committer.time, committer.tz
        commit.encoding = b"UTF-8"
        commit.message = message.encode()
        self.write([commit])
        return commit.id.decode()

    def write_tag(self, target: str, name: str, message: str, tagger: Identity) -> str:
        """An annotated tag object on a commit."""
        from dulwich.objects import Commit, Tag

        tag = Tag()
        tag.object = (Commit, target.encode())
        tag.name = name.encode()
        tag.tagger = tagger.raw()
        tag.tag_time, tag.tag_timezone = tagger.time, tagger.tz
        tag.message = message.encode()
        self.write([tag])
        return tag.id.decode()

    def write(self, candidates: Iterable[ShaFile]) -> None:
        """Write the objects not yet in the store: one pack when there are many, else loose files."""
        packs = self._store.packs  # one scan of the pack directory for all lookups
        seen: set[bytes] = set()
        new_objects = []
        for obj in candidates:
            sha = obj.id
            if sha in seen or any(sha in pack for pack in packs) or self._store.contains_loose(sha):
                continue
            seen.add(sha)
            new_objects.append(obj)
        if self._in_memory is not None:
            self._in_memory.update((obj.id.decode(), (obj.type_num, obj.as_raw_string())) for obj in new_objects)
            return
        with write_errors(self._git_dir):
            if len(new_objects) >= PACK_THRESHOLD:
                self._write_pack(new_objects)
            else:
                for obj in new_objects:
                    self._write_loose(obj)

    def _write_loose(self, obj: ShaFile) -> None:
        sha = obj.id.decode()
        directory = os.path.join(self._dir, sha[:2])
        os.makedirs(directory, exist_ok=True)
        raw = obj.as_raw_string()  # one zlib call (dulwich's compresses a 3,000-entry tree in 3,000 pieces)
        data = zlib.compress(obj.type_name + b" %d\0" % len(raw) + raw)
        _write_then_rename(os.path.join(directory, f"tmp_obj_{os.getpid()}_{os.urandom(4).hex()}"),
                           os.path.join(directory, sha[2:]), data)

    def _write_pack(self, new_objects: list[ShaFile]) -> None:
        """Write one pack and its index under temporary names, then rename them into place."""
        pack_dir = os.path.join(self._dir, "pack")
        os.makedirs(pack_dir, exist_ok=True)
        temporary = os.path.join(pack_dir, f"tmp-gitsnap-{os.getpid()}-{os.urandom(4).hex()}")
        try:
            from dulwich.pack import write_pack

            checksum, _ = write_pack(temporary, new_objects, self._store.object_format, deltify=False)
            final = os.path.join(pack_dir, f"pack-{checksum.hex()}")
            os.replace(temporary + ".pack", final + ".pack")
            os.replace(temporary + ".idx", final + ".idx")  # the index last: readers only see complete packs
        finally:
            for leftover in (temporary + ".pack", temporary + ".idx"):
                _remove_quietly(leftover)

    def add_pack(self, data: bytes, entries: list[tuple[bytes, int, int]]) -> None:
        """Store a received pack whose sorted index ``entries`` are known: the pack, then its index."""
        pack_dir = os.path.join(self._dir, "pack")
        final = os.path.join(pack_dir, f"pack-{data[-20:].hex()}")
        from dulwich.pack import write_pack_index_v2

        index = io.BytesIO()
        write_pack_index_v2(index, entries, data[-20:])
        with write_errors(self._git_dir):
            os.makedirs(pack_dir, exist_ok=True)
            write_file(final + ".pack", data, 0o444)
            write_file(final + ".idx", index.getvalue(), 0o444)  # the index last: readers only see complete packs

    # --- for transports ---

    @property
    def dulwich_store(self) -> DiskObjectStore:
        """dulwich's object store, for the transport module only (pack generation and thin packs)."""
        return self._store


@contextmanager
def write_errors(git_dir: str) -> Iterator[None]:
    """Turn an OSError while writing into one line naming the repository and what to do."""
    try:
        yield
    except OSError as error:
        raise RepositoryError(f"cannot write to {git_dir}: {error.strerror or error}; nothing was changed "
                              "(free space or fix permissions, then run the command again)",
                              title="Repository not writable") from error


def write_file(path: str, data: bytes, mode: int = 0o644) -> None:
    """``data`` into ``path`` through a temporary sibling: readers see all of it or nothing."""
    _write_then_rename(f"{path}.tmp-{os.getpid()}-{os.urandom(4).hex()}", path, data, mode)


def _write_then_rename(temporary: str, final: str, data: bytes, mode: int = 0o444) -> None:
    """``data`` into ``final``, through ``temporary``, which is removed whatever happens."""
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
        finally:
            os.close(descriptor)
        os.replace(temporary, final)
    finally:
        _remove_quietly(temporary)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:  # already gone (the usual case), or the directory no longer lets us: nothing to add
        pass


def _commit_info(commit: Commit) -> CommitInfo:
    return CommitInfo(
        id=commit.id.decode(),
        tree=commit.tree.decode(),
        parents=tuple(p.decode() for p in commit.parents),
        message=commit.message.decode("utf-8", "replace"),
        author=Identity.parse(commit.author, commit.author_time, commit.author_timezone),
        committer=Identity.parse(commit.committer, commit.commit_time, commit.commit_timezone),
    )
