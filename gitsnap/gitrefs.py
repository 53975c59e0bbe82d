"""Refs of a bare repository, read and moved the way C git does it, without parsing all of them.

(Reading, the compare-and-swap, the retry loop over it and the dry-run overlay are one module: each
relies on the others' exact lock and ordering rules. ``gitpacked`` reads packed-refs.)

On disk (git's "files" ref store, which this module reads and writes compatibly)::

    refs/prompts/<org>/<promptId>          loose ref: one file holding "<40 hex>\\n"
    refs/prompts/<org>/<promptId>.lock     a writer's lock (O_CREAT|O_EXCL), renamed over the ref
    packed-refs                            # pack-refs with: peeled fully-peeled sorted
                                           <40 hex> refs/heads/orgs/<org>
                                           <40 hex> refs/tags/snapshots/<org>/<id>
                                           ^<40 hex>     (peeled: the commit the tag above points at)
    packed-refs.lock                       held while packed-refs is rewritten (a delete)

A loose ref overrides its packed entry. A sorted packed-refs file is searched by bisection over its
bytes (a few small preads), so reading one ref among 100,000 reads ~20 KB instead of parsing 10 MB;
a file without "sorted" in its header (an old git's) is parsed once per file version.

``swap`` is git's compare-and-swap (dulwich's ``add_if_new``/``set_if_equals``/``remove_if_equals``
without symref following or reflogs): lock, re-read under the lock, write the lock, rename it over the
ref. A busy lock raises RefLocked at once; the caller retries and decides when a lock is stale. Any
error on the way removes this call's lock and temp file before it propagates; only a process killed
between taking a lock and releasing it leaves one behind (as with git).

Names and values are text. Bytes that are not UTF-8 (git allows them in ref names) are decoded with
``surrogateescape``, so a listing never fails on them and a listed name reads and swaps back to the
same bytes. Files under refs/ whose names git would reject (``*.lock``, ``.tmp``, spaces, ...) are
skipped, as ``git for-each-ref`` skips them.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple, TypeVar

from .errors import Conflict, InvalidInput, RepositoryError
from .gitobjects import write_errors
from .gitpacked import Packed, read_packed

T = TypeVar("T")


def _random_fraction() -> float:
    """A number in [0, 1) from the OS (the random module would cost every command its import)."""
    return int.from_bytes(os.urandom(4), "big") / 2**32


class Patience(NamedTuple):
    """How long a CAS loop keeps trying: attempts, how long a held lock is waited for, the sleep between tries."""

    attempts: int = 200
    lock_seconds: float = 2.0
    backoff: Callable[[int], float] = lambda attempt: min(0.05, 0.001 * 2 ** min(attempt, 6)) * _random_fraction()

__all__ = ["DryRunRefs", "Patience", "RefConflict", "RefError", "RefLocked", "Refs", "check_name", "is_object_id"]

_OBJECT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \, no "..", "@{", "//", no component
# starting with "." or ending with ".lock", no trailing "/" or ".".
_BAD_NAME = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|(^|/)\.|\.lock(/|$)|[/.]$")
_SCOPE = "refs/"


class RefError(Exception):
    """A ref could not be changed as asked."""


class RefLocked(RefError):
    """Another writer holds the lock this change needs; never waited on, the caller retries."""

    def __init__(self, name: str, lock_path: str) -> None:
        self.name, self.lock_path = name, lock_path
        super().__init__(f"{name} is locked by another writer: retry, or remove {lock_path} "
                         "if no gitsnap or git is running")


class RefConflict(RefError, RepositoryError):
    """A ref cannot be created because a ref exists at its parent path or below its path."""

    def __init__(self, name: str, other: str) -> None:
        self.name, self.other = name, other
        super().__init__(f"cannot create {name}: ref {other} exists "
                         "(a ref name cannot be both a ref and a directory of refs)")


def is_object_id(value: object) -> bool:
    """Whether ``value`` is a full lower-case hex object id (SHA-1, or SHA-256)."""
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None


class BadRefName(InvalidInput, ValueError):
    """A name git would not take as a ref (exit 2): it came from input no check stopped sooner."""


def check_name(name: str) -> None:
    """Raise BadRefName (a ValueError) unless ``name`` is a ref name under refs/ that git accepts."""
    if not name.startswith(_SCOPE) or len(name) == len(_SCOPE) or _BAD_NAME.search(name):
        raise BadRefName(f"{name!r} is not a ref name git accepts")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _valid_component(name: str) -> bool:
    return bool(name) and "/" not in name and not _BAD_NAME.search(name)



# --- locks ---


_ATTEMPTS = 10


class _Lock:
    """``<path>.lock`` taken with O_EXCL (never waited on); committed by rename, otherwise removed."""

    def __init__(self, path: str, name: str, make_parents: bool = True) -> None:
        self.path, self.lock_path, self.fd = path, path + ".lock", -1
        # A delete elsewhere may prune the directory between our mkdir and our open (git retries too):
        # os.makedirs then says FileExistsError (it saw EEXIST, then no directory), os.open FileNotFoundError.
        for attempt in range(_ATTEMPTS):
            last = attempt == _ATTEMPTS - 1
            if make_parents:
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                except FileExistsError:  # also what a file in the way says: that one fails every time
                    if last:
                        raise
                    continue
            try:
                self.fd = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                return
            except FileExistsError:
                raise RefLocked(name, self.lock_path) from None
            except FileNotFoundError:
                if not make_parents or last:
                    raise

    def commit(self, content: bytes) -> None:
        """Write ``content`` into the lock and rename it over the target, which releases the lock."""
        view = memoryview(content)
        while view:
            view = view[os.write(self.fd, view):]
        os.fsync(self.fd)  # as dulwich does: after a power cut the ref holds the old or the new id, never nothing
        fd, self.fd = self.fd, -1
        try:
            os.close(fd)
            os.rename(self.lock_path, self.path)
        except BaseException:
            _unlink(self.lock_path)
            raise

    def release(self) -> None:
        """Remove the lock if it is still ours."""
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            try:
                os.close(fd)
            finally:
                _unlink(self.lock_path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _read_file(path: str) -> bytes | None:
    """A loose ref file's bytes, or None when there is no file at ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        chunks = [os.read(fd, 4096)]  # a ref is 41 bytes: one read, and a short read is the end of the file
        while len(chunks[-1]) == 4096:
            chunks.append(os.read(fd, 4096))
        return b"".join(chunks)
    except IsADirectoryError:  # a directory of refs at this path: not a loose ref
        return None
    finally:
        os.close(fd)


