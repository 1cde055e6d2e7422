"""A JSON-schema validator for EIDO documents built from NENA's official schema.

``tests/data/eido/nena/openapi.yaml`` is NENA-STA-021.1b's OpenAPI 3.0 document; its
``EmergencyIncidentDataObjectType`` is the EIDO. OpenAPI 3.0 schemas are JSON Schema
draft 4 with extras, so a Draft-4 validator with date-time format checking is used.
See tests/data/eido/nena/README.md for the source and the one repaired typo.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

NENA_DIR = Path(__file__).parents[2] / "data" / "eido" / "nena"
BASE_URI = "https://github.com/NENA911/EIDO-JSON/Schema/openapi.yaml"


def _repair(node: Any) -> Any:
    """Fix the published schema's ``minItems: 1,`` (a string) so it can be evaluated."""
    if isinstance(node, dict):
        out = {k: _repair(v) for k, v in node.items()}
        if isinstance(out.get("minItems"), str):
            out["minItems"] = int(out["minItems"].rstrip(", "))
        return out
    if isinstance(node, list):
        return [_repair(v) for v in node]
    return node


@cache
def eido_validator() -> Draft4Validator:
    document = _repair(yaml.safe_load((NENA_DIR / "openapi.yaml").read_text(encoding="utf-8")))
    registry: Registry[Any] = Registry().with_resource(BASE_URI, Resource(document, DRAFT4))
    root = {"$ref": f"{BASE_URI}#/components/schemas/EmergencyIncidentDataObjectType"}
    return Draft4Validator(root, registry=registry, format_checker=FormatChecker())


def schema_errors(doc: Any) -> list[str]:
    """Every schema violation of ``doc`` as ``path: message`` (empty when it conforms)."""
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '$'}: {err.message}"
        for err in eido_validator().iter_errors(doc)
    ]
