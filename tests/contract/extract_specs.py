"""Copy from the platforms' published API specs only what the contract tests need.

Run by hand when a spec or the adapters change (the tests never read the published files):

    .venv/bin/python -m tests.contract.extract_specs SPEC_FOLDER

``SPEC_FOLDER`` holds the three published files, named as below. For every method the adapters
call (:func:`tests.contract.methods.called_methods`) this keeps the method's parameters and
responses and every schema or type they reach, with ``$ref`` targets carried along, and writes
``tests/contract/specs/<platform>.json`` with the source repository, path, version and date.
Methods a spec does not describe are listed at the end; each needs its contract, with its
source, in ``tests/contract/specs/from_docs.json`` (kept by hand).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.contract.methods import called_methods

OUT = Path(__file__).resolve().parent / "specs"
SOURCES = {
    "x": {
        "file": "x-api-v2.openapi.json",
        "repository": "xdevplatform/xdk",
        "path": "latest-openapi.json",
        "format": "OpenAPI 3.0",
    },
    "slack": {
        "file": "slack-web-api.openapi.json",
        "repository": "slackapi/slack-api-specs",
        "path": "web-api/slack_web_openapi_v2.json",
        "format": "Swagger 2.0 (OpenAPI 2)",
    },
    "telegram": {
        "file": "telegram-bot-api.json",
        "repository": "PaulSonOfLars/telegram-bot-api-spec",
        "path": "api.json",
        "format": "methods and types with their fields (scraped from core.telegram.org/bots/api)",
    },
}
TELEGRAM_BASIC = {"Integer", "String", "Boolean", "Float", "True", "InputFile"}
# Not a return type of any method, but the body of every Bot API error that carries details.
TELEGRAM_ALWAYS = ("ResponseParameters",)


def _refs(node: Any, prefix: str) -> set[str]:
    """Names of every ``prefix`` target mentioned in ``node`` ($ref values, discriminator maps)."""
    if isinstance(node, dict):
        return set().union(*(_refs(v, prefix) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_refs(v, prefix) for v in node)) if node else set()
    if isinstance(node, str) and node.startswith(prefix):
        return {node[len(prefix) :]}
    return set()


def _closure(start: Any, pool: dict[str, Any], prefix: str) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    todo = _refs(start, prefix)
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept[name] = pool[name]
        todo |= _refs(pool[name], prefix) - set(kept)
    return dict(sorted(kept.items()))


def _without_examples(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_examples(v) for k, v in node.items() if k != "examples"}
    if isinstance(node, list):
        return [_without_examples(v) for v in node]
    return node


def extract_x(spec: dict[str, Any], wanted: list[str]) -> tuple[dict[str, Any], list[str]]:
    operations, missing = {}, []
    parameters = spec["components"]["parameters"]
    for key in wanted:
        verb, path = key.split(" ", 1)
        operation = spec["paths"].get(path, {}).get(verb.lower())
        if operation is None:
            missing.append(key)
            continue
        params = [
            parameters[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
            for p in operation.get("parameters", [])
        ]
        operations[key] = {
            "operationId": operation["operationId"],
            "security": operation.get("security", []),
            "parameters": params,
            "requestBody": operation.get("requestBody"),
            "responses": operation["responses"],
        }
    schemas = _closure(operations, spec["components"]["schemas"], "#/components/schemas/")
    version = spec["info"]["version"]
    return {"version": version, "operations": operations, "components": {"schemas": schemas}}, (
        missing
    )


def extract_slack(spec: dict[str, Any], wanted: list[str]) -> tuple[dict[str, Any], list[str]]:
    operations, missing = {}, []
    for method in wanted:
        path = spec["paths"].get(f"/{method}")
        if not path:
            missing.append(method)
            continue
        ((verb, operation),) = path.items()
        operations[method] = _without_examples(
            {
                "http_method": verb.upper(),
                "consumes": operation.get("consumes", []),
                "parameters": operation["parameters"],
                "responses": operation["responses"],
            }
        )
    definitions = _closure(operations, spec["definitions"], "#/definitions/")
    version = spec["info"]["version"]
    return {"version": version, "operations": operations, "definitions": definitions}, missing


def _telegram_names(types: list[str]) -> set[str]:
    names = {re.sub(r"^(Array of )+", "", t) for t in types}
    return names - TELEGRAM_BASIC


def extract_telegram(spec: dict[str, Any], wanted: list[str]) -> tuple[dict[str, Any], list[str]]:
    methods = {m: dict(spec["methods"][m]) for m in wanted if m in spec["methods"]}
    missing = [m for m in wanted if m not in spec["methods"]]
    todo: set[str] = set(TELEGRAM_ALWAYS)
    for method in methods.values():
        todo |= _telegram_names(method.get("returns", []))
        for field in method.get("fields", []):
            todo |= _telegram_names(field["types"])
    kept: dict[str, Any] = {}
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kind = kept[name] = dict(spec["types"][name])
        todo |= _telegram_names(kind.get("subtypes", []))
        for field in kind.get("fields", []):
            todo |= _telegram_names(field["types"])
    # The fields' descriptions stay: they say which values a field always has ("always “creator”").
    for entry in [*methods.values(), *kept.values()]:
        entry.pop("description", None)
    extracted = {
        "version": spec["version"],
        "release_date": spec["release_date"],
        "changelog": spec["changelog"],
        "methods": dict(sorted(methods.items())),
        "types": dict(sorted(kept.items())),
    }
    return extracted, missing


EXTRACTORS = {"x": extract_x, "slack": extract_slack, "telegram": extract_telegram}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec_folder", type=Path, help="folder with the published spec files")
    folder = parser.parse_args(argv).spec_folder
    wanted: dict[str, list[str]] = {}
    for platform, method in sorted(called_methods()):
        wanted.setdefault(platform, []).append(method)
    OUT.mkdir(exist_ok=True)
    not_in_specs = []
    for platform, source in SOURCES.items():
        spec = json.loads((folder / source["file"]).read_text())
        extracted, missing = EXTRACTORS[platform](spec, wanted.get(platform, []))
        not_in_specs += [f"{platform} {m}" for m in missing]
        header = {
            "repository": source["repository"],
            "path": source["path"],
            "format": source["format"],
            "version": extracted.pop("version"),
            "extracted": datetime.now(UTC).date().isoformat(),
            "note": "Only what the adapters call; refresh with tests/contract/extract_specs.py",
        }
        target = OUT / f"{platform}.json"
        target.write_text(json.dumps({"source": header, **extracted}, indent=1) + "\n")
        print(f"{target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}")
    if not_in_specs:
        print("Not in the published specs (their contracts live in specs/from_docs.json):")
        for name in not_in_specs:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
