"""The platforms' contracts, read from the extracted specs, and the checks against them.

Each ``*_errors`` function returns what is wrong, in words (empty when the answer or request
keeps the contract), so a failing test lists every difference at once.

- X (OpenAPI 3.0) and Slack (Swagger 2.0) schemas are checked with ``openapi-schema-validator``
  (OpenAPI's dialect of JSON Schema: ``nullable``, ``int32``/``int64`` and ``date-time``
  formats). OpenAPI's ``discriminator`` is only a hint to it; here a value the mapping does not
  name is an error, and the mapped schema is checked too (X's problem types, media types).
- Telegram's file has no schema language: :func:`telegram_value_errors` walks its field lists.
- Where a spec is older than the live API, ``specs/from_docs.json`` holds the newer contract or
  the exception, each with the recorded payload or documentation page it comes from.
"""

from __future__ import annotations

import contextvars
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator

SPECS = Path(__file__).resolve().parent / "specs"
_checking: contextvars.ContextVar[frozenset[tuple[int, str]]] = contextvars.ContextVar(
    "_checking", default=frozenset()
)


@cache
def spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPECS / f"{name}.json").read_text())
    return loaded


def from_docs(platform: str) -> dict[str, Any]:
    found: dict[str, Any] = spec("from_docs")[platform]
    return found


def _discriminator(
    validator: Any, discriminator: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    mapping = discriminator.get("mapping")
    if not isinstance(instance, dict) or not mapping:
        return
    name = discriminator["propertyName"]
    value = instance.get(name)
    if value not in mapping:
        yield ValidationError(f"{name} {value!r} is none of the documented {sorted(mapping)}")
        return
    # The mapped schema includes this one (allOf), so it would send us here again: once is enough.
    key = (id(instance), mapping[value])
    active = _checking.get()
    if key in active:
        return
    token = _checking.set(active | {key})
    try:
        yield from validator.descend(instance, {"$ref": mapping[value]})
    finally:
        _checking.reset(token)


OpenApiValidator = extend(OAS30Validator, {"discriminator": _discriminator})


def schema_errors(instance: Any, schema: dict[str, Any], *, root: dict[str, Any]) -> list[str]:
    """``instance`` against ``schema``, whose ``$ref`` point into ``root``."""
    validator = OpenApiValidator({**root, **schema}, format_checker=OpenApiValidator.FORMAT_CHECKER)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]


# -- X -----------------------------------------------------------------------------------------


def x_operation(method: str) -> dict[str, Any]:
    operations = spec("x")["operations"]
    return dict(operations[method]) if method in operations else dict(from_docs("x")[method])


def x_response_errors(method: str, *, status: int, content_type: str, body: Any) -> list[str]:
    """X's answer to ``method``: its status, its content type and its body's schema."""
    operation = x_operation(method)
    responses = operation["responses"]
    answer = responses.get(str(status)) or responses.get("default")
    if answer is None or (200 <= status < 300 and str(status) not in responses):
        return [f"X documents no {status} answer to {method} (documented: {sorted(responses)})"]
    media = content_type.split(";")[0].strip()
    content = answer.get("content", {})
    if media not in content:
        return [f"{status} answer as {media!r}; X documents {sorted(content)}"]
    root = {"components": spec("x")["components"], "definitions": from_docs("x")["definitions"]}
    return schema_errors(body, content[media]["schema"], root=root)


def x_rate_limit_errors(headers: dict[str, str]) -> list[str]:
    """Every X API answer says how much of the window is left (docs: X API rate limits)."""
    problems = []
    for name in ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"):
        value = headers.get(name)
        if value is None or not value.isdigit():
            problems.append(f"header {name} is {value!r}, not a whole number")
    return problems


def _path_values(template: str, path: str) -> dict[str, str] | None:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    found = re.fullmatch(pattern, path)
    return found.groupdict() if found else None


def _typed(raw: str, schema: dict[str, Any]) -> Any:
    """A query value as the schema's type: X's lists are comma-joined (style form, no explode)."""
    kind = schema.get("type")
    if kind == "array":
        return [_typed(v, schema.get("items", {})) for v in raw.split(",")]
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def x_request_errors(method: str, call: dict[str, Any]) -> list[str]:
    """What tweepy (or the linking flow) sent for ``method``, against its parameters."""
    operation = x_operation(method)
    root = {"components": spec("x")["components"]}
    template = method.split(" ", 1)[1]
    problems: list[str] = []
    values = _path_values(template, call["path"]) or {}
    params = dict(call.get("params") or {})
    body_schema = ((operation.get("requestBody") or {}).get("content") or {}).get(
        "application/json"
    )
    if body_schema is not None:
        if call.get("body_format") != "json":
            problems.append(f"body sent as {call.get('body_format')}, X documents JSON")
        problems += [f"body {e}" for e in schema_errors(params, body_schema["schema"], root=root)]
        params = {}
    if "form_schema" in operation:
        problems += [f"form {e}" for e in schema_errors(params, operation["form_schema"], root={})]
        params = {}
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        given = values.get(name) if where == "path" else params.pop(name, None)
        if given is None:
            if parameter.get("required"):
                problems.append(f"required {where} parameter {name} is missing")
            continue
        value = _typed(given, parameter["schema"])
        problems += [
            f"{name}={given}: {e}" for e in schema_errors(value, parameter["schema"], root=root)
        ]
    problems += [f"X documents no parameter {name} for {method}" for name in params]
    return problems


