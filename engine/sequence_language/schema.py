"""JSON Schema of the sequence file, for editors (yaml-language-server) and tooling.

Generated from the models, then the steps are rewritten into the authoring form
(`{id: intro, email: {...}}`, `{wait: 3 business days}`) that people actually write.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.sequence_language.model import CallStep, SequenceSpec

SCHEMA_ID = "https://kadenz.dev/schema/sequence.json"


def sequence_schema() -> dict[str, Any]:
    schema = SequenceSpec.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    items = []
    for tag, name in (("email", "EmailStep"), ("call", "CallStep"), ("task", "TaskStep")):
        body = copy.deepcopy(defs.pop(name))
        id_schema = body["properties"].pop("id")
        # `renamed_from:` sits beside `id:` in the file, not inside the step's body
        renamed = body["properties"].pop("renamed_from", None)
        body["properties"].pop("type", None)
        body["required"] = [r for r in body.get("required", []) if r not in ("id", "type")]
        if not body["required"]:
            body.pop("required")
        if "due" in body["properties"]:
            # the model's default is a Duration object; the file spells it as a string
            body["properties"]["due"]["default"] = str(CallStep.model_fields["due"].default)
        defs[f"{name}Body"] = body
        ref: dict[str, Any] = {"$ref": f"#/$defs/{name}Body"}
        if tag != "email":  # the short form `task: "Research {{ company }}"` is the title
            title = {"type": "string", "description": "Short form: the title alone."}
            ref = {"anyOf": [title, ref]}
        items.append(
            {
                "type": "object",
                "title": f"{tag} step",
                "description": body.get("description", ""),
                "properties": {
                    "id": id_schema,
                    tag: ref,
                    **({"renamed_from": renamed} if renamed else {}),
                    # `review: true` may sit beside `id:` too (the documented form)
                    **(
                        {"review": body["properties"]["review"]}
                        if "review" in body["properties"]
                        else {}
                    ),
                },
                "required": ["id", tag],
                "additionalProperties": False,
            }
        )
    wait = defs.pop("WaitStep")
    wait_renamed = wait["properties"].get("renamed_from")
    items.append(
        {
            "type": "object",
            "title": "wait step",
            "description": wait.get("description", ""),
            "properties": {
                "id": {"type": "string", "description": "Optional stable id."},
                "wait": wait["properties"]["duration"],
                **({"renamed_from": wait_renamed} if wait_renamed else {}),
            },
            "required": ["wait"],
            "additionalProperties": False,
        }
    )
    schema["properties"]["steps"]["items"] = {"oneOf": items}
    # `mailboxes: owner` is the documented short form of `sender: owner` (model._owner_sender)
    pool = schema["properties"]["mailboxes"]
    owner = {"const": "owner", "description": "Send from a mailbox of the prospect's owner."}
    schema["properties"]["mailboxes"] = {
        "anyOf": [{k: v for k, v in pool.items() if k not in ("title", "description")}, owner],
        **{k: v for k, v in pool.items() if k in ("title", "description")},
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Kadenz sequence"
    return schema
