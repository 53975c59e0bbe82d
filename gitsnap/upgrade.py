"""``snapshot upgrade``: tenants applied from a reference org's snapshot, three-way merged onto a newer one.

An org applied from a snapshot says so in its live commit (``snapshot apply``)::

    Apply snapshot <name> to <org name>

    Based-On-Snapshot: <old id>
    Org: <org>
    Source-Org: <reference org>

Upgrading it to snapshot NEW merges (``merge.merge_config``) base = the config (pipelines,
automations, prompts, templates) of its base snapshot, ours = its live config, theirs = NEW's
config, and commits the result on the live branch; org.yaml, users and stubs are not touched::

    Upgrade <org name> to snapshot <new name>

    pipelines: 1 taken, 1 merged; prompts: 2 added
    Resolved: pipelines/<id>/stages[id="s2"].name=theirs

    Based-On-Snapshot: <new id>
    Upgraded-From-Snapshot: <old id>
    Based-On-Commit: <the commit NEW tags>
    Org: <org>
    Source-Org: <NEW's org>
    User: <uid>                                (with a user, who is then the author, as in apply)

Which snapshot is the base, and where its config is read from even when its tag was deleted, is
``provenance``'s. A merge that changes no file still commits, so that the next upgrade merges from
NEW rather than from the older base.

Only entities whose three blob ids all differ are read. A fleet (several orgs, or ``all_from``:
every org whose base snapshot is one of that org's) is merged first and written after: bad input
and a resolve path that matches no conflict in any of the orgs write nothing. Then each org moves
on its own by compare-and-swap, merged again if its tip moved meanwhile. Outcomes per org:
``upgraded``, ``up to date`` (already based on NEW), ``conflicts`` (nothing written for it),
``not derived`` (no base snapshot; for a named org, exit 2). Exit 4 when any had conflicts.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from . import layout, yamlio
from .errors import Conflict, InvalidInput, NotFound, each_readable
from .gitmessage import Identity, format_message, printable
from .gitstore import GitStore
from .gittrees import BLOB_MODE, Existing
from .merge import (
    CHOICES,
    STRATEGIES,
    BadResolution,
    Config,
    MergeConflict,
    Merged,
    MergeResult,
    MergeSummary,
    conflict_path,
    merge_config,
)
from .models import Result, UnreadableRef, omitted_when_empty, renamed, require_identifier, result, unreadable_refs
from .orgs import author_identity, org_field, org_not_found, org_ref, org_refs
from .progress import Progress, count
from .provenance import Baselines
from .snapshots import SNAPSHOTS_PREFIX, find_snapshot, read_member, read_snapshot

Status = Literal["upgraded", "up to date", "conflicts", "not derived"]
UPGRADED, UP_TO_DATE, CONFLICTS, NOT_DERIVED = get_args(Status)


# --- results -----------------------------------------------------------------------------------------


@result
class UpgradedOrg(Result):
    """One org's outcome; ``commit`` is the new commit when upgraded, else the live tip as it is."""

    org_id: str = renamed("orgId")
    org_name: str = renamed("orgName")
    status: Status
    from_snapshot_id: str | None = renamed("fromSnapshotId", default=None)
    commit: str
    # per collection, what the merge does (or would do) to ours
    summary: dict[str, MergeSummary] = field(default_factory=dict)
    conflicts: list[MergeConflict] = field(default_factory=list)  # left open: nothing was written for the org
    resolved: list[MergeConflict] = field(default_factory=list)  # answered by --resolve or --strategy


@result
class UpgradeCounts(Result):
    upgraded: int = 0
    up_to_date: int = renamed("upToDate", default=0)
    conflicts: int = 0
    not_derived: int = renamed("notDerived", default=0)


@result
class UpgradeResult(Result):
    """Every org's outcome, in the order asked (sorted for ``all_from``), and the totals."""

    message: str
    snapshot_id: str = renamed("snapshotId")
    snapshot_name: str = renamed("snapshotName")
    source_org_id: str = renamed("sourceOrgId")
    orgs: list[UpgradedOrg]
    counts: UpgradeCounts
    unreadable: list[UnreadableRef] = omitted_when_empty()

    @property
    def exit_code(self) -> int:
        """4 when an org had conflicts, else 2 when a named org is not derived, else 0."""
        if self.counts.conflicts:
            return Conflict.exit_code
        return InvalidInput.exit_code if self.counts.not_derived else 0


