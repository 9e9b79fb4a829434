"""Loading sequence files: YAML -> validated SequenceSpec + the templates it uses.

Every problem is collected (YAML syntax, schema, step structure, templates, variables) and
raised together as one SpecError of compiler-style diagnostics; nothing stops at the first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from engine.errors import Diagnostic, SpecError
from engine.sequence_language import diagnose, model, moves, variables, yamldoc
from engine.sequence_language.checks import TemplateChecker
from engine.sequence_language.model import SequenceSpec


@dataclass(frozen=True)
class LoadedSequence:
    path: Path
    source: str
    spec: SequenceSpec
    templates: dict[str, str] = field(default_factory=dict)  # every template used: name -> src
    content_hash: str = ""  # sha256 of source + templates: what makes a new version


def content_hash(source: str, templates: dict[str, str]) -> str:
    digest = hashlib.sha256(source.encode())
    for name in sorted(templates):
        digest.update(b"\0" + name.encode() + b"\0" + templates[name].encode())
    return digest.hexdigest()


def default_templates_dir(path: Path) -> Path:
    """templates/ beside the file, beside its folder (repo/sequences/x.yaml), or in cwd."""
    for candidate in (path.parent / "templates", path.parent.parent / "templates"):
        if candidate.is_dir():
            return candidate
    return Path.cwd() / "templates"


def display(path: Path) -> str:
    """A path as the user would type it: relative to cwd when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_sequence(path: Path, templates_dir: Path | None = None) -> LoadedSequence:
    """Load and fully validate one file; SpecError with every problem otherwise."""
    path = Path(path)
    file = display(path)
    source, data, tree = yamldoc.read_document(path, file)
    if not isinstance(data, dict):
        raise SpecError(
            [
                Diagnostic(
                    file,
                    1,
                    1,
                    "a sequence file is a mapping",
                    "start with `key: my-sequence`, `name: …` and `steps:`",
                )
            ]
        )
    diagnostics: list[Diagnostic] = []
    spec: SequenceSpec | None = None
    try:
        spec = SequenceSpec.model_validate(data, context={"defer_structure": True})
    except ValidationError as exc:
        diagnostics += [diagnose.to_diagnostic(e, file, tree, data) for e in exc.errors()]
    if spec is None:
        # The cross-step checks the spec would make, on the raw steps: all in one pass.
        diagnostics += _duplicate_ids(data, file, tree)
        diagnostics += _thread_without_email(data, file, tree)
    else:
        for loc, message in spec.structure_problems():
            pos = yamldoc.position(tree, loc)
            diagnostics.append(Diagnostic(file, pos.line, pos.column, message))
    checker = TemplateChecker(
        file=file,
        tree=tree,
        templates_dir=templates_dir if templates_dir is not None else default_templates_dir(path),
        display=display,
    )
    for loc, step in _valid_steps(spec, data):
        checker.check_step(loc, step)
    for loc, then in _valid_actions(spec, data):
        if then.task is not None:
            checker.check_inline(
                (*loc, "task"), then.task, "rule task", also=variables.REPLY_VARIABLES
            )
    diagnostics += checker.diagnostics
    if diagnostics:
        raise SpecError(sorted(dict.fromkeys(diagnostics), key=_order))
    assert spec is not None
    return LoadedSequence(
        path=path,
        source=source,
        spec=spec,
        templates=dict(checker.used),
        content_hash=content_hash(source, checker.used),
    )


def _duplicate_ids(data: dict[str, Any], file: str, tree: Any) -> list[Diagnostic]:
    """Duplicate step ids, found in the raw steps when the file does not validate."""
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    steps = data.get("steps")
    for i, raw in enumerate(steps if isinstance(steps, list) else []):
        step_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(step_id, str) and step_id in seen:
            pos = yamldoc.position(tree, ("steps", i, "id"))
            message = (
                f"duplicate step id {step_id!r}, already used by step {seen[step_id] + 1} "
                "(step ids must be unique)"
            )
            out.append(Diagnostic(file, pos.line, pos.column, message))
        if isinstance(step_id, str):
            seen.setdefault(step_id, i)
    return out


