"""Baseline upgrades against C git doing the same work, in the same run (rows for benchmarks/run.py).

- A fleet: the Acme fixture (65 entities) applied to 200 tenants, each customising one template;
  the reference then changes 3 entities and is snapshotted again. ``snapshot upgrade --all-from``
  upgrades all 200 in one process (and in-process), against a shell loop of C git doing the same
  three-way merge of the same trees per tenant: ``read-tree -m --aggressive BASE TIP NEW``,
  ``write-tree``, ``commit-tree``, ``update-ref OLD`` (the trees must come out identical: checked).
- The same fleet where every tenant also changed a field of an entity the reference changed: gitsnap
  merges that entity per field (git's read-tree leaves such a file to a text merge; no git row).
- One 10,000-entity org, 10 entities changed on each side: the cost follows the changes, not the
  size of the org.

Fixtures are built in-process through the library; each measurement runs on a fresh copy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from run import GIT_ENV, gitsnap, timed, write_org

from gitsnap import Store, yamlio

REPEAT = 3
TENANTS = 200
ACME = "64ee9a8b1e7f2a0011223344"
ALEX = "64ee9a8b1e7f2a0011223399"
CONFIG = ("pipelines", "automations", "prompts", "templates")
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "acme.json"
GIT_UPGRADE = """
set -e
for org in "$@"; do
  tip=$(git rev-parse "refs/heads/orgs/$org")
  rm -f "$GIT_INDEX_FILE"
  git read-tree -i -m --aggressive "$BASE" "$tip" "$NEW"
  tree=$(git write-tree)
  commit=$(git commit-tree "$tree" -p "$tip" -m "Upgrade $org")
  git update-ref "refs/heads/orgs/$org" "$commit" "$tip"
done
"""


def find(document: dict, collection: str, key: str) -> dict:
    return next(e for e in document[collection] if e["id"] == key)


def change_reference(document: dict) -> None:
    """Three entities: a prompt's text, an automation's trigger, a pipeline's name."""
    find(document, "prompts", "65f9b1c2e8a1d4e001a0b1c4")["body"] += "\n<rule>Never discuss other tenants.</rule>"
    find(document, "automations", "6502a0700000000000000001")["trigger"]["event"] = "tour.confirmed"
    find(document, "pipelines", "6501c0de5a1e000000000002")["name"] = "Maintenance"


def build_fleet(repo: Path, overlap: bool) -> tuple[str, str, list[str]]:
    """The reference, its two snapshots (ids) and the tenants, each customised (and, with ``overlap``, on A1 too)."""
    Store.init(repo)
    reference = json.loads(FIXTURE.read_text())
    tenants = [f"66aa{n:020x}" for n in range(TENANTS)]
    with Store(repo) as store:
        store.import_org(str(FIXTURE))
        base = store.create_snapshot(ACME, ALEX, "Baseline").snapshot.id
        for n, org in enumerate(tenants):
            store.apply_snapshot(base, org, f"Tenant {n}")
            tenant = json.loads(json.dumps({key: reference[key] for key in CONFIG}))
            tenant["org"] = {"id": org, "name": f"Tenant {n}"}
            tenant["templates"][n % 30]["channel"] = "email"
            if overlap:
                find(tenant, "automations", "6502a0700000000000000001")["enabled"] = False
            store.import_org(json.dumps(tenant).encode())
        change_reference(reference)
        store.import_org(json.dumps(reference).encode())
        new = store.create_snapshot(ACME, ALEX, "Next").snapshot.id
    return base, new, tenants


def copy(repo: Path, run: int) -> Path:
    target = repo.with_name(f"{repo.stem}-{run}.git")
    shutil.copytree(repo, target)
    return target


def commit_of(repo: Path, org: str, snapshot_id: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), "rev-parse", f"snapshots/{org}/{snapshot_id}^{{commit}}"],
                          check=True, capture_output=True, text=True).stdout.strip()


