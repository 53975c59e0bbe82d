"""Transports: the second (and last) module that touches dulwich, for talking to other repositories.

Local paths, ``file://``, ``git://``, smart HTTP(S) and ssh all go through dulwich's client API
(``send_pack``, ``fetch_pack``), never its porcelain (which prints, overwrites tags and does not
expand refspec wildcards). Every dulwich or OS error becomes one ``GitsnapError`` line that names the
URL; credentials never appear in it.
"""

from __future__ import annotations

import mmap
import os
import re
from binascii import hexlify
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from tempfile import SpooledTemporaryFile
from typing import Literal, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from dulwich.client import (
    AbstractHttpGitClient,
    HTTPProxyUnauthorized,
    HTTPUnauthorized,
    SSHGitClient,
    get_transport_and_path,
)
from dulwich.config import ConfigFile
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository, SendPackError
from dulwich.object_store import MissingObjectFinder, ObjectStoreGraphWalker
from dulwich.objects import ZERO_SHA
from dulwich.pack import DELTA_TYPES, PACK_SPOOL_FILE_MAX_SIZE, UnpackedObject, full_unpacked_object
from dulwich.repo import ParentsProvider

from .errors import InvalidInput, NotFound, RepositoryError
from .gitmessage import one_line_problem
from .gitpack import PACK_MAX, CorruptPack, index_pack
from .gitstore import GitStore
from .progress import Progress

