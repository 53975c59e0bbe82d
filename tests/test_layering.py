"""The shape of the code: the CLI is a thin layer; one git layer owns dulwich; help has examples."""

from __future__ import annotations

import ast
from pathlib import Path

import click

from gitsnap.cli import cli

PACKAGE = Path(__file__).resolve().parent.parent / "gitsnap"
GIT_LAYER = {"gitstore.py", "gitobjects.py", "gittrees.py", "gitrefs.py", "gitremote.py"}


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
        for name, sub in command.commands.items():
            yield from walk_commands(sub, f"{path} {name}")


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