def _value(content: bytes) -> str:
    return _decode(content.rstrip(b"\r\n"))


# --- the store ---


class Refs:
    """The refs of one bare repository: read, list and compare-and-swap, compatible with C git."""

    def __init__(self, git_dir: str | os.PathLike[str], patience: Patience = Patience()) -> None:
        self.git_dir = os.fspath(git_dir)
        self.patience = patience
        self._packed_path = os.path.join(self.git_dir, "packed-refs")
        self._packed: Packed | None = None

    def read(self, name: str) -> str | None:
        """One ref's value as stored (loose file first, then packed-refs), or None."""
        check_name(name)
        return self._current(name)

    def list(self, prefix: str) -> dict[str, str]:
        """Every ref whose name starts with ``prefix`` (loose overrides packed), sorted as git sorts."""
        if not prefix.startswith(_SCOPE) and not _SCOPE.startswith(prefix):
            return {}
        found = {name: value for name, value in self._load_packed().scan(_encode(prefix))}
        found.update((_encode(name), _encode(value)) for name, value in self._loose(prefix))
        return {_decode(name): _decode(found[name]) for name in sorted(found)}

    def children(self, prefix: str) -> set[str]:
        """The names one level below the directory ``prefix`` that hold refs, without reading values."""
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        if not prefix.startswith(_SCOPE):
            raise BadRefName(f"ref prefix {prefix!r} is not under {_SCOPE}")
        names = {_decode(child) for child in self._load_packed().children(_encode(prefix))}
        for entry in _scandir(self._directory(prefix.rstrip("/"))):
            if entry.name in names or not _valid_component(entry.name):
                continue
            if entry.is_file(follow_symlinks=False) or (entry.is_dir(follow_symlinks=False) and _holds_ref(entry.path)):
                names.add(entry.name)
        return names

    def swap(self, name: str, old: str | None, new: str | None) -> bool:
        """Compare-and-swap: create (``old`` None), move, or delete (``new`` None); False if ``name`` is not ``old``.

        RefLocked when another writer holds the lock; a ref in the way, a full disk or a read-only
        repository is one RepositoryError line, with nothing left behind.
        """
        with write_errors(self.git_dir):
            return self._cas(name, old, new)

    def path(self, name: str) -> str:
        return self._path(name)

    def update(self, name: str, build: Callable[[str | None], tuple[str | None, T]]) -> T:
        """Move ``name`` to what ``build(tip)`` returns, by CAS; rebuild and retry on a lost race.

        ``build`` returns (new tip, result); a new tip of None or equal to the tip moves nothing. It
        runs again only when the tip moved: a ref locked by another writer is retried as built.
        """
        patience = self.patience
        tip: str | None = None
        locked_since: float | None = None
        for attempt in range(patience.attempts):
            current = self.read(name)
            if attempt == 0 or current != tip:
                if current is not None and not is_object_id(current):
                    raise RepositoryError(f"{name} holds {current!r}, not an object id; fix or delete the ref")
                tip = current
                new, result = build(tip)
                if new is None or new == tip:
                    return result
            try:
                if self.swap(name, tip, new):
                    return result
                locked_since = None
            except RefLocked as error:
                locked_since = locked_since or time.monotonic()
                if time.monotonic() - locked_since >= patience.lock_seconds:
                    raise Conflict(f"{name} has been locked for over {patience.lock_seconds:g} s: remove "
                                   f"{error.lock_path} if no gitsnap or git is running") from None
            time.sleep(patience.backoff(attempt))
        raise Conflict(f"{name} kept changing under {patience.attempts} attempts to update it; try again")

    def delete(self, name: str, old: str) -> None:
        """Delete a ref if it still holds ``old``."""
        try:
            removed = self.swap(name, old, None)
        except RefLocked:
            removed = False
        if not removed:
            raise Conflict(f"{name} changed while deleting it; nothing was deleted")

    def moves(self) -> list[tuple[str, str | None, str | None]]:
        """(ref, old, new) of what a dry run would have moved: nothing for a real repository."""
        return []

    def _cas(self, name: str, old: str | None, new: str | None) -> bool:
        check_name(name)
        if new is not None and not is_object_id(new):
            raise ValueError(f"{name}: {new!r} is not an object id")
        if old is None and new is None:
            return self.read(name) is None
        if old is None:
            self._refuse_conflict(name)
        lock = self._lock(name)
        try:
            if self._current(name) != old:
                return False
            if new is not None:
                if old != new:
                    self._write(lock, name, new)
                return True
            self._delete(name)
        finally:
            lock.release()
        self._prune_empty_parents(name)
        return True

    # --- internals ---

    def _path(self, name: str) -> str:
        return os.path.join(self.git_dir, name)

    def _directory(self, directory: str) -> str:
        """The path of a directory of refs, refusing names that would leave refs/."""
        if any(not _valid_component(part) for part in directory.split("/")):
            raise BadRefName(f"invalid ref prefix {directory!r}")
        return self._path(directory)

    def _load_packed(self) -> Packed:
        self._packed = read_packed(self._packed_path, self._packed)
        return self._packed

    def _current(self, name: str) -> str | None:
        content = _read_file(self._path(name))
        if content is not None:
            return _value(content)
        value = self._load_packed().get(_encode(name))
        return None if value is None else _decode(value)

    def _lock(self, name: str) -> _Lock:
        try:
            return _Lock(self._path(name), name)
        except (NotADirectoryError, FileExistsError, IsADirectoryError):
            self._refuse_conflict(name)  # a parent path is a file: name the ref that is in the way
            raise

    def _write(self, lock: _Lock, name: str, new: str) -> None:
        path = self._path(name)
        if os.path.isdir(path):
            self._remove_empty_tree(name, path)
        try:
            lock.commit(_encode(new) + b"\n")
        except IsADirectoryError:  # another writer made a directory at path while we held the lock
            self._remove_empty_tree(name, path)  # names its ref (RefConflict) or its lock (RefLocked)
            raise

    def _remove_empty_tree(self, name: str, path: str) -> None:
        """Remove the empty directories a delete left at ``path`` (git does the same before creating)."""
        for root, _, files in os.walk(path, topdown=False):
            if files:
                self._refuse_conflict(name)
                if files[0].endswith(".lock"):  # another writer is creating a ref below name
                    raise RefLocked(name, os.path.join(root, files[0]))
                raise RefConflict(name, os.path.relpath(os.path.join(root, files[0]), self.git_dir))
            os.rmdir(root)

    def _delete(self, name: str) -> None:
        """Delete ``name`` (its lock held): packed entry first, so no stale packed value shows through."""
        key = _encode(name)
        if self._load_packed().get(key) is not None:
            # held over the rewrite and the loose delete after it, as git holds it
            packed_lock = _Lock(self._packed_path, name, make_parents=False)
            try:
                self._rewrite_packed_without(key)
                _unlink(self._path(name))
            finally:
                packed_lock.release()
        else:
            _unlink(self._path(name))

    def _rewrite_packed_without(self, key: bytes) -> None:
        """Stream packed-refs without ``key``'s record into a temp file and rename it into place."""
        packed = self._load_packed()  # re-read under packed-refs.lock
        span = packed.span(key)
        if span is None:
            return
        temp = os.path.join(self.git_dir, f"packed-refs.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            try:
                _copy_except(fd, packed, span)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temp, self._packed_path)
        except BaseException:
            _unlink(temp)
            raise

    def _prune_empty_parents(self, name: str) -> None:
        """Remove directories a delete emptied, keeping refs/<namespace> itself (as git does)."""
        parts = name.split("/")[:-1]
        while len(parts) > 2:
            try:
                os.rmdir(os.path.join(self.git_dir, *parts))
            except OSError:
                return  # not empty, or already gone: nothing to tidy
            parts.pop()

    def _refuse_conflict(self, name: str) -> None:
        """Raise RefConflict if a ref exists at a parent path of ``name`` or below it (loose or packed)."""
        packed = self._load_packed()
        parts = name.split("/")
        for depth in range(2, len(parts)):
            parent = "/".join(parts[:depth])
            if _is_file(self._path(parent)) or packed.get(_encode(parent)) is not None:
                raise RefConflict(name, parent)
        below = next(self._loose(name + "/"), None)
        if below is None:
            below = next(((_decode(k), v) for k, v in packed.scan(_encode(name + "/"))), None)
        if below is not None:
            raise RefConflict(name, below[0])

    def _loose(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(name, value) of the loose refs whose names start with ``prefix``, walking only its directory."""
        if _SCOPE.startswith(prefix):
            prefix = _SCOPE
        directory, _, leaf = prefix.rpartition("/")
        for entry in _scandir(self._directory(directory)):
            if entry.name.startswith(leaf) and _valid_component(entry.name):
                yield from _walk(entry, f"{directory}/{entry.name}")


def _copy_except(fd: int, packed: Packed, span: tuple[int, int]) -> None:
    """Write ``packed``'s bytes without ``span``, 1 MB at a time."""
    for lo, hi in ((0, span[0]), (span[1], packed.size)):
        for offset in range(lo, hi, 1 << 20):
            chunk = memoryview(packed.read(offset, min(hi, offset + (1 << 20)) - offset))
            while chunk:
                chunk = chunk[os.write(fd, chunk):]


def _scandir(path: str) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as entries:
            return list(entries)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _walk(entry: os.DirEntry, name: str) -> Iterator[tuple[str, str]]:
    """(name, value) of the loose ref at ``entry``, or of every loose ref below it."""
    if entry.is_dir(follow_symlinks=False):
        for child in _scandir(entry.path):
            if _valid_component(child.name):
                yield from _walk(child, f"{name}/{child.name}")
    elif entry.is_file(follow_symlinks=False):
        content = _read_file(entry.path)
        if content is not None:  # deleted while we listed
            yield name, _value(content)


def _holds_ref(path: str) -> bool:
    """Whether any loose ref lies below the directory ``path`` (stops at the first)."""
    for entry in _scandir(path):
        if _valid_component(entry.name):
            if entry.is_file(follow_symlinks=False):
                return True
            if entry.is_dir(follow_symlinks=False) and _holds_ref(entry.path):
                return True
    return False


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


class DryRunRefs(Refs):
    """Refs whose compare-and-swaps are recorded, not made: a dry run computes everything and moves nothing."""

    def __init__(self, git_dir: str, patience: Patience = Patience()):
        super().__init__(git_dir, patience)
        self._moved: dict[str, tuple[str | None, str | None]] = {}  # ref -> (value on disk, value now)

    def read(self, name: str) -> str | None:
        return self._moved[name][1] if name in self._moved else super().read(name)

    def list(self, prefix: str) -> dict[str, str]:
        found = super().list(prefix)
        for name, (_, new) in self._moved.items():
            if name.startswith(prefix) and new is None:
                found.pop(name, None)
            elif name.startswith(prefix):
                found[name] = new
        return found

    def children(self, prefix: str) -> set[str]:
        start = prefix.rstrip("/") + "/"
        moved = {name[len(start):].split("/", 1)[0] for name, (_, new) in self._moved.items()
                 if new is not None and name.startswith(start)}
        return super().children(prefix) | moved

    def swap(self, name: str, old: str | None, new: str | None) -> bool:
        if self.read(name) != old:
            return False
        on_disk = self._moved[name][0] if name in self._moved else old
        if on_disk == new:
            self._moved.pop(name, None)
        else:
            self._moved[name] = (on_disk, new)
        return True

    def moves(self) -> list[tuple[str, str | None, str | None]]:
        return [(name, old, new) for name, (old, new) in sorted(self._moved.items())]
