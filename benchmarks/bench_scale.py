"""Other tenants' refs do not slow a command down: the same commands at 10 refs and at 100,000.

    python benchmarks/bench_scale.py        (or as part of benchmarks/run.py)

Each repository holds the Acme org (its live branch, a prompt with versions, two snapshots); the
large ones add 1,000 orgs x 100 prompt refs, packed (as `git pack-refs --all` leaves them) or loose.
Rows: a prompt version create and one org's snapshot list as whole CLI processes, best of REPEAT,
with the ratio to the same command in the 10-ref repository (the goal: at most 1.2x).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gitsnap import Store  # noqa: E402

ORG, USER, PROMPT = "64ee9a8b1e7f2a0011223344", "64ee9a8b1e7f2a0011223399", "65f9b1c2e8a1d4e001a0b1c4"
OTHER_ORGS, PROMPTS_EACH = 1000, 100
REPEAT = 7
ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def base_repo(path: Path) -> str:
    """Acme with a prompt version and two snapshots; the live commit's id."""
    Store.init(path)
    with Store(path) as store:
        store.import_org(str(ROOT / "fixtures" / "acme.json"), user_id=USER)
        store.create_prompt_version(PROMPT, org=ORG, text="first")
        store.create_snapshot(ORG, USER, "One")
        store.create_snapshot(ORG, USER, "Two")
        return store.git.refs.read(f"refs/heads/orgs/{ORG}")


def other_tenants(commit: str) -> list[str]:
    return [f"{commit} refs/prompts/{org:024x}/{prompt:024x}"
            for org in range(1, OTHER_ORGS + 1) for prompt in range(PROMPTS_EACH)]


def add_packed(path: Path, commit: str) -> None:
    """100,000 refs of other orgs, then everything packed by git itself."""
    subprocess.run(["git", "--git-dir", str(path), "update-ref", "--stdin"], check=True,
                   input="".join(f"create {line.split()[1]} {commit}\n" for line in other_tenants(commit)).encode())
    subprocess.run(["git", "--git-dir", str(path), "pack-refs", "--all"], check=True)


def add_loose(path: Path, commit: str) -> None:
    for line in other_tenants(commit):
        ref = path / line.split()[1]
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit + "\n")


def timed(repo: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gitsnap", "--repo", str(repo), *args], check=True,
                   stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def best(repo: Path, command: str, run: int) -> float:
    if command == "create":
        return timed(repo, "prompt", "version", "create", PROMPT, "--org", ORG, "--text", f"text {run}")
    return timed(repo, "snapshot", "list", "--org", ORG)


def run(work: Path) -> list[tuple[str, float, float | None]]:
    work.mkdir(parents=True, exist_ok=True)
    small, packed, loose = work / "refs10.git", work / "refs100k-packed.git", work / "refs100k-loose.git"
    commit = base_repo(small)
    for target, add in ((packed, add_packed), (loose, add_loose)):
        shutil.copytree(small, target)
        add(target, commit)
    repos = {"10 refs": small, "100,000 packed": packed, "100,000 loose": loose}
    rows = []
    for command, label in (("create", "prompt version create"), ("list", "snapshot list --org")):
        times = {name: [] for name in repos}
        for run_number in range(REPEAT):  # the repositories in turn, so load drifts hit each alike
            for name, repo in repos.items():
                times[name].append(best(repo, command, run_number))
        baseline = min(times["10 refs"])
        rows.append((f"{label}, 10 refs", baseline, None))
        for name in ("100,000 packed", "100,000 loose"):
            rows.append((f"{label}, {name} (vs 10 refs)", min(times[name]), baseline))
    return rows


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="gitsnap-bench-scale-") as directory:
        for label, ours, theirs in run(Path(directory)):
            ratio = f"{ours / theirs:6.2f}x" if theirs else "-"
            print(f"{label:52} {ours:8.3f}s {'-' if theirs is None else f'{theirs:8.3f}s':>9} {ratio}")