def _thread_without_email(data: dict[str, Any], file: str, tree: Any) -> list[Diagnostic]:
    """`thread: previous` before any email step, found in the raw steps."""
    out: list[Diagnostic] = []
    steps = data.get("steps")
    emails_before = 0
    for i, raw in enumerate(steps if isinstance(steps, list) else []):
        if model.step_tag(raw) != "email":
            continue
        body = raw.get("email") if isinstance(raw.get("email"), dict) else raw
        if body.get("thread") == "previous" and emails_before == 0:
            where = ("steps", i, "email", "thread") if "email" in raw else ("steps", i, "thread")
            pos = yamldoc.position(tree, where)
            out.append(Diagnostic(file, pos.line, pos.column, model.THREAD_WITHOUT_EMAIL))
        emails_before += 1
    return out


def _order(d: Diagnostic) -> tuple[int, str, int, int]:
    return (0 if d.file.endswith((".yaml", ".yml")) else 1, d.file, d.line, d.column)


_STEP = TypeAdapter[Any](model.Step)
_THEN = TypeAdapter(model.RuleThen)


def _valid_steps(
    spec: SequenceSpec | None, data: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], Any]]:
    """Steps to check templates of: all of them, or when the file has errors, those valid
    on their own (so a typo elsewhere does not hide a template problem)."""
    if spec is not None:
        return [(("steps", i, step.type), step) for i, step in enumerate(spec.steps)]
    raw = data.get("steps")
    out: list[tuple[tuple[str | int, ...], Any]] = []
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            try:
                step = _STEP.validate_python(item)
            except (ValidationError, ValueError, TypeError):
                continue
            out.append((("steps", i, step.type), step))
    return out


def _valid_actions(
    spec: SequenceSpec | None, data: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], model.RuleThen]]:
    if spec is not None:
        rules: list[tuple[tuple[str | int, ...], model.RuleThen]] = [
            (("rules", i, "then"), r.then) for i, r in enumerate(spec.rules)
        ]
        if spec.scoring is not None:
            rules += [
                (("scoring", "thresholds", i, "then"), th.then)
                for i, th in enumerate(spec.scoring.thresholds)
            ]
        return rules
    out: list[tuple[tuple[str | int, ...], model.RuleThen]] = []
    for i, rule in enumerate(
        data.get("rules") or [] if isinstance(data.get("rules"), list) else []
    ):
        if isinstance(rule, dict):
            try:
                out.append((("rules", i, "then"), _THEN.validate_python(rule.get("then"))))
            except (ValidationError, ValueError, TypeError):
                continue
    return out


def expand(paths: list[Path]) -> list[Path]:
    """Directories become their *.yaml / *.yml files, sorted."""
    files: list[Path] = []
    for path in paths:
        if Path(path).is_dir():
            files += sorted(p for p in Path(path).iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            files.append(Path(path))
    return files


def load_paths(
    paths: list[Path], templates_dir: Path | None = None
) -> tuple[list[LoadedSequence], list[Diagnostic]]:
    """Load every file under `paths`; (the valid ones, every diagnostic of all of them)."""
    loaded: list[LoadedSequence] = []
    diagnostics: list[Diagnostic] = []
    files = expand(paths)
    if not files:
        diagnostics.append(
            Diagnostic(", ".join(str(p) for p in paths) or ".", 1, 1, "no *.yaml files found")
        )
    keys: dict[str, LoadedSequence] = {}
    for file in files:
        try:
            one = load_sequence(file, templates_dir)
        except SpecError as exc:
            diagnostics += exc.diagnostics
            continue
        if one.spec.key in keys:
            first = keys[one.spec.key]
            diagnostics.append(
                Diagnostic(
                    display(file),
                    1,
                    1,
                    f"key {one.spec.key!r} is also used by {display(first.path)}",
                    "every sequence needs its own key",
                )
            )
            continue
        keys[one.spec.key] = one
        loaded.append(one)
    cycles = moves.cycle_diagnostics((display(o.path), o.source, o.spec) for o in loaded)
    if cycles:
        bad = {d.file for d in cycles}
        loaded = [o for o in loaded if display(o.path) not in bad]
        diagnostics += cycles
    return loaded, diagnostics


def validate_paths(paths: list[Path], templates_dir: Path | None = None) -> list[Diagnostic]:
    """Every problem in every file under `paths` (directories expand to *.yaml, *.yml)."""
    return load_paths(paths, templates_dir)[1]


def spec_from_json(data: dict[str, Any]) -> SequenceSpec:
    """A spec stored in the database (`SequenceVersion.spec`) back as a model."""
    return SequenceSpec.model_validate(data)
