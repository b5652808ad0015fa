"""docs/running.md, kept true by tests.

* Every ```yaml block that starts with `vested: 1` is a whole agreement that `vested check` accepts
  (no errors; its measures compile). A fragment (```yaml without `vested: 1`) is merged into the
  agreement above it and must load too; a ```yaml refused fragment must be refused with the message
  of the ```text block under it.
* Every `vested ...` line of a ```sh block is a real command with real options, and parses.
* The walk-through runs: ```csv NAME blocks are written to files, the agreement block named
  `desk.yaml` too, and the ```sh run blocks are run in order in that folder; each line of the
  ```text block under a run block is in what the commands printed, and a `sh run fails` block exits 1.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from typer.testing import CliRunner

from tests.helpers import ws
from vested.adapters.load import load_agreement_text
from vested.cli import app
from vested.render.diagnostics import format_diagnostics
from vested.services import agreements

DOC = Path(__file__).resolve().parents[1] / "docs" / "running.md"


@dataclass(frozen=True)
class Block:
    line: int
    info: tuple[str, ...]
    text: str
    output: str | None = None
    """The ```text block right after this one, if any."""

    @property
    def language(self) -> str:
        return self.info[0] if self.info else ""

    @property
    def name(self) -> str:
        return f"running.md:{self.line}"

    @property
    def is_agreement(self) -> bool:
        first = next((ln for ln in self.text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
        return first.strip() == "vested: 1"


def blocks() -> list[Block]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    raw: list[tuple[int, tuple[str, ...], str]] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```") and lines[i].strip() != "```":
            start, info = i + 1, tuple(lines[i][3:].split())
            body: list[str] = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            raw.append((start, info, "\n".join(body) + "\n"))
        i += 1
    found = []
    for n, (line, words_of_info, text) in enumerate(raw):
        after = raw[n + 1] if n + 1 < len(raw) else None
        output = after[2] if after is not None and after[1][:1] == ("text",) else None
        found.append(Block(line, words_of_info, text, output))
    return found


def of(language: str) -> list[Block]:
    return [b for b in blocks() if b.language == language]


# -- the agreements and fragments ------------------------------------------------------------------

def merged(agreement_text: str, fragment_text: str) -> str:
    """The fragment's keys put into the agreement: lists of records are merged by id, other keys replaced."""
    data: dict[str, Any] = yaml.safe_load(agreement_text)
    for key, value in yaml.safe_load(fragment_text).items():
        current = data.get(key)
        if isinstance(value, list) and isinstance(current, list):
            ids = {item.get("id") for item in value if isinstance(item, dict)}
            data[key] = [item for item in current if not (isinstance(item, dict) and item.get("id") in ids)] + value
        else:
            data[key] = value
    return json.dumps(data, indent=1, default=str)


def context(block: Block) -> str:
    before = [b for b in of("yaml") if b.is_agreement and b.line < block.line]
    assert before, f"{block.name}: a fragment needs a whole agreement (`vested: 1`) above it"
    return before[-1].text


def test_the_guide_has_a_whole_agreement() -> None:
    assert any(b.is_agreement for b in of("yaml"))


@pytest.mark.parametrize("block", of("yaml"), ids=lambda b: b.name)
def test_yaml_block_loads(block: Block, tmp_path: Path) -> None:
    text = block.text if block.is_agreement else merged(context(block), block.text)
    if "refused" in block.info:
        loaded = load_agreement_text(text, block.name, lint=False)
        assert not loaded.ok, f"{block.name} is shown as refused, but it loads"
        assert block.output is not None, f"{block.name}: show what vested reports in a ```text block after it"
        reported = [re.sub(r"^\S+:\d+:\d+: ", "", ln.strip()) for ln in format_diagnostics(loaded.diagnostics).splitlines()]
        for line in block.output.splitlines():
            assert line.strip() in reported, f"{block.name}: vested no longer reports {line.strip()!r}:\n" + "\n".join(reported)
        return
    path = tmp_path / "agreement.yaml"
    path.write_text(text, encoding="utf-8")
    report = agreements.check(ws(), path)  # load, check, lint, and compile the measures
    assert report.ok, f"{block.name}:\n{format_diagnostics(report.diagnostics)}"


