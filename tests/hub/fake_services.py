#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# fake_services.py: stand-ins for the services the hub talks to but the
# tests cannot reach — Meta's WhatsApp Cloud API (Graph API) and a generic
# HTTP SMS gateway — as local http.server instances on 127.0.0.1 that
# record every request and answer in the documented format, with failures
# the test switches on. Python's standard library only.
#
# API (import it: `sys.path.insert(0, os.path.dirname(__file__))`,
# `import fake_services`; or run it as a separate process, see the end):
#
#   graph = fake_services.GraphFake(token="secret-token")  # starts serving
#   graph.url            "http://127.0.0.1:PORT/v21.0" — the hub's
#                        [whatsapp] graph-url (version included, no slash)
#   graph.base           "http://127.0.0.1:PORT/" (no version)
#   graph.stop()         (also a context manager: `with GraphFake() as g:`)
#
#   Endpoints (any version segment, any phone-number id):
#   POST /{version}/{phone-number-id}/messages   JSON body as Meta documents
#       ({"messaging_product": "whatsapp", "to": ..., "type": "text"|"image"|
#       "template"|..., ...}) → 200 {"messaging_product": "whatsapp",
#       "contacts": [{"input": to, "wa_id": digits}], "messages": [{"id":
#       "wamid.…"}]} (templates also get "message_status": "accepted").
#       Missing messaging_product/to/type, or a type without its object →
#       400 with Graph error code 100.
#   POST /{version}/{phone-number-id}/media   multipart/form-data with
#       parts file (with a filename and Content-Type), type (a MIME type),
#       messaging_product ("whatsapp") → 200 {"id": "<media id>"}; missing
#       parts → 400 code 100. The bytes are kept: graph.media[id] =
#       {"data": bytes, "type": "image/png", "filename": ...}.
#   GET /{version}/{media-id}   → {"messaging_product": "whatsapp", "url":
#       graph.base + "_media/<id>", "mime_type", "sha256", "file_size", "id"}
#   GET /_media/{media-id}      → the bytes (Authorization checked too).
#   With token set, every Graph call needs "Authorization: Bearer <token>",
#   else 401 with Graph error code 190 (type OAuthException).
#   Errors have Meta's shape: {"error": {"message": "(#CODE) Title", "type":
#   "OAuthException", "code": CODE, "error_data": {"messaging_product":
#   "whatsapp", "details": ...}, "fbtrace_id": ...}}.
#
#   Recording: graph.requests — a list of Request (newest last; a copy via
#   graph.snapshot()); each has .t (time.monotonic () at arrival), .wall
#   (time.time ()), .method, .path (without the query), .query (dict of
#   lists), .headers (dict, lower-case names), .body (bytes), .json (parsed
#   body or None), .form (multipart parts: name → Part(.data bytes, .text,
#   .filename, .content_type)), .status (what was answered), .reply (the
#   JSON answered), .endpoint ("messages", "media", "media-get",
#   "media-download", "control" or None). Helpers: graph.messages() (the
#   answered-200 /messages requests' JSON bodies, in order),
#   graph.uploads(), graph.wait_for(predicate, timeout) (→ the requests
#   once predicate(requests) is true, else AssertionError),
#   graph.wait_messages(n, timeout), graph.reset() (forget requests and
#   failures).
#
#   Failures — each queued rule answers matching requests instead of the
#   normal reply, `count` times (None: until cleared), first match first:
#   graph.fail(mode, count=1, endpoint=None, to=None, retry_after=None,
#              delay=0.0, status=None)
#     mode "500"    HTTP 500, Graph code 1 ("An unknown error occurred")
#          "503"    HTTP 503, Graph code 2 (service temporarily unavailable)
#          "429"    HTTP 429, Graph code 130429 ("Rate limit hit"); with
#                   retry_after, a Retry-After header (seconds)
#          "131047" HTTP 400, code 131047 ("Re-engagement message": more
#                   than 24 hours since the customer last replied)
#          "400"    HTTP 400, code 100 ("Invalid parameter")
#          "131026" HTTP 400, code 131026 ("Message undeliverable")
#          "131056" HTTP 400, code 131056 (pair rate limit: too many
#                   messages to this one recipient)
#          "131047-webhook"  the message is taken (200, a wamid), and a
#                   moment later a "statuses" webhook reports it failed
#                   with 131047, as Meta often does (needs set_webhook)
#          "slow"   the normal reply, after `delay` seconds
#          "drop"   close the connection without an answer
#     endpoint: "messages" or "media" (None: both); to: only messages to
#     this number (digits, with or without "+"); status overrides the HTTP
#     status (Meta answers some errors with 400 rather than 429).
#   graph.clear_failures()
#   graph.close_window(to, report="answer") / graph.open_window(to): a
#     customer whose 24-hour window is closed — every non-template message
#     to them gets the 131047 error, templates go through (as the real API
#     does); with report="webhook" the message is taken and the error comes
#     by a statuses webhook instead (as "131047-webhook" above).
#   graph.set_webhook(url, app_secret): where status webhooks go — the
#     hub's /webhooks/whatsapp — POSTed as Meta does, the JSON body signed
#     in X-Hub-Signature-256 with the app secret. graph.webhooks: what was
#     posted, a list of {"wamid", "status" (the hub's HTTP answer, 0 when
#     none), "body"}; graph.wait_webhooks(n, timeout).
#   graph.report_status(wamid, status, to): Meta reports that message
#     @wamid to @to was "delivered" or "read": a statuses webhook posted
#     and signed as above; returns the hub's HTTP status.
#   graph.deliver_text(wa_id, text): a visitor writes @text to the
#     business number from @wa_id (digits, or +digits): a messages webhook
#     posted and signed as above; returns the hub's HTTP status.
#   graph.set_delay(seconds): answer every request this much later.
#
#   sms = fake_services.SmsFake(auth_header="Authorization: Bearer s3cret")
#   sms.url             "http://127.0.0.1:PORT/" — use in the URL template
#                       ("{}send?to={{to}}&text={{text}}".format(sms.url))
#   Any method, any path (except /_fake/…): the request is recorded like
#   the Graph fake's (.query has the decoded GET parameters; .form the
#   decoded application/x-www-form-urlencoded POST fields as name → str;
#   .json a JSON body). With auth_header set, a request without exactly
#   that header → 401 {"error": "unauthorized"}. Answer: 200 {"id":
#   "sms-N", "status": "accepted"}. sms.fail(mode, count, ...) as above
#   with modes "500", "503", "429" (+ Retry-After), "400", "slow", "drop";
#   sms.messages() gives the accepted requests; sms.wait_messages(n).
#
#   Control over HTTP, for a fake run as a separate process:
#   GET  /_fake/requests  → [{t, wall, method, path, query, headers,
#                             json, form (text values), status, reply,
#                             body_b64}]
#   POST /_fake/fail      {"mode": ..., "count": ..., "endpoint": ...,
#                          "to": ..., "retry_after": ..., "delay": ...,
#                          "status": ...}
#   POST /_fake/window    {"to": ..., "open": false, "report": "answer"|"webhook"}
#   POST /_fake/webhook   {"url": ..., "app_secret": ...}
#   POST /_fake/delay     {"seconds": ...}
#   POST /_fake/reset
#   GET  /_fake/media/ID  → the uploaded bytes
#
#   As a process: `python3 fake_services.py graph|sms [--port N]
#   [--token T | --auth-header "Name: value"]` prints "listening URL"
#   (the Graph fake's URL with its version) and serves until SIGTERM.