def git_upgrade(repo: Path, base: str, new: str, orgs: list[str], reference: str = ACME) -> float:
    """C git's three-way merge of the same trees, one commit per org, as a shell loop."""
    env = {**GIT_ENV, "GIT_DIR": str(repo), "GIT_INDEX_FILE": str(repo / "bench-index"),
           "BASE": commit_of(repo, reference, base), "NEW": commit_of(repo, reference, new)}
    start = time.perf_counter()
    subprocess.run(["sh", "-c", GIT_UPGRADE, "sh", *orgs], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def in_process(repo: Path, new: str, **where) -> float:
    with Store(repo) as store:
        start = time.perf_counter()
        result = store.upgrade_snapshot(new, **where)
        seconds = time.perf_counter() - start
    assert result.exit_code == 0 and result.counts.upgraded == len(result.orgs), result.message
    return seconds


def trees_of(repo: Path, orgs: list[str]) -> list[str]:
    trees = [f"refs/heads/orgs/{org}^{{tree}}" for org in orgs]
    return subprocess.run(["git", "--git-dir", str(repo), "rev-parse", *trees],
                          check=True, capture_output=True, text=True).stdout.split()


def fleet_rows(work: Path) -> list[tuple[str, float, float | None]]:
    repo = work / "fleet.git"
    start = time.perf_counter()
    base, new, tenants = build_fleet(repo, overlap=False)
    print(f"(built {TENANTS} tenants in {time.perf_counter() - start:.1f}s)", file=sys.stderr)
    cli = min(timed(gitsnap("--repo", str(copy(repo, run)), "snapshot", "upgrade", new, "--all-from", ACME))
              for run in range(REPEAT))
    ours = min(in_process(copy(repo, REPEAT + run), new, all_from=ACME) for run in range(REPEAT))
    theirs = min(git_upgrade(copy(repo, 2 * REPEAT + run), base, new, tenants) for run in range(REPEAT))
    if trees_of(repo.with_name("fleet-0.git"), tenants) != trees_of(repo.with_name(f"fleet-{2 * REPEAT}.git"), tenants):
        raise AssertionError("gitsnap's upgraded trees differ from C git's three-way read-tree of the same trees")
    rows = [(f"snapshot upgrade --all-from, {TENANTS} tenants x 65", cli, theirs),
            ("  same upgrade in-process", ours, theirs)]
    repo = work / "overlap.git"
    base, new, tenants = build_fleet(repo, overlap=True)
    ours = min(in_process(copy(repo, run), new, all_from=ACME) for run in range(REPEAT))
    rows.append(("  in-process, each tenant merging 1 entity per field", ours, None))
    return rows


def edit_files(root: Path, collection: str, files: slice, edit) -> None:
    for path in sorted((root / collection).iterdir())[files]:
        data = yamlio.load(path.read_bytes())
        edit(data)
        path.write_bytes(yamlio.dump(data))


def large_rows(work: Path) -> list[tuple[str, float, float | None]]:
    """One 10,000-entity tenant: 10 entities changed on each side (none on both, so C git's read-tree merges them)."""
    source, repo, tenant = work / "org-10000", work / "large.git", work / "tenant-10000"
    write_org(source, 10_000)
    Store.init(repo)
    with Store(repo) as store:
        store.import_org(str(source))
        base = store.create_snapshot("bench", f"{1:024x}", "Baseline").snapshot.id
        store.apply_snapshot(base, "tenant", "Tenant")
        shutil.copytree(source, tenant, ignore=shutil.ignore_patterns("users"))
        (tenant / "org.yaml").write_bytes(yamlio.dump({"id": "tenant", "name": "Tenant"}))
        edit_files(tenant, "automations", slice(0, 10), lambda d: d.update(enabled=False))
        store.import_org(str(tenant))
        edit_files(source, "automations", slice(-5, None), lambda d: d["settings"].update(channel="email"))
        edit_files(source, "templates", slice(0, 5), lambda d: d.update(name=d["name"] + " (v2)"))
        store.import_org(str(source))
        new = store.create_snapshot("bench", f"{1:024x}", "Next").snapshot.id
    orgs = ["tenant"]
    ours = min(timed(gitsnap("--repo", str(copy(repo, run)), "snapshot", "upgrade", new, "--to-org", "tenant"))
               for run in range(REPEAT))
    theirs = min(git_upgrade(copy(repo, REPEAT + run), base, new, orgs, "bench") for run in range(REPEAT))
    inside = min(in_process(copy(repo, 2 * REPEAT + run), new, to_orgs=orgs) for run in range(REPEAT))
    return [("snapshot upgrade, 10,000 entities, 10 changed each side", ours, theirs),
            ("  same upgrade in-process", inside, None)]


def run(work: Path) -> list[tuple[str, float, float | None]]:
    work.mkdir(parents=True, exist_ok=True)
    return fleet_rows(work) + large_rows(work)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gitsnap-bench-upgrade-") as directory:
        for label, seconds, git_seconds in run(Path(directory)):
            ratio = f"{seconds / git_seconds:6.2f}x" if git_seconds else "-"
            print(f"{label:52} {seconds:8.3f}s {'-' if git_seconds is None else f'{git_seconds:8.3f}s':>9} {ratio}")
