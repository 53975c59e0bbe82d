"""``gitsnap verify``: every gitsnap ref holds exactly what gitsnap itself would have written.

Live branches: the tip's tree is an org tree of canonical YAML that validates, with nothing else in
it. Snapshot tags: annotated, complete trailers, counts equal to the tagged tree's. Prompt versions:
numbered N..1 along first parents, each tree the canonical ``{id, body}`` of its prompt. Stub
snapshots: every save of a name carries the same uuid and creation time and the saved file. Refs in
gitsnap's namespaces of any other shape are reported too. Git-level integrity is ``git fsck``'s job.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from . import yamlio
from .errors import GitsnapError
from .gitmessage import split_message
from .gitstore import GitStore
from .models import (
    ENTITY_COLLECTIONS,
    VerifyCounts,
    VerifyProblem,
    VerifyResult,
    identifier_problem,
)
from .orgs import ORG_FILE, ORGS_PREFIX, count_config, org_tree_spec
from .prompts import PROMPT_FILE
from .prompts import REFS_PREFIX as PROMPTS_PREFIX
from .snapshots import SNAPSHOT_ID, SNAPSHOTS_PREFIX, Located, read_snapshot
from .sources import STUB_FILE, export_problems, file_and_field
from .stub_refs import REFS_PREFIX as STUBS_PREFIX
from .stub_refs import read_saved, selector_of

Report = Callable[[str, str], None]


def verify(store: GitStore) -> VerifyResult:
    """Check every ref in gitsnap's namespaces; the result lists each problem with its ref."""
    problems: list[VerifyProblem] = []
    counts = VerifyCounts()

    def report(ref: str, problem: str) -> None:
        problems.append(VerifyProblem(ref=ref, problem=problem))

    checks = ((ORGS_PREFIX, _check_org), (SNAPSHOTS_PREFIX, _check_snapshot),
              (PROMPTS_PREFIX, _check_prompt), (STUBS_PREFIX, _check_stub_snapshot))
    for prefix, check in checks:
        for ref, value in sorted(store.refs.list(prefix).items()):
            try:
                check(store, ref, ref[len(prefix):], value, report, counts)
            except GitsnapError as error:  # one broken ref must not hide the others' problems
                report(ref, error.message)
    return VerifyResult(ok=not problems, checked=counts, problems=problems)


def _bad_identifiers(parts: list[str]) -> str | None:
    return next((problem for part in parts if (problem := identifier_problem(part))), None)


# --- live branches ----------------------------------------------------------------------------------


def _check_org(store: GitStore, ref: str, org: str, tip: str, report: Report, counts: VerifyCounts) -> None:
    if problem := _bad_identifiers([org]):
        return report(ref, f"not a gitsnap ref: {problem}")
    counts.orgs += 1
    files = {path: (mode, sha) for path, mode, sha in store.trees.walk(store.objects.read_commit(tip).tree)}
    document, places = _org_document(store, files, lambda problem: report(ref, problem))
    if document is None:
        return
    export, problems = export_problems(document, lambda loc: file_and_field(ref, places, loc))
    for problem in problems:
        report(ref, problem)
    if export is None or problems:
        return
    if export.org.id != org:
        report(ref, f"{ORG_FILE}: id {export.org.id!r} is not the org the ref names ({org})")
    for path, data in _flatten(org_tree_spec(export)):
        if store.objects.blob_id(data) != files[path][1]:
            report(ref, f"{path}: not canonical YAML (gitsnap org import of an export rewrites it)")


def _org_document(store: GitStore, files: dict[str, tuple[int, str]], report: Callable[[str], None]
                  ) -> tuple[dict[str, Any] | None, dict[tuple, str]]:
    """The one-document form of an org tree's files, and the path each entity came from."""
    document: dict[str, Any] = {}
    places: dict[tuple, str] = {}
    chats: dict[str, dict[str, Any]] = {}
    for path, (mode, sha) in files.items():
        parts = path.split("/")
        if not stat.S_ISREG(mode):
            report(f"{path}: not a regular file (mode {mode:o})")
            continue
        data = _load(store, path, sha, report)
        if path == ORG_FILE:
            document["org"], places[("org",)] = data, path
        elif len(parts) == 2 and parts[0] in ENTITY_COLLECTIONS and parts[1].endswith(".yaml"):
            _add_entity(document, places, parts[0], path, data, parts[1][: -len(".yaml")], "id", report)
        elif len(parts) == 3 and parts[0] == "stubs" and parts[2] == STUB_FILE:
            _add_entity(document, places, "stubs", path, data, parts[1], "stubref", report)
        elif len(parts) == 4 and parts[0] == "stubs" and parts[2] == "chats" and parts[3].endswith(".yaml"):
            chats.setdefault(parts[1], {})[parts[3][: -len(".yaml")]] = data
        else:
            report(f"{path}: not part of the org-tree layout")
    if "org" not in document:
        report(f"{ORG_FILE} is missing")
        return None, places
    for stub in document.get("stubs", []):
        if isinstance(stub, dict):
            stub["chats"] = chats.pop(stub.get("stubref"), {})
    for stubref in chats:
        report(f"stubs/{stubref}/chats: chats of a stub without {STUB_FILE}")
    return document, places


