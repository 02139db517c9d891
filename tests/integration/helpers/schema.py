"""Validate API responses against the component schemas of JupyterHub 5.5.1's rest-api.yml.

JupyterHub answers null for absent values where that schema says string (a server that is
not running, a pending action that is none), so every typed value and enum also accepts null.
"""
import copy
from pathlib import Path

import jsonschema
import yaml

_SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "fixtures" / "rest-api-5.5.1.yml").read_text())


def _nullable(s):
    if isinstance(s, dict):
        s = {k: _nullable(v) for k, v in s.items()}
        if isinstance(s.get("type"), str):
            s["type"] = [s["type"], "null"]
        if "enum" in s:
            s["enum"] = list(s["enum"]) + [None]
        return s
    if isinstance(s, list):
        return [_nullable(v) for v in s]
    return s


_SCHEMAS = _nullable(copy.deepcopy(_SPEC["components"]["schemas"]))


def validate(instance, name):
    """Raise if @instance does not fit components/schemas/@name."""
    jsonschema.validate(instance, {"$ref": f"#/components/schemas/{name}",
                                   "components": {"schemas": _SCHEMAS}})
