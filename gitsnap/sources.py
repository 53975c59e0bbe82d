"""Reading what a platform exports (a directory, one JSON/YAML document, bytes or a stream) into models.

The whole input is read and validated before anything is written; every problem is reported with
its file (or document path), field and value. Inside an import directory only regular files are
read: a symbolic link, a device or a pipe is refused, never followed. Sizes are capped
(``DOCUMENT_MAX`` for one document, ``FILE_MAX`` per file of a directory) and checked while
reading, so ``/dev/zero`` is an error, not an exhausted machine.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, Union

from . import layout, yamlio
from .errors import InvalidInput, NotFound
from .gitobjects import Objects
from .layout import SKIP, Assembled, document_path, place_of
from .progress import Progress, count
from .statcache import StatCache

if TYPE_CHECKING:  # pydantic is imported when a document is validated, not by every command
    from pydantic import ValidationError

    from .records import OrgExport, Stub

# A source: a path (a directory in the org-tree layout, or a .json/.yaml document), the bytes of a
# document, or a binary stream of one (the CLI passes stdin for ``-``).
Source = Union[str, os.PathLike, bytes, BinaryIO]
LiveFiles = Callable[[str], dict[str, str]]
PROGRESS_EVERY = 500  # files read between two progress reports
DOCUMENT_MAX = 256 * 2**20
FILE_MAX = 16 * 2**20
_CHUNK = 2**20


class _Problems(list):
    """Problems found so far, each one line naming the file, the field and the value."""

    def add(self, where: str, what: str) -> None:
        self.append(f"{where}: {what}")

    def raise_if_any(self, source: str) -> None:
        if len(self) == 1:
            raise InvalidInput(f"{self[0]}; nothing was written")
        if self:
            raise InvalidInput(f"{len(self)} problems in {source}; nothing was written:", problems=list(self))


def source_name(source: Source, name: str | None = None) -> str:
    """How messages name a source: its path, or ``name`` (``<stdin>``, ``<request body>``)."""
    if name is not None:
        return name
    if isinstance(source, (bytes, bytearray)):
        return "<document>"
    if hasattr(source, "read"):
        return getattr(source, "name", None) if isinstance(getattr(source, "name", None), str) else "<stream>"
    return os.fspath(source)


def read_document(data: bytes, name: str, problems: _Problems, as_json: bool | None = None) -> Any:
    """Decode and safely parse one document; None (with a problem recorded) when it cannot be."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.add(name, f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})")
        return None
    if as_json is None:
        as_json = text.lstrip().startswith(("{", "["))
    try:
        return yamlio.load_json(text) if as_json else yamlio.load(text)
    except yamlio.RefusedValue as error:  # valid JSON or YAML holding a value outside the data model
        problems.add(name, str(error))
    except json.JSONDecodeError as error:
        problems.add(name, f"line {error.lineno}, column {error.colno}: invalid JSON: {error.msg}")
    except ValueError as error:  # what load_json refuses beyond the grammar
        problems.add(name, f"invalid JSON: {error}")
    except yamlio.YAMLError as error:
        problems.add(name, _yaml_problem(error))
    except RecursionError:
        problems.add(name, "nested too deeply")
    return None


def load_document(data: bytes, name: str, as_json: bool | None = None) -> Any:
    """One document's data (JSON with ``as_json``; else JSON or YAML by its first character); InvalidInput naming ``name``."""
    problems = _Problems()
    document = read_document(data, name, problems, as_json)
    problems.raise_if_any(name)
    return document


def _yaml_problem(error: Exception) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(error, "problem", None) or str(error)
    return f"{where}invalid YAML: {problem}"


# --- reading bytes, with limits -----------------------------------------------------------------------