def _add_entity(document: dict, places: dict, collection: str, path: str, data: Any, name: str, key: str,
                report: Callable[[str], None]) -> None:
    if isinstance(data, dict) and data.get(key) != name:
        report(f"{path}: {key} {data.get(key)!r} does not match its file name")
    items = document.setdefault(collection, [])
    places[(collection, len(items))] = path
    items.append(data)


def _load(store: GitStore, path: str, sha: str, report: Callable[[str], None]) -> Any:
    try:
        return yamlio.load(store.objects.read_blob(sha))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
        report(f"{path}: cannot be read as YAML ({str(error).splitlines()[0]})")
        return None


def _flatten(spec: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, bytes]]:
    """(path, contents) of every file a tree spec of bytes (and reused blobs) describes."""
    for name, value in spec.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{name}/")
        elif isinstance(value, bytes):
            yield f"{prefix}{name}", value


# --- snapshots, prompt versions, stub snapshots -------------------------------------------------------


def _check_snapshot(store: GitStore, ref: str, name: str, tag: str, report: Report, counts: VerifyCounts) -> None:
    parts = name.split("/")
    if len(parts) != 2 or _bad_identifiers(parts[:1]) or not SNAPSHOT_ID.fullmatch(parts[1]):
        return report(ref, "not a gitsnap ref: snapshot tags are refs/tags/snapshots/<org>/<24 hex digits>")
    counts.snapshots += 1
    snapshot = read_snapshot(store, Located(parts[0], parts[1], ref, tag))
    if snapshot.source_org_id != parts[0]:
        report(ref, f"Source-Org {snapshot.source_org_id} is not the org the ref names ({parts[0]})")
    actual = count_config(store, store.objects.read_commit(snapshot.commit).tree)
    if actual != snapshot.counts:
        report(ref, f"Counts trailer says {snapshot.counts.model_dump()}, the tagged tree holds {actual.model_dump()}")


def _check_prompt(store: GitStore, ref: str, name: str, tip: str, report: Report, counts: VerifyCounts) -> None:
    parts = name.split("/")
    if len(parts) != 2 or _bad_identifiers(parts):
        return report(ref, "not a gitsnap ref: prompt versions are refs/prompts/<org>/<promptId>")
    counts.prompts += 1
    expected = None
    for commit in store.objects.history(tip):
        counts.versions += 1
        trailers = split_message(commit.message)[2]
        number = trailers.get("Version", [""])[0]
        if not number.isdigit() or (expected is not None and int(number) != expected):
            return report(ref, f"commit {commit.id}: Version {number!r} where {expected or 'a number'} was expected")
        expected = int(number) - 1
        content = store.trees.read_file(commit.tree, PROMPT_FILE)
        data = yamlio.load(content) if content is not None else None
        if not isinstance(data, dict) or set(data) != {"id", "body"} or data["id"] != parts[1] \
                or yamlio.dump(data) != content or len(store.trees.entries(commit.tree)) != 1:
            return report(ref, f"version {number} ({commit.id}): the tree is not {PROMPT_FILE} holding {{id, body}}")
    if expected != 0:
        report(ref, f"the oldest version is {expected + 1}, not 1")


def _check_stub_snapshot(store: GitStore, ref: str, name: str, tip: str, report: Report, counts: VerifyCounts) -> None:
    parts = name.split("/")
    selector = selector_of("/".join(parts[2:])) if len(parts) > 2 else None
    if selector is None or _bad_identifiers([*parts[:2], selector.name, *([selector.chat] if selector.chat else [])]):
        return report(ref, "not a gitsnap ref: stub snapshots are refs/stubs/<org>/<stubref>/stub/<name> "
                           "or .../gpt_chat_task/<chat>/<name>")
    counts.stub_snapshots += 1
    saved = read_saved(store, ref, selector, tip)
    for commit in store.objects.history(tip):
        counts.saves += 1
        save = read_saved(store, ref, selector, commit.id)
        if (save.uuid, save.created_at) != (saved.uuid, saved.created_at):
            return report(ref, f"save {commit.id} has Snapshot-Uuid {save.uuid} / Created-At {save.created_at}, "
                               f"not the tip's {saved.uuid} / {saved.created_at}")
        if store.trees.read_file(commit.tree, selector.file) is None:
            return report(ref, f"save {commit.id} has no {selector.file}")
        for child in save.children:
            store.objects.read_commit(child.commit)
