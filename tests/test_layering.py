"""The shape of the code: the CLI is a thin layer; one git layer owns dulwich; help has examples."""

from __future__ import annotations

import ast
from pathlib import Path

import click

from gitsnap.cli import cli
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES
from tests.conftest import LEASING_PROMPT_ID as PROMPT

PACKAGE = Path(__file__).resolve().parent.parent / "gitsnap"
GIT_LAYER = {"gitstore.py", "gitobjects.py", "gittrees.py", "gitrefs.py", "gitremote.py", "gitpack.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_git_layer_imports_dulwich():
    offenders = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                 if p.name not in GIT_LAYER and "dulwich" in imported_modules(p)]
    assert offenders == []


def test_no_library_module_imports_click():
    offenders = [p.name for p in PACKAGE.glob("*.py") if p.name != "__main__.py" and "click" in imported_modules(p)]
    assert offenders == []


def test_the_cli_imports_no_dulwich():
    offenders = [p.name for p in (PACKAGE / "cli").glob("*.py") if "dulwich" in imported_modules(p)]
    assert offenders == []


def walk_commands(command: click.Command, path: str = "gitsnap"):
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            yield from walk_commands(command.get_command(context, name), f"{path} {name}")


def test_every_command_has_help_with_an_example():
    missing = []
    for path, command in walk_commands(cli):
        if isinstance(command, click.Group) and path != "gitsnap":
            continue
        if "Example:" not in (command.help or "") or f"{path}" not in (command.help or "").split("Example:")[1]:
            missing.append(path)
    assert missing == []


def test_every_leaf_command_takes_json():
    leaves = [(path, c) for path, c in walk_commands(cli) if not isinstance(c, click.Group)]
    assert leaves and all(any("--json" in p.opts for p in c.params) for _, c in leaves)


HEAVY = ("pydantic", "dulwich", "yaml", "fastapi", "uvicorn", "jwt")


def loaded_submodules(*args: str, env: dict[str, str] | None = None, packages: tuple[str, ...] = HEAVY) -> set[str]:
    """The modules of ``packages`` (e.g. ``pydantic``, ``gitsnap.cli``) a real ``gitsnap`` process has imported when
    it exits."""
    import os
    import subprocess
    import sys

    probe = ("import atexit, sys\n"
             f"atexit.register(lambda: sys.stderr.write('LOADED ' + ' '.join(sorted(m for m in sys.modules if m.startswith({tuple(p + '.' for p in packages)!r}) or m in {packages!r})) + '\\n'))\n"
             f"sys.argv = ['gitsnap', *{list(args)!r}]\n"
             "from gitsnap.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr.decode()
    line = next(line for line in result.stderr.decode().splitlines() if line.startswith("LOADED"))
    return set(line.split()[1:])


def loaded_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages among HEAVY a real ``gitsnap`` process has imported when it exits."""
    return {name.split(".")[0] for name in loaded_submodules(*args, env=env)}


def test_help_version_and_completion_import_neither_pydantic_nor_dulwich():
    assert loaded_modules("--help") == set()
    assert loaded_modules("--version") == set()
    assert loaded_modules("org", "--help") == set()
    assert loaded_modules(env={"_GITSNAP_COMPLETE": "bash_complete", "COMP_WORDS": "gitsnap org i",
                               "COMP_CWORD": "2"}) == set()


def test_a_command_imports_the_library_but_not_the_server_stack(tmp_path):
    loaded = loaded_modules("--repo", str(tmp_path / "r.git"), "init")
    assert "dulwich" in loaded and not loaded & {"fastapi", "uvicorn", "jwt"}


def test_pydantic_is_imported_only_to_validate_an_export(tmp_path):
    repo = str(tmp_path / "r.git")
    assert "pydantic" not in loaded_modules("--repo", repo, "init")
    assert "pydantic" in loaded_modules("--repo", repo, "org", "import", str(FIXTURES / "acme.json"))
    for command in (["prompt", "version", "create", PROMPT, "--text", "new text"], ["prompt", "version", "list", PROMPT],
                    ["snapshot", "list"], ["org", "list"], ["prompt", "alias", "set", PROMPT, "staging", "1"]):
        assert "pydantic" not in loaded_modules("--repo", repo, "--json", *command), command


def test_listings_read_objects_without_pyyaml_or_dulwichs_object_store(tmp_path):
    """A listing reads refs, packs and loose tags itself: it needs only dulwich's C helpers (and no YAML)."""
    repo = str(tmp_path / "r.git")
    loaded_modules("--repo", repo, "init")
    loaded_modules("--repo", repo, "org", "import", str(FIXTURES / "acme.json"))
    assert list((tmp_path / "r.git" / "objects" / "pack").glob("*.idx"))  # the import wrote a pack to read from
    loaded_modules("--repo", repo, "snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", "Nightly")
    for command in (["snapshot", "list"], ["snapshot", "list", "--org", ACME_ID]):
        loaded = loaded_submodules("--repo", repo, "--json", *command)
        assert not {name for name in loaded if name.split(".")[0] in ("yaml", "pydantic")}, command
        assert loaded <= {"dulwich", "dulwich.errors", "dulwich._pack", "dulwich._objects"}, command


def test_a_command_imports_its_own_cli_module_only(tmp_path):
    repo = str(tmp_path / "r.git")
    loaded_modules("--repo", repo, "init")
    loaded = loaded_submodules("--repo", repo, "snapshot", "list", packages=("gitsnap.cli",))
    assert "gitsnap.cli.snapshots" in loaded
    assert not loaded & {"gitsnap.cli.prompts", "gitsnap.cli.stubs", "gitsnap.cli.remotes", "gitsnap.cli.serve"}
    assert {"gitsnap.cli.prompts", "gitsnap.cli.serve"} <= loaded_submodules("--help", packages=("gitsnap.cli",))
