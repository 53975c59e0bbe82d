"""Reading what a platform exports (a directory, one JSON/YAML document, or stdin) into models.

The whole input is read and validated before anything is written; every problem is reported with
its file (or document path), field and value.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import yaml
from pydantic import ValidationError

from . import yamlio
from .errors import InvalidInput, NotFound
from .models import ENTITY_COLLECTIONS, OrgExport, Stub

Progress = Callable[[str, int, int], None]
LiveFiles = Callable[[str], dict[str, str]]
STUB_FILE = "stub.yaml"
PROGRESS_EVERY = 500  # files read between two progress reports


class _Problems(list):
    """Problems found so far, each one line naming the file, the field and the value."""

    def add(self, where: str, what: str) -> None:
        self.append(f"{where}: {what}")

    def raise_if_any(self, source: str) -> None:
        if len(self) == 1:
            raise InvalidInput(f"{self[0]}; nothing was written")
        if self:
            raise InvalidInput(f"{len(self)} problems in {source}; nothing was written:", problems=list(self))


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
    except yaml.YAMLError as error:
        problems.add(name, _yaml_problem(error))
    except RecursionError:
        problems.add(name, "nested too deeply")
    return None


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(error, "problem", None) or str(error)
    return f"{where}invalid YAML: {problem}"


def load_export(source: str, progress: Progress | None = None, live_files: LiveFiles | None = None) -> OrgExport:
    """Read and validate an org export from a directory, a .json/.yaml file, or ``-`` (stdin).

    For a directory, ``live_files(org_id)`` gives the org's live entity files (path -> blob id);
    files identical to them are reused without being parsed (``OrgExport._unchanged_files``).
    """
    problems = _Problems()
    unchanged: dict[str, str] = {}
    if source != "-" and os.path.isdir(source):
        document, where = _read_directory(source, problems, progress, live_files, unchanged)
    elif source == "-" or os.path.exists(source):
        document, name = _read_one_document(source, problems)
        where: Callable[[tuple], str] = lambda loc: _document_path(name, loc)
    else:
        raise NotFound(f"{source}: no such file or directory", title="Source not found")
    problems.raise_if_any(source)
    if not isinstance(document, dict):
        raise InvalidInput(f"{source}: expected a mapping with org, users, pipelines, automations, prompts, templates, stubs; got {type(document).__name__}")
    export = validate_export(document, source, where)
    export._unchanged_files = unchanged
    return export


def validate_export(document: dict, source: str, where: Callable[[tuple], str]) -> OrgExport:
    """Validate a raw document; ``where(loc)`` names the file and field a pydantic location points to."""
    export, problems = export_problems(document, where)
    problems.raise_if_any(source)
    return export


def export_problems(document: dict, where: Callable[[tuple], str]) -> tuple[OrgExport | None, _Problems]:
    """The validated export (None when invalid) and every problem found, each naming its place."""
    problems = _Problems()
    try:
        export = OrgExport.model_validate(document)
    except ValidationError as error:
        _add_validation_problems(problems, error, where)
        return None, problems
    for collection in (*ENTITY_COLLECTIONS, "stubs"):
        seen: set[str] = set()
        for index, entity in enumerate(getattr(export, collection)):
            key = entity.stubref if collection == "stubs" else entity.id
            if key in seen:
                problems.append(f"{where((collection, index, 'stubref' if collection == 'stubs' else 'id'))}: duplicate {key!r}")
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
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{message} (got {shown})"


def _document_path(name: str, loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"{name}: {path}" if path else name


def _read_one_document(source: str, problems: _Problems) -> tuple[Any, str]:
    """One document from a .json/.yaml file or ``-`` (stdin), and the name problems report it under."""
    if source == "-":
        return read_document(sys.stdin.buffer.read(), "<stdin>", problems), "<stdin>"
    with open(source, "rb") as handle:
        data = handle.read()
    as_json = True if source.endswith(".json") else False if source.endswith((".yaml", ".yml")) else None
    return read_document(data, source, problems, as_json), source


# --- the directory (org-tree) form -------------------------------------------------------------------


def _read_directory(root: str, problems: _Problems, progress: Progress | None, live_files: LiveFiles | None,
                    unchanged: dict[str, str]) -> tuple[dict, Callable[[tuple], str]]:
    """Assemble the one-document form from an org-tree directory, remembering each entity's file."""
    files: dict[tuple, str] = {}
    document: dict[str, Any] = {}
    org_path = os.path.join(root, "org.yaml")
    if not os.path.isfile(org_path):
        problems.add(root, "org.yaml is missing (an org directory holds org.yaml, users/, pipelines/, ...)")
    else:
        document["org"] = _read_file(org_path, problems)
        files[("org",)] = org_path
    allowed = {"org.yaml", "stubs", *ENTITY_COLLECTIONS}
    for name in sorted(os.listdir(root)):
        if name not in allowed:
            problems.add(os.path.join(root, name), f"not part of the org-tree layout (expected one of {', '.join(sorted(allowed))})")
    org = document.get("org")
    org_id = org.get("id", org.get("_id")) if isinstance(org, dict) else None
    live = live_files(org_id) if live_files and isinstance(org_id, str) else {}
    entity_paths = [(c, name) for c in ENTITY_COLLECTIONS for name in _list(os.path.join(root, c), problems)]
    total = len(entity_paths)
    progress = progress if total >= PROGRESS_EVERY else None  # a small import is over before a line could help
    for done, (collection, name) in enumerate(entity_paths, 1):
        if progress and done % PROGRESS_EVERY == 0 and done < total:  # the last one is reported below
            progress("Reading files", done, total)
        path = os.path.join(root, collection, name)
        data = _read_bytes(path)
        relative = f"{collection}/{name}"
        if live.get(relative) == git_blob_id(data):
            unchanged[relative] = live[relative]
            continue
        items = document.setdefault(collection, [])
        files[(collection, len(items))] = path
        items.append(_read_entity(path, data, name, "id", problems))
    for stubref in _list(os.path.join(root, "stubs"), problems, directories=True):
        stubs = document.setdefault("stubs", [])
        files[("stubs", len(stubs))] = stub_path = os.path.join(root, "stubs", stubref, STUB_FILE)
        stub = _read_entity(stub_path, _read_bytes(stub_path), stubref + ".yaml", "stubref", problems) if os.path.isfile(stub_path) else None
        if stub is None and not os.path.isfile(stub_path):
            problems.add(stub_path, "missing (each stub directory holds stub.yaml)")
        chats_dir = os.path.join(root, "stubs", stubref, "chats")
        if isinstance(stub, dict):
            stub["chats"] = {}
            for name in _list(chats_dir, problems):
                chat_name = name[: -len(".yaml")]
                files[("stubs", len(stubs), "chats", chat_name)] = os.path.join(chats_dir, name)
                stub["chats"][chat_name] = _read_file(os.path.join(chats_dir, name), problems)
        stubs.append(stub)
    if progress and total:
        progress("Reading files", total, total)
    return document, lambda loc: file_and_field(root, files, loc)


