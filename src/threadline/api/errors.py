"""Every API error is JSON `{"code": ..., "message": ...}` with a 4xx status for the caller's mistakes."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from threadline.core.errors import RateLimited, ThreadlineError


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"code": code, "message": message, **extra}


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
        return api.create_response(request, error_body("http_error", str(exc)), status=exc.status_code)