# -- Slack ---------------------------------------------------------------------------------------


def slack_response_errors(method: str, *, status: int, body: Any) -> list[str]:
    """Slack's answer: HTTP 200 with ``ok`` true or false, or a documented HTTP error."""
    exceptions = from_docs("slack").get(method, {})
    if status != 200:
        http = from_docs("slack")["http_errors"].get(str(status))
        if http is None:
            return [f"Slack documents no HTTP {status} answer"]
        return schema_errors(body, http["schema"], root={})
    if method in spec("slack")["operations"]:
        operation = spec("slack")["operations"][method]
    else:
        operation = exceptions
    answer = operation["responses"]["200" if body.get("ok") else "default"]
    schema = json.loads(json.dumps(answer["schema"]))
    _widen(
        schema, exceptions.get("newer_than_spec", {}).get("200" if body.get("ok") else "default")
    )
    return schema_errors(body, schema, root={"definitions": _slack_definitions()})


def _widen(schema: dict[str, Any], newer: dict[str, Any] | None) -> None:
    """Add what Slack's docs show beyond the 2021 spec: response fields and error codes."""
    if not newer:
        return
    schema.setdefault("properties", {}).update(newer.get("properties", {}))
    if "errors" in newer:
        schema["properties"]["error"]["enum"] += newer["errors"]["codes"]


@cache
def _slack_definitions() -> dict[str, Any]:
    """The spec's definitions, with the message fields Slack's docs added since 2021."""
    definitions = json.loads(json.dumps(spec("slack")["definitions"]))
    for name, newer in from_docs("slack")["definitions_newer_than_spec"].items():
        definitions[name]["properties"].update(newer["properties"])
    return dict(definitions)


_TRUTHS = {"true", "false", "1", "0"}


def _slack_value_errors(name: str, value: Any, kind: str, body_format: str) -> list[str]:
    json_args = from_docs("slack")["json_encoded_arguments"]["names"]
    if body_format == "json" and name in json_args and isinstance(value, dict | list):
        return []
    if body_format == "json" and not isinstance(value, str):
        ok = {
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "string": False,
        }[kind]
    else:
        text = str(value)
        ok = {
            "boolean": text.lower() in _TRUTHS,
            "integer": re.fullmatch(r"-?\d+", text) is not None,
            "number": re.fullmatch(r"-?\d+(\.\d+)?", text) is not None,
            "string": True,
        }[kind]
    return [] if ok else [f"{name}={value!r} is not a {kind}"]


def slack_request_errors(method: str, call: dict[str, Any]) -> list[str]:
    """What slack_sdk sent for ``method``: names, required arguments and types."""
    operations = spec("slack")["operations"]
    operation = operations[method] if method in operations else from_docs("slack")[method]
    newer = from_docs("slack").get(method, {}).get("arguments_newer_than_spec", {})
    documented = {p["name"]: p for p in operation["parameters"] if p["in"] != "header"}
    documented.update({n: {"name": n, "type": t} for n, t in newer.get("names", {}).items()})
    params = {k: v for k, v in (call.get("params") or {}).items() if k != "token"}
    problems = [
        f"required argument {name} is missing"
        for name, p in documented.items()
        if p.get("required") and name != "token" and name not in params
    ]
    for name, value in params.items():
        if name not in documented:
            problems.append(f"Slack documents no argument {name} for {method}")
            continue
        kind = documented[name].get("type", "string")
        problems += _slack_value_errors(name, value, kind, call.get("body_format", "none"))
    return problems


# -- Telegram ------------------------------------------------------------------------------------

BASIC = {"Integer", "String", "Boolean", "Float", "True", "InputFile"}
ALWAYS = re.compile(r"always [“\"]([^”\"]+)[”\"]")


def _basic_ok(value: Any, kind: str) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": number,
        "String": isinstance(value, str),
        "Boolean": isinstance(value, bool),
        "True": value is True,
        "InputFile": isinstance(value, str),
    }[kind]


def telegram_value_errors(value: Any, kinds: list[str], where: str = "result") -> list[str]:
    """``value`` against any one of ``kinds`` (Telegram's ``types`` lists), recursively."""
    best: list[str] | None = None
    for kind in kinds:
        found = _one_kind_errors(value, kind, where)
        if not found:
            return []
        best = found if best is None or len(found) < len(best) else best
    return best or [f"{where}: no type given"]


