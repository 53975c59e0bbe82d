"""What the snapshot upgrade tests share: a reference org (Acme), tenants applied from its snapshot, edits."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitsnap import Store
from tests.conftest import ACME_ID, ALEX_ID, fsck, git

REF = ACME_ID
TENANT, OTHER, THIRD = "66aa00000000000000000001", "66aa00000000000000000002", "66aa00000000000000000003"
P1, P2 = "6501c0de5a1e000000000001", "6501c0de5a1e000000000002"  # pipelines
A1, A2 = "6502a0700000000000000001", "6502a0700000000000000002"  # automations
TM1, TM2 = "6503e1110000000000000001", "6503e1110000000000000002"  # templates
OWN = ("org.yaml", "stubs", "users")  # what an upgrade never touches


def live(org: str) -> str:
    return f"refs/heads/orgs/{org}"


def document(api: Store, org: str) -> dict:
    """The org's live state in the one-document form."""
    return json.loads(api.export_org(org, fmt="json")[1])


def entity(doc: dict, collection: str, key: str) -> dict:
    return next(e for e in doc[collection] if e["id"] == key)


def edit(api: Store, org: str, mutate: Callable[[dict], object]) -> str:
    """Import the org's live document as ``mutate(document)`` left it (a platform export); the new tip."""
    doc = document(api, org)
    mutate(doc)
    return api.import_org(json.dumps(doc).encode(), name="<edit>").commit


def snapshot(api: Store, name: str) -> str:
    return api.create_snapshot(REF, ALEX_ID, name).snapshot.id


def onboard(api: Store, snapshot_id: str, org: str, name: str) -> None:
    """Apply the snapshot to a new org, then give it users and a stub of its own (what upgrades keep)."""
    api.apply_snapshot(snapshot_id, org, name)

    def own(doc: dict) -> None:
        doc["users"] = [{"id": f"admin-{org[-2:]}", "name": f"{name} Admin", "email": f"admin@{org}.example"}]
        doc["stubs"] = [{"stubref": "onboarding", "data": {"step": 2}, "chats": {"support": {"turns": 1}}}]
        doc["org"]["plan"] = "starter"

    edit(api, org, own)


@dataclass
class World:
    """A repository: Acme (the reference) with snapshot ``base`` applied to TENANT (users, a stub, plan)."""

    repo: Path
    api: Store
    base: str

    def tip(self, org: str = TENANT) -> str:
        return git(self.repo, "rev-parse", live(org)).strip()

    def tree(self, rev: str) -> dict[str, str]:
        """name -> object id of a tree's entries."""
        return {line.split("\t")[1]: line.split()[2] for line in git(self.repo, "ls-tree", rev).splitlines()}

    def blob(self, rev: str, path: str) -> str:
        return git(self.repo, "rev-parse", f"{rev}:{path}").strip()

    def trailer(self, key: str, org: str = TENANT) -> str:
        return git(self.repo, "log", "-1", f"--format=%(trailers:key={key},valueonly)", live(org)).strip()

    def reference(self, mutate: Callable[[dict], object], name: str = "Next") -> str:
        """Change the reference org and snapshot it; the new snapshot's id."""
        edit(self.api, REF, mutate)
        return snapshot(self.api, name)

    def customise(self, mutate: Callable[[dict], object], org: str = TENANT) -> str:
        return edit(self.api, org, mutate)

    def live(self, org: str = TENANT) -> dict:
        return document(self.api, org)


def assert_clean(repo: Path) -> None:
    """git fsck --strict, and gitsnap verify: every ref holds what gitsnap writes."""
    fsck(repo)
    with Store(repo) as store:
        result = store.verify()
    assert result.ok, result.problems