# --- the merge's three sides ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The snapshot upgraded to: its id, name, org and the commit (and tree) it tags."""

    id: str
    name: str
    org: str
    commit: str
    tree: str


class _Reads:
    """What one upgrade reads more than once: base snapshots, collections, documents."""

    def __init__(self, store: GitStore):
        self.store = store
        self.baselines = Baselines(store)
        self._entries: dict[str, dict[str, str]] = {}
        self._documents: dict[str, Any] = {}

    def config(self, tree: str) -> Config:
        """The config collections of a tree as entity id -> blob id (subtrees shared by orgs are read once)."""
        collections = {}
        for collection in layout.CONFIG_COLLECTIONS:
            entry = self.store.trees.lookup(tree, collection)
            collections[collection] = self._entities(collection, entry[1]) if entry and stat.S_ISDIR(entry[0]) else {}
        return Config(collections, self.load)

    def _entities(self, collection: str, subtree: str) -> dict[str, str]:
        if subtree not in self._entries:
            entities = {}
            for name, mode, sha in self.store.trees.entries(subtree):
                place = layout.place_of(f"{collection}/{name}")
                if place is not None and stat.S_ISREG(mode):
                    entities[place.key] = sha
            self._entries[subtree] = entities
        return self._entries[subtree]

    def load(self, blob: str) -> Any:
        if blob not in self._documents:
            self._documents[blob] = yamlio.load(self.store.objects.read_blob(blob))
        return self._documents[blob]


# --- planning: one org merged, nothing written -------------------------------------------------------


@dataclass
class Plan:
    """One org's merge against one tip: its outcome and, when upgraded, the files to lay over ours."""

    tip: str
    tree: str
    outcome: UpgradedOrg
    files: dict[str, Existing | bytes | None] = field(default_factory=dict)
    answerable: set[str] = field(default_factory=set)  # the resolve paths that match its conflicts


@dataclass(frozen=True)
class Answers:
    """How conflicts are answered: resolve paths (``<collection>/<id>[/<field>]`` -> choice), then a strategy."""

    resolve: Mapping[str, str]
    strategy: str | None

    def check(self) -> None:
        bad = [f"{path}={choice}" for path, choice in self.resolve.items() if choice not in CHOICES]
        if bad:
            raise BadResolution(f"--resolve takes PATH=ours|theirs|base; got {', '.join(bad)}")
        if self.strategy is not None and self.strategy not in STRATEGIES:
            raise BadResolution(f"--strategy must be ours or theirs, got {self.strategy!r}")


def plan_org(reads: _Reads, org: str, tip: str, target: Target, answers: Answers) -> Plan:
    """Merge one org at ``tip`` onto the target snapshot, in memory."""
    store = reads.store
    tree = store.objects.read_commit(tip).tree
    outcome = UpgradedOrg(org_id=org, org_name=org_field(store, tree, "name"), status=NOT_DERIVED, commit=tip)
    provenance = reads.baselines.provenance(tip)
    if provenance is None:
        return Plan(tip, tree, outcome)
    outcome.from_snapshot_id = provenance.snapshot_id
    if provenance.snapshot_id == target.id:
        outcome.status = UP_TO_DATE
        return Plan(tip, tree, outcome)
    base = reads.baselines.base_tree(org, provenance)
    sides = (reads.config(base), reads.config(tree), reads.config(target.tree))
    # First without answers, to learn this org's conflicts: of a fleet's resolve paths, it takes those that match.
    result = merge_config(*sides)
    answerable = {path for c in result.conflicts for path in (c.path, conflict_path(c.collection, c.id, ""))}
    if result.conflicts and (answers.resolve or answers.strategy):
        mine = {path: choice for path, choice in answers.resolve.items() if path in answerable}
        result = merge_config(*sides, resolve=mine, strategy=answers.strategy)
    outcome.summary, outcome.conflicts, outcome.resolved = result.summary, result.conflicts, result.resolved
    plan = Plan(tip, tree, outcome, answerable=answerable)
    if result.conflicts:
        outcome.status = CONFLICTS
    else:
        outcome.status = UPGRADED
        plan.files = _files(org, result, sides[1])
    return plan


