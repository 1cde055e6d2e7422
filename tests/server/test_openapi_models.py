"""Every route declares its answer: ``/openapi.json`` names a schema for each 2xx JSON body."""

from __future__ import annotations

import json
from typing import Any

#: Routes still answering hand-built dicts (none left; keep it so).
UNTYPED: set[tuple[str, str]] = set()


def untyped_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if code.startswith("2") and schema is not None and "$ref" not in json.dumps(schema):
                    found.add((method.upper(), path))
    return found


def test_every_json_answer_has_a_named_model(app: Any) -> None:
    found = untyped_operations(app.openapi())
    assert found <= UNTYPED, sorted(found - UNTYPED)
    assert ("GET", "/api/v1/calls/{call_id}") not in found  # a route that has one is seen as typed


def test_a_dict_answer_is_seen_as_untyped() -> None:
    from fastapi import FastAPI

    demo = FastAPI()

    @demo.get("/x")
    def x() -> dict[str, Any]:
        return {}

    assert untyped_operations(demo.openapi()) == {("GET", "/x")}
