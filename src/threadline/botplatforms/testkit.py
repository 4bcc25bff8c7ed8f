"""Local fakes of the three bot platforms, built from their documented request and response shapes.

Each is a real HTTP server on loopback that checks authentication the way the platform does, so a wrong
credential or signature fails the test:
- `FakeDialogflowCX`: an OAuth token endpoint that verifies the service account's RS256 JWT assertion with the
  key's public half (audience, issuer, scope, expiry) and issues bearer tokens, and `detectIntent`, which
  accepts only those tokens.
- `FakeLexV2`: `RecognizeText`, recomputing the Signature Version 4 signature from the request as received
  (its own implementation, not `sigv4.py`'s) with the secret of the access key named in the credential.
- `FakeDirectLine`: secrets, `tokens/generate` and `tokens/refresh` (conversation- and user-bound tokens),
  conversations, posting activities (`from.id` must match a token's user) and reading them by watermark.
Every request is kept in `requests`; `delay` (seconds) holds every answer back, for timeouts; `outage` answers
every request with one error (throttling, 5xx). The bot's
behaviour is a function the test sets (`agent`, `bot`), answering in the platform's own shapes.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from threadline.testing.serving import Handler as QuickHandler
from threadline.testing.serving import serve_in_thread, stop_serving

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Request:
    method: str
    path: str  # as received, still percent-encoded
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakePlatform:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.delay = 0.0
        self.outage: Answer | None = None  # when set, every request gets this answer (throttling, 5xx)
        self.server: ThreadingHTTPServer | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def calls(self, suffix: str = "") -> list[Request]:
        return [r for r in self.requests if r.path.endswith(suffix)]

    def dispatch(self, request: Request) -> Answer:
        raise NotImplementedError

    def start(self) -> FakePlatform:
        fake = self

        class Handler(QuickHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(self.command, parts.path, parts.query,
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                with fake.lock:
                    fake.requests.append(request)
                if fake.delay:
                    time.sleep(fake.delay)
                with fake.lock:
                    status, document, headers = fake.outage or fake.dispatch(request)
                raw = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (a timeout test)

            do_GET = do_POST = _serve  # noqa: N815 - http.server's naming

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve_in_thread(self.server)
        return self

    def stop(self) -> None:
        if self.server is not None:
            stop_serving(self.server)


def _bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    return value[7:] if value.startswith("Bearer ") else ""


# ── Dialogflow CX ───────────────────────────────────────────────────────────────────────────────────
def google_error(status: int, state: str, message: str) -> Answer:
    return status, {"error": {"code": status, "message": message, "status": state}}, {}


class FakeDialogflowCX(FakePlatform):
    """`agent(session_path, query_input)` returns the `responseMessages` list (default: echo the text)."""

    CLIENT_EMAIL = "threadline-bot@example-project.iam.gserviceaccount.com"

    def __init__(self) -> None:
        super().__init__()
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = uuid.uuid4().hex
        self.tokens: dict[str, float] = {}
        self.agent: Callable[[str, dict[str, Any]], list[dict[str, Any]]] = (
            lambda session, query: [{"text": {"text": [f"echo: {(query.get('text') or {}).get('text', '')}"]}}])

    def service_account_key(self, *, private_key: Any = None) -> dict[str, str]:
        """A key file as Google's console downloads it (another RSA key signs with the wrong key)."""
        pem = (private_key or self.private_key).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "example-project", "private_key_id": self.key_id,
                "private_key": pem, "client_email": self.CLIENT_EMAIL, "client_id": "1234567890",
                "token_uri": f"{self.url}/token"}

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def dispatch(self, request: Request) -> Answer:
        if request.path == "/token":
            return self._token(request)
        if request.method == "POST" and request.path.endswith(":detectIntent") and "/sessions/" in request.path:
            return self._detect(request)
        return google_error(404, "NOT_FOUND", f"{request.path} not found")

    def _token(self, request: Request) -> Answer:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, {}
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, self.private_key.public_key(), algorithms=["RS256"],
                                audience="https://oauth2.googleapis.com/token", options={"require": ["iss", "aud", "iat", "exp"]})
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}, {}
        if header.get("kid") != self.key_id or claims.get("iss") != self.CLIENT_EMAIL:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, {}
        if "https://www.googleapis.com/auth/cloud-platform" not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope."}, {}
        token = f"ya29.{secrets.token_urlsafe(24)}"
        self.tokens[token] = time.time() + 3599
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, {}

    def _detect(self, request: Request) -> Answer:
        if self.tokens.get(_bearer(request), 0) < time.time():
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                                "Expected OAuth 2 access token, login cookie or other valid authentication credential.")
        try:
            query = request.json()["queryInput"]
            language = query["languageCode"]
            if not (query.get("text") or {}).get("text") and not (query.get("event") or {}).get("event"):
                raise KeyError("text or event")
        except (ValueError, KeyError, TypeError) as exc:
            return google_error(400, "INVALID_ARGUMENT", f"Invalid queryInput: {exc}")
        session = request.path.removeprefix("/v3/").removesuffix(":detectIntent")
        messages = self.agent(session, query)
        return 200, {"responseId": str(uuid.uuid4()), "queryResult": {
            "text": (query.get("text") or {}).get("text", ""), "languageCode": language,
            "responseMessages": messages, "currentPage": {"name": f"{session.split('/sessions/')[0]}/flows/"
                                                          "00000000-0000-0000-0000-000000000000/pages/START_PAGE",
                                                          "displayName": "Start Page"},
            "match": {"matchType": "INTENT", "confidence": 1}}}, {}


