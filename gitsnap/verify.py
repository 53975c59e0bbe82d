"""``gitsnap verify``: every gitsnap ref holds exactly what gitsnap itself would have written.

Live branches: the tip's tree is an org tree of canonical YAML that validates, with nothing else in
it. Snapshot tags: annotated, complete trailers, counts equal to the tagged tree's. Prompt versions:
numbered N..1 along first parents, each tree the canonical ``{id, body}`` of its prompt. Stub
snapshots: every save of a name carries the same uuid and creation time and the saved file. Prompt
aliases: every move names a version of its own prompt (``alias_verify.py``). Refs in
gitsnap's namespaces of any other shape are reported too. Git-level integrity is ``git fsck``'s job.
"""

from __future__ import annotations

from collections.abc import Callable

from . import layout, yamlio
from .alias_verify import AliasCheck
from .aliases import REFS_PREFIX as ALIASES_PREFIX
from .errors import GitsnapError
from .gitmessage import split_message
from .gitstore import GitStore
from .models import (
    VerifyCounts,
    VerifyProblem,
    VerifyResult,
    identifier_problem,
)
from .orgs import ORGS_PREFIX, count_config, load_tree_document
from .prompts import PROMPT_FILE
from .prompts import REFS_PREFIX as PROMPTS_PREFIX
from .snapshots import SNAPSHOT_ID, SNAPSHOTS_PREFIX, Located, read_snapshot
from .sources import export_problems
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
              (PROMPTS_PREFIX, _check_prompt), (STUBS_PREFIX, _check_stub_snapshot),
              (ALIASES_PREFIX, AliasCheck()))
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
    tree = store.objects.read_commit(tip).tree
    assembled = load_tree_document(store, tree)
    for file, problem in assembled.problems:
        report(ref, f"{file}: {problem}")
    if layout.ORG not in assembled.document:
        return
    export, problems = export_problems(assembled.document, lambda loc: assembled.where(loc, ref))
    for problem in problems:
        report(ref, problem)
    if export is None or problems:
        return
    if export.org.id != org:
        report(ref, f"{layout.ORG_FILE}: id {export.org.id!r} is not the org the ref names ({org})")
    blobs = {path: sha for path, _, sha in store.trees.walk(tree)}
    for path, data in layout.flatten(layout.tree_spec(export)):
        if store.objects.blob_id(data) != blobs.get(path):
            report(ref, f"{path}: not canonical YAML (gitsnap org import of an export rewrites it)")


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
        report(ref, f"Counts trailer says {snapshot.counts.to_json()}, the tagged tree holds {actual.to_json()}")


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
