"""docs/conformance.md accounts for every Accord template in the shared suite: run, or why not."""

from __future__ import annotations

from pathlib import Path

from tests.conformance_data import load_json

DOC = Path(__file__).resolve().parents[1] / "docs" / "conformance.md"


def test_every_accord_template_has_a_status_in_the_conformance_doc() -> None:
    index = load_json("accord", "accord_index.json")
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    missing = []
    for entry in index["files"]:
        template = entry["template"]
        if template.startswith("("):
            template = "ergo"
        if not any(template in row for row in rows):
            missing.append(template)
    assert missing == [], f"templates without a status row in docs/conformance.md: {missing}"
