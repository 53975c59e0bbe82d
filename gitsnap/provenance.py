"""Where an org's config comes from: the snapshot it was applied from, or last upgraded to.

``snapshot apply`` and ``snapshot upgrade`` say so in the live commit they write::

    Based-On-Snapshot: <id>            the org's base snapshot from this commit on
    Upgraded-From-Snapshot: <id>       (upgrade) the base snapshot before
    Based-On-Commit: <commit>          (upgrade) the commit <id>'s tag points at
    Source-Org: <org>                  the org <id> is a snapshot of

An org's base snapshot is named by the latest ``Based-On-Snapshot`` along its first parents (later
imports carry none). Its config is read from the commit ``Based-On-Commit`` records, else from the
snapshot's tag, else, for an apply commit (no ``Upgraded-From-Snapshot``), from that commit's own
tree: apply copies the snapshot's four config collections into it as they are. So deleting a
snapshot tag does not strand the orgs applied from it or upgraded to it.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import NotFound, RepositoryError
from .gitmessage import CommitInfo
from .gitstore import GitStore
from .snapshots import SNAPSHOT_ID, Located, locate, read_snapshot


class Provenance(NamedTuple):
    """The latest commit along an org's first parents that names its base snapshot."""

    snapshot_id: str
    commit: CommitInfo

    def trailer(self, key: str) -> str | None:
        values = self.commit.trailers.get(key)
        return values[-1] if values else None


def find_provenance(store: GitStore, tip: str) -> Provenance | None:
    """The org's base snapshot, walking first parents from ``tip``; None when it was never applied."""
    for commit in store.objects.history(tip):
        values = commit.trailers.get("Based-On-Snapshot")
        if values:
            if not SNAPSHOT_ID.fullmatch(values[-1]):
                raise RepositoryError(f"commit {commit.id}: Based-On-Snapshot {values[-1]!r} is not a snapshot id")
            return Provenance(values[-1], commit)
    return None


class Baselines:
    """Provenances and base trees, each read once however many orgs share them (a fleet shares one base)."""

    def __init__(self, store: GitStore):
        self.store = store
        self._provenance: dict[str, Provenance | None] = {}
        self._located: dict[str, Located | None] = {}
        self._trees: dict[str, str | None] = {}

    def provenance(self, tip: str) -> Provenance | None:
        if tip not in self._provenance:
            self._provenance[tip] = find_provenance(self.store, tip)
        return self._provenance[tip]

    def located(self, snapshot_id: str) -> Located | None:
        if snapshot_id not in self._located:
            self._located[snapshot_id] = locate(self.store, snapshot_id)
        return self._located[snapshot_id]

    def source_org(self, provenance: Provenance) -> str | None:
        """The org whose snapshot the base is: the commit's Source-Org, else the tag's org."""
        if recorded := provenance.trailer("Source-Org"):
            return recorded
        located = self.located(provenance.snapshot_id)
        return located.org if located else None

    def base_tree(self, org: str, provenance: Provenance) -> str:
        """The tree holding the base snapshot's config (see the module's docstring for the order)."""
        recorded = provenance.trailer("Based-On-Commit")
        if recorded and self.store.objects.has(recorded):
            return self.store.objects.read_commit(recorded).tree
        if (tagged := self._tagged_tree(provenance.snapshot_id)) is not None:
            return tagged
        if provenance.trailer("Upgraded-From-Snapshot") is None:  # an apply commit: the copy it made
            return provenance.commit.tree
        raise NotFound(f"org {org}'s base snapshot {provenance.snapshot_id} was deleted, and commit "
                       f"{provenance.commit.id} does not record the commit it tagged; apply a snapshot again "
                       f"(gitsnap snapshot apply ID --to-org {org} --replace-config)", title="Snapshot not found")

    def _tagged_tree(self, snapshot_id: str) -> str | None:
        if snapshot_id not in self._trees:
            located = self.located(snapshot_id)
            commit = read_snapshot(self.store, located).commit if located else None
            self._trees[snapshot_id] = self.store.objects.read_commit(commit).tree if commit else None
        return self._trees[snapshot_id]
