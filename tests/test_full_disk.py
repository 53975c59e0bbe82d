"""A full disk and a read-only repository, on a real small file system: one line, the right exit code,
no ref moved, and nothing left behind that blocks the same command once space is free again."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from gitsnap import Store
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, LEASING_PROMPT_ID, all_refs, fsck, run_cli


@pytest.fixture
def small_fs(tmp_path):
    """A 4 MiB tmpfs mounted at tmp_path/fs (skipped where this process may not mount one)."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def repo_on_small_fs(small_fs):
    repo = small_fs / "gitsnap.git"
    Store.init(repo)
    with Store(repo) as store:
        store.import_org(str(FIXTURES / "acme.json"), user_id=ALEX_ID)
    return repo


def files_under(path) -> set[str]:
    return {os.path.relpath(os.path.join(root, name), path) for root, _dirs, names in os.walk(path) for name in names}


def fill(directory) -> str:
    """Fill the file system holding ``directory`` to the last byte; the filler's path."""
    filler = os.path.join(directory, "filler")
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(descriptor)
    return filler


WRITES = {
    "prompt version create": ["prompt", "version", "create", LEASING_PROMPT_ID, "--text", "new text " * 2000],
    "org import": ["org", "import", "-"],
    "snapshot create": ["snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", "Full"],
}


def changed_export() -> bytes:
    text = (FIXTURES / "acme.json").read_text()
    return text.replace("Acme", "Acme Full Disk " * 50).encode()


@pytest.mark.parametrize("command", WRITES.values(), ids=WRITES.keys())
def test_a_full_disk_is_one_line_and_the_command_works_once_space_is_free(repo_on_small_fs, small_fs, command):
    refs, files = all_refs(repo_on_small_fs), files_under(repo_on_small_fs)
    filler = fill(small_fs)
    stdin = changed_export() if command[1] == "import" else None
    for as_json in (False, True):
        result = run_cli(*(["--json"] if as_json else []), *command, repo=repo_on_small_fs, input=stdin)
        assert result.exit_code == 1, result.stderr
        assert "Traceback" not in result.stderr
        if as_json:
            assert "No space left on device" in result.json["details"]
        else:
            assert result.stderr.startswith("gitsnap: cannot write to ") and "No space left on device" in result.stderr
            assert len(result.stderr.splitlines()) == 1
    assert all_refs(repo_on_small_fs) == refs
    assert files_under(repo_on_small_fs) == files  # no lock, no temporary file, no half object
    os.unlink(filler)
    again = run_cli(*command, repo=repo_on_small_fs, input=stdin)
    assert again.exit_code == 0, again.stderr
    fsck(repo_on_small_fs)


def test_a_read_only_repository_is_one_line(repo_on_small_fs, small_fs):
    refs = all_refs(repo_on_small_fs)
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True)
    if remounted.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remounted.stderr.decode().strip()}")
    try:
        result = run_cli("prompt", "version", "create", LEASING_PROMPT_ID, "--text", "x", repo=repo_on_small_fs)
        assert result.exit_code == 1 and "Read-only file system" in result.stderr
        assert len(result.stderr.splitlines()) == 1
        listed = run_cli("org", "list", repo=repo_on_small_fs)  # reading still works
        assert listed.exit_code == 0 and ACME_ID in listed.stdout
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=False)
    assert all_refs(repo_on_small_fs) == refs


def test_an_interrupted_clone_leaves_nothing(small_fs, acme_repo, tmp_path):
    filler = fill(small_fs)
    os.unlink(filler)
    big = shutil.copytree(acme_repo, tmp_path / "source.git")
    fill_to = fill(small_fs)
    target = small_fs / "copy.git"
    result = run_cli("clone", str(big), str(target))
    assert result.exit_code != 0 and "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not target.exists()
    os.unlink(fill_to)
