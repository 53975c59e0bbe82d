"""Secrets never reach the repository: what is about to be written is scanned first, and what is stored can be.

Every string of every entity of an export (or a stub document) is scanned before anything is
written. A finding refuses the whole write: one ``InvalidInput`` naming the file or document path,
the field, the kind of secret and a fingerprint, never the value. ``allow`` lets known false
positives through by fingerprint; ``redact`` stores ``${secret:<fingerprint>}`` instead and reports
each redaction. The fingerprint is an HMAC under the repository's own key (``gitsnap.fingerprintKey``
in its git config, made on first use): it never travels in a ref, and it cannot be brute-forced back
to a weak value by someone who only has the history.
"""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING, Any, NamedTuple

from . import layout, yamlio
from .errors import InvalidInput
from .gitstore import GitStore
from .models import ScanResult, SecretFinding

if TYPE_CHECKING:
    from .records import OrgExport, Stub

CONFIG_SECTION, CONFIG_KEY = (b"gitsnap",), b"fingerprintKey"


class SecretPolicy(NamedTuple):
    """What to do with a finding: refuse (the default), let it through by fingerprint, or redact it."""

    allow: frozenset[str] = frozenset()
    redact: bool = False


def fingerprint_key(store: GitStore, make: bool = True) -> bytes:
    """The repository's fingerprint key, made (once, under the config lock) when it has none.

    Without ``make`` (a read-only scan), a repository with no key yet gets a key for this run only.
    """
    from .secretscan import new_fingerprint_key

    def stored() -> bytes | None:
        try:
            return bytes.fromhex(store.config().get(CONFIG_SECTION, CONFIG_KEY).decode())
        except (KeyError, ValueError):
            return None

    if (key := stored()) is not None:
        return key
    fresh = new_fingerprint_key()
    if not make:
        return fresh

    def add(config) -> bool:
        if config.has_section(CONFIG_SECTION) and CONFIG_KEY in config[CONFIG_SECTION]:
            return False  # another process made one meanwhile: keep it
        config.set(CONFIG_SECTION, CONFIG_KEY, fresh.hex().encode())
        return True

    store.update_config(add)
    return stored() or fresh


def guard_export(store: GitStore, export: OrgExport, policy: SecretPolicy) -> list[SecretFinding]:
    """Refuse, allow or redact (in place) the secrets in an export's entities; the redactions made."""
    key = fingerprint_key(store)
    entities = [((layout.ORG,), export.org)]
    entities += [((collection, index), entity) for collection in layout.ENTITY_COLLECTIONS
                 for index, entity in enumerate(getattr(export, collection))]
    entities += [((layout.STUBS, index), stub) for index, stub in enumerate(export.stubs)]
    redacted, refused = [], []
    for loc, entity in entities:
        data, found = _scan(entity, key)
        findings = [_finding(export._where(_place(loc, f.field)), f) for f in found]
        wanted = [f for f in found if f.fingerprint not in policy.allow]
        if wanted and policy.redact:
            _replace(export, loc, type(entity).model_validate(_redacted(data, key, wanted)))
            redacted += [f for f, raw in zip(findings, found) if raw in wanted]
        else:
            refused += [f for f, raw in zip(findings, found) if raw in wanted]
    _refuse_if_any(refused)
    return redacted


def guard_stub(store: GitStore, stub: Stub, name: str, policy: SecretPolicy) -> tuple[Stub, list[SecretFinding]]:
    """A stub document with its secrets refused, allowed or redacted, and the redactions made."""
    key = fingerprint_key(store)
    data, found = _scan(stub, key)
    wanted = [f for f in found if f.fingerprint not in policy.allow]
    findings = [_finding(name, f) for f in wanted]
    if wanted and policy.redact:
        return type(stub).model_validate(_redacted(data, key, wanted)), findings
    _refuse_if_any(findings)
    return stub, []


def _scan(entity: Any, key: bytes) -> tuple[dict, list]:
    from .secretscan import scan_value

    data = entity.canonical()
    return data, scan_value(data, key)


def _redacted(data: dict, key: bytes, findings: list) -> dict:
    from .secretscan import redact_value

    return redact_value(data, key, findings)


def _place(loc: tuple, field_path: str) -> tuple:
    """The location whose file holds a field: a stub's chat lives in a file of its own."""
    if loc[0] == layout.STUBS and field_path.startswith(layout.CHATS + "."):
        return (*loc, layout.CHATS, field_path.split(".")[1].split("[")[0])
    return loc


def _replace(export: OrgExport, loc: tuple, entity: Any) -> None:
    if loc == (layout.ORG,):
        export.org = entity
    else:
        getattr(export, loc[0])[loc[1]] = entity


def _finding(where: str, found: Any) -> SecretFinding:
    return SecretFinding(where=where, field=found.field, kind=found.kind, fingerprint=found.fingerprint)


def _refuse_if_any(findings: list[SecretFinding]) -> None:
    if not findings:
        return
    lines = [f"  {f.where}: {f.field}: {f.kind} (fingerprint {f.fingerprint})" for f in findings]
    fingerprints = " ".join(f"--allow-secret {f.fingerprint}" for f in findings[:3])
    raise InvalidInput(f"{len(findings)} value(s) look like secrets; nothing was written. Store a reference such as "
                       f"${{secret:NAME}} instead, or --redact, or {fingerprints} if they are not secrets:",
                       title="Secret found", problems=lines, result=ScanResult(scanned=0, findings=findings))


# --- what is already stored ---------------------------------------------------------------------------


def scan_repository(store: GitStore, all_history: bool = False) -> ScanResult:
    """The secrets in every org's live tree, or in every blob reachable from gitsnap's refs."""
    from .remotes import Scope
    from .secretscan import scan_value

    key = fingerprint_key(store, make=False)  # a scan writes nothing, even a key
    blobs: dict[str, str] = {}  # blob id -> where it was first seen (ref:path)
    seen_trees: set[str] = set()
    refs = Scope().local_refs(store)
    for ref, tip in sorted(refs.items()):
        if not all_history and not ref.startswith("refs/heads/orgs/"):
            continue
        commits = _commits(store, tip, all_history)
        for commit in commits:
            _collect_blobs(store, commit.tree, f"{ref}:", blobs, seen_trees)
    findings = []
    for sha, where in blobs.items():
        try:
            data = yamlio.load(store.objects.read_blob(sha))
        except yamlio.UNREADABLE:
            continue  # not YAML: verify names it
        findings += [_finding(where, found) for found in scan_value(data, key)]
    return ScanResult(scanned=len(blobs), findings=findings)


def _commits(store: GitStore, tip: str, all_history: bool) -> list:
    if not all_history:
        return [store.objects.read_commit(tip)]
    seen, pending, commits = set(), [tip], []
    while pending:
        sha = pending.pop()
        if sha in seen:
            continue
        seen.add(sha)
        commit = store.objects.read_commit(sha)
        commits.append(commit)
        pending += [parent for parent in commit.parents if store.objects.has(parent)]
    return commits


def _collect_blobs(store: GitStore, tree: str, prefix: str, blobs: dict[str, str], seen_trees: set[str]) -> None:
    if tree in seen_trees:
        return
    seen_trees.add(tree)
    for name, mode, sha in store.trees.entries(tree):
        if stat.S_ISDIR(mode):
            _collect_blobs(store, sha, f"{prefix}{name}/", blobs, seen_trees)
        elif stat.S_ISREG(mode):
            blobs.setdefault(sha, f"{prefix}{name}")
