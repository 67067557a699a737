"""Every command is registered explicitly, and every command module is a registered command.

Deleting or renaming a command module must fail here (and at import), not leave the suite green."""

from __future__ import annotations

from pathlib import Path

from taxpack.cli import main, pack

CLI = Path(__file__).resolve().parents[2] / "cli"
HELPERS = {"__init__", "__main__", "main", "group", "options", "progress"}
TOP = {"check", "plan", "harvest", "exit", "batch", "import", "reclaim", "pack"}
PACK = {"list", "show", "validate", "test", "audit", "diff"}


def test_top_level_commands_are_the_documented_ones() -> None:
    assert set(main.cli.commands) == TOP


def test_pack_commands_are_the_documented_ones() -> None:
    assert set(pack.pack.commands) == PACK


def test_every_command_module_is_registered() -> None:
    registered = {cmd.callback.__module__.rsplit(".", 1)[1] for cmd in main.COMMANDS + pack.COMMANDS if cmd.callback}
    modules = {p.stem for p in CLI.glob("*.py")} - HELPERS
    assert modules == registered


def test_readme_lists_every_command() -> None:
    readme = (CLI.parent / "README.md").read_text(encoding="utf-8")
    for name in TOP - {"pack"}:
        assert f"`taxpack {name}" in readme, name
    for name in PACK:
        assert f"`taxpack pack {name}" in readme, name