import base64
import hmac
import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GRAPH_VERSION = "v21.0"


class Part:
    """One part of a multipart/form-data body."""

    def __init__(self, data, filename=None, content_type=None):
        self.data = data
        self.filename = filename
        self.content_type = content_type

    @property
    def text(self):
        return self.data.decode("utf-8", errors="replace")

    def __repr__(self):
        return f"Part({len(self.data)} bytes, filename={self.filename!r}, type={self.content_type!r})"


class Request:
    """What one request to a fake carried, and what it was answered."""

    def __init__(self, method, path, query, headers, body):
        self.t = time.monotonic()
        self.wall = time.time()
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.json = None
        self.form = {}
        self.status = None
        self.reply = None
        self.endpoint = None
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/json") or (body[:1] in (b"{", b"[")):
            try:
                self.json = json.loads(body)
            except ValueError:
                pass
        elif content_type.startswith("multipart/form-data"):
            self.form = parse_multipart(content_type, body)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            self.form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                                     keep_blank_values=True).items()}

    def to_dict(self):
        form = {k: (v.text if isinstance(v, Part) and v.filename is None
                    else {"filename": v.filename, "content_type": v.content_type, "size": len(v.data)}
                    if isinstance(v, Part) else v)
                for k, v in self.form.items()}
        return {"t": self.t, "wall": self.wall, "method": self.method, "path": self.path,
                "query": self.query, "headers": self.headers, "json": self.json, "form": form,
                "status": self.status, "reply": self.reply, "endpoint": self.endpoint,
                "body_b64": base64.b64encode(self.body).decode()}

    def __repr__(self):
        return f"<{self.method} {self.path} → {self.status}>"


