"""Refs at 100,000: gitrefs against dulwich's DiskRefsContainer, and against themselves at 10 refs.

    python benchmarks/bench_refs.py [WORK_DIR]      (or as part of benchmarks/run.py)

With WORK_DIR, the repositories are kept there and reused by the next run (building them takes ~45 s).

Repositories (made by git): 1,000 orgs x 100 prompts under ``refs/prompts/<org>/<prompt>``, all on one
real commit, plus the measured org, which has 10 prompts so that a listing returns the same 10 refs at
both sizes (100,010 refs); the 10-ref repository is that org alone. Each exists packed
(``git pack-refs --all``) and loose. Operations, in-process, best of 5 rounds of up to 400 ops each:

- read: one of the org's refs (``read`` | ``read_loose_ref`` then ``get_packed_refs()``)
- list: the org's 10 refs (``list("refs/prompts/<org>/")`` | ``as_dict(b"refs/prompts/<org>")``)
- move: the packed (or loose) ref from one commit to another by CAS (``swap`` | ``set_if_equals``);
  the ref is put back untimed, so every move starts from packed-refs
- create: a new ref in the org by CAS (``swap(name, None, new)`` | ``add_if_new``), removed untimed

"cold" makes a new ``Refs(path)`` / ``Repo(path).refs`` for every op (untimed), as one CLI command does;
"warm" keeps one per round, as a long-running server does. Both implementations fsync a moved ref.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dulwich.repo import Repo  # noqa: E402

from gitsnap.gitrefs import Refs  # noqa: E402

ORGS, PROMPTS = 1_000, 100
ORG = "64ee9a8b1e7f2a00ffffffff"
NAME = f"refs/prompts/{ORG}/65f9b1c2e8a1d4e000000005"
NEW = f"refs/prompts/{ORG}/65f9b1c2e8a1d4e0000000ff"
OPERATIONS = ("read", "list", "move", "create")
ROUNDS, ROUND_SECONDS, MAX_OPS = 5, 0.05, 400
ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], input=input, capture_output=True, check=True,
                          env=ENV).stdout.decode().strip()


def make_repo(path: Path, orgs: int, packed: bool) -> tuple[str, str]:
    """A bare repository with ``orgs`` x 100 prompt refs plus the measured org's 10; returns two commits."""
    git(path, "init", "--bare", "--quiet")
    tree = git(path, "mktree", input=b"")
    one, two = git(path, "commit-tree", tree, "-m", "one"), git(path, "commit-tree", tree, "-m", "two")
    lines = [f"create refs/prompts/64ee9a8b1e7f2a00{o:08x}/65f9b1c2e8a1d4e0{p:08x} {one}\n"
             for o in range(orgs) for p in range(PROMPTS)]
    lines += [f"create refs/prompts/{ORG}/65f9b1c2e8a1d4e0{p:08x} {one}\n" for p in range(10)]
    git(path, "update-ref", "--stdin", input="".join(lines).encode())
    if packed:
        git(path, "pack-refs", "--all")
    return one, two


def reset(path: Path, packed: bool, one: str) -> None:
    """Put the measured ref back as it was (packed only, or loose on ``one``), and remove the created one."""
    loose, created = path / NAME, path / NEW
    if packed:
        loose.unlink(missing_ok=True)
    else:
        loose.write_text(one + "\n")
    created.unlink(missing_ok=True)


def operations(one: str, two: str) -> dict[str, tuple]:
    """operation -> (gitrefs op, dulwich op), each taking a refs object."""
    name, new, org = NAME.encode(), NEW.encode(), f"refs/prompts/{ORG}".encode()
    return {
        "read": (lambda refs: refs.read(NAME),
                 lambda refs: refs.read_loose_ref(name) or refs.get_packed_refs().get(name)),
        "list": (lambda refs: refs.list(f"refs/prompts/{ORG}/"), lambda refs: refs.as_dict(org)),
        "move": (lambda refs: refs.swap(NAME, one, two),
                 lambda refs: refs.set_if_equals(name, one.encode(), two.encode())),
        "create": (lambda refs: refs.swap(NEW, None, two), lambda refs: refs.add_if_new(new, two.encode())),
    }


