"""gitsnap against the real git CLI doing the same work, in the same run.

    python benchmarks/run.py [--sizes 65,10000] [--repeat 3] [--profile]

For each org size: gitsnap's `org import` of a directory (a whole CLI process) against C git's
`git add -A && git commit` of the same files in a work tree, and a re-import with one entity changed
against `git add -A && git commit` of the same change. Ratios are gitsnap / git (lower is better).
Each `benchmarks/bench_<domain>.py` adds its rows through `run(work)`.
"""

from __future__ import annotations

import argparse
import compileall
import cProfile
import importlib
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitsnap import yamlio  # noqa: E402


def compile_bytecode() -> None:
    """Compile gitsnap's modules, as ``pip install`` does: with PYTHONDONTWRITEBYTECODE set, every process of a
    source checkout would otherwise compile the modules changed since their .pyc was written."""
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "gitsnap"), quiet=1)


compile_bytecode()  # every benchmark module imports this one
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
}
SHARES = {"users": 0.08, "pipelines": 0.05, "automations": 0.2, "prompts": 0.3}  # templates take the rest


def entity_counts(size: int) -> dict[str, int]:
    counts = {name: max(1, int(size * share)) for name, share in SHARES.items()}
    counts["templates"] = size - sum(counts.values())
    return counts


def entity(collection: str, index: int) -> dict:
    ident = f"{index:024x}"
    if collection == "users":
        return {"id": ident, "name": f"User {index}", "email": f"user{index}@bench.example", "role": "rep"}
    if collection == "prompts":
        body = "\n".join(f"<rule>Rule {n} for prompt {index}: answer briefly and politely.</rule>" for n in range(12))
        return {"id": ident, "title": f"Prompt {index}", "body": f"<prompt>\n{body}\n</prompt>\n", "model": "gpt-4o"}
    return {"id": ident, "name": f"{collection[:-1].title()} {index}", "enabled": True,
            "settings": {"channel": "sms", "delay_minutes": index % 90, "tags": ["bench", collection]}}


def write_org(root: Path, size: int) -> None:
    """An org directory in the org-tree layout, in canonical YAML (so both tools store the same bytes)."""
    root.mkdir(parents=True)
    (root / "org.yaml").write_bytes(yamlio.dump({"id": "bench", "name": f"Bench org {size}"}))
    index = 0
    for collection, count in entity_counts(size).items():
        (root / collection).mkdir()
        for _ in range(count):
            index += 1
            data = entity(collection, index)
            (root / collection / f"{data['id']}.yaml").write_bytes(yamlio.dump(data))


def change_one(root: Path) -> None:
    path = sorted((root / "prompts").iterdir())[0]
    data = yamlio.load(path.read_bytes())
    data["body"] += f"<rule>changed at {time.time()}</rule>\n"
    path.write_bytes(yamlio.dump(data))


def timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=GIT_ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def gitsnap(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitsnap", *args]


def measure(size: int, repeat: int, work: Path) -> list[tuple[str, float, float]]:
    """(label, gitsnap seconds, git seconds) rows, best of ``repeat``."""
    source = work / f"org-{size}"
    write_org(source, size)
    first, first_git, again, again_git, drift, drift_git = [], [], [], [], [], []
    for run in range(repeat):
        repo, tree = work / f"r{size}-{run}.git", work / f"w{size}-{run}"
        subprocess.run(gitsnap("--repo", str(repo), "init"), check=True, stdout=subprocess.DEVNULL)
        first.append(timed(gitsnap("--repo", str(repo), "org", "import", str(source))))
        shutil.copytree(source, tree)
        subprocess.run(["git", "init", "-q", str(tree)], check=True)
        first_git.append(timed(["sh", "-c", "git add -A && git commit -q -m import"], cwd=tree))
        change_one(source)
        shutil.copytree(source, tree, dirs_exist_ok=True)
        again.append(timed(gitsnap("--repo", str(repo), "org", "import", str(source))))
        again_git.append(timed(["sh", "-c", "git add -A && git commit -q -m change"], cwd=tree))
        # no drift: the files are the live state; git compares its index's stat data, gitsnap blob ids
        drift.append(timed(gitsnap("--repo", str(repo), "org", "diff", "bench", str(source), "--exit-code")))
        drift_git.append(timed(["git", "diff", "--quiet"], cwd=tree))
    return [
        (f"import, {size} entities", min(first), min(first_git)),
        (f"re-import, {size} entities, 1 changed", min(again), min(again_git)),
        (f"org diff (drift), {size} entities, none", min(drift), min(drift_git)),
    ]


def peak_rss_mb(command: list[str]) -> float:
    """The peak resident memory of one run of ``command``, in MiB (the kernel's own count, via wait4)."""
    process = subprocess.Popen(command, env=GIT_ENV, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise RuntimeError(f"{command} failed")
    return usage.ru_maxrss / 1024


def memory(size: int, work: Path) -> None:
    """Peak RSS of importing a ``size``-entity org (a directory, then the same as one JSON document)."""
    import json

    source, repo = work / f"mem-{size}", work / f"mem-{size}.git"
    write_org(source, size)
    subprocess.run(gitsnap("--repo", str(repo), "init"), check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    directory = peak_rss_mb(gitsnap("--repo", str(repo), "org", "import", str(source)))
    print(f"import of a {size:,}-entity directory: peak RSS {directory:.0f} MiB, {time.perf_counter() - start:.1f} s")
    document = {"org": yamlio.load((source / "org.yaml").read_bytes())}
    for collection in entity_counts(size):
        document[collection] = [yamlio.load(path.read_bytes()) for path in sorted((source / collection).iterdir())]
        document[collection][0]["changed"] = True  # so the import writes
    (work / "mem.json").write_text(json.dumps(document))
    start = time.perf_counter()
    one = peak_rss_mb(gitsnap("--repo", str(repo), "org", "import", str(work / "mem.json")))
    print(f"import of a {size:,}-entity JSON document: peak RSS {one:.0f} MiB, {time.perf_counter() - start:.1f} s")


def profile_import(size: int, work: Path) -> None:
    from gitsnap import Store

    source = work / f"profile-{size}"
    write_org(source, size)
    store = Store(Store.init(work / "profile.git").repo)
    profiler = cProfile.Profile()
    profiler.runcall(store.import_org, str(source))
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="65,10000", help="org sizes in entities, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    parser.add_argument("--profile", action="store_true", help="also profile one in-process import of the largest size")
    parser.add_argument("--memory", type=int, metavar="ENTITIES", help="also measure the peak memory of importing an "
                                                                       "org this large (e.g. 100000)")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="gitsnap-bench-"))
    try:
        rows = [row for size in sizes for row in measure(size, options.repeat, work)]
        rows += domain_rows(work)
        print(f"{'benchmark':48} {'gitsnap':>9} {'git':>9} {'ratio':>7}")
        for label, ours, theirs in rows:
            theirs_text = f"{theirs:8.3f}s" if theirs else f"{'-':>9}"
            ratio = f"{ours / theirs:6.2f}x" if theirs else f"{'-':>7}"
            print(f"{label:48} {ours:8.3f}s {theirs_text} {ratio}")
        if options.profile:
            profile_import(max(sizes), work)
        if options.memory:
            memory(options.memory, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def domain_rows(work: Path) -> list[tuple[str, float, float | None]]:
    """The rows of every ``benchmarks/bench_<domain>.py``: its ``run(work)`` gives (label, gitsnap s, git s or None)."""
    rows = []
    for path in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        rows += module.run(work / path.stem)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