def parse_multipart(content_type, body):
    """Parses a multipart/form-data body into name → Part."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    parts = {}
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition", "")
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        filename = part.get_param("filename", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        ctype = part.get("Content-Type")
        parts[name] = Part(data, filename, ctype if ctype and "filename" in disposition else ctype)
    return parts


class Rule:
    def __init__(self, mode, count=1, endpoint=None, to=None, retry_after=None, delay=0.0, status=None):
        if mode not in ("500", "503", "429", "131047", "400", "131026", "131056", "131047-webhook", "slow", "drop"):
            raise ValueError(f"unknown failure mode {mode!r}")
        self.mode = str(mode)
        self.count = count
        self.endpoint = endpoint
        self.to = to.lstrip("+") if to else None
        self.retry_after = retry_after
        self.delay = float(delay or 0.0)
        self.status = status

    def matches(self, request):
        if self.endpoint is not None and request.endpoint != self.endpoint:
            return False
        # What only a message can be refused for leaves a media upload alone.
        if self.mode in ("131056", "131047-webhook") and request.endpoint != "messages":
            return False
        if self.to is not None:
            to = (request.json or {}).get("to") if isinstance(request.json, dict) else None
            if to is None:
                to = (request.query.get("to") or [None])[-1] or request.form.get("to")
            if not isinstance(to, str) or to.lstrip("+") != self.to:
                return False
        return True

    def headers(self):
        """The headers of the error answer this rule gives, or None."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None


GRAPH_ERRORS = {
    "500": (500, 1, "An unknown error occurred", "OAuthException", None),
    "503": (503, 2, "Service temporarily unavailable", "OAuthException", None),
    "429": (429, 130429, "Rate limit hit", "OAuthException",
            "Cloud API message throughput has been reached."),
    "131047": (400, 131047, "Re-engagement message", "OAuthException",
               "Message failed to send because more than 24 hours have passed since the customer "
               "last replied to this number."),
    "400": (400, 100, "Invalid parameter", "OAuthException", "Invalid parameter"),
    "131026": (400, 131026, "Message undeliverable", "OAuthException",
               "Message undeliverable."),
    "131056": (400, 131056, "(Business Account, Consumer Account) pair rate limit hit", "OAuthException",
               "Message failed to send because there were too many messages sent from this phone number to the "
               "same phone number in a short period of time."),
}


