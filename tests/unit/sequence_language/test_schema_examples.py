"""The JSON Schema (`kadenz sequence schema`) accepts every shipped and documented example.

Editors validate sequence files with this schema: one that refuses a valid file (or a
documented short form) teaches users to ignore it. The documented mistake in
docs/sequences.md ("A file with mistakes") must be refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from engine.sequence_language.loader import load_paths
from engine.sequence_language.model import SequenceSpec
from engine.sequence_language.schema import sequence_schema

ROOT = Path(__file__).resolve().parents[3]
FENCE = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A fragment is validated inside this otherwise complete sequence.
BASE: dict[str, Any] = {
    "key": "fragment",
    "name": "A documented fragment",
    "steps": [{"id": "intro", "email": {"subject": "Hi", "body": "Hello"}}],
}


class _Yaml12(yaml.SafeLoader):
    """YAML as editors read it (1.2 core schema): an unquoted 2026-12-24 is a string."""


_Yaml12.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12)  # a SafeLoader


def _validator() -> jsonschema.Draft202012Validator:
    schema = sequence_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _doc_blocks() -> list[tuple[str, Any]]:
    found = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{page.name}:{line}", _load(match.group(1))))
    return found


def _as_sequence(block: Any) -> dict[str, Any] | None:
    """The block as a whole sequence: steps fragments and top-level fragments are completed;
    None for YAML that is not a sequence file (e.g. a Prometheus config)."""
    keys = set(sequence_schema()["properties"])
    if isinstance(block, list):
        return {**BASE, "steps": [*BASE["steps"], *block]}
    if isinstance(block, dict) and block and set(block) <= keys:
        return {**BASE, **block}
    return None


def _errors(validator: jsonschema.Draft202012Validator, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("path", sorted((ROOT / "sequences").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_sequences_match_the_schema(path: Path) -> None:
    doc = _load(path.read_text(encoding="utf-8"))
    assert _errors(_validator(), doc) == []


def test_documented_examples_match_the_schema() -> None:
    validator = _validator()
    checked, refused = [], []
    for where, block in _doc_blocks():
        doc = _as_sequence(block)
        if doc is None:
            continue
        errors = _errors(validator, doc)
        if "notse" in str(block):  # docs/sequences.md's "A file with mistakes"
            refused.append(where)
            assert any("notse" in e for e in errors), (where, errors)
        else:
            checked.append(where)
            assert errors == [], where
    assert len(checked) >= 8 and len(refused) == 1, (checked, refused)


def test_short_forms_and_defaults() -> None:
    validator = _validator()
    doc = {
        **BASE,
        "steps": [
            *BASE["steps"],
            {"id": "li", "task": "Connect with {{ first_name }} on LinkedIn"},
            {"wait": "1 business day"},
            {"id": "ring", "call": "Call {{ first_name }}"},
        ],
    }
    assert _errors(validator, doc) == []
    SequenceSpec.model_validate(doc)  # the engine accepts them too
    # every default the schema states is valid against its own property schema
    for body in sequence_schema()["$defs"].values():
        for spec in body.get("properties", {}).values():
            if "default" in spec and "type" in spec:
                jsonschema.validate(spec["default"], spec)


def test_shipped_sequences_also_load() -> None:
    loaded, problems = load_paths([ROOT / "sequences"], ROOT / "templates")
    assert problems == [] and len(loaded) >= 2
