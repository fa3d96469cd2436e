"""The notes-api Lambda entry point: `handler` (every function of the stack) and `app` (the resolver).

Data flow: API Gateway (REST, proxy integration, AWS_IAM: a SigV4-signed request of a Cognito
identity) → `handler(event, context)` → early checks on the raw event
(`libs.guards.screen_request`: 401 without an authenticated `requestContext.identity`, 413 for an
oversize body, 415 for a Content-Type other than JSON, 400 for a body that is not a bounded UTF-8
JSON object) → `app.resolve` → request validation against the pydantic models (400 naming the
field) → a route below → `notes` (table + S3) → the response model, serialised. Exceptions become responses in
`libs.errors`. The OpenAPI document comes from `app.get_openapi_json_schema()`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths

from libs import observability
from libs.auth import caller_id
from libs.guards import screen_request
from libs.resolver import COMMON_ERRORS, SIGV4_SCHEME, api_resolver, error_responses

from . import notes
from .models import AttachmentIn, AttachmentOut, NoteIn, NoteOut, NotesPageOut

MAX_BODY_BYTES = 128 * 1024
# Repeated on every route (not only globally) so it survives when the local runtime merges the
# documents of several functions into one.
SIGNED_IN = [{SIGV4_SCHEME: []}]
# Named `id` as in the API Gateway resource `/notes/{id}`; a malformed id answers 404 like a missing one.
NoteIdParam = Annotated[str, Path(description="The note's id (26 Crockford base32 characters).")]

logger = observability.logger()
tracer = observability.tracer()

app = api_resolver(
    title="notes-api",
    version="1.0.0",
    description=(
        "The caller's notes and their attachments. Every route needs a request signed (SigV4, "
        "execute-api) with the credentials of a Cognito identity of the stage's identity pool."
    ),
    logger=logger,
)


def _responses(
    status: int, *, model: type | None, description: str, errors: tuple[int, ...] = COMMON_ERRORS
) -> dict[int, dict[str, Any]]:
    """The success response and every error status the operation can answer (`libs.resolver`)."""
    content = {"application/json": {"model": model}} if model else {}
    return {status: {"description": description, "content": content}, **error_responses(*errors)}


# The routes of one note answer 404 too (missing, another user's, malformed id).
_ONE_NOTE = (*COMMON_ERRORS, 404)


def _user() -> str:
    user = caller_id(app.current_event.raw_event)
    if user is None:
        raise UnauthorizedError("unauthorized")
    return user


def _json(status: int, body: Any) -> Response:
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=body)


@app.post(
    "/notes", responses=_responses(201, model=NoteOut, description="The created note"), security=SIGNED_IN
)
def create_note(note: NoteIn) -> Response[NoteOut]:
    """Create a note."""
    created = notes.create(_user(), note)
    observability.count("NotesCreated")
    return _json(HTTPStatus.CREATED, created.model_dump(mode="json"))


@app.get(
    "/notes",
    responses=_responses(200, model=NotesPageOut, description="A page of notes, newest first"),
    security=SIGNED_IN,
)
def list_notes(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description="From the previous page")] = None,
) -> NotesPageOut:
    """List the caller's notes, newest first."""
    return notes.list_page(_user(), limit=limit, after=cursor)


@app.get("/notes/<id>", responses=_responses(200, model=NoteOut, description="The note", errors=_ONE_NOTE), security=SIGNED_IN)
def get_note(id: NoteIdParam) -> NoteOut:
    """Get one note."""
    return notes.get(_user(), id)


@app.put(
    "/notes/<id>",
    responses=_responses(200, model=NoteOut, description="The updated note", errors=_ONE_NOTE),
    security=SIGNED_IN,
)
def update_note(id: NoteIdParam, note: NoteIn) -> NoteOut:
    """Replace a note's content and attachment."""
    return notes.replace(_user(), id, body=note)


@app.delete("/notes/<id>", responses=_responses(204, model=None, description="Deleted", errors=_ONE_NOTE), security=SIGNED_IN)
def delete_note(id: NoteIdParam) -> Response[None]:
    """Delete a note."""
    notes.delete(_user(), id)
    return Response(status_code=int(HTTPStatus.NO_CONTENT), body="")


@app.post(
    "/attachments",
    responses=_responses(201, model=AttachmentOut, description="Where to upload"),
    security=SIGNED_IN,
)
def create_attachment_url(request: AttachmentIn) -> Response[AttachmentOut]:
    """Get a presigned URL to upload an attachment."""
    created = notes.new_attachment(_user(), request)
    return _json(HTTPStatus.CREATED, created.model_dump(mode="json"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # note contents stay out of traces
def handler(event: dict, context: Any) -> dict:
    """Lambda entry point of every notes-api function."""
    observability.annotate_caller(event)
    refused, screened = screen_request(event, max_body_bytes=MAX_BODY_BYTES)
    return refused or app.resolve(screened, context)
