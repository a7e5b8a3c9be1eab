"""Docs that stay honest: the README's two commands are what CI runs, and every profile key is documented."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from presswatch.profile import Profile

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert block, "README must start with a code block holding the two commands"
    assert text.index(block.group(0)) < 600, "the two commands must come first in the README"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def test_readme_starts_with_two_commands_and_ci_runs_the_second() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    ci = [line.strip() for line in (REPO / ".ci/run").read_text().splitlines()
          if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert ci == [commands[1]], f".ci/run must call exactly the README's test command {commands[1]!r}"
    targets = re.findall(r"^([a-z]+):", (REPO / "Makefile").read_text(), re.M)
    for command in commands:
        assert command.startswith("make ") and command.split()[1] in targets


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        path = prefix + name
        nested = [t for a in (typing.get_args(field.annotation) or (field.annotation,))
                  for t in (typing.get_args(a) or (a,)) if isinstance(t, type) and issubclass(t, BaseModel)]
        if nested:
            is_list = typing.get_origin(field.annotation) is list
            for t in nested:
                out += _keys(t, path + ("[]." if is_list else "."))
        else:
            out.append(path)
    return out


def test_every_profile_key_is_documented() -> None:
    doc = (REPO / "docs/profile.md").read_text(encoding="utf-8")
    missing = []
    for key in _keys(Profile):
        parent, _, leaf = key.rpartition(".")
        # `a.b` may be documented alone or grouped as `a.b` / `.c` on one row.
        if f"`{key}`" not in doc and not re.search(re.escape(f"`{parent}.") + r"[^|]*`\." + re.escape(leaf) + "`", doc):
            missing.append(key)
    assert not missing, f"undocumented profile keys in docs/profile.md: {missing}"


def test_every_command_is_in_the_readme_table() -> None:
    import argparse

    from presswatch.cli import build_parser

    table = (REPO / "README.md").read_text(encoding="utf-8").split("## Commands", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `presswatch ([a-z]+)", table, re.MULTILINE))
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) - listed == set(), "commands missing from the README's table"
    assert listed - set(sub.choices) == set(), "the README lists commands that do not exist"
