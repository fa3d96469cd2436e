"""Request bodies as the APIs document them: UTF-8 JSON objects, bounded, or a 400 / 415 that says why.

Data flow: `screen_body(event)` runs on the raw API Gateway proxy event before the resolver
(`libs.guards.screen_request` calls it). It returns either a `BodyRefusal` (status + message +
field) or the event to resolve, with the body re-serialised from what was parsed and
`Content-Type: application/json`, so Powertools' own parser and the pydantic models only ever see
a plain, canonical JSON object:

    Content-Type  absent, or application/json in any letter case with an optional
                  charset=utf-8 (other parameters ignored)            else 415
    bytes         base64 decoded (isBase64Encoded); no BOM; no NUL (UTF-16/32); strict UTF-8   else 400
    JSON          RFC 8259 only: no NaN/Infinity, nesting <= MAX_DEPTH, numbers <= MAX_NUMBER_CHARS
                  characters and finite, no duplicate keys, no lone surrogates      else 400
    top level     an object                                                         else 400

Numbers are bounded before `int()` sees them (Python refuses integers of more than 4,300 digits
with a ValueError; a long one would also cost quadratic time), and nesting is counted by a scan
before `json.loads` recurses. A request without a body passes unchanged: the resolver answers
a missing required body itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 64  # an int64 has 20 characters; nothing the APIs accept comes near this
JSON_MEDIA_TYPE = "application/json"
UTF8_NAMES = frozenset({"utf-8", "utf8"})

SEND_JSON = "body: send application/json"
SEND_UTF8 = "body: send application/json with charset=utf-8 (the only charset accepted)"
MALFORMED = "malformed JSON"

_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 (and UTF-32 LE) byte order marks
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class BodyRefusal:
    """Why a body is refused: the status (400 or 415) and the problem, named by field."""

    status: int
    field: str
    problem: str

    @property
    def message(self) -> str:
        return f"{self.field}: {self.problem}"

    def body(self) -> dict[str, Any]:
        """The error body in the APIs' shape (`errors` only for 400, as validation errors have it)."""
        if self.status == HTTPStatus.BAD_REQUEST:
            return {"message": self.message, "errors": [{"field": self.field, "message": self.problem}]}
        return {"message": self.message}


class BodyError(Exception):
    """Raised by the parsing helpers; carries the refusal."""

    def __init__(self, refusal: BodyRefusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def _bad(problem: str, field: str = "body") -> BodyError:
    return BodyError(BodyRefusal(HTTPStatus.BAD_REQUEST, field, problem))


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """`'Application/JSON; Charset="UTF-8"'` → `('application/json', {'charset': 'utf-8'})`
    (type and parameter names are case-insensitive, and so is the charset's value)."""
    kind, *parameters = content_type.split(";")
    found: dict[str, str] = {}
    for parameter in parameters:
        name, sep, value = parameter.partition("=")
        if sep:
            found[name.strip().lower()] = value.strip().strip('"').strip().lower()
    return kind.strip().lower(), found


def check_content_type(content_type: str | None) -> None:
    """None for JSON in UTF-8 (or no Content-Type at all); else a BodyError with a 415."""
    if content_type is None or not content_type.strip():
        return
    kind, parameters = media_type(content_type)
    if kind != JSON_MEDIA_TYPE:
        raise BodyError(BodyRefusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "body", SEND_JSON.removeprefix("body: ")))
    charset = parameters.get("charset")
    if charset is not None and charset not in UTF8_NAMES:
        raise BodyError(BodyRefusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "body", SEND_UTF8.removeprefix("body: ")))


def body_bytes(event: Mapping[str, Any]) -> bytes:
    """The body's bytes as the client sent them (base64 decoded when API Gateway encoded it)."""
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _bad("not valid base64 (isBase64Encoded)") from exc
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate in the event's text
        raise _bad("not valid UTF-8") from exc


