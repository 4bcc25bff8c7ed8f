"""Every API error is JSON `{"code": ..., "message": ...}` with a 4xx status for the caller's mistakes.

Besides the domain errors (`ThreadlineError`), this maps what django-ninja and Django raise on a malformed
request (unparsable JSON, a body over the size limit, parameters that fail validation, a number too large for
a database column) to 4xx answers. An unexpected failure is still a 500, but a JSON one with `internal_error`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from threadline.core.errors import RateLimited, ThreadlineError

logger = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class FieldErrorOut(Schema):
    loc: list[str]
    msg: str


class ErrorOut(Schema):
    """The body of every error answer."""

    code: str
    message: str
    field: str | None = None
    errors: list[FieldErrorOut] | None = None


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"code": code, "message": message, **extra}


ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 413, 422, 429})


def responses(schema: Any, status: int = 200) -> dict[Any, Any]:
    """The `response=` of an operation: its success schema, and ErrorOut for the 4xx answers (for the OpenAPI)."""
    return {status: schema, ERROR_STATUSES: ErrorOut}


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ThreadlineError)
    def domain_error(request: HttpRequest, exc: ThreadlineError) -> HttpResponse:
        extra = {"field": exc.field} if exc.field else {}
        response = api.create_response(request, error_body(exc.code, exc.message, **extra), status=exc.status)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))} for e in exc.errors
        ]
        first = errors[0] if errors else {"loc": [], "msg": ""}
        message = _("Invalid request: %(where)s: %(msg)s") % {"where": ".".join(first["loc"]), "msg": first["msg"]}
        return api.create_response(request, error_body("invalid", message, errors=errors), status=422)

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request, error_body("unauthorized", _("A valid bearer token is required.")), status=401
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and "parse request body" in str(exc):
            return api.create_response(
                request, error_body("invalid_json", _("The request body is not valid JSON.")), status=400
            )
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return api.create_response(request, error_body(code, str(exc)), status=exc.status_code)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return api.create_response(
            request, error_body("payload_too_large", _("The request body is too large.")), status=413
        )

    @api.exception_handler(OverflowError)
    @api.exception_handler(DataError)
    def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A value the database cannot hold (a number beyond 64 bits, a string over a column's length):
        # the caller's input, which a parameter type should have bounded. Logged so the type gets fixed.
        logger.warning("database refused a value on %s %s: %s", request.method, request.path, exc)
        return api.create_response(
            request, error_body("out_of_range", _("A value is out of the accepted range.")), status=400
        )

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return api.create_response(
            request, error_body("internal_error", _("Something went wrong on our side.")), status=500
        )
