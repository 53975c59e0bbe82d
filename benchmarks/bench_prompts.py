"""Prompt versions: create at depth 1 and at depth 10,000, and list 10,000 versions, against C git.

    python benchmarks/bench_prompts.py        (or as part of benchmarks/run.py)

The 10,000-version history is written by ``git fast-import`` (commits with the tree and trailers
gitsnap writes), not by 10,000 CLI calls. "C git doing the same work" for a create is
``hash-object -w`` + ``mktree`` + ``rev-parse`` + ``commit-tree`` + ``update-ref <new> <old>`` (the
blob, the tree, the commit on the tip, the compare-and-swap) on a copy of the same ref; for a
list it is ``git log --format='%H %(trailers:key=Version,valueonly)'``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitsnap import Store, yamlio  # noqa: E402
from gitsnap.prompts import Checkpoint, prompt_ref  # noqa: E402

ORG = "64ee9a8b1e7f2a0011223344"
PROMPT = "65f9b1c2e8a1d4e001a0b1c4"
DEPTH = 10_000
REPEAT = 5
ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
GIT_REF = "refs/bench/git"
GIT_CREATE = f"""
blob=$(git hash-object -w --stdin < "$1")
tree=$(printf '100644 blob %s\\tprompt.yaml\\n' "$blob" | git mktree)
tip=$(git rev-parse {GIT_REF})
commit=$(git commit-tree "$tree" -p "$tip" -F "$2")
git update-ref {GIT_REF} "$commit" "$tip"
"""


def text(number: int) -> str:
    """A realistic prompt of about 1 KB, different for every version."""
    rules = "\n".join(f"- Rule {n}: answer in two or three sentences; revision {number}." for n in range(12))
    return f"<prompt><role>Leasing assistant</role>\n<rules>\n{rules}\n</rules>\n<revision>{number}</revision>\n</prompt>"


def make_repo(path: Path) -> Store:
    Store.init(path)
    document = {"org": {"id": ORG, "name": "Acme Corp"},
                "prompts": [{"id": PROMPT, "title": "Leasing assistant", "body": text(0)}]}
    source = path.parent / f"{path.name}.json"
    source.write_text(json.dumps(document))
    store = Store(path)
    store.import_org(str(source))
    return store


def fast_import_history(repo: Path, depth: int) -> None:
    """``depth`` versions on the prompt's ref, exactly as gitsnap writes them, in one fast-import run."""
    chunks = []
    for number in range(1, depth + 1):
        message = Checkpoint(label=f"Checkpoint {number}", source="checkpoint").message(number, PROMPT, ORG).encode()
        content = yamlio.dump({"id": PROMPT, "body": text(number)})
        chunks += [f"commit {prompt_ref(ORG, PROMPT)}\ncommitter Bench <bench@example.com> {1_700_000_000 + number} +0000\n".encode(),
                   b"data %d\n%s\ndeleteall\nM 100644 inline prompt.yaml\ndata %d\n%s\n" % (len(message), message, len(content), content)]
    subprocess.run(["git", "--git-dir", str(repo), "fast-import", "--quiet"], input=b"".join(chunks), check=True, env=ENV)


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env or ENV)
    return time.perf_counter() - start


def gitsnap(repo: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gitsnap", "--repo", str(repo), *args]


def create_rows(work: Path, repo: Path, depth: int) -> tuple[float, float]:
    """Best of REPEAT: one CLI create on top of ``depth`` versions, and C git doing the same work."""
    subprocess.run(["git", "--git-dir", str(repo), "update-ref", GIT_REF, prompt_ref(ORG, PROMPT)], check=True)
    ours, theirs = [], []
    for run in range(REPEAT):
        new_text = text(depth + 1 + run)
        ours.append(timed(gitsnap(repo, "prompt", "version", "create", PROMPT, "--org", ORG, "--text", new_text,
                                  "--label", "Bench")))
        number = depth + 1 + run
        content, message = work / f"content-{depth}-{run}", work / f"message-{depth}-{run}"
        content.write_bytes(yamlio.dump({"id": PROMPT, "body": new_text}))
        message.write_text(Checkpoint(label="Bench").message(number, PROMPT, ORG))
        theirs.append(timed(["sh", "-c", GIT_CREATE, "sh", str(content), str(message)], {**ENV, "GIT_DIR": str(repo)}))
    return min(ours), min(theirs)


def in_process_create(repo: Path, depth: int) -> float:
    """Best of 20 in-process creates on top of ``depth`` versions (no start-up: the cost of the depth alone)."""
    seconds = []
    with Store(repo) as store:
        for run in range(20):
            start = time.perf_counter()
            store.create_prompt_version(PROMPT, org=ORG, text=text(10 * DEPTH + depth + run), label="In-process")
            seconds.append(time.perf_counter() - start)
    return min(seconds)


def run(work: Path) -> list[tuple[str, float, float | None]]:
    work.mkdir(parents=True, exist_ok=True)
    shallow, deep = work / "depth1.git", work / "deep.git"
    make_repo(shallow).create_prompt_version(PROMPT, org=ORG, label="First")
    make_repo(deep)
    start = time.perf_counter()
    fast_import_history(deep, DEPTH)
    print(f"(built {DEPTH:,} versions with git fast-import in {time.perf_counter() - start:.2f}s)", file=sys.stderr)
    log = min(timed(["git", "--git-dir", str(deep), "log", "--format=%H %(trailers:key=Version,valueonly)",
                     prompt_ref(ORG, PROMPT)]) for _ in range(REPEAT))
    rows = []
    for label, options in (("table", []), ("--json", ["--json"]), ("--json --no-preview", ["--json", "--no-preview"])):
        listed = min(timed(gitsnap(deep, "prompt", "version", "list", PROMPT, "--org", ORG, *options))
                     for _ in range(REPEAT))
        rows.append((f"prompt version list {DEPTH:,}, {label}", listed, log))
    rows.insert(0, ("prompt version create, depth 1", *create_rows(work, shallow, 1)))
    rows.insert(1, (f"prompt version create, depth {DEPTH:,}", *create_rows(work, deep, DEPTH)))
    rows.insert(2, ("  same create in-process, depth 1", in_process_create(shallow, 1), None))
    rows.insert(3, (f"  same create in-process, depth {DEPTH:,}", in_process_create(deep, DEPTH), None))
    return rows


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="gitsnap-bench-prompts-") as directory:
        for label, ours, theirs in run(Path(directory)):
            ratio = f"{ours / theirs:6.2f}x" if theirs else "-"
            print(f"{label:48} {ours:8.3f}s {'-' if theirs is None else f'{theirs:8.3f}s':>9} {ratio}")