def graph_error(code, title, etype="OAuthException", details=None):
    error = {"message": f"(#{code}) {title}", "type": etype, "code": code,
             "fbtrace_id": "A" + hashlib.sha1(str(time.time()).encode()).hexdigest()[:22]}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client that gave up (a timeout, a killed hub) is part of the
        # tests, not a failure of the fake.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Fake:
    """What both fakes share: a server thread, the record, the rules."""

    kind = "fake"

    def __init__(self, port=0):
        self.lock = threading.Condition()
        self.requests = []
        self.rules = []
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.server = _Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- the test's side --

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.rules.clear()
            self.delay = 0.0

    def fail(self, mode, count=1, endpoint=None, to=None, retry_after=None, delay=0.0, status=None):
        with self.lock:
            self.rules.append(Rule(mode, count, endpoint, to, retry_after, delay, status))

    def clear_failures(self):
        with self.lock:
            self.rules.clear()

    def set_delay(self, seconds):
        with self.lock:
            self.delay = float(seconds)

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                requests = list(self.requests)
                if predicate(requests):
                    return requests
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.kind} fake: condition not met in {timeout} s; "
                                         f"requests: {requests[-20:]}")
                self.lock.wait(min(left, 0.2))

    # -- the server's side --

    def _read(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        url = urllib.parse.urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        return Request(handler.command, url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True),
                       headers, body)

    def _send(self, handler, request, status, reply, extra_headers=None, raw=None, content_type=None):
        data = raw if raw is not None else json.dumps(reply).encode()
        with self.lock:
            request.status = status
            request.reply = reply
            self.lock.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type or "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (extra_headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _take_rule(self, request):
        with self.lock:
            for rule in self.rules:
                if rule.matches(request):
                    if rule.count is not None:
                        rule.count -= 1
                        if rule.count <= 0:
                            self.rules.remove(rule)
                    return rule
        return None

    def _drop_or_delay(self, handler, request, rule):
        """What @rule does to the exchange itself, whichever service this
        is: "drop" closes the connection unanswered (True: nothing more to
        send); "slow" waits before the answer. An error answer is each
        fake's own."""
        if rule.mode == "drop":
            handler.close_connection = True
            with self.lock:
                request.status = 0
                self.lock.notify_all()
            try:
                handler.connection.shutdown(2)
            except OSError:
                pass
            return True
        if rule.mode == "slow":
            time.sleep(rule.delay)
        return False

    def _dispatch(self, handler):
        request = self._read(handler)
        if request.path.startswith("/_fake/"):
            request.endpoint = "control"
            return self._control(handler, request)
        with self.lock:
            self.requests.append(request)
            delay = self.delay
            self.lock.notify_all()
        if delay:
            time.sleep(delay)
        self._serve(handler, request)

    def _control(self, handler, request):
        body = request.json if isinstance(request.json, dict) else {}
        if request.path == "/_fake/requests":
            return self._send(handler, request, 200, [r.to_dict() for r in self.snapshot()])
        if request.path == "/_fake/fail":
            try:
                self.fail(body.get("mode"), body.get("count", 1), body.get("endpoint"), body.get("to"),
                          body.get("retry_after"), body.get("delay", 0.0), body.get("status"))
            except ValueError as error:
                return self._send(handler, request, 400, {"error": str(error)})
            return self._send(handler, request, 200, {"ok": True})
        if request.path == "/_fake/delay":
            self.set_delay(body.get("seconds", 0.0))
            return self._send(handler, request, 200, {"ok": True})
        if request.path == "/_fake/reset":
            self.reset()
            return self._send(handler, request, 200, {"ok": True})
        return self._control_more(handler, request, body)

    def _control_more(self, handler, request, body):
        return self._send(handler, request, 404, {"error": "no such control"})

    def _serve(self, handler, request):
        raise NotImplementedError