def _read_stream(stream: BinaryIO, name: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a stream; InvalidInput when it holds more."""
    chunks, size = [], 0
    while chunk := stream.read(min(_CHUNK, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"{name}: larger than {limit // 2**20} MiB, the most gitsnap reads from one document")
    return b"".join(chunks)


def _open_document(path: str) -> int:
    """A descriptor of a document file or pipe (symbolic links to one are fine: the user named it)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file or directory", title="Source not found") from None
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror})") from None
    mode = os.fstat(descriptor).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        os.close(descriptor)
        raise InvalidInput(f"{path}: not a regular file or a pipe ({_kind(mode)})")
    os.set_blocking(descriptor, True)
    return descriptor


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket"))
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def _read_entity_file(path: str, problems: _Problems) -> tuple[bytes, os.stat_result] | None:
    """A regular file of an import directory and its stat, never through a symbolic link; None with a problem."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        problems.add(path, f"cannot be read ({error.strerror})" if stat.S_ISREG(mode)
                     else f"{_kind(mode)}; an org directory holds regular files only")
        return None
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            problems.add(path, f"{_kind(status.st_mode)}; an org directory holds regular files only")
            return None
        data = handle.read(FILE_MAX + 1)
    if len(data) > FILE_MAX:
        problems.add(path, f"larger than {FILE_MAX // 2**20} MiB, the most gitsnap reads from one file")
        return None
    return data, status


def read_source_bytes(source: Source, name: str) -> bytes:
    """The bytes of a document source (a file path, bytes, or a stream), within ``DOCUMENT_MAX``."""
    if isinstance(source, (bytes, bytearray)):
        if len(source) > DOCUMENT_MAX:
            raise InvalidInput(f"{name}: larger than {DOCUMENT_MAX // 2**20} MiB, the most gitsnap reads from one document")
        return bytes(source)
    if hasattr(source, "read"):
        return _read_stream(source, name, DOCUMENT_MAX)
    with os.fdopen(_open_document(os.fspath(source)), "rb", buffering=0) as handle:
        return _read_stream(handle, name, DOCUMENT_MAX)


# --- org exports -------------------------------------------------------------------------------------


def load_export(source: Source, progress: Progress | None = None, live_files: LiveFiles | None = None,
                name: str | None = None, cache_dir: str | None = None) -> OrgExport:
    """Read and validate an org export: a directory, a .json/.yaml document, its bytes, or a stream.

    For a directory, ``live_files(org_id)`` gives the org's live entity files (path -> blob id);
    files identical to them are reused without being parsed (``OrgExport._unchanged_files``).
    """
    name = source_name(source, name)
    problems = _Problems()
    unchanged: dict[str, str] = {}
    is_path = isinstance(source, (str, os.PathLike))
    if is_path and os.path.isdir(source):
        cache = StatCache(cache_dir, os.fspath(source)) if cache_dir else None
        assembled = _read_directory(os.fspath(source), problems, progress, live_files, unchanged, cache)
        document, where = assembled.document, lambda loc: assembled.where(loc, name)
    else:
        if is_path and not os.path.lexists(source):
            raise NotFound(f"{name}: no such file or directory", title="Source not found")
        document = read_document(read_source_bytes(source, name), name, problems, _as_json(name) if is_path else None)
        where = lambda loc: document_path(name, loc)  # noqa: E731
    problems.raise_if_any(name)
    if not isinstance(document, dict):
        raise InvalidInput(f"{name}: expected a mapping with org, users, pipelines, automations, prompts, templates, "
                           f"stubs; got {_type_name(document)}")
    export = validate_export(document, name, where)
    export._unchanged_files, export._where = unchanged, where
    return export


def _as_json(path: str) -> bool | None:
    return True if path.endswith(".json") else False if path.endswith((".yaml", ".yml")) else None


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


def validate_export(document: dict, source: str, where: Callable[[tuple], str]) -> OrgExport:
    """Validate a raw document; ``where(loc)`` names the file and field a pydantic location points to."""
    export, problems = export_problems(document, where)
    problems.raise_if_any(source)
    return export


def export_problems(document: dict, where: Callable[[tuple], str]) -> tuple[OrgExport | None, _Problems]:
    """The validated export (None when invalid) and every problem found, each naming its place."""
    from pydantic import ValidationError

    from .records import OrgExport

    problems = _Problems()
    if (path := yamlio.too_deep(document)) is not None:
        problems.append(f"{where(path[:3])}: nested more than {yamlio.MAX_DEPTH} levels deep")
        return None, problems
    try:
        export = OrgExport.model_validate(document)
    except ValidationError as error:
        _add_validation_problems(problems, error, where)
        return None, problems
    for collection in (*layout.ENTITY_COLLECTIONS, layout.STUBS):
        seen: set[str] = set()
        key_field = "stubref" if collection == layout.STUBS else "id"
        for index, entity in enumerate(getattr(export, collection)):
            key = getattr(entity, key_field)
            if key in seen:
                problems.append(f"{where((collection, index, key_field))}: duplicate {key!r}")
            seen.add(key)
    return export, problems


def _add_validation_problems(problems: _Problems, error: ValidationError, where: Callable[[tuple], str]) -> None:
    for item in error.errors(include_url=False):
        problems.append(f"{where(item['loc'])}: {_describe(item)}")


def _describe(item: dict) -> str:
    message = item["msg"]
    if item["type"] == "missing":
        return "required field is missing"
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    value = item.get("input")
    if isinstance(value, (dict, list)) or item["type"] == "value_error":
        return message
    if _is_whole_document(item["loc"]):  # its type, never its text: it may be any file's content
        return f"{message} (got {_type_name(value)})"
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{message} (got {shown})"


def _is_whole_document(loc: tuple) -> bool:
    """Whether a location is a whole entity (``org``, ``pipelines[3]``, a stub's chat), not a field in one."""
    return loc == ("org",) or (len(loc) == 2 and isinstance(loc[1], int)) or (len(loc) == 4 and loc[2] == "chats")


# --- the directory (org-tree) form -------------------------------------------------------------------


def _layout_files(root: str, problems: _Problems) -> dict[str, os.stat_result]:
    """The relative paths of the files under ``root`` where the layout has directories, with their lstat.

    Nothing outside the layout is read or walked: a stray entry is one problem, a symbolic link is
    never followed.
    """
    files: dict[str, os.stat_result] = {}
    pending = [""]
    while pending:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, directory)), key=lambda entry: entry.name)
        except OSError as error:
            problems.add(os.path.join(root, directory), f"cannot be read ({error.strerror})")
            continue
        for entry in entries:
            path = f"{directory}/{entry.name}" if directory else entry.name
            if entry.is_symlink():
                problems.add(entry.path, "a symbolic link; an org directory holds regular files only")
            elif entry.is_dir():
                if layout.is_layout_dir(path):
                    pending.append(path)
                else:
                    problems.add(entry.path, _stray(path))
            elif place_of(path) is None:
                problems.add(entry.path, _stray(path))
            else:
                files[path] = entry.stat(follow_symlinks=False)
    return files


