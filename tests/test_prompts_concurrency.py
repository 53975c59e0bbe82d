"""Concurrent version creates on one prompt from several processes: numbered 1..N, nothing lost."""

from __future__ import annotations

import subprocess
import sys

import yaml

from gitsnap import Store
from tests.conftest import ACME_ID, LEASING_PROMPT_ID, fsck, git

REF = f"refs/prompts/{ACME_ID}/{LEASING_PROMPT_ID}"

# Each writer creates its own distinct texts through the Python API.
WRITER = """
import sys
from gitsnap import Store
repo, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = Store(repo)
for n in range(count):
    result = store.create_prompt_version("65f9b1c2e8a1d4e001a0b1c4", text=f"writer {writer} checkpoint {n}",
                                         label=f"w{writer}-{n}", source="checkpoint")
    assert not result.skipped
"""


def test_concurrent_creates_number_every_version_once_on_a_linear_history(acme_repo):
    writers, creates = 8, 25
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(acme_repo), str(w), str(creates)],
                                  stderr=subprocess.PIPE) for w in range(writers)]
    errors = [process.communicate()[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0] * writers, errors

    total = writers * creates
    log = git(acme_repo, "log", "--format=%H %P|%(trailers:key=Version,valueonly,separator=)", REF).splitlines()
    assert len(log) == total
    assert [int(line.split("|")[1]) for line in log] == list(range(total, 0, -1))
    assert all(len(line.split("|")[0].split()) == 2 for line in log[:-1])  # one parent each, the root none
    assert len(log[-1].split("|")[0].split()) == 1
    texts = [yaml.safe_load(git(acme_repo, "show", f"{line.split()[0]}:prompt.yaml"))["body"] for line in log]
    assert sorted(texts) == sorted(f"writer {w} checkpoint {n}" for w in range(writers) for n in range(creates))
    listed = Store(acme_repo).list_prompt_versions(LEASING_PROMPT_ID).versions
    assert [v.version for v in listed] == list(range(total, 0, -1))
    fsck(acme_repo)