class GraphFake(_Fake):
    """Meta's WhatsApp Cloud API, the parts the hub uses."""

    kind = "graph"

    def __init__(self, token=None, port=0, version=GRAPH_VERSION):
        self.token = token
        self.version = version
        self.media = {}
        self.closed_windows = {}  # digits → "answer" or "webhook"
        self.webhook_url = None
        self.app_secret = None
        self.webhooks = []
        self._ids = itertools.count(1)
        super().__init__(port)
        self.url = f"http://127.0.0.1:{self.port}/{version}"

    def close_window(self, to, report="answer"):
        if report not in ("answer", "webhook"):
            raise ValueError(f"unknown report {report!r}")
        with self.lock:
            self.closed_windows[to.lstrip("+")] = report

    def open_window(self, to):
        with self.lock:
            self.closed_windows.pop(to.lstrip("+"), None)

    def set_webhook(self, url, app_secret):
        with self.lock:
            self.webhook_url = url
            self.app_secret = app_secret

    def wait_webhooks(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while len([w for w in self.webhooks if w["status"]]) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"graph fake: {n} webhooks not answered in {timeout} s: {self.webhooks}")
                self.lock.wait(min(left, 0.2))
            return list(self.webhooks)

    def reset(self):
        super().reset()
        with self.lock:
            self.closed_windows.clear()
            self.webhooks.clear()

    def messages(self, requests=None):
        """The JSON bodies of the /messages calls answered 200, in order."""
        return [r.json for r in (requests if requests is not None else self.snapshot())
                if r.endpoint == "messages" and r.status == 200]

    def uploads(self, requests=None):
        """The /media uploads answered 200: (request, media id)."""
        return [(r, r.reply["id"]) for r in (requests if requests is not None else self.snapshot())
                if r.endpoint == "media" and r.status == 200]

    def wait_messages(self, n, timeout=10.0):
        self.wait_for(lambda requests: len(self.messages(requests)) >= n, timeout)
        return self.messages()

    def _control_more(self, handler, request, body):
        if request.path == "/_fake/window":
            if body.get("open"):
                self.open_window(body.get("to", ""))
            else:
                try:
                    self.close_window(body.get("to", ""), body.get("report", "answer"))
                except ValueError as error:
                    return self._send(handler, request, 400, {"error": str(error)})
            return self._send(handler, request, 200, {"ok": True})
        if request.path == "/_fake/webhook":
            self.set_webhook(body.get("url"), body.get("app_secret"))
            return self._send(handler, request, 200, {"ok": True})
        m = re.fullmatch(r"/_fake/media/([^/]+)", request.path)
        if m and m.group(1) in self.media:
            media = self.media[m.group(1)]
            return self._send(handler, request, 200, None, raw=media["data"], content_type=media["type"])
        return self._send(handler, request, 404, {"error": "no such control"})

    def _error(self, handler, request, status, code, title, details=None, headers=None):
        self._send(handler, request, status, graph_error(code, title, details=details), headers)

    def _serve(self, handler, request):
        path = request.path
        m_messages = re.fullmatch(r"/(v\d+\.\d+)/([^/]+)/messages", path)
        m_media = re.fullmatch(r"/(v\d+\.\d+)/([^/]+)/media", path)
        m_media_get = re.fullmatch(r"/(v\d+\.\d+)/([^/]+)", path)
        m_download = re.fullmatch(r"/_media/([^/]+)", path)
        if m_messages and request.method == "POST":
            request.endpoint = "messages"
        elif m_media and request.method == "POST":
            request.endpoint = "media"
        elif m_media_get and request.method == "GET":
            request.endpoint = "media-get"
        elif m_download and request.method == "GET":
            request.endpoint = "media-download"
        else:
            return self._error(handler, request, 400, 100,
                               f"Unsupported {request.method} request. Object does not exist or "
                               "cannot be loaded due to missing permissions")
        if self.token is not None and request.headers.get("authorization") != "Bearer " + self.token:
            return self._error(handler, request, 401, 190, "Invalid OAuth access token - Cannot parse access token")

        rule = self._take_rule(request)
        if rule is None and request.endpoint == "messages" and isinstance(request.json, dict):
            with self.lock:
                closed = self.closed_windows.get(str(request.json.get("to", "")).lstrip("+"))
            if closed and request.json.get("type") != "template":
                rule = Rule("131047" if closed == "answer" else "131047-webhook")
        late_refusal = False
        if rule is not None and rule.mode == "131047-webhook":
            late_refusal, rule = request.endpoint == "messages", None
        if rule is not None:
            if self._drop_or_delay(handler, request, rule):
                return
            if rule.mode != "slow":
                status, code, title, _etype, details = GRAPH_ERRORS[rule.mode]
                return self._error(handler, request, rule.status or status, code, title, details,
                                   rule.headers())

        if request.endpoint == "messages":
            return self._messages(handler, request, m_messages.group(2), late_refusal)
        if request.endpoint == "media":
            return self._media(handler, request)
        if request.endpoint == "media-get":
            media_id = m_media_get.group(2)
            media = self.media.get(media_id)
            if media is None:
                return self._error(handler, request, 400, 100, "Invalid parameter")
            return self._send(handler, request, 200, {
                "messaging_product": "whatsapp", "url": f"{self.base}_media/{media_id}",
                "mime_type": media["type"], "sha256": hashlib.sha256(media["data"]).hexdigest(),
                "file_size": len(media["data"]), "id": media_id})
        media = self.media.get(m_download.group(1))
        if media is None:
            return self._send(handler, request, 404, {"error": "not found"})
        return self._send(handler, request, 200, None, raw=media["data"], content_type=media["type"])

    def _messages(self, handler, request, phone_number_id=None, late_refusal=False):
        body = request.json
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return self._error(handler, request, 400, 100, "Invalid parameter",
                               "The parameter messaging_product is required.")
        to = body.get("to")
        mtype = body.get("type", "text")
        if not isinstance(to, str) or not to:
            return self._error(handler, request, 400, 100, "Invalid parameter", "The parameter to is required.")
        if not isinstance(body.get(mtype), dict):
            return self._error(handler, request, 400, 100, "Invalid parameter",
                               f"The parameter {mtype} is required.")
        if mtype == "text" and not body["text"].get("body"):
            return self._error(handler, request, 400, 100, "Invalid parameter",
                               "The parameter text['body'] is required.")
        if mtype == "image" and not (body["image"].get("id") or body["image"].get("link")):
            return self._error(handler, request, 400, 100, "Invalid parameter",
                               "Either image['id'] or image['link'] is required.")
        if mtype == "template" and not (body["template"].get("name") and
                                        isinstance(body["template"].get("language"), dict)):
            return self._error(handler, request, 400, 100, "Invalid parameter",
                               "The parameters template['name'] and template['language'] are required.")
        n = next(self._ids)
        wamid = "wamid." + base64.b64encode(f"HBgM{to.lstrip('+')}FQIAERgS{n:020d}".encode()).decode()
        message = {"id": wamid}
        if mtype == "template":
            message["message_status"] = "accepted"
        self._send(handler, request, 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": re.sub(r"\D", "", to)}],
            "messages": [message]})
        if late_refusal:
            threading.Thread(target=self._report_failed, daemon=True,
                             args=(phone_number_id, wamid, to, body.get("biz_opaque_callback_data"))).start()

    def deliver_text(self, wa_id, text):
        """A messages webhook, as Meta posts one when @wa_id writes @text to
        the business number. Returns the hub's HTTP status."""
        digits = wa_id.lstrip("+")
        n = next(self._ids)
        message = {"from": digits, "id": f"wamid.inbound{n:020d}", "timestamp": str(int(time.time())),
                   "type": "text", "text": {"body": text}}
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                    "contacts": [{"profile": {"name": "Visitor"}, "wa_id": digits}],
                    "messages": [message]}}]}]}
        return self._post_webhook(body)

    def _post_webhook(self, body):
        """POSTs @body to the hub's webhook, signed with the app secret;
        returns the HTTP status (0: no webhook set, -1: no answer)."""
        with self.lock:
            url, secret = self.webhook_url, self.app_secret
        if url is None or secret is None:
            return 0
        data = json.dumps(body).encode()
        signature = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        request = urllib.request.Request(url, data=data, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "facebookexternalua",
            "X-Hub-Signature-256": signature})
        try:
            with urllib.request.urlopen(request, timeout=20) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return -1

    def _report_failed(self, phone_number_id, wamid, to, opaque, code=131047):
        """A statuses webhook saying message @wamid failed with @code, as Meta
        posts it a moment after taking the message, signed with the app
        secret."""
        time.sleep(0.3)
        _status, _code, title, _etype, details = GRAPH_ERRORS[str(code)]
        report = {"id": wamid, "status": "failed", "timestamp": str(int(time.time())),
                  "recipient_id": to.lstrip("+"),
                  "errors": [{"code": code, "title": title, "message": title,
                              "error_data": {"details": details},
                              "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]}
        if opaque is not None:
            report["biz_opaque_callback_data"] = opaque
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                    "statuses": [report]}}]}]}
        record = {"wamid": wamid, "status": 0, "body": body}
        with self.lock:
            self.webhooks.append(record)
        status = self._post_webhook(body)
        if status == 0:
            return
        with self.lock:
            record["status"] = status
            self.lock.notify_all()

    def report_status(self, wamid, status, to):
        """A statuses webhook saying message @wamid to @to reached @status
        ("delivered", "read"), as Meta posts it; returns the hub's HTTP
        status (0: no webhook set)."""
        report = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                  "recipient_id": to.lstrip("+")}
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                    "statuses": [report]}}]}]}
        return self._post_webhook(body)

    def _media(self, handler, request):
        form = request.form
        missing = [name for name in ("file", "type", "messaging_product") if name not in form]
        if missing:
            return self._error(handler, request, 400, 100, "Invalid parameter",
                               f"The parameter {missing[0]} is required.")
        if form["messaging_product"].text != "whatsapp":
            return self._error(handler, request, 400, 100, "Invalid parameter",
                               "messaging_product must be whatsapp.")
        if not form["file"].data:
            return self._error(handler, request, 400, 100, "Invalid parameter", "The file is empty.")
        media_id = str(1000000000000000 + next(self._ids))
        with self.lock:
            self.media[media_id] = {"data": form["file"].data, "type": form["type"].text,
                                    "filename": form["file"].filename,
                                    "content_type": form["file"].content_type}
        self._send(handler, request, 200, {"id": media_id})