# ── Amazon Lex V2 ───────────────────────────────────────────────────────────────────────────────────
def aws_error(status: int, kind: str, message: str) -> Answer:
    return status, {"message": message}, {"x-amzn-ErrorType": kind}


def _uri_encode(text: str, *, slash: bool) -> str:
    return quote(text, safe="-_.~" + ("/" if slash else ""))


def expected_signature(request: Request, secret: str, scope: str, signed: list[str]) -> str:
    """The signature AWS computes for `request` as received: its own canonical request, for the check."""
    segments = request.path.split("/")
    uri = "/".join(_uri_encode(segment, slash=False) for segment in segments) or "/"
    pairs = sorted((_uri_encode(unquote(k), slash=False), _uri_encode(unquote(v), slash=False))
                   for k, _eq, v in (p.partition("=") for p in request.query.split("&") if p))
    headers = "".join(f"{h}:{' '.join(request.headers.get(h, '').split())}\n" for h in signed)
    canonical = "\n".join([request.method, uri, "&".join(f"{k}={v}" for k, v in pairs), headers, ";".join(signed),
                           hashlib.sha256(request.body).hexdigest()])
    text = "\n".join(["AWS4-HMAC-SHA256", request.headers.get("x-amz-date", ""), scope,
                      hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


class FakeLexV2(FakePlatform):
    """`bot(session_id, text, locale)` returns `(messages, sessionState)` (default: echo, intent InProgress)."""

    def __init__(self, *, region: str = "eu-west-1", bot_id: str = "BOT1234567", alias_id: str = "TSTALIASID") -> None:
        super().__init__()
        self.region, self.bot_id, self.alias_id = region, bot_id, alias_id
        self.access_key = "AKIA" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.bot: Callable[[str, str, str], tuple[list[dict[str, Any]], dict[str, Any]]] = (
            lambda session, text, locale: ([{"contentType": "PlainText", "content": f"echo: {text}"}],
                                           {"dialogAction": {"type": "ElicitIntent"},
                                            "intent": {"name": "FallbackIntent", "state": "InProgress"}}))

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {"region": self.region, "bot_id": self.bot_id, "bot_alias_id": self.alias_id, "locale_id": "en_US",
                "access_key_id": self.access_key, "secret_access_key": self.secret_key, "api_base_url": self.url,
                **overrides}

    def _authenticate(self, request: Request) -> Answer | None:
        header = request.headers.get("authorization", "")
        algorithm, _sp, rest = header.partition(" ")
        fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
        credential = fields.get("Credential", "").split("/", 1)
        if algorithm != "AWS4-HMAC-SHA256" or len(credential) != 2:
            return aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        if credential[0] != self.access_key:
            return aws_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        amz_date = request.headers.get("x-amz-date", "")
        scope = credential[1]
        if scope != f"{amz_date[:8]}/{self.region}/lex/aws4_request":
            return aws_error(403, "InvalidSignatureException", f"Credential should be scoped to a valid region and "
                             f"service, not '{scope}'.")
        try:
            signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return aws_error(403, "InvalidSignatureException", "X-Amz-Date is not a valid date")
        if abs(signed_at - time.time()) > 300:
            return aws_error(403, "InvalidSignatureException", "Signature expired")
        signed = fields.get("SignedHeaders", "").split(";")
        content_hash = request.headers.get("x-amz-content-sha256")
        if "host" not in signed or (content_hash and content_hash != hashlib.sha256(request.body).hexdigest()):
            return aws_error(403, "InvalidSignatureException", "The host header and the body must be signed.")
        if not hmac.compare_digest(expected_signature(request, self.secret_key, scope, signed),
                                   fields.get("Signature", "")):
            return aws_error(403, "InvalidSignatureException", "The request signature we calculated does not match "
                             "the signature you provided. Check your AWS Secret Access Key and signing method.")
        return None

    def dispatch(self, request: Request) -> Answer:
        refused = self._authenticate(request)
        if refused:
            return refused
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if parts[:8:2] != ["bots", "botAliases", "botLocales", "sessions"] or len(parts) not in (8, 9):
            return aws_error(404, "UnknownOperationException", "Unknown operation")
        if parts[1] != self.bot_id or parts[3] != self.alias_id:
            return aws_error(404, "ResourceNotFoundException", "Could not find the bot or the alias.")
        if request.method == "GET" and len(parts) == 8:  # GetSession
            if parts[7] not in self.sessions:
                return aws_error(404, "ResourceNotFoundException", "Session not found")
            return 200, {"sessionId": parts[7], "messages": [], "sessionState": self.sessions[parts[7]]}, {}
        if request.method != "POST" or parts[8] != "text":
            return aws_error(404, "UnknownOperationException", "Unknown operation")
        try:
            text = request.json()["text"]
        except (ValueError, KeyError, TypeError):
            return aws_error(400, "ValidationException", "1 validation error detected: Value at 'text' failed")
        messages, state = self.bot(parts[7], text, parts[5])
        self.sessions[parts[7]] = state
        return 200, {"messages": messages, "sessionState": state, "sessionId": parts[7], "requestAttributes": {},
                     "interpretations": [{"intent": state.get("intent", {}), "nluConfidence": {"score": 0.92}}]}, {}


# ── Bot Framework Direct Line 3.0 ───────────────────────────────────────────────────────────────────
def directline_error(status: int, code: str, message: str) -> Answer:
    return status, {"error": {"code": code, "message": message}}, {}


@dataclass
class _Token:
    conversation_id: str
    user_id: str
    expires_at: float


class FakeDirectLine(FakePlatform):
    """`bot(activity)` returns the bot's reply activities (default: echo). `replies_after_polls` = n keeps
    each turn's replies back for n reads, as a bot that answers a moment later."""

    def __init__(self) -> None:
        super().__init__()
        self.secret = secrets.token_urlsafe(32)
        self.tokens: dict[str, _Token] = {}
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self.hidden: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.replies_after_polls = 0
        self.token_lifetime = 1800
        self.bot: Callable[[dict[str, Any]], list[dict[str, Any]]] = (
            lambda activity: [{"type": "message", "text": f"echo: {activity.get('text', '')}",
                               "inputHint": "acceptingInput"}])

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {"secret": self.secret, "api_base_url": self.url, "reply_wait_seconds": 5,
                "poll_interval_seconds": 0.05, **overrides}

    def expire_tokens(self) -> None:
        for token in self.tokens.values():
            token.expires_at = 0

    def _issue(self, conversation_id: str, user_id: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(48)
        self.tokens[token] = _Token(conversation_id, user_id, time.time() + self.token_lifetime)
        return {"conversationId": conversation_id, "token": token, "expires_in": self.token_lifetime}

    def _caller(self, request: Request) -> tuple[str, _Token | None] | None:
        """("secret", None) or ("token", its grant); None when neither is valid."""
        given = _bearer(request)
        if given and hmac.compare_digest(given, self.secret):
            return "secret", None
        grant = self.tokens.get(given)
        if grant and grant.expires_at > time.time():
            return "token", grant
        return None

    def dispatch(self, request: Request) -> Answer:
        caller = self._caller(request)
        if caller is None:
            return directline_error(403, "BadArgument", "Invalid token or secret")
        mode, grant = caller
        path = request.path.removeprefix("/v3/directline")
        if request.method == "POST" and path == "/tokens/generate" and mode == "secret":
            user = ((request.json() if request.body else {}).get("user") or {}).get("id") or f"dl_{uuid.uuid4().hex}"
            return 200, self._issue(uuid.uuid4().hex[:22] + "-eu", user), {}
        if request.method == "POST" and path == "/tokens/refresh" and grant is not None:
            del self.tokens[_bearer(request)]
            return 200, self._issue(grant.conversation_id, grant.user_id), {}
        if request.method == "POST" and path == "/conversations":
            conversation = grant.conversation_id if grant else uuid.uuid4().hex[:22] + "-eu"
            self.conversations.setdefault(conversation, [])
            answer = self._issue(conversation, grant.user_id if grant else "")
            return 201, {**answer, "streamUrl": f"wss://example.invalid/v3/directline/conversations/{conversation}"
                                                "/stream", "referenceGrammarId": str(uuid.uuid4())}, {}
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "conversations" and parts[2] == "activities":
            conversation = unquote(parts[1])
            if grant is not None and grant.conversation_id != conversation:
                return directline_error(403, "BadArgument", "Token not valid for this conversation")
            if conversation not in self.conversations:
                return directline_error(404, "BadArgument", "Conversation not found")
            if request.method == "POST":
                return self._post_activity(request, conversation, grant)
            return self._activities(request, conversation)
        return directline_error(404, "NotFound", "Unknown resource")

    def _post_activity(self, request: Request, conversation: str, grant: _Token | None) -> Answer:
        try:
            activity = request.json()
            sender = activity["from"]["id"]
            if activity["type"] != "message":
                raise KeyError("type")
        except (ValueError, KeyError, TypeError):
            return directline_error(400, "BadArgument", "Invalid activity")
        if grant is not None and grant.user_id and sender != grant.user_id:
            return directline_error(403, "BadArgument", "The user id of the activity does not match the token")
        activities = self.conversations[conversation]
        posted = {**activity, "id": f"{conversation}|{len(activities):07d}", "conversation": {"id": conversation}}
        activities.append(posted)
        for reply in self.bot(posted):
            full = {"from": {"id": "threadline-test-bot", "name": "Test bot"}, "replyToId": posted["id"],
                    "conversation": {"id": conversation}, **reply}
            self.hidden.setdefault(conversation, []).append((self.replies_after_polls, full))
        return 200, {"id": posted["id"]}, {}

    def _activities(self, request: Request, conversation: str) -> Answer:
        waiting = []
        for polls_left, reply in self.hidden.pop(conversation, []):
            if polls_left <= 0:
                activities = self.conversations[conversation]
                activities.append({**reply, "id": f"{conversation}|{len(activities):07d}"})
            else:
                waiting.append((polls_left - 1, reply))
        if waiting:
            self.hidden[conversation] = waiting
        activities = self.conversations[conversation]
        start = int((parse_qs(request.query).get("watermark") or ["0"])[0] or 0)
        return 200, {"activities": activities[start:], "watermark": str(len(activities))}, {}
