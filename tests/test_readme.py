"""The README keeps its promises: two commands first (demo, tests), links that resolve, commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer.main

from vested.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_commands(text: str) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_first_two_commands_are_the_demo_and_the_tests() -> None:
    head = README.split("---", 1)[0]
    first, second = fenced_commands(head)
    assert "pip install" in first and first.endswith("vested demo")
    assert "pip install" in second and "'.[test]'" in second and "pytest" in second


def test_every_relative_link_resolves() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    missing = [link for link in links if "://" not in link and not (ROOT / link).exists()]
    assert missing == []


def test_every_vested_command_shown_exists_with_its_options() -> None:
    commands = getattr(typer.main.get_command(app), "commands", {})
    for line in fenced_commands(README):
        words = shlex.split(line)
        if not words or words[0] != "vested" or len(words) < 2:
            continue
        command = commands.get(words[1])
        assert command is not None, f"README shows an unknown command: {line}"
        options = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for word in words[2:]:
            if word.startswith("--"):
                assert word in options, f"README shows an unknown option {word}: {line}"