SMS_ERRORS = {
    "500": (500, "internal error"),
    "503": (503, "unavailable"),
    "429": (429, "too many requests"),
    "400": (400, "invalid number"),
    "131047": (400, "invalid request"),
    "131026": (400, "undeliverable"),
    "131056": (429, "too many messages to this number"),
}


class SmsFake(_Fake):
    """A generic HTTP SMS gateway: any path, GET or POST, one message a request."""

    kind = "sms"

    def __init__(self, auth_header=None, port=0):
        if auth_header is not None:
            name, _, value = auth_header.partition(":")
            self.auth = (name.strip().lower(), value.strip())
        else:
            self.auth = None
        self._ids = itertools.count(1)
        super().__init__(port)
        self.url = self.base

    def messages(self, requests=None):
        """The requests answered 200, in order."""
        return [r for r in (requests if requests is not None else self.snapshot()) if r.status == 200]

    def wait_messages(self, n, timeout=10.0):
        self.wait_for(lambda requests: len(self.messages(requests)) >= n, timeout)
        return self.messages()

    def _serve(self, handler, request):
        request.endpoint = "messages"
        if self.auth is not None and request.headers.get(self.auth[0]) != self.auth[1]:
            return self._send(handler, request, 401, {"error": "unauthorized"})
        rule = self._take_rule(request)
        if rule is not None:
            if self._drop_or_delay(handler, request, rule):
                return
            if rule.mode not in SMS_ERRORS and rule.mode != "slow":
                return self._send(handler, request, 400, {"error": f"no such failure for SMS: {rule.mode}"})
            if rule.mode != "slow":
                status, text = SMS_ERRORS[rule.mode]
                return self._send(handler, request, rule.status or status, {"error": text}, rule.headers())
        self._send(handler, request, 200, {"id": f"sms-{next(self._ids)}", "status": "accepted"})


def main(argv):
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="Fake WhatsApp Graph API or SMS gateway")
    parser.add_argument("service", choices=["graph", "sms"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token")
    parser.add_argument("--auth-header")
    args = parser.parse_args(argv)
    if args.service == "graph":
        fake = GraphFake(token=args.token, port=args.port)
    else:
        fake = SmsFake(auth_header=args.auth_header, port=args.port)
    print(f"listening {fake.url}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    fake.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
