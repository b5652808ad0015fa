"""docs/cli.md documents every command and option of `vested`, because it is generated from them."""

from __future__ import annotations

from pathlib import Path

from vested.cli_reference import cli_reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_doc_matches_the_commands() -> None:
    assert DOC.read_text(encoding="utf-8") == cli_reference(), "regenerate with: python -m vested.cli_reference"


def test_every_command_has_help_and_every_option_a_description() -> None:
    text = cli_reference()
    sections = text.split("\n## ")[1:]
    assert len(sections) >= 10
    for section in sections:
        title, _, body = section.partition("\n")
        assert body.strip(), f"{title} has no help text"
        for line in body.splitlines():
            if line.startswith("- `--") and not line.startswith("- `--json`"):
                assert ": " in line and not line.rstrip().endswith(":"), f"{title}: undocumented option {line}"
