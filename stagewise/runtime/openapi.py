"""The local API's OpenAPI document and its Swagger UI page.

Data flow: for each distinct function behind the served API's routes, its warm worker
is asked for `app.get_openapi_json_schema()` (Powertools' resolver, when the handler
module has one) → `merge()` joins their `paths` and `components` into one document →
served at GET /openapi.json; GET /docs renders it with the Swagger UI assets that
Powertools bundles (no CDN, works offline).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ASSETS = {
    "/docs/swagger-ui-bundle.min.js": ("swagger-ui-bundle.min.js", "application/javascript"),
    "/docs/swagger-ui.min.css": ("swagger-ui.min.css", "text/css"),
}


def merge(schemas: list[dict[str, Any]], *, title: str, version: str, server_url: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": server_url}],
        "paths": {},
        "components": {},
    }
    for schema in schemas:
        document["openapi"] = schema.get("openapi", document["openapi"])
        for path, operations in (schema.get("paths") or {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        for section, entries in (schema.get("components") or {}).items():
            document["components"].setdefault(section, {}).update(entries)
    if not document["components"]:
        del document["components"]
    return document


# Powertools' Swagger UI package is imported when a page is asked for, not when `dev` starts (~85 ms).


def docs_page(document: dict[str, Any]) -> str:
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    return generate_swagger_html(
        spec=json.dumps(document),
        swagger_js="/docs/swagger-ui-bundle.min.js",
        swagger_css="/docs/swagger-ui.min.css",
        swagger_base_url="/docs",
        oauth2_config=None,
    )


def asset(path: str) -> tuple[bytes, str] | None:
    """(content, content type) of a bundled Swagger UI file, or None."""
    entry = ASSETS.get(path)
    if entry is None:
        return None
    name, content_type = entry
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as swagger_ui

    return (Path(swagger_ui.__file__).parent / name).read_bytes(), content_type
