"""Concurrent saves of one stub snapshot name from several processes: every save is kept."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from gitsnap import Store
from tests.conftest import fsck, git, run_cli

ORG = "64ee9a8b1e7f2a0011223344"
STUB = "lead-intake-flow"
PARENT = f"refs/stubs/{ORG}/{STUB}/stub/race"
CHILD = f"refs/stubs/{ORG}/{STUB}/gpt_chat_task/customer_support/race"
LIVE = f"refs/heads/orgs/{ORG}"

# Each writer makes its own states live with --from and saves them, children included.
WRITER = """
import sys
from gitsnap import Store
repo, paths = sys.argv[1], sys.argv[2:]
for path in paths:
    Store(repo).save_stub_snapshot("lead-intake-flow", org="64ee9a8b1e7f2a0011223344", name="race",
                                   all_chats=True, source=path)
"""


def state(writer: int, save: int) -> dict:
    return {"stubref": STUB, "data": {"writer": writer, "save": save},
            "chats": {"customer_support": {"writer": writer, "save": save}}}


def setup_org(repo, tmp_path) -> None:
    document = {"org": {"id": ORG, "name": "Acme Corp"}, "stubs": [state(-1, -1)]}
    source = tmp_path / "org.json"
    source.write_text(json.dumps(document))
    Store(repo).import_org(str(source))


def write_states(tmp_path, writers: int, saves: int) -> list[list[str]]:
    paths = []
    for writer in range(writers):
        paths.append([])
        for save in range(saves):
            path = tmp_path / f"state-{writer}-{save}.json"
            path.write_text(json.dumps(state(writer, save)))
            paths[-1].append(str(path))
    return paths


def load(repo, rev: str, path: str) -> dict:
    return yaml.safe_load(git(repo, "show", f"{rev}:{path}"))


def trailer(repo, commit: str, key: str) -> list[str]:
    message = git(repo, "log", "-1", "--format=%B", commit)
    parsed = git(repo, "interpret-trailers", "--parse", input=message.encode())
    return [line.split(": ", 1)[1] for line in parsed.splitlines() if line.startswith(f"{key}: ")]


def test_concurrent_saves_of_one_name_keep_every_save(repo, tmp_path):
    writers, saves = 6, 10
    setup_org(repo, tmp_path)
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(repo), *paths], stderr=subprocess.PIPE)
                 for paths in write_states(tmp_path, writers, saves)]
    errors = [process.communicate()[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0] * writers, errors

    total = writers * saves
    assert int(git(repo, "rev-list", "--count", PARENT)) == total
    assert int(git(repo, "rev-list", "--count", CHILD)) == total
    assert int(git(repo, "rev-list", "--count", LIVE)) == total + 1
    parents = git(repo, "rev-list", PARENT).split()
    saved = {(d["writer"], d["save"]) for d in (load(repo, c, "stub.yaml")["data"] for c in parents)}
    assert saved == {(w, s) for w in range(writers) for s in range(saves)}
    fsck(repo)


def test_concurrent_saves_keep_one_uuid_and_pin_their_own_chat_state(repo, tmp_path):
    setup_org(repo, tmp_path)
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(repo), *paths])
                 for paths in write_states(tmp_path, 4, 6)]
    assert [process.wait() for process in processes] == [0] * 4

    child_uuids = {u for c in git(repo, "rev-list", CHILD).split() for u in trailer(repo, c, "Snapshot-Uuid")}
    parents = git(repo, "rev-list", PARENT).split()
    assert len({u for c in parents for u in trailer(repo, c, "Snapshot-Uuid")}) == 1
    assert len({u for c in parents for u in trailer(repo, c, "Created-At")}) == 1
    assert len(child_uuids) == 1
    for commit in parents:
        assert trailer(repo, commit, "Child-Snapshot") == list(child_uuids)
        pinned = trailer(repo, commit, "Child")[0].split(" ")[1]
        assert load(repo, pinned, "chat.yaml") == load(repo, commit, "stub.yaml")["data"]


def test_concurrent_cli_saves_lose_nothing(repo, tmp_path):
    setup_org(repo, tmp_path)
    script = "\n".join(
        ["import subprocess, sys"]
        + ["for path in sys.argv[2:]:",
           "    subprocess.run([sys.executable, '-m', 'gitsnap', '--repo', sys.argv[1], 'stub', 'snapshot', 'save',",
           f"                    '{STUB}', '--name', 'race', '--from', path], check=True)"])
    processes = [subprocess.Popen([sys.executable, "-c", script, str(repo), *paths])
                 for paths in write_states(tmp_path, 4, 4)]
    assert [process.wait() for process in processes] == [0] * 4
    assert int(git(repo, "rev-list", "--count", PARENT)) == 16
    listed = run_cli("stub", "snapshot", "list", STUB, "--json", repo=repo).json["snapshots"]
    assert [(s["snapshot_name"], s["saves"]) for s in listed] == [("race", 16)]
    fsck(repo)