def _list(directory: str, problems: _Problems, directories: bool = False) -> list[str]:
    """The entry names of an org-tree directory (files ``<id>.yaml``, or stub directories), sorted."""
    if not os.path.isdir(directory):
        return []
    names = []
    for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
        if entry.is_dir() if directories else entry.name.endswith(".yaml") and entry.is_file():
            names.append(entry.name)
        else:
            expected = "a directory per stub" if directories else "<id>.yaml files"
            problems.add(entry.path, f"unexpected entry (this directory holds {expected})")
    return names


def _read_bytes(path: str) -> bytes:
    with open(path, "rb", buffering=0) as handle:  # unbuffered: one read of a small file, no buffer to fill
        return handle.readall()


def _read_file(path: str, problems: _Problems) -> Any:
    return read_document(_read_bytes(path), path, problems, as_json=False)


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob of these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _read_entity(path: str, data: bytes, file_name: str, key: str, problems: _Problems) -> Any:
    """An entity file whose id (or stubref) must match its file name."""
    entity = read_document(data, path, problems, as_json=False)
    stem = file_name[: -len(".yaml")]
    if isinstance(entity, dict):
        value = entity.get(key, entity.get("_id")) if key == "id" else entity.get(key)
        if value is not None and value != stem:
            problems.add(path, f"{key}: {value!r} does not match the file name {stem!r}")
    return entity


def file_and_field(root: str, files: dict[tuple, str], loc: tuple) -> str:
    """Map a pydantic location in the assembled document to a file and the field inside it."""
    for length in (4, 2, 1):
        prefix = tuple(loc[:length])
        if prefix in files:
            rest = ".".join(str(part) for part in loc[length:])
            return f"{files[prefix]}: {rest}" if rest else files[prefix]
    return _document_path(root, loc)


# --- stubs -------------------------------------------------------------------------------------------


def load_stub(source: str) -> Stub:
    """Read and validate one stub ``{stubref, data, chats}`` from a .json/.yaml file or ``-`` (stdin)."""
    if source != "-" and (not os.path.exists(source) or os.path.isdir(source)):  # pipes such as <(...) are fine
        raise NotFound(f"{source}: no such file", title="Source not found")
    problems = _Problems()
    document, name = _read_one_document(source, problems)
    problems.raise_if_any(source)
    if not isinstance(document, dict):
        raise InvalidInput(f"{name}: expected one stub, a mapping with stubref, data, chats; got {type(document).__name__}")
    try:
        return Stub.model_validate(document)
    except ValidationError as error:
        _add_validation_problems(problems, error, lambda loc: _document_path(name, loc))
        problems.raise_if_any(source)
        raise  # unreachable: a ValidationError always has errors