def measure_round(path: Path, packed: bool, one: str, op, opener, warm: bool) -> float:
    """The best seconds of one ``op`` over a round, with ``opener(path)`` per op (cold) or per round (warm)."""
    times, spent, refs = [], 0.0, opener(path) if warm else None
    if warm:  # the first op fills the caches a server would already have
        reset(path, packed, one)
        op(refs)
    while spent < ROUND_SECONDS and len(times) < MAX_OPS:
        reset(path, packed, one)
        fresh = refs if warm else opener(path)
        start = time.perf_counter()
        result = op(fresh)
        times.append(time.perf_counter() - start)
        spent += times[-1]
        assert result, f"{op} did nothing"
    reset(path, packed, one)
    return min(times)  # the machine (and the disk, for a move's fsync) only ever adds time


def dulwich_refs(path: Path):
    return Repo(str(path)).refs


def run_all(work: Path) -> dict[tuple[str, str, str, str, str], float]:
    """(operation, implementation, warmth, size, layout) -> seconds: the best of ROUNDS rounds.

    The four repositories are measured in turn within each round, so a slow moment of the machine (or
    of the disk, for the fsync of a move) falls on all of them rather than on one.
    """
    repos = {}
    for size, orgs in (("10", 0), ("100k", ORGS)):
        for layout in ("packed", "loose"):
            path = work / f"refs-{size}-{layout}.git"
            if not (path / "bench-commits").exists():
                shutil.rmtree(path, ignore_errors=True)
                start = time.perf_counter()
                (path / "bench-commits").write_text(" ".join(make_repo(path, orgs, layout == "packed")))
                print(f"(made {path.name} in {time.perf_counter() - start:.1f}s)", file=sys.stderr)
            repos[size, layout] = path, *(path / "bench-commits").read_text().split()
    results: dict[tuple[str, str, str, str, str], float] = {}
    for name in OPERATIONS:
        for impl, opener in (("gitrefs", Refs), ("dulwich", dulwich_refs)):
            for warmth in ("cold", "warm"):
                for _ in range(ROUNDS):
                    for (size, layout), (path, one, two) in repos.items():
                        op = operations(one, two)[name][impl == "dulwich"]
                        seconds = measure_round(path, layout == "packed", one, op, opener, warmth == "warm")
                        key = (name, impl, warmth, size, layout)
                        results[key] = min(results.get(key, seconds), seconds)
    return results


def seconds(value: float) -> str:
    return f"{value * 1e6:9.1f} us" if value < 1e-3 else f"{value * 1e3:9.2f} ms"


def table(results: dict) -> list[str]:
    header = (f"{'operation':8} {'impl':8} {'':5} {'10 packed':>12} {'100k packed':>12} {'x':>6}"
              f" {'10 loose':>12} {'100k loose':>12} {'x':>6}")
    lines = [header]
    for name in OPERATIONS:
        for impl in ("gitrefs", "dulwich"):
            for warmth in ("cold", "warm"):
                cells = []
                for layout in ("packed", "loose"):
                    small, large = (results[name, impl, warmth, size, layout] for size in ("10", "100k"))
                    cells.append(f"{seconds(small):>12} {seconds(large):>12} {large / small:5.2f}x")
                lines.append(f"{name:8} {impl:8} {warmth:5} {' '.join(cells)}")
    return lines


def run(work: Path) -> list[tuple[str, float, float | None]]:
    """benchmarks/run.py rows: (label, gitrefs seconds, dulwich seconds), cold, at 100,010 packed refs."""
    work.mkdir(parents=True, exist_ok=True)
    results = run_all(work)
    return [(f"refs {name}, 100k packed (vs dulwich)", results[name, "gitrefs", "cold", "100k", "packed"],
             results[name, "dulwich", "cold", "100k", "packed"]) for name in OPERATIONS]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
        print("\n".join(table(run_all(Path(sys.argv[1])))))
    else:
        with tempfile.TemporaryDirectory(prefix="gitsnap-bench-refs-") as directory:
            print("\n".join(table(run_all(Path(directory)))))