URL_SCHEMES = ("file", "git", "ssh", "git+ssh", "http", "https")
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?[^@/:]+:(?!//)")  # [user@]host:path, as git reads it
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")

FEW_OBJECTS = 1000  # below this, a push reads each object by id instead of passing over whole packs



# --- URLs ---------------------------------------------------------------------------------------------


class Url(NamedTuple):
    """A remote's location, its credentials kept apart so they are never stored or printed."""

    location: str  # the URL or path, without credentials
    kind: Literal["local", "file", "git", "ssh", "http"]
    username: str | None = None
    password: str | None = None

    @property
    def had_credentials(self) -> bool:
        return self.username is not None or self.password is not None


def parse_url(text: str) -> Url:
    """Check a URL or path and split the credentials off it; InvalidInput when it cannot be a remote."""
    if not text.strip() or text != text.strip() or one_line_problem(text):
        raise InvalidInput(f"{_redact(text)!r} is not a URL or path of a git repository")
    if "://" in text:
        return _parse_scheme_url(text)
    if _SCP_LIKE.match(text):  # git's rule: no slash before the first colon makes it ssh
        if not text.split(":", 1)[1]:
            raise InvalidInput(f"{text!r} names no repository path after the host (host:path/to/repo.git)")
        return Url(text, "ssh")
    return Url(os.path.abspath(text), "local")


def _redact(text: str) -> str:
    """``text`` with whatever could be a secret replaced by ``***``, for error messages.

    Everything between ``scheme://user:`` and the last ``@`` is a password however it is spelled
    (``/``, ``:`` and ``@`` included), and a query string may carry a token: when in doubt, hide more.
    """
    scheme, separator, rest = text.partition("://")
    if not separator:
        return text
    rest, question, _query = rest.partition("?")
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:***@{host}"
    return f"{scheme}://{rest}" + ("?***" if question else "")


def _parse_scheme_url(text: str) -> Url:
    shown = _redact(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"{shown!r} is not a valid URL (a password with / : @ or ? must be percent-encoded, "
                           "or given in GITSNAP_PASSWORD)") from None
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise InvalidInput(f"{shown!r}: a remote URL takes no query string or fragment (a token there would be "
                           "stored and shown; give credentials in GITSNAP_USERNAME and GITSNAP_PASSWORD)")
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        raise InvalidInput(f"{shown!r}: unsupported URL scheme {scheme!r} (use one of {', '.join(URL_SCHEMES)}, or a path)")
    if scheme != "file" and not parts.hostname:
        raise InvalidInput(f"{shown!r} names no host")
    if not parts.path.strip("/"):
        raise InvalidInput(f"{shown!r} names no repository path")
    kind = {"git+ssh": "ssh", "https": "http"}.get(scheme, scheme)
    if kind == "ssh" and parts.password is not None:
        raise InvalidInput(f"ssh URLs cannot carry a password ({_strip(parts, port, keep_user=True)}): use an ssh key or agent")
    if kind == "ssh" or parts.username is None:
        return Url(text if parts.password is None else _strip(parts, port, keep_user=True), kind)
    return Url(_strip(parts, port), kind, parts.username, parts.password or None)


def _strip(parts, port: int | None, keep_user: bool = False) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    user = f"{parts.username}@" if keep_user and parts.username else ""
    netloc = f"{user}{host}" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# --- the transport ------------------------------------------------------------------------------------


class PushOutcome(NamedTuple):
    """What the remote said about a push: per ref None (moved) or its error, and whether it was atomic."""

    statuses: dict[str, str | None]
    atomic: bool


class Transport:
    """One remote repository reached through dulwich's client for its URL."""

    def __init__(self, store: GitStore, url: Url, username: str | None = None, password: str | None = None,
                 progress: Progress | None = None):
        self.store = store
        self.url = url
        self.progress = progress
        self._line_open = False
        http = url.kind == "http"
        ssh_command = os.environ.get("GIT_SSH_COMMAND") or os.environ.get("GIT_SSH") or None
        with self._errors():
            self.client, self.path = get_transport_and_path(
                url.location, config=store.config_stack, ssh_command=ssh_command,
                username=(url.username or username) if http else None,
                password=(url.password or password) if http else None,
            )
        if url.kind == "ssh" and not isinstance(self.client, SSHGitClient):
            raise InvalidInput(f"{url.location} is not an ssh URL dulwich can use")

    def _say(self, text: str, ours: bool = True) -> None:
        """Pass progress text on; a line of ours first ends a progress line left open by a bare ``\\r``."""
        if self.progress is None or not text:
            return
        if ours and self._line_open:
            text = "\n" + text
        self.progress(text)
        self._line_open = not text.endswith("\n")

    def _remote_progress(self) -> Callable[[bytes], None] | None:
        if self.progress is None:
            return None
        return lambda data: self._say(data.decode("utf-8", "replace"), ours=False)

    # --- push ---

    def push(self, plan: Callable[[dict[str, str]], dict[str, str | None]]) -> PushOutcome:
        """Send the ref changes ``plan(remote refs)`` returns ({ref: new id, or None to delete}) and their objects.

        The push is atomic when the server offers it; otherwise each ref's outcome is reported.
        ``plan`` may raise to send nothing at all.
        """
        planned: dict[str, str | None] = {}

        def update_refs(remote: dict[bytes, bytes]) -> dict[bytes, bytes]:
            planned.clear()
            planned.update(plan(_decode_refs(remote)))
            return {ref.encode(): (sha.encode() if sha else ZERO_SHA) for ref, sha in planned.items()}

        with self._errors():
            try:
                result = self._send(update_refs, atomic=True)
                atomic = True
            except GitProtocolError as error:
                if "does not support atomic" not in str(error):
                    raise
                self._check_smart_http()
                result = self._send(update_refs, atomic=False)
                atomic = False
        statuses = {ref.decode(): error for ref, error in (result.ref_status or {}).items()}
        for ref in planned:  # a server that does not report status moved what it was sent
            statuses.setdefault(ref, None)
        return PushOutcome({ref: statuses[ref] for ref in planned}, atomic)

    def _send(self, update_refs, atomic: bool):
        def generate_pack_data(have, want, *, ofs_delta=False, progress=None):
            count, records = _pack_records(self.store.objects.dulwich_store, set(have), set(want), progress)
            self._say(f"Sending {count} objects to {self.url.location}\n")
            return count, records

        return self.client.send_pack(self.path.encode(), update_refs, generate_pack_data,
                                     progress=self._remote_progress(), atomic=atomic)

    def _check_smart_http(self) -> None:
        if isinstance(self.client, AbstractHttpGitClient) and self.client.dumb:
            raise InvalidInput(f"{self.url.location} is not served by git's smart HTTP protocol; "
                               "a plain (dumb) HTTP server cannot receive a push")

    # --- fetch ---

    def fetch(self, prefixes: list[str], wants: Callable[[dict[str, str]], list[str]], haves: list[str]) -> dict[str, str]:
        """Bring the objects of ``wants(remote refs)`` into the store; return the remote refs under ``prefixes``.

        ``haves`` (local tips) tell the server what need not be sent. No local ref moves here.
        """
        objects = self.store.objects.dulwich_store
        remote_refs: dict[str, str] = {}

        def determine_wants(refs, depth=None) -> list[bytes]:
            remote_refs.update(_decode_refs(refs))
            return [sha.encode() for sha in wants(dict(remote_refs))]

        spool = SpooledTemporaryFile(max_size=PACK_SPOOL_FILE_MAX_SIZE, prefix="incoming-",
                                     dir=os.path.join(self.store.path, "objects"))
        walker = ObjectStoreGraphWalker([sha.encode() for sha in haves], ParentsProvider(objects).get_parents)
        with self._errors(), spool:
            self.client.fetch_pack(self.path.encode(), determine_wants, walker, spool.write,
                                   progress=self._remote_progress(), ref_prefix=[p.encode() for p in prefixes])
            if spool.tell():
                self._say(f"Received {self._store_pack(spool)} objects from {self.url.location}\n")
        return remote_refs

    def _store_pack(self, spool: SpooledTemporaryFile) -> int:
        """Index and store the received pack in ``spool``; the number of objects in it."""
        size = spool.tell()
        spool.seek(0)
        if size <= PACK_MAX:
            data = spool.read()
            try:
                entries = index_pack(data)
            except CorruptPack as error:
                raise RepositoryError(f"the pack received from {self.url.location} is corrupt: {error}; nothing was "
                                      "stored", title="Remote error") from None
            if entries is not None:
                self.store.objects.add_pack(data, entries)
                return len(entries)
            spool.seek(0)
        # thin (deltas against objects we have, which dulwich adds to it) or large (dulwich streams it)
        objects = self.store.objects.dulwich_store
        return len(objects.add_thin_pack(spool.read, None, progress=self._remote_progress()))

    # --- errors ---

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn dulwich's and the OS's errors into one line naming the URL (credentials left out)."""
        where = self.url.location
        try:
            yield
        except (HTTPUnauthorized, HTTPProxyUnauthorized) as error:
            proxy = "proxy " if isinstance(error, HTTPProxyUnauthorized) else ""
            raise InvalidInput(f"{proxy}authentication failed for {where}: set GITSNAP_USERNAME and GITSNAP_PASSWORD "
                               "(or give user:password in the URL on the command line)", title="Authentication failed")
        except NotGitRepository:
            raise NotFound(f"{where} is not a git repository (or does not exist)", title="Remote not found")
        except SendPackError as error:
            raise RepositoryError(f"{where} could not store the pushed objects: {_text(error)}", title="Remote error")
        except HangupException as error:
            raise _hangup(where, _text(error))
        except GitProtocolError as error:
            raise _protocol_error(where, _text(error))
        except NotImplementedError:
            raise InvalidInput(f"{where} is not served by git's smart protocol (a plain HTTP server cannot take part)")
        except OSError as error:
            raise NotFound(f"cannot reach {where}: {error.strerror or error}", title="Remote unreachable")


def _pack_records(objects, have: set[bytes], want: set[bytes], progress) -> tuple[int, Iterator]:
    """The objects the remote lacks, as pack records: whole objects copied byte for byte from our packs.

    A whole (not deltified) object's record in one of our packs is exactly the record the outgoing
    pack needs, header and compressed data, so it is copied, neither decompressed nor compressed
    again, and goes to the socket in one write (dulwich's writer sends a record it builds in three).
    For a 10,000-entity org that is about half of a push. Deltas and loose objects are sent whole.
    """
    finder = MissingObjectFinder(objects, haves=have, wants=want, progress=progress)
    wanted = [oid for oid, _hint in finder]
    if len(wanted) < FEW_OBJECTS:  # reading a pack's index costs more than reading a few objects by id
        return len(wanted), (full_unpacked_object(objects[oid]) for oid in wanted)

    def records() -> Iterator[UnpackedObject]:
        todo = set(wanted)
        for pack in objects.packs:
            yield from _copied_records(pack, todo)
        for oid in todo:  # loose objects, and deltas: sent whole
            yield full_unpacked_object(objects[oid])

    return len(wanted), records()


def _copied_records(pack, todo: set[bytes]) -> Iterator[UnpackedObject]:
    """The whole objects of ``todo`` that ``pack`` holds, as copied records; each is taken out of ``todo``."""
    entries = sorted((offset, sha) for sha, offset, _crc in pack.index.iterentries())
    path = pack.index.path.removesuffix(".idx") + ".pack"
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        ends = [*(offset for offset, _sha in entries[1:]), len(data) - 20]  # a pack ends in a 20-byte checksum
        for (offset, sha), end in zip(entries, ends):
            hex_id = hexlify(sha)
            kind = (data[offset] >> 4) & 7
            if hex_id in todo and kind not in DELTA_TYPES:
                unpacked = UnpackedObject(kind, sha=sha)
                unpacked.comp_chunks = [data[offset:end]]  # dulwich's writer sends comp_chunks as the whole record
                todo.discard(hex_id)
                yield unpacked


def _decode_refs(refs: dict[bytes, bytes | None]) -> dict[str, str]:
    """Remote refs as text, without peeled entries (``^{}``), symbolic HEAD or unborn values."""
    return {ref.decode("utf-8", "replace"): sha.decode() for ref, sha in refs.items()
            if sha and sha != ZERO_SHA and ref.startswith(b"refs/") and not ref.endswith(b"^{}")}


def _text(error: Exception) -> str:
    args = error.args
    text = args[0] if args else str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _hangup(where: str, text: str) -> Exception:
    lowered = text.lower()
    if "permission denied" in lowered or "authentication" in lowered:
        return InvalidInput(f"authentication failed for {where}: {text} (check your ssh key or agent)",
                            title="Authentication failed")
    if "does not appear to be a git repository" in lowered or "not found" in lowered or "no such" in lowered:
        return NotFound(f"{where} is not a git repository (or does not exist)", title="Remote not found")
    return NotFound(f"cannot reach {where}: {text}", title="Remote unreachable")


def _protocol_error(where: str, text: str) -> Exception:
    if "access denied or repository not exported" in text or "not found" in text.lower():
        return NotFound(f"{where} is not a git repository (or does not exist)", title="Remote not found")
    match = re.search(r"unexpected http resp (\d+)", text)
    if match and match.group(1) == "403":
        return InvalidInput(f"{where} refused access (HTTP 403): the server does not allow this operation "
                            "with these credentials (GITSNAP_USERNAME, GITSNAP_PASSWORD)", title="Access denied")
    if match:
        return RepositoryError(f"{where} answered HTTP {match.group(1)}", title="Remote error")
    reason = _ERRNO.search(text)
    if reason or "Max retries exceeded" in text or "Failed to resolve" in text or "No host specified" in text:
        detail = reason.group(1).strip() if reason else "connection failed"
        return NotFound(f"cannot reach {where}: {detail}", title="Remote unreachable")
    return RepositoryError(f"{where}: {text}", title="Remote error")


# --- remote configuration (sections ``[remote "<name>"]`` of the repository's git config) ----------------


def remote_names(store: GitStore) -> list[str]:
    """The configured remotes' names, in file order."""
    return [section[1].decode() for section in store.config().sections()
            if len(section) == 2 and section[0].lower() == b"remote"]


def remote_values(store: GitStore, name: str, key: str) -> list[str]:
    """Every value of ``remote.<name>.<key>`` (empty when unset)."""
    try:
        return [value.decode() for value in store.config().get_multivar((b"remote", name.encode()), key.encode())]
    except KeyError:
        return []


def write_remote(store: GitStore, name: str, items: list[tuple[str, str]] | None, exists: bool) -> bool:
    """Replace (or with ``items`` None remove) remote ``name``'s section, holding ``config.lock`` from read to write.

    Returns False, changing nothing, unless the remote's presence is ``exists``.
    """
    key = (b"remote", name.encode())

    def change(config: ConfigFile) -> bool:
        if config.has_section(key) != exists:
            return False
        if exists:
            del config[key]
        for item, value in items or []:
            config.add(key, item.encode(), value.encode())
        return True

    return store.update_config(change)
