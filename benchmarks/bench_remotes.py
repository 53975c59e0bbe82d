"""Push and clone over git:// (a local `git daemon`): gitsnap against `git push --mirror` / `git clone --mirror`.

Both sides are whole processes moving the same refs and objects to a new, empty bare repository.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import gitsnap, timed, write_org  # noqa: E402

from tests.servers import GitDaemon, bare_repo  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPEAT = 3


def _repository(work: Path, name: str, source: Path) -> Path:
    repo = work / f"{name}.git"
    subprocess.run(gitsnap("--repo", str(repo), "init"), check=True, stdout=subprocess.DEVNULL)
    subprocess.run(gitsnap("--repo", str(repo), "org", "import", str(source)), check=True, stdout=subprocess.DEVNULL)
    return repo


def _measure(label: str, repo: Path, daemon: GitDaemon, served: Path, work: Path) -> list[tuple[str, float, float]]:
    push, push_git, clone, clone_git = [], [], [], []
    for run in range(REPEAT):
        ours, theirs = f"{label}-{run}.git", f"{label}-{run}-git.git"
        bare_repo(served, ours)
        bare_repo(served, theirs)
        push.append(timed(gitsnap("--repo", str(repo), "push", daemon.url(ours))))
        push_git.append(timed(["git", "--git-dir", str(repo), "push", "-q", "--mirror", daemon.url(theirs)]))
        clone.append(timed(gitsnap("clone", daemon.url(ours), str(work / f"clone-{ours}"))))
        clone_git.append(timed(["git", "clone", "-q", "--mirror", daemon.url(theirs), str(work / f"clone-{theirs}")]))
    return [
        (f"push over git://, {label}", min(push), min(push_git)),
        (f"clone over git://, {label}", min(clone), min(clone_git)),
    ]


def run(work: Path) -> list[tuple[str, float, float | None]]:
    """(label, gitsnap seconds, git seconds) rows for Acme and a 10,000-entity org."""
    served, home = work / "served", work / "home"
    served.mkdir(parents=True)
    home.mkdir()
    acme = _repository(work, "acme", FIXTURES / "acme.json")
    write_org(work / "org-10000", 10000)
    big = _repository(work, "big", work / "org-10000")
    daemon = GitDaemon(served, home)
    try:
        return [*_measure("Acme", acme, daemon, served, work), *_measure("10000 entities", big, daemon, served, work)]
    finally:
        daemon.stop()


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gitsnap-bench-remotes-") as directory:
        for row in run(Path(directory)):
            print(f"{row[0]:40} {row[1]:8.3f}s {row[2]:8.3f}s {row[1] / row[2]:6.2f}x")