def _files(org: str, result: MergeResult, ours: Config) -> dict[str, Existing | bytes | None]:
    """path -> what the merge puts there instead of ours' file (a reused blob, new bytes, or None: deleted)."""
    files: dict[str, Existing | bytes | None] = {}
    for collection, entities in result.collections.items():
        mine = ours.collections.get(collection, {})
        for key, value in entities.items():
            path = layout.entity_path(collection, key)
            if isinstance(value, Merged):
                files[path] = _canonical(org, collection, key, value.document)
            elif value != mine.get(key):
                files[path] = Existing(BLOB_MODE, value)
        for key in mine.keys() - entities.keys():
            files[layout.entity_path(collection, key)] = None
    return files


def _canonical(org: str, collection: str, key: str, document: Any) -> bytes:
    """A merged document as canonical YAML, once it validates as its collection's entity (as import checks)."""
    from pydantic import ValidationError

    from .records import OrgExport

    model = get_args(OrgExport.model_fields[collection].annotation)[0]
    try:
        entity = model.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'the document'}: {e['msg']}"
                             for e in error.errors(include_url=False))
        raise InvalidInput(f"org {org}: the merged {collection}/{key} is not a valid entity ({problems}); answer its "
                           f"conflicts another way (--resolve)") from None
    if entity.id != key:
        raise InvalidInput(f"org {org}: the merged {collection}/{key} has id {entity.id!r}")
    return yamlio.dump(entity.canonical())


# --- the operation -----------------------------------------------------------------------------------


def upgrade_snapshot(store: GitStore, snapshot_id: str, to_orgs: Sequence[str] = (), all_from: str | None = None,
                     resolve: Mapping[str, str] | None = None, strategy: str | None = None,
                     user_id: str | None = None, progress: Progress | None = None) -> UpgradeResult:
    """Upgrade each org (``to_orgs``, or every org based on a snapshot of ``all_from``) to the snapshot."""
    answers = Answers(dict(resolve or {}), strategy)
    answers.check()
    located = find_snapshot(store, snapshot_id)
    snapshot = read_snapshot(store, located)
    target = Target(snapshot.id, snapshot.name, located.org, snapshot.commit,
                    store.objects.read_commit(snapshot.commit).tree)
    if user_id is not None:
        require_identifier("user", user_id)
    author = author_identity(store, read_member(store, target.tree, target.org, user_id)) if user_id else None
    reads = _Reads(store)
    orgs, unreadable = _targets(reads, to_orgs, all_from)
    plans = []
    for done, (org, tip) in enumerate(orgs, 1):
        plans.append(plan_org(reads, org, tip, target, answers))
        count(progress, "Merging", done, len(orgs))
    _check_answered(answers, plans)
    writes = [plan for plan in plans if plan.outcome.status == UPGRADED]
    outcomes = {}
    for done, plan in enumerate(writes, 1):
        outcomes[plan.outcome.org_id] = _commit(reads, plan, target, answers, user_id, author)
        count(progress, "Committing", done, len(writes))
    results = [outcomes.get(plan.outcome.org_id, plan.outcome) for plan in plans]
    return _result(target, results, unreadable)


def _targets(reads: _Reads, to_orgs: Sequence[str], all_from: str | None) -> tuple[list[tuple[str, str]], list]:
    """(org, tip) of each org to upgrade, and the orgs ``all_from`` could not read."""
    store = reads.store
    if bool(to_orgs) == (all_from is not None):
        raise InvalidInput("give the orgs to upgrade: --to-org ORG (repeatable) or --all-from ORG, not both")
    if all_from is None:
        for org in to_orgs:
            require_identifier("org", org)
        named = list(dict.fromkeys(to_orgs))
        tips = [store.refs.read(org_ref(org)) for org in named]
        missing = [org for org, tip in zip(named, tips) if tip is None]
        if len(missing) == 1:
            raise org_not_found(store, missing[0])
        if missing:
            raise NotFound(f"orgs {', '.join(missing)} not found in {store.path} (gitsnap org list)",
                           title="Org not found")
        return list(zip(named, tips)), []
    require_identifier("org", all_from)
    if store.refs.read(org_ref(all_from)) is None and all_from not in store.refs.children(SNAPSHOTS_PREFIX):
        raise org_not_found(store, all_from)

    def derived(org: str, tip: str) -> tuple[str, str] | None:
        provenance = reads.baselines.provenance(tip)
        return (org, tip) if provenance and reads.baselines.source_org(provenance) == all_from else None

    found, failures = each_readable(org_refs(store), derived)
    return [item for item in found if item], unreadable_refs([(org_ref(org), problem) for org, problem in failures])