def _one_kind_errors(value: Any, kind: str, where: str) -> list[str]:
    if kind.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not an array"]
        inner = kind.removeprefix("Array of ")
        return [
            e
            for i, item in enumerate(value)
            for e in _one_kind_errors(item, inner, f"{where}[{i}]")
        ]
    if kind in BASIC:
        return [] if _basic_ok(value, kind) else [f"{where}: {value!r} is not {kind}"]
    definition = spec("telegram")["types"][kind]
    if "subtypes" in definition:
        return telegram_value_errors(value, definition["subtypes"], where)
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not a {kind} object"]
    fields = {f["name"]: f for f in definition.get("fields", [])}
    problems = [f"{where}.{n}: not a field of {kind}" for n in value if n not in fields]
    for name, field in fields.items():
        if name not in value:
            if field["required"]:
                problems.append(f"{where}.{name}: required in {kind}, missing")
            continue
        fixed = ALWAYS.search(field.get("description", ""))
        if fixed and value[name] != fixed.group(1):
            problems.append(
                f"{where}.{name}: {value[name]!r}, but {kind} has always {fixed.group(1)!r}"
            )
        problems += telegram_value_errors(value[name], field["types"], f"{where}.{name}")
    return problems


def telegram_response_errors(method: str, *, status: int, body: Any) -> list[str]:
    """The Bot API's envelope (docs: "Making requests") and the method's result type."""
    envelope = from_docs("telegram")["response"]
    problems = schema_errors(body, envelope["schema"], root={})
    if problems or not isinstance(body, dict):
        return problems
    if body["ok"]:
        if status != 200:
            problems.append(f"ok true with HTTP {status}")
        returns = spec("telegram")["methods"][method]["returns"]
        return problems + telegram_value_errors(body["result"], returns)
    if body["error_code"] != status:
        problems.append(f"error_code {body['error_code']} but HTTP {status}")
    if "parameters" in body:
        problems += telegram_value_errors(body["parameters"], ["ResponseParameters"], "parameters")
    return problems


def telegram_request_errors(method: str, call: dict[str, Any]) -> list[str]:
    """What python-telegram-bot sent: field names, required fields and their types."""
    fields = {f["name"]: f for f in spec("telegram")["methods"][method].get("fields", [])}
    params = dict(call.get("params") or {})
    problems = [
        f"required field {name} is missing"
        for name, field in fields.items()
        if field["required"] and name not in params
    ]
    for name, raw in params.items():
        if name not in fields:
            problems.append(f"the Bot API has no field {name} in {method}")
            continue
        value = _telegram_wire_value(raw, fields[name]["types"])
        problems += telegram_value_errors(value, fields[name]["types"], name)
        problems += [f"{name}: {v!r} is not a value the docs list" for v in _outside(name, value)]
    return problems


def _allowed_values(name: str) -> set[str] | None:
    """Values the docs list for a field whose spec type is only "String"."""
    if name == "allowed_updates":
        update = spec("telegram")["types"]["Update"]["fields"]
        return {f["name"] for f in update} - {"update_id"}
    listed = from_docs("telegram")["field_values"].get(name)
    return set(listed) if isinstance(listed, list) else None


def _outside(name: str, value: Any) -> list[Any]:
    allowed = _allowed_values(name)
    if allowed is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [v for v in values if v not in allowed]


def _telegram_wire_value(raw: Any, kinds: list[str]) -> Any:
    """Form bodies carry numbers and flags as text and objects as JSON strings."""
    if not isinstance(raw, str) or "String" in kinds:
        if isinstance(raw, str) and "Integer" in kinds and re.fullmatch(r"-?\d+", raw):
            return int(raw)
        return raw
    if "Integer" in kinds and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if "Float" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return float(raw)
    if "Boolean" in kinds or "True" in kinds:
        return {"true": True, "false": False}.get(raw.lower(), raw)
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# -- which tests hold which methods to their contract --------------------------------------------

COVERED: dict[tuple[str, str], list[str]] = {}


def contract(platform: str, *methods: str) -> Any:
    """Mark a test as holding ``methods`` to their contract; the coverage test reads these."""

    def mark(test: Any) -> Any:
        for method in methods:
            COVERED.setdefault((platform, method), []).append(test.__name__)
        return test

    return mark


class OneGo:
    """A mirror posted in one go, for calling a sink directly: every step's turn is now and
    nothing was posted before (the stage's own progress paces and records; see
    bridge/store/progress.py)."""

    def posted(self, step: int) -> str | None:
        return None

    async def turn(self) -> None:
        return None

    def record(self, step: int, message_id: str) -> None:
        return None