def parse_object(data: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The JSON object in `data` (UTF-8, RFC 8259), or a BodyError naming the problem."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise _bad("must be UTF-8 JSON without a byte order mark")
    if data.startswith(_WIDE_BOMS) or b"\x00" in data:
        raise _bad("must be UTF-8 JSON (UTF-16 and UTF-32 are not accepted)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad("not valid UTF-8") from exc
    if nesting_depth(text, stop_above=max_depth) > max_depth:
        raise _bad(f"JSON nested deeper than {max_depth} levels")
    try:
        value = json.loads(
            text,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise _bad(MALFORMED) from exc
    except RecursionError as exc:  # unreachable after the depth scan; kept as a backstop
        raise _bad(f"JSON nested deeper than {max_depth} levels") from exc
    if not isinstance(value, dict):
        raise _bad("must be a JSON object")
    for field, problem in _problems(value, ()):
        raise _bad(problem, field or "body")
    return value


def nesting_depth(text: str, *, stop_above: int = MAX_DEPTH) -> int:
    """The deepest nesting of arrays/objects in JSON `text` (brackets inside strings skipped), or
    the first depth past `stop_above`: one linear scan whatever the body, before any recursion."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def canonical(value: Mapping[str, Any]) -> str:
    """The JSON text the resolver gets: compact, UTF-8 characters kept as they are."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# -- json.loads hooks: markers instead of exceptions, so the problem can be reported with its path.


class _OutOfRange:
    """A number too long to convert, or not finite."""


class _Object(dict):
    """A JSON object that repeated a key (the repeated keys in `duplicates`)."""

    duplicates: tuple[str, ...] = ()


_OUT_OF_RANGE = _OutOfRange()


def _int(text: str) -> Any:
    return int(text) if len(text) <= MAX_NUMBER_CHARS else _OUT_OF_RANGE


def _float(text: str) -> Any:
    if len(text) > MAX_NUMBER_CHARS:
        return _OUT_OF_RANGE
    number = float(text)
    return number if math.isfinite(number) else _OUT_OF_RANGE


def _constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = _Object(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        value.duplicates = tuple(key for key, _ in pairs if key in seen or seen.add(key))
    return value


def _problems(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(field path, problem) for every marker and lone surrogate in a parsed value, depth first."""
    field = ".".join(path)
    if value is _OUT_OF_RANGE:
        yield field, f"number out of range (finite, at most {MAX_NUMBER_CHARS} characters)"
    elif isinstance(value, str):
        if _SURROGATE.search(value):
            yield field, "invalid Unicode (a lone surrogate escape)"
    elif isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            yield ".".join((*path, _printable(key))), "duplicate key"
        for key, item in value.items():
            if _SURROGATE.search(key):
                yield field, "invalid Unicode in a key (a lone surrogate escape)"
            yield from _problems(item, (*path, _printable(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, (*path, str(index)))


def _printable(key: str) -> str:
    key = _SURROGATE.sub("\ufffd", key)
    return key if len(key) <= 64 else key[:61] + "..."


def screen_body(event: Mapping[str, Any]) -> BodyRefusal | dict[str, Any]:
    """The refusal for a body the APIs do not accept, or the event to resolve (see the module doc)."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type")
    body = event.get("body")
    if not body:
        try:
            check_content_type(content_type)
        except BodyError:
            return dict(event)  # no body: the resolver decides (415 where the route needs one)
        return _with_body(event, body) if content_type is not None else dict(event)
    try:
        check_content_type(content_type)
        parsed = parse_object(body_bytes(event))
    except BodyError as exc:
        return exc.refusal
    return _with_body(event, canonical(parsed))


def _with_body(event: Mapping[str, Any], body: str | None) -> dict[str, Any]:
    rewritten = dict(event)
    rewritten["body"] = body
    rewritten["isBase64Encoded"] = False
    rewritten["headers"] = _json_content_type(event.get("headers"), single=True)
    if event.get("multiValueHeaders") is not None:
        rewritten["multiValueHeaders"] = _json_content_type(event.get("multiValueHeaders"), single=False)
    return rewritten


def _json_content_type(headers: Mapping[str, Any] | None, *, single: bool) -> dict[str, Any]:
    kept = {name: value for name, value in (headers or {}).items() if name.lower() != "content-type"}
    kept["Content-Type"] = JSON_MEDIA_TYPE if single else [JSON_MEDIA_TYPE]
    return kept
