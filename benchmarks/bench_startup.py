"""Start-up: what a CLI call costs before it does anything, against Python importing the same libraries.

    python benchmarks/bench_startup.py        (or as part of benchmarks/run.py)

`import pydantic` alone is lazy (it loads no model machinery), so the floor is given twice: the four
imports as written, and with `from pydantic import BaseModel`, which any pydantic model needs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import run as _shared  # noqa: E402, F401  (importing it compiles gitsnap's modules, as pip install does)

from gitsnap import Store  # noqa: E402

ORG, PROMPT = "64ee9a8b1e7f2a0011223344", "65f9b1c2e8a1d4e001a0b1c4"
REPEAT = 11


def best(command: list[str] | Callable[[int], list[str]]) -> float:
    """Best of REPEAT runs; ``command`` may be a function of the run's number (a new text each time)."""
    seconds = []
    for run in range(REPEAT):
        start = time.perf_counter()
        subprocess.run(command(run) if callable(command) else command, check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def run(work: Path) -> list[tuple[str, float, float | None]]:
    work.mkdir(parents=True, exist_ok=True)
    repo = work / "startup.git"
    Store.init(repo)
    with Store(repo) as store:
        store.import_org(str(ROOT / "fixtures" / "acme.json"))
    python = [sys.executable, "-c"]
    floor = best([*python, "import pydantic, dulwich.repo, click, yaml"])
    floor_models = best([*python, "import pydantic, dulwich.repo, click, yaml; from pydantic import BaseModel"])
    gitsnap = [sys.executable, "-m", "gitsnap", "--repo", str(repo)]
    create = best(lambda run: [*gitsnap, "prompt", "version", "create", PROMPT, "--text", f"text {run}"])
    return [
        ("python -c pass", best([*python, "pass"]), None),
        ("gitsnap --version (vs python -c pass)", best([*gitsnap, "--version"]), best([*python, "pass"])),
        ("gitsnap --help", best([*gitsnap, "--help"]), None),
        ("prompt version create (vs the four imports)", create, floor),
        ("prompt version create (vs ... + BaseModel)", create, floor_models),
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="gitsnap-bench-startup-") as directory:
        for label, ours, theirs in run(Path(directory)):
            ratio = f"{ours / theirs:6.2f}x" if theirs else "-"
            print(f"{label:48} {ours:8.3f}s {'-' if theirs is None else f'{theirs:8.3f}s':>9} {ratio}")