# -- the command lines -----------------------------------------------------------------------------

COMMANDS: dict[str, Any] = getattr(typer.main.get_command(app), "commands", {})


def command_lines() -> list[tuple[str, str]]:
    """(where, line) of every `vested ...` line in a ```sh block."""
    return [(f"running.md:{b.line + i + 1}", line.strip()) for b in of("sh")
            for i, line in enumerate(b.text.splitlines()) if line.strip().startswith("vested ")]


def words(line: str) -> list[str]:
    """The arguments of a command line, without comments, redirections and pipes."""
    found = []
    for word in shlex.split(line, comments=True)[1:]:
        if word in (">", ">>", "|", "2>", "&&"):
            break
        found.append(word)
    return found


def test_the_guide_shows_every_command_of_a_run() -> None:
    shown = {words(line)[0] for _, line in command_lines()}
    assert {"ingest", "measure", "scorecard", "settle", "demo"} <= shown


@pytest.mark.parametrize(("where", "line"), command_lines(), ids=[w for w, _ in command_lines()])
def test_command_line_is_real(where: str, line: str) -> None:
    name, *args = words(line)
    assert name in COMMANDS, f"{where}: `vested {name}` is not a command ({', '.join(sorted(COMMANDS))})"
    command = COMMANDS[name]
    options = {opt for param in command.params for opt in param.opts}
    unknown = [a.split("=")[0] for a in args if a.startswith("--") and a.split("=")[0] not in options]
    assert not unknown, f"{where}: `vested {name}` has no option {unknown} (it has {sorted(options)})"
    try:
        command.make_context(f"vested {name}", list(args))
    except Exception as exc:  # a usage error of the click that typer bundles (not a public import)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        pytest.fail(f"{where}: `{line}` does not parse: {message}")


# -- the walk-through ------------------------------------------------------------------------------

def test_the_walk_through_runs_as_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ran = 0
    for block in blocks():
        if block.language in ("yaml", "csv") and len(block.info) > 1 and "." in block.info[1]:
            (tmp_path / block.info[1]).write_text(block.text, encoding="utf-8")
        if block.language != "sh" or "run" not in block.info:
            continue
        printed = []
        for line in block.text.splitlines():
            if not line.strip().startswith("vested "):
                continue
            result = runner.invoke(app, words(line), env={"COLUMNS": "200"})
            assert result.exception is None or isinstance(result.exception, SystemExit), f"`{line}` crashed: {result.exception!r}"
            expected = 1 if "fails" in block.info else 0
            assert result.exit_code == expected, f"{block.name}: `{line}` exited {result.exit_code}:\n{result.output}"
            printed.append(result.output)
            ran += 1
        output = "\n".join(printed)
        for expected_line in (block.output or "").splitlines():
            assert expected_line.strip() in output, (
                f"{block.name}: the output no longer shows {expected_line.strip()!r}; it is:\n{output}")
    assert ran >= 8


# -- links -----------------------------------------------------------------------------------------

def anchors(doc: Path) -> set[str]:
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", doc.read_text(encoding="utf-8"), re.MULTILINE)}


def test_links_resolve() -> None:
    broken = []
    for target, anchor in re.findall(r"\]\(([\w\-.]*\.md|)(?:#([\w\-]+))?\)", DOC.read_text(encoding="utf-8")):
        file = DOC.parent / (target or DOC.name)
        if not file.exists() or (anchor and anchor not in anchors(file)):
            broken.append(f"{target}#{anchor}")
    assert not broken, f"broken links in docs/running.md: {broken}"
