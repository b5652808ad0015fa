"""How the format's records are declared: frozen, keyword-only, unknown keys refused.

Every record of the agreement format is a standard-library dataclass built by pydantic
(``@dataclass(frozen=True, kw_only=True, config=RECORD)``), so it is immutable (change it with
``dataclasses.replace``), validates on construction, and yields the JSON Schema of the format.
Fields are documented by the docstring under them; fields declared on a base class use
``Field(description=...)`` because pydantic reads attribute docstrings only on the declaring class.
"""

from __future__ import annotations

from pydantic import ConfigDict

RECORD = ConfigDict(
    extra="forbid",
    use_attribute_docstrings=True,
    validate_by_name=True,
    validate_by_alias=True,
    arbitrary_types_allowed=False,
)