def _stray(path: str) -> str:
    if "/" not in path:
        return f"not part of the org-tree layout (expected one of {', '.join(sorted(layout.TOP_LEVEL))})"
    return "not part of the org-tree layout"


def _read_directory(root: str, problems: _Problems, progress: Progress | None, live_files: LiveFiles | None,
                    unchanged: dict[str, str], cache: StatCache | None) -> Assembled:
    """Assemble the one-document form from an org-tree directory, remembering each entity's file.

    An entity file whose blob is the live one is reused unparsed; with ``cache``, one whose stat data
    says so is not even read.
    """
    paths = _layout_files(root, problems)
    full = lambda path: os.path.join(root, *path.split("/"))  # noqa: E731
    org = None
    if layout.ORG_FILE not in paths:
        problems.add(root, f"{layout.ORG_FILE} is missing (an org directory holds {', '.join(layout.TOP_LEVEL)})")
    elif (read := _read_entity_file(full(layout.ORG_FILE), problems)) is not None:
        org = read_document(read[0], full(layout.ORG_FILE), problems, as_json=False)
    org_id = org.get("id", org.get("_id")) if isinstance(org, dict) else None
    live = live_files(org_id) if live_files and isinstance(org_id, str) else {}
    total = len(paths) - 1  # org.yaml is read already
    progress = progress if total >= PROGRESS_EVERY else None  # a small import is over before a line could help
    done = 0

    def load(path: str) -> Any:
        nonlocal done
        if path == layout.ORG_FILE:
            return org
        done += 1
        if progress and (done % PROGRESS_EVERY == 0 or done == total):
            count(progress, "Reading files", done, total)
        reusable = path in live and place_of(path).collection in layout.ENTITY_COLLECTIONS
        if reusable and cache is not None and cache.blob(path, paths[path]) == live[path]:
            unchanged[path] = live[path]
            return SKIP
        read = _read_entity_file(full(path), problems)
        if read is None:
            return None
        data, stat = read
        blob = Objects.blob_id(data)
        if cache is not None:
            cache.record(path, stat, blob)
        if reusable and live[path] == blob:
            unchanged[path] = live[path]
            return SKIP
        return read_document(data, full(path), problems, as_json=False)

    assembled = layout.assemble(paths, load, full)
    if cache is not None:
        cache.save(set(paths))
    for file, problem in assembled.problems:
        problems.add(file, problem)
    return assembled


# --- stubs -------------------------------------------------------------------------------------------


def load_stub(source: Source, name: str | None = None) -> Stub:
    """Read and validate one stub ``{stubref, data, chats}`` from a .json/.yaml file, its bytes or a stream."""
    name = source_name(source, name)
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        raise InvalidInput(f"{name}: a directory; give one stub document (.json or .yaml)")
    if isinstance(source, (str, os.PathLike)) and not os.path.lexists(source):
        raise NotFound(f"{name}: no such file", title="Source not found")
    problems = _Problems()
    as_json = _as_json(name) if isinstance(source, (str, os.PathLike)) else None
    document = read_document(read_source_bytes(source, name), name, problems, as_json)
    problems.raise_if_any(name)
    if not isinstance(document, dict):
        raise InvalidInput(f"{name}: expected one stub, a mapping with stubref, data, chats; got {_type_name(document)}")
    if (path := yamlio.too_deep(document)) is not None:
        raise InvalidInput(f"{document_path(name, path[:2])}: nested more than {yamlio.MAX_DEPTH} levels deep")
    from pydantic import ValidationError

    from .records import Stub

    try:
        return Stub.model_validate(document)
    except ValidationError as error:
        _add_validation_problems(problems, error, lambda loc: document_path(name, loc))
        problems.raise_if_any(name)
        raise  # unreachable: a ValidationError always has errors