def _check_answered(answers: Answers, plans: list[Plan]) -> None:
    """BadResolution naming each resolve path that matches a conflict in none of the orgs."""
    answerable = set().union(*(plan.answerable for plan in plans))
    unmatched = [path for path in answers.resolve if path not in answerable]
    if unmatched:
        known = sorted(c.path for plan in plans for c in (*plan.outcome.conflicts, *plan.outcome.resolved))
        shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
        raise BadResolution(f"no conflict at resolve path {', '.join(map(repr, unmatched))} in any of the orgs "
                            f"(a path is <collection>/<id>[/<field>]; their conflicts: {shown or 'none'}); "
                            f"nothing was written")


def _commit(reads: _Reads, plan: Plan, target: Target, answers: Answers, user_id: str | None,
            author: Identity | None) -> UpgradedOrg:
    """Write the planned merge as one commit on the org's live branch (CAS; merged again if the tip moved)."""
    store, org = reads.store, plan.outcome.org_id

    def build(tip: str | None) -> tuple[str | None, UpgradedOrg]:
        if tip is None:
            raise org_not_found(store, org)
        current = plan if tip == plan.tip else plan_org(reads, org, tip, target, answers)
        outcome = current.outcome
        if outcome.status != UPGRADED:
            return None, outcome
        tree = store.trees.build(layout.nest(current.files), base=current.tree, replace=False)
        commit = store.write_commit(tree, [tip], _message(outcome, target, user_id), author)
        return commit, outcome.replace(commit=commit)

    return store.refs.update(org_ref(org), build)


def _message(outcome: UpgradedOrg, target: Target, user_id: str | None) -> str:
    changes = "; ".join(f"{collection}: {_counted(summary)}" for collection, summary in outcome.summary.items()
                        if _counted(summary))
    body = [changes or f"No file changed: the org is now based on snapshot {target.id}"]
    body += [f"Resolved: {printable(c.path)}={c.resolution}" for c in outcome.resolved]
    trailers = [("Based-On-Snapshot", target.id), ("Upgraded-From-Snapshot", outcome.from_snapshot_id),
                ("Based-On-Commit", target.commit), ("Org", outcome.org_id), ("Source-Org", target.org)]
    trailers += [("User", user_id)] if user_id else []
    subject = f"Upgrade {printable(outcome.org_name)} to snapshot {printable(target.name)}"
    return format_message(subject, "\n".join(body), trailers)


def _counted(summary: MergeSummary) -> str:
    """``2 taken, 1 merged``: what changed in one collection (kept entities are not news)."""
    parts = [(summary.taken, "taken"), (summary.merged, "merged"), (summary.added, "added"),
             (summary.deleted, "deleted")]
    return ", ".join(f"{number} {what}" for number, what in parts if number)


def _result(target: Target, orgs: list[UpgradedOrg], unreadable: list[UnreadableRef]) -> UpgradeResult:
    tally = {status: sum(o.status == status for o in orgs) for status in get_args(Status)}
    counts = UpgradeCounts(upgraded=tally[UPGRADED], up_to_date=tally[UP_TO_DATE], conflicts=tally[CONFLICTS],
                           not_derived=tally[NOT_DERIVED])
    return UpgradeResult(message=summary_line(counts, len(orgs)), snapshot_id=target.id, snapshot_name=target.name,
                         source_org_id=target.org, orgs=orgs, counts=counts, unreadable=unreadable)


def summary_line(counts: UpgradeCounts, total: int) -> str:
    """``3 orgs: 1 upgraded, 1 up to date, 1 with conflicts`` (kinds with none left out)."""
    parts = [(counts.upgraded, "upgraded"), (counts.up_to_date, "up to date"), (counts.conflicts, "with conflicts"),
             (counts.not_derived, "not derived")]
    shown = ", ".join(f"{number} {what}" for number, what in parts if number)
    return f"{total} org{'' if total == 1 else 's'}" + (f": {shown}" if shown else "")
