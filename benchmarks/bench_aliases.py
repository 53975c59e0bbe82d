"""Prompt aliases: set and resolve at 3 versions / 1 move and at 10,000 versions / 100 moves, against C git.

    python benchmarks/bench_aliases.py        (or as part of benchmarks/run.py)

Neither cost may grow with the prompt's versions or the alias's moves: a set reads the alias's tip
and the target version, a resolve the alias's tip and the version it names. The 10,000 versions are
written by ``git fast-import`` (as in bench_prompts), the 100 moves by gitsnap. "C git doing the
same work" for a set is ``rev-parse`` of the tip and of the version's tree + ``commit-tree`` with
both parents + ``update-ref <new> <old>``; for a resolve, ``git show <alias ref>:prompt.yaml``.
Setting to version 1 of 10,000 is shown apart: finding a version by number walks from the tip
(``prompts._find_version``), the same walk as ``version show 1``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_prompts import DEPTH, ENV, ORG, PROMPT, fast_import_history, gitsnap, make_repo, timed  # noqa: E402

from gitsnap import Store  # noqa: E402
from gitsnap.aliases import alias_ref, find_version  # noqa: E402

MOVES = 100
REPEAT = 5
ALIAS = "production"
REF = alias_ref(ORG, PROMPT, ALIAS)
GIT_REF = "refs/bench/alias"  # C git moves a copy of the alias ref, so gitsnap's stays gitsnap's
GIT_SET = f"""
tip=$(git rev-parse {GIT_REF})
tree=$(git rev-parse "$1^{{tree}}")
commit=$(git commit-tree "$tree" -p "$tip" -p "$1" -F "$2")
git update-ref {GIT_REF} "$commit" "$tip"
"""


def build(work: Path, name: str, versions: int, moves: int) -> tuple[Path, int]:
    """A repository with ``versions`` versions and ``moves`` moves of the alias; its latest number."""
    repo = work / f"{name}.git"
    store = make_repo(repo)
    fast_import_history(repo, versions)  # at every size, so the versions are in a pack alike
    for move in range(moves):
        store.set_prompt_alias(PROMPT, ALIAS, versions - move % 2, org=ORG, reason=f"move {move}")
    store.close()
    return repo, versions


def other_target(store: Store, latest: int) -> int:
    """Whichever of the two newest versions the alias is not at (a set to where it is would be a no-op)."""
    return latest - 1 if find_version(store.git, PROMPT, ORG, ALIAS).id == find_version(store.git, PROMPT, ORG,
                                                                                         latest).id else latest


def set_rows(work: Path, repo: Path, latest: int) -> tuple[float, float]:
    """Best of REPEAT: one CLI set (to the newer or the older of the two newest versions), and C git doing the same."""
    ours, theirs = [], []
    message = work / f"message-{repo.stem}"
    message.write_text("Move alias production\n\nAlias: production\n")
    subprocess.run(["git", "--git-dir", str(repo), "update-ref", GIT_REF, REF], check=True)
    for _ in range(REPEAT):
        with Store(repo) as store:
            target = other_target(store, latest)
            version = find_version(store.git, PROMPT, ORG, target).id
        ours.append(timed(gitsnap(repo, "prompt", "alias", "set", PROMPT, ALIAS, str(target), "--org", ORG)))
        theirs.append(timed(["sh", "-c", GIT_SET, "sh", version, str(message)], {**ENV, "GIT_DIR": str(repo)}))
    return min(ours), min(theirs)


def resolve_rows(repo: Path) -> tuple[float, float]:
    ours = min(timed(gitsnap(repo, "prompt", "version", "show", PROMPT, ALIAS, "--org", ORG)) for _ in range(REPEAT))
    theirs = min(timed(["git", "--git-dir", str(repo), "show", f"{REF}:prompt.yaml"]) for _ in range(REPEAT))
    return ours, theirs


def in_process(repos: list[tuple[Path, int]]) -> list[tuple[float, float]]:
    """Per repository, best of 3 (taken in turns, so a busy machine weighs on both alike): 100 in-process sets
    (each to the other of the two newest versions), and 1,000 resolves."""
    stores = [(Store(repo), latest) for repo, latest in repos]
    best = [[float("inf"), float("inf")] for _ in repos]
    for _ in range(3):
        for (store, latest), times in zip(stores, best):
            seconds = 0.0
            for _ in range(100):
                target = other_target(store, latest)
                start = time.perf_counter()
                store.set_prompt_alias(PROMPT, ALIAS, target, org=ORG)
                seconds += time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(1000):
                find_version(store.git, PROMPT, ORG, ALIAS)
            times[:] = min(times[0], seconds), min(times[1], time.perf_counter() - start)
    for store, _ in stores:
        store.close()
    return [(sets, resolves) for sets, resolves in best]


def set_to_oldest(repo: Path) -> float:
    with Store(repo) as store:
        start = time.perf_counter()
        store.set_prompt_alias(PROMPT, ALIAS, 1, org=ORG)
        return time.perf_counter() - start


def run(work: Path) -> list[tuple[str, float, float | None]]:
    work.mkdir(parents=True, exist_ok=True)
    shallow, shallow_latest = build(work, "shallow", 3, 1)
    start = time.perf_counter()
    deep, deep_latest = build(work, "deep", DEPTH, MOVES)
    print(f"(built {DEPTH:,} versions and {MOVES} moves in {time.perf_counter() - start:.2f}s)", file=sys.stderr)
    cases = [("3 versions/1 move", shallow, shallow_latest), (f"{DEPTH // 1000}k versions/{MOVES} moves", deep, deep_latest)]
    rows = []
    for label, repo, latest in cases:
        rows.append((f"alias set, {label}", *set_rows(work, repo, latest)))
        rows.append((f"version show ALIAS, {label}", *resolve_rows(repo)))
    for (label, _, _), (sets, resolves) in zip(cases, in_process([(repo, latest) for _, repo, latest in cases])):
        rows.append((f"  100 sets in-process, {label}", sets, None))
        rows.append((f"  1,000 resolves in-process, {label}", resolves, None))
    rows.append((f"  1 set to version 1 of {DEPTH // 1000}k, in-process", set_to_oldest(deep), None))
    return rows


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gitsnap-bench-aliases-") as directory:
        for label, ours, theirs in run(Path(directory)):
            ratio = f"{ours / theirs:6.2f}x" if theirs else "-"
            print(f"{label:48} {ours:8.3f}s {'-' if theirs is None else f'{theirs:8.3f}s':>9} {ratio}")
