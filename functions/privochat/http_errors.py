"""Every refusal of the HTTP API as the one JSON error body: domain errors by
their code, validation errors, Starlette's own (404, 405), and bugs (500)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Scope

from .domain import ChatError, RateLimited
from .errors import error_body, error_of


def _allowed_methods(app: FastAPI, scope: Scope) -> str:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChatError)
    async def chat_error(_: Request, error: ChatError) -> JSONResponse:
        status, body = error_of(error)
        headers = (
            {"Retry-After": str(error.retry_after_seconds)}
            if isinstance(error, RateLimited)
            else None
        )
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        location = tuple(first.get("loc", ()))
        where = ".".join(str(part) for part in location if part != "body")
        message = (
            f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid")
        )
        # The contract (docs/api.md): a malformed query is a 400, a malformed body a 422.
        status = 400 if location[:1] == ("query",) else 422
        return JSONResponse(error_body("bad-request", message), status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = "not-found" if error.status_code == 404 else "bad-request"
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # Starlette names only the first route's methods; a path may have several.
            headers["Allow"] = _allowed_methods(app, request.scope)
        return JSONResponse(
            error_body(code, str(error.detail)), status_code=error.status_code, headers=headers
        )

    @app.exception_handler(Exception)
    async def crash(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse(
            error_body("internal", "Something went wrong on our side."),
            status_code=500,
            headers={"Cache-Control": "no-store"},
        )
