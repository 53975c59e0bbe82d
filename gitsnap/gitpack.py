"""Pack files: objects read by id with one inflate each, and a received pack indexed in one pass.

dulwich's pack reader inflates an object through a Python loop over chunks, and its indexer
(``add_pack``/``add_thin_pack``) inflates each object about four times on its way to the index (to
find where it ends, to hash it, again for each delta chain): most of a version listing's and of a
clone's time. Here each object is inflated once, from the pack mapped into memory, and a delta is
applied (dulwich's C ``apply_delta``) to its base, kept from recent reads or from the same pass.
An id's offset is found in the version 2 index, mapped too (dulwich's reader would cost a read
command the import of dulwich's object store). A thin pack (a delta against an object the pack does
not hold) is left to dulwich, which completes it.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from typing import NamedTuple

from dulwich.errors import ApplyDeltaError

try:  # the C function dulwich.pack uses, without importing dulwich.pack (and its object store) for it
    from dulwich._pack import apply_delta
except ImportError:  # dulwich built without its C extensions
    from dulwich.pack import apply_delta

COMMIT, TREE, BLOB, TAG, OFS_DELTA, REF_DELTA = 1, 2, 3, 4, 6, 7  # git's type numbers
TYPE_NAMES = {COMMIT: b"commit", TREE: b"tree", BLOB: b"blob", TAG: b"tag"}
TYPE_NUMBERS = {name: number for number, name in TYPE_NAMES.items()}
_SLACK = 64  # bytes beyond an object's size that its deflated form may take (headers, stored blocks)
PACK_MAX = 64 * 2**20  # a larger received pack is left to dulwich's indexer, which streams it from disk
INFLATED_MAX = 256 * 2**20  # so is one whose objects inflate to more (every object is held until the end)
_IDX_NAMES = 8 + 256 * 4  # where a version 2 index's sorted ids begin: after its header and fan-out table


class CorruptPack(ValueError):
    """The bytes are not a well-formed pack (the message says where)."""


class _Delta(NamedTuple):
    offset: int
    crc: int
    base: int | bytes  # the base's offset (OFS_DELTA) or binary id (REF_DELTA)
    delta: bytes


def index_pack(data: bytes) -> list[tuple[bytes, int, int]] | None:
    """(binary id, offset, CRC32) of every object of a pack, sorted; CorruptPack if malformed.

    None: a pack for dulwich's indexer, thin (deltas against objects it does not hold) or too large
    to hold inflated in memory (``INFLATED_MAX``).
    """
    import hashlib

    if len(data) < 32 or data[:4] != b"PACK" or int.from_bytes(data[4:8], "big") not in (2, 3):
        raise CorruptPack("no pack header")
    if hashlib.sha1(memoryview(data)[:-20]).digest() != data[-20:]:
        raise CorruptPack("its checksum does not match its contents")
    count, view, limit = int.from_bytes(data[8:12], "big"), memoryview(data), len(data) - 20
    contents: dict[int, tuple[int, bytes]] = {}  # offset -> (type, contents), for the deltas' bases
    entries, deltas, position, inflated_total = [], [], 12, 0
    for _ in range(count):
        offset = position
        kind, size, position = _object_header(data, position, limit)
        inflated_total += size
        if inflated_total > INFLATED_MAX:
            return None
        if kind == OFS_DELTA:
            distance, position = _base_distance(data, position, limit)
            base: int | bytes = offset - distance
        elif kind == REF_DELTA:
            base, position = data[position:position + 20], position + 20
        elif kind not in TYPE_NAMES:
            raise CorruptPack(f"object at offset {offset} has unknown type {kind}")
        inflated, position = _inflate(view, position, size, limit, offset)
        crc = zlib.crc32(view[offset:position])
        if kind in (OFS_DELTA, REF_DELTA):
            deltas.append(_Delta(offset, crc, base, inflated))
        else:
            contents[offset] = (kind, inflated)
            entries.append((object_id(kind, inflated), offset, crc))
    if position != limit:
        raise CorruptPack(f"{limit - position} bytes after its {count} objects")
    resolved = _resolve(deltas, contents, {sha: offset for sha, offset, _crc in entries}, inflated_total)
    if resolved is None:
        return None
    entries = sorted(entries + resolved)
    for before, after in zip(entries, entries[1:]):
        if before[0] == after[0]:
            raise CorruptPack(f"object {after[0].hex()} is in it twice")
    return entries


def _object_header(data: bytes, position: int, limit: int) -> tuple[int, int, int]:
    """(type, inflated size, position after the header) of the object at ``position``."""
    if position >= limit:
        raise CorruptPack("it ends before its last object")
    byte = data[position]
    kind, size, shift = (byte >> 4) & 7, byte & 15, 4
    while byte & 0x80:
        position += 1
        if position >= limit or shift > 63:
            raise CorruptPack(f"bad object header at offset {position}")
        byte = data[position]
        size |= (byte & 0x7F) << shift
        shift += 7
    return kind, size, position + 1


def _base_distance(data: bytes, position: int, limit: int) -> tuple[int, int]:
    """An OFS_DELTA's distance back to its base, and the position after it (git's offset encoding)."""
    if position >= limit:
        raise CorruptPack(f"bad delta base offset at {position}")
    byte = data[position]
    distance, position = byte & 0x7F, position + 1
    while byte & 0x80:
        if position >= limit or distance > 1 << 56:
            raise CorruptPack(f"bad delta base offset at {position}")
        byte = data[position]
        distance, position = ((distance + 1) << 7) | (byte & 0x7F), position + 1
    return distance, position


def _inflate(view: memoryview, position: int, size: int, limit: int, offset: int) -> tuple[bytes, int]:
    """The ``size`` bytes deflated at ``position``, and the position after them."""
    inflater = zlib.decompressobj()
    end = min(limit, position + size + size // 1000 + _SLACK)
    try:
        inflated = inflater.decompress(view[position:end], size + 1)
        while not inflater.eof and len(inflated) <= size and end < limit and not inflater.unconsumed_tail:
            step = min(limit, end + 65536)
            inflated += inflater.decompress(view[end:step], size + 1 - len(inflated))
            end = step
    except zlib.error as error:
        raise CorruptPack(f"object at offset {offset} does not inflate ({error})") from None
    if not inflater.eof or len(inflated) != size:
        raise CorruptPack(f"object at offset {offset} does not inflate to its {size} bytes")
    return inflated, end - len(inflater.unused_data)


def object_id(kind: int, contents: bytes) -> bytes:
    """The binary id git gives an object of this type and contents."""
    import hashlib  # here: a command that reads objects by id never hashes

    digest = hashlib.sha1(b"%s %d\0" % (TYPE_NAMES[kind], len(contents)))
    digest.update(contents)
    return digest.digest()


def _resolve(deltas: list[_Delta], contents: dict[int, tuple[int, bytes]], offsets: dict[bytes, int],
             inflated_total: int) -> list[tuple[bytes, int, int]] | None:
    """Apply each delta to its base (bases may be deltas themselves); None when a base is not in the pack
    or the objects would take more than ``INFLATED_MAX``."""
    resolved, waiting = [], deltas
    while waiting:
        still = []
        for delta in waiting:
            base_offset = delta.base if isinstance(delta.base, int) else offsets.get(delta.base)
            if base_offset is None or base_offset not in contents:
                still.append(delta)
                continue
            kind, base = contents[base_offset]
            result = _applied(base, delta.delta, delta.offset)
            inflated_total += len(result)
            if inflated_total > INFLATED_MAX:
                return None
            sha = object_id(kind, result)
            contents[delta.offset] = (kind, result)
            offsets[sha] = delta.offset
            resolved.append((sha, delta.offset, delta.crc))
        if len(still) == len(waiting):
            if any(isinstance(delta.base, int) for delta in still):
                raise CorruptPack("a delta's base is not an object of the pack")
            return None  # thin: its bases are objects the receiver already has
        waiting = still
    return resolved


class PackIndex:
    """A version 2 pack index (``.idx``), mapped: an id's offset found by binary search of its sorted ids.

    ValueError for anything else (a version 1 index, a truncated file): dulwich's reader takes those.
    """

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            if self._data[:8] != b"\377tOc\0\0\0\2":
                raise ValueError(f"{path} is not a version 2 pack index")
            if len(self._data) < _IDX_NAMES:
                raise ValueError(f"{path} ends within its fan-out table")
            self._fanout = struct.unpack_from(">256I", self._data, 8)
            count = self._fanout[255]
            self._offsets = _IDX_NAMES + 24 * count  # after the ids and their CRC32s
            self._large_offsets = self._offsets + 4 * count
            if len(self._data) < self._large_offsets + 40:
                raise ValueError(f"{path} is shorter than its {count} entries")
        except ValueError:
            self._data.close()
            raise

    def close(self) -> None:
        self._data.close()

    def object_offset(self, sha: bytes) -> int:
        """The pack offset of the object with binary id ``sha``; KeyError when the pack does not hold it."""
        data, first = self._data, sha[0]
        low, high = self._fanout[first - 1] if first else 0, self._fanout[first]
        while low < high:
            middle = (low + high) // 2
            at = _IDX_NAMES + 20 * middle
            name = data[at:at + 20]
            if name < sha:
                low = middle + 1
            elif name > sha:
                high = middle
            else:
                at = self._offsets + 4 * middle
                offset = int.from_bytes(data[at:at + 4], "big")
                if offset & 0x80000000:  # an index into the table of 8-byte offsets (packs over 2 GiB)
                    at = self._large_offsets + 8 * (offset & 0x7FFFFFFF)
                    offset = int.from_bytes(data[at:at + 8], "big")
                return offset
        raise KeyError(sha)


class PackReader:
    """One pack's objects by binary id: its index and its data (``<base>.idx``, ``<base>.pack``), mapped once."""

    CACHE_BYTES = 16 * 2**20  # objects resolved lately, by offset: the bases of the next deltas of a walk

    def __init__(self, base: str):
        self.base = base
        self.index = PackIndex(base + ".idx")
        try:
            with open(base + ".pack", "rb") as handle:
                self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            self.index.close()
            raise
        self._view = memoryview(self._data)
        self._recent: dict[int, tuple[int, bytes]] = {}
        self._recent_bytes = 0

    def close(self) -> None:
        self._view.release()
        self._data.close()
        self.index.close()

    def get_raw(self, sha: bytes) -> tuple[int, bytes]:
        """(type number, contents) of an object by binary id; KeyError when the pack does not hold it."""
        return self._at(self.index.object_offset(sha))

    def _at(self, offset: int) -> tuple[int, bytes]:
        """The object at ``offset``: its delta chain walked down to a whole object, then applied back up."""
        deltas: list[tuple[int, bytes]] = []
        limit = len(self._data) - 20
        while (found := self._recent.get(offset)) is None:
            kind, size, position = _object_header(self._data, offset, limit)
            if kind == OFS_DELTA:
                distance, position = _base_distance(self._data, position, limit)
                base = offset - distance
                if not 12 <= base < offset:
                    raise CorruptPack(f"delta at offset {offset} has a base outside the pack")
            elif kind == REF_DELTA:
                base, position = self.index.object_offset(self._data[position:position + 20]), position + 20
            elif kind not in TYPE_NAMES:
                raise CorruptPack(f"object at offset {offset} has unknown type {kind}")
            inflated, _end = _inflate(self._view, position, size, limit, offset)
            if kind in TYPE_NAMES:
                found = self._remember(offset, (kind, inflated))
                break
            if len(deltas) > 10_000:  # git's deepest chains are 4,095; a longer one is a loop
                raise CorruptPack(f"delta chain at offset {offset} does not end")
            deltas.append((offset, inflated))
            offset = base
        for delta_offset, delta in reversed(deltas):
            found = self._remember(delta_offset, (found[0], _applied(found[1], delta, delta_offset)))
        return found

    def _remember(self, offset: int, value: tuple[int, bytes]) -> tuple[int, bytes]:
        if len(value[1]) <= self.CACHE_BYTES // 16:
            while self._recent and self._recent_bytes + len(value[1]) > self.CACHE_BYTES:
                self._recent_bytes -= len(self._recent.pop(next(iter(self._recent)))[1])
            self._recent[offset] = value
            self._recent_bytes += len(value[1])
        return value


def _applied(base: bytes, delta: bytes, offset: int) -> bytes:
    try:
        return b"".join(apply_delta(base, delta))
    except (ApplyDeltaError, ValueError, IndexError) as error:
        raise CorruptPack(f"delta at offset {offset} does not apply ({error})") from None
