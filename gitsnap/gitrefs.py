"""Refs of a bare repository, read and moved the way C git does it, without parsing all of them.

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
import weakref
from collections.abc import Iterator

__all__ = ["RefConflict", "RefError", "RefLocked", "Refs", "check_name", "is_object_id"]

_OBJECT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \, no "..", "@{", "//", no component
# starting with "." or ending with ".lock", no trailing "/" or ".".
_BAD_NAME = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|(^|/)\.|\.lock(/|$)|[/.]$")
_HEADER = b"# pack-refs with:"
_SCOPE = "refs/"


class RefError(Exception):
    """A ref could not be changed as asked."""


class RefLocked(RefError):
    """Another writer holds the lock this change needs; never waited on, the caller retries."""

    def __init__(self, name: str, lock_path: str) -> None:
        self.name, self.lock_path = name, lock_path
        super().__init__(f"{name} is locked by another writer: retry, or remove {lock_path} "
                         "if no gitsnap or git is running")


class RefConflict(RefError):
    """A ref cannot be created because a ref exists at its parent path or below its path."""

    def __init__(self, name: str, other: str) -> None:
        self.name, self.other = name, other
        super().__init__(f"cannot create {name}: ref {other} exists "
                         "(a ref name cannot be both a ref and a directory of refs)")


def is_object_id(value: object) -> bool:
    """Whether ``value`` is a full lower-case hex object id (SHA-1, or SHA-256)."""
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None


def check_name(name: str) -> None:
    """Raise ValueError unless ``name`` is a ref name under refs/ that git accepts."""
    if not name.startswith(_SCOPE) or len(name) == len(_SCOPE) or _BAD_NAME.search(name):
        raise ValueError(f"invalid ref name {name!r}")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _valid_component(name: str) -> bool:
    return bool(name) and "/" not in name and not _BAD_NAME.search(name)


# --- packed-refs ---


class _Packed:
    """One version of packed-refs (one file identity): bisected when sorted, else parsed once.

    A small file is read whole; a large one is read with pread() where needed, never whole: a bisection
    touches ~17 places in 100,000 refs, and pread() costs 0.4 us each where first touching a page of a
    fresh mmap costs ~2 us (measured), so a one-shot command reads a ref sooner this way.
    """

    def __init__(self, fd: int = -1, size: int = 0, key: tuple = ()) -> None:
        # Owns ``fd`` until collected: an open file's inode number cannot be reused, so while this version
        # is cached no other file can have its key (device, inode, size, mtime).
        self.size, self.key, self._fd, self._data = size, key, fd, b""
        if fd >= 0:
            weakref.finalize(self, os.close, fd)
        self._whole = fd < 0 or size < _READ_WHOLE_BELOW
        if self._whole and size:
            self._data = _read_all(fd, size)
        self.start, self.sorted, self.skip = 0, False, 41
        head = self.read(0, 4096)
        if head.startswith(_HEADER):
            end = head.find(b"\n") + 1 or len(head)
            # A last line without its newline would defeat the "name\n" comparisons below: parse such a file.
            self.start = end
            self.sorted = b"sorted" in head[len(_HEADER):end].split() and self.read(size - 1, 1) == b"\n"
            space = head.find(b" ", end)  # "<hex> " comes before every name: 41 bytes (SHA-1) or 65 (SHA-256)
            self.skip = space + 1 - end if space >= 0 else 41
        self._parsed: dict[bytes, bytes] | None = None

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the file)."""
        if self._whole:
            return self._data[offset:offset + length]
        return os.pread(self._fd, length, offset) if length > 0 else b""

    def records(self, pos: int | None = None) -> Iterator[tuple[int, int, bytes, bytes]]:
        """(start, end of line, name, value) of every record from ``pos`` on, read in growing chunks."""
        pos = self.start if pos is None else pos
        chunk_size = 4096  # a listing of one org reads a few KB, a full listing grows to 1 MB reads
        while pos < self.size:
            chunk = self.read(pos, chunk_size)
            last = chunk.rfind(b"\n") + 1
            if not last:  # no full line in the chunk: a longer line, or the file's unterminated last line
                if pos + len(chunk) < self.size:
                    chunk_size *= 4
                    continue
                last = len(chunk)
            at = 0
            while at < last:
                end = chunk.find(b"\n", at, last) + 1 or last
                space = chunk.find(b" ", at, end)
                if space > at and chunk[at] != 0x5E:  # not a peeled line, not a blank or broken line
                    yield pos + at, pos + end, chunk[space + 1:end].rstrip(b"\n"), chunk[at:space]
                at = end
            pos += last
            chunk_size = min(chunk_size * 2, 1 << 20)

    def get(self, name: bytes) -> bytes | None:
        """The stored value of ``name``, or None."""
        if not self.sorted:
            return self._all().get(name)
        pos, probe = self._first_at_or_after(name), name + b"\n"
        line = self.read(pos, self.skip + len(probe))
        return line[:self.skip - 1] if line[self.skip:] == probe and line[self.skip - 1] == 0x20 else None

    def span(self, name: bytes) -> tuple[int, int] | None:
        """The byte range of ``name``'s record, its peeled line included, or None."""
        probe = name + b"\n"
        if self.sorted:
            start = self._first_at_or_after(name)
            if self.read(start + self.skip, len(probe)) != probe:
                return None
            end = start + self.skip + len(probe)
        else:
            found = next(((s, e) for s, e, key, _ in self.records() if key == name), None)
            if found is None:
                return None
            start, end = found
        while self.read(end, 1) == b"^":
            end += self.read(end, 256).find(b"\n") + 1 or self.size - end
        return start, end

    def scan(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(name, value) of every record whose name starts with ``prefix``, sorted when the file is."""
        if not self.sorted:
            yield from ((k, v) for k, v in self._all().items() if k.startswith(prefix))
            return
        for _, _, name, value in self.records(self._first_at_or_after(prefix)):
            if not name.startswith(prefix):
                return
            yield name, value

    def children(self, prefix: bytes) -> Iterator[bytes]:
        """The distinct first components below ``prefix``, skipping each child's subtree by bisection."""
        if not self.sorted:
            yield from {k[len(prefix):].split(b"/", 1)[0] for k in self._all() if k.startswith(prefix)}
            return
        pos = self._first_at_or_after(prefix)
        while (record := next(self.records(pos), None)) is not None:
            _, end, name, _ = record
            if not name.startswith(prefix):
                return
            child, slash, _ = name[len(prefix):].partition(b"/")
            yield child
            # "child0" sorts right after every "child/..." ("0" follows "/"): skip the subtree by bisection
            pos = self._first_at_or_after(prefix + child + b"0") if slash else end

    def _first_at_or_after(self, key: bytes) -> int:
        """Offset of the first record whose name is >= ``key`` (git's find_reference_location).

        Names are compared as ``name + "\\n"`` against ``key + "\\n"`` on a slice of fixed length: "\\n" sorts
        before every byte a ref name may hold, so this orders as the names do without finding each line's end.
        """
        probe = key + b"\n"
        lo, hi, window = self.start, self.size, _STEP_READ
        while hi - lo > _LAST_STEPS_WITHIN:  # narrow [lo, hi) with one small pread per step
            mid = (lo + hi) >> 1
            buf = self.read(mid, window + len(probe))
            step = _step(buf, probe, self.skip, mid + len(buf) >= self.size)
            if step is None:  # a line longer than the window
                window *= 4
                continue
            rec, end = step
            if mid + rec >= hi:  # no record starts in (mid, hi): finish in memory
                break
            lo, hi = (lo, mid + rec) if end is None else (mid + end, hi)
        chunk = self.read(lo, hi - lo)
        return lo + _bisect(chunk, 0, len(chunk), probe, self.skip)

    def _all(self) -> dict[bytes, bytes]:
        if self._parsed is None:
            self._parsed = {name: value for _, _, name, value in self.records()}
        return self._parsed


def _step(buf: bytes, probe: bytes, skip: int, at_eof: bool) -> tuple[int, int | None] | None:
    """Read at a midpoint: (start of the first record after it, its end if its name is below the key,
    else None); None when ``buf`` is too short to tell."""
    rec = buf.find(b"\n") + 1
    while rec and buf[rec:rec + 1] == b"^":
        rec = buf.find(b"\n", rec) + 1
    if not rec:
        return None
    if rec == len(buf):
        return (rec, None) if at_eof else None
    at = rec + skip
    name = buf[at:at + len(probe)]
    if len(name) < len(probe) and not at_eof and b"\n" not in name:
        return None
    if name >= probe:
        return rec, None
    end = buf.find(b"\n", at) + 1
    while end and buf[end:end + 1] == b"^":
        end = buf.find(b"\n", end) + 1
    if not end or (end == len(buf) and not at_eof):
        return None
    return rec, end


def _bisect(data: bytes, lo: int, hi: int, probe: bytes, skip: int) -> int:
    """Offset of the first record in ``data[lo:hi]`` (whole records) whose ``name + "\\n"`` >= ``probe``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        rec = data.rfind(b"\n", lo, mid) + 1 or lo
        if data[rec] == 0x5E:  # a peeled line: its record starts on the line before
            rec = data.rfind(b"\n", lo, rec - 1) + 1 or lo
        at = rec + skip
        if data[at:at + len(probe)] < probe:
            lo = data.find(b"\n", at) + 1 or hi
            while data[lo:lo + 1] == b"^":
                lo = data.find(b"\n", lo) + 1 or hi
        else:
            hi = rec
    return lo


def _read_all(fd: int, size: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, max(size, 4096)):
        chunks.append(chunk)
    return b"".join(chunks)


def _file_key(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


_READ_WHOLE_BELOW = 1 << 16
_STEP_READ = 1024  # bytes read at a bisection step: a partial line, then a whole record (grown if a line is longer)
_LAST_STEPS_WITHIN = 4096  # bisect the last few KB in memory after one read


def _read_packed(path: str, cached: _Packed | None = None) -> _Packed:
    """The current packed-refs file, reusing ``cached`` while the file is the same one."""
    if cached is not None:
        try:
            if cached.key == _file_key(os.stat(path)):
                return cached
        except FileNotFoundError:
            return _Packed()
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return _Packed()
    try:
        # packed-refs is only ever replaced by rename, never rewritten in place: an open file stays this version.
        st = os.fstat(fd)
        return _Packed(fd, st.st_size, _file_key(st))
    except BaseException:
        os.close(fd)
        raise


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
        chunks = []
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
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

    def __init__(self, git_dir: str | os.PathLike[str]) -> None:
        self.git_dir = os.fspath(git_dir)
        self._packed_path = os.path.join(self.git_dir, "packed-refs")
        self._packed: _Packed | None = None

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
            raise ValueError(f"ref prefix {prefix!r} is not under {_SCOPE}")
        names = {_decode(child) for child in self._load_packed().children(_encode(prefix))}
        for entry in _scandir(self._directory(prefix.rstrip("/"))):
            if entry.name in names or not _valid_component(entry.name):
                continue
            if entry.is_file(follow_symlinks=False) or (entry.is_dir(follow_symlinks=False) and _holds_ref(entry.path)):
                names.add(entry.name)
        return names

    def swap(self, name: str, old: str | None, new: str | None) -> bool:
        """Compare-and-swap: create (``old`` None), move, or delete (``new`` None); False if ``name`` is not ``old``."""
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
            raise ValueError(f"invalid ref prefix {directory!r}")
        return self._path(directory)

    def _load_packed(self) -> _Packed:
        self._packed = _read_packed(self._packed_path, self._packed)
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


def _copy_except(fd: int, packed: _Packed, span: tuple[int, int]) -> None:
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
