"""Org snapshots against C git doing the same work, in the same run (rows for benchmarks/run.py).

- ``snapshot diff`` of two snapshots differing in 3 entities (a whole CLI process) against
  ``git diff --stat A B``, for a 65- and a 10,000-entity org, plus the same diff in-process: the
  cost grows with what changed, not with the size of the org.
- ``snapshot list`` with 2,000 snapshots (loose refs, then packed) against ``git for-each-ref`` printing
  the subjects alone, and the same columns (``SAME_COLUMNS``) from the same tags.
- ``snapshot create`` on the 10,000-entity org against ``git tag -a``, and ``snapshot show`` with
  2,000 snapshots against ``git cat-file tag``.

Fixtures are built in-process through the library (one import, snapshots created in a loop).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from run import GIT_ENV, gitsnap, timed, write_org

from gitsnap import Store, yamlio

REPEAT = 3
LIST_SIZE = 2000
ORG = "bench"
USER = f"{1:024x}"  # write_org's first user


def best(measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(REPEAT))


def in_process(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def change_three(root: Path) -> None:
    """One prompt's text, one automation's nested setting, one template's name."""
    edits = [("prompts", lambda d: d.update(body=d["body"] + "<rule>changed</rule>\n")),
             ("automations", lambda d: d["settings"].update(delay_minutes=d["settings"]["delay_minutes"] + 1)),
             ("templates", lambda d: d.update(name=d["name"] + " (v2)"))]
    for collection, edit in edits:
        path = sorted((root / collection).iterdir())[-1]
        data = yamlio.load(path.read_bytes())
        edit(data)
        path.write_bytes(yamlio.dump(data))


def diff_fixture(work: Path, size: int) -> tuple[Store, str, str]:
    """A repository with snapshots A and B of a ``size``-entity org, 3 entities apart."""
    source, repo = work / f"org-{size}", work / f"diff-{size}.git"
    write_org(source, size)
    Store.init(repo)
    store = Store(repo)
    store.import_org(str(source))
    a = store.create_snapshot(ORG, USER, "Before").snapshot.id
    change_three(source)
    store.import_org(str(source))
    b = store.create_snapshot(ORG, USER, "After").snapshot.id
    return store, a, b


def diff_rows(work: Path) -> list[tuple[str, float, float | None]]:
    rows = []
    for size in (65, 10_000):
        store, a, b = diff_fixture(work, size)
        tags = [f"snapshots/{ORG}/{a}", f"snapshots/{ORG}/{b}"]
        ours = best(lambda: timed(gitsnap("--repo", store.path, "snapshot", "diff", a, b)))
        theirs = best(lambda: timed(["git", "--git-dir", store.path, "diff", "--stat", *tags]))
        rows.append((f"snapshot diff, {size} entities, 3 changed", ours, theirs))
        rows.append((f"  same diff in-process, {size} entities", best(lambda: in_process(lambda: Store(store.path).diff_snapshots(a, b))), None))
        if size == 10_000:
            ours = best(lambda: timed(gitsnap("--repo", store.path, "snapshot", "create", "--org", ORG, "--user", USER,
                                              "--name", "Bench")))
            theirs = best(lambda: timed(["git", "--git-dir", store.path, "tag", "-a", "-m", "Bench",
                                         f"bench-{time.perf_counter_ns()}", f"orgs/{ORG}"]))
            rows.append((f"snapshot create, {size} entities", ours, theirs))
    return rows


def list_rows(work: Path) -> list[tuple[str, float, float | None]]:
    source, repo = work / "org-list", work / "list.git"
    write_org(source, 65)
    Store.init(repo)
    store = Store(repo)
    store.import_org(str(source))
    ids = [store.create_snapshot(ORG, USER, f"Nightly {n}", "Benchmark snapshot.").snapshot.id for n in range(LIST_SIZE)]
    rows = list_against_git(repo, "")
    ours = best(lambda: timed(gitsnap("--repo", str(repo), "snapshot", "show", ids[LIST_SIZE // 2])))
    theirs = best(lambda: timed(["git", "--git-dir", str(repo), "cat-file", "tag", f"snapshots/{ORG}/{ids[LIST_SIZE // 2]}"]))
    rows.append((f"snapshot show, {LIST_SIZE} snapshots", ours, theirs))
    subprocess.run(["git", "--git-dir", str(repo), "pack-refs", "--all"], check=True, env=GIT_ENV)
    return rows + list_against_git(repo, ", packed refs")


# What `snapshot list` prints, from the same tags: id (in the ref name), name, counts, who, when; newest first.
SAME_COLUMNS = ["--sort=-refname", "--format=%(refname:lstrip=3) %(contents:subject) "
                "%(trailers:key=Counts,valueonly,separator=) %(taggername) %(taggerdate:iso-strict)"]


def list_against_git(repo: Path, refs: str) -> list[tuple[str, float, float | None]]:
    """`snapshot list` (its first run fills the tag cache) against for-each-ref printing subjects, then the same
    columns."""
    subprocess.run(gitsnap("--repo", str(repo), "snapshot", "list"), check=True, stdout=subprocess.DEVNULL)
    ours = best(lambda: timed(gitsnap("--repo", str(repo), "snapshot", "list")))
    rows = []
    for label, options in (("subjects", ["--format=%(contents:subject)"]), ("same columns", SAME_COLUMNS)):
        theirs = best(lambda: timed(["git", "--git-dir", str(repo), "for-each-ref", *options, "refs/tags/snapshots"]))
        rows.append((f"snapshot list, {LIST_SIZE} snapshots{refs} (git: {label})", ours, theirs))
    return rows


def run(work: Path) -> list[tuple[str, float, float | None]]:
    work.mkdir(parents=True, exist_ok=True)
    return diff_rows(work) + list_rows(work)
