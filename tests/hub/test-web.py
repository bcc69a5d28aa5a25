#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-web.py: the hub's public registration pages, between real processes
# on 127.0.0.1 — pravesh-hub on a real SQLite file, pravesh-ctl to make the
# event and check tickets, local stand-ins for WhatsApp and the SMS gateway
# (fake_services.py), and Debian's chromium, headless, driven through the
# DevTools protocol on a pipe. A visitor fills the form in the browser with
# JavaScript on, and again with it off and in Hindi; the QR code is read
# back from the page's SVG and verified by pravesh-ctl; screenshots of a
# 390×844 phone screen are kept under PRAVESH_ARTIFACTS. Plain HTTP
# requests check the rest: both languages, validation messages next to the
# fields (a name too long in bytes for a ticket among them), CSRF, hostile
# bodies and names, rate limits with Retry-After (and a full table of them
# forgetting the quietest, never everyone), forms remembered for a second
# tap up to a bound, new tickets limited per network (/24) and for
# everyone while pages and a form sent again still work (and, by default,
# hundreds at once from one network), finding a ticket
# again by phone and code, wrong codes locking the guesser out (tries
# while locked out unchecked, never making the wait longer; an IPv6
# guesser counted by its /48, in a network namespace of the test's own
# where one can be made) while the owner elsewhere gets in, getting it
# on WhatsApp by writing to the fair's number (nothing sent to a number
# that did not write), phones of countries the fair does not send to refused beside the
# field and no code asked for once the day's budget is spent, a revoked
# ticket shown without its code, only what can arrive offered (no WhatsApp
# link without the bot, no finding again without a channel for the code;
# a code by WhatsApp's template), and no phone number in the hub's log.
# Python's standard library only; nothing is downloaded. Exits 77
# (skipped) after the other tests when chromium is missing.

import base64
import datetime
import fcntl
import html
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_services  # noqa: E402
import hubtest  # noqa: E402
from hubtest import CTL, HUB, START, TODAY  # noqa: E402

CHROMIUM = shutil.which("chromium")
ZBARIMG = shutil.which("zbarimg")

# The event runs from yesterday (in its own zone) for five days, open all
# day: today can still be chosen, yesterday no longer.
TOMORROW = (TODAY + datetime.timedelta(days=1)).isoformat()
YESTERDAY = START
TOKEN = "EAAG-test-token"
PHONE_ID = "106540352242922"
SMS_AUTH = "Authorization: Bearer sms-s3cret"
APP_SECRET = "test-app-secret"
# The fair's WhatsApp number, which ticket pages link a chat with.
FAIR_NUMBER = "919810000000"
VIEWPORT = (390, 844)


class Reply:
    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()
        self.text = self.body.decode("utf-8", errors="replace")

    def header(self, name):
        return self.headers.get(name)

    def field(self, name):
        """The value of the form field @name (an input's value attribute)."""
        match = re.search(r'<input[^>]*\bname="%s"[^>]*\bvalue="([^"]*)"' % re.escape(name), self.text)
        return html.unescape(match.group(1)) if match else None

    def by_id(self, element_id):
        """The text inside the element with @element_id."""
        match = re.search(r'<(\w+)[^>]*\bid="%s"[^>]*>(.*?)</\1>' % re.escape(element_id), self.text, re.S)
        return html.unescape(re.sub(r"<[^>]+>", "", match.group(2))).strip() if match else None

    def tag(self, element_id):
        match = re.search(r'<[^>]*\bid="%s"[^>]*>' % re.escape(element_id), self.text)
        return match.group(0) if match else None


class Visitor:
    """One browser without a browser: its own cookies, its own address."""

    def __init__(self, url, source="127.0.0.1", lang=None):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.source = source
        self.lang = lang
        self.cookies = {}
        self.conn = None

    def request(self, method, path, body=None, headers=None, keep=False):
        headers = dict(headers or {})
        if self.lang and "Accept-Language" not in headers:
            headers["Accept-Language"] = self.lang
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30,
                                                   source_address=(self.source, 0))
        try:
            self.conn.request(method, path, body=body, headers=headers)
            reply = Reply(self.conn.getresponse())
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        for value in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        if not keep or reply.header("Connection") == "close":
            self.conn.close()
            self.conn = None
        return reply

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def post(self, path, fields, **kwargs):
        body = fields if isinstance(fields, bytes) else urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers.update(kwargs.pop("headers", {}))
        return self.request("POST", path, body=body, headers=headers, **kwargs)

    def register(self, **fields):
        """Fills the form as a browser would: GET it, then POST it with its
        token. Returns the answer to the POST."""
        form = self.get("/register")
        values = {"csrf": form.field("csrf"), "name": "Asha Verma", "phone": "98765 43210", "category": "1",
                  "day": TOMORROW, "party": "1"}
        values.update(fields)
        return self.post("/register", values)


def decode_png(data, directory):
    return hubtest.decode_qr(data, os.path.join(directory, f"qr-{secrets.token_hex(4)}.png"))


class DevTools:
    """Chromium, headless, driven with the DevTools protocol over
    --remote-debugging-pipe: JSON messages ending in NUL, read by the
    browser on its fd 3 and answered on its fd 4."""

    def __init__(self, profile, log_path, lang="en-US"):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # A shell puts the pipe ends at fds 3 and 4, then becomes chromium;
        # first they move out of the way of those two.
        to_browser_r, from_browser_w = [self._move_up(fd) for fd in (to_browser_r, from_browser_w)]
        script = f'exec 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-; exec "$0" "$@"'
        args = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            f"--user-data-dir={profile}", f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "--hide-scrollbars",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
            "--disable-client-side-phishing-detection", "--disable-domain-reliability", "--no-pings",
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
            "--mute-audio", f"--lang={lang}",
            # Nothing leaves the machine: every address but loopback goes to
            # a proxy that is not there.
            "--proxy-server=http://127.0.0.1:9", "about:blank",
        ]
        env = dict(os.environ)
        env.pop("ASAN_OPTIONS", None)
        env.pop("UBSAN_OPTIONS", None)
        env.pop("LSAN_OPTIONS", None)
        env["DBUS_SESSION_BUS_ADDRESS"] = "disabled:"
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(["bash", "-c", script] + args, pass_fds=(to_browser_r, from_browser_w),
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.lock = threading.Condition()
        self.replies = {}
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()

    @staticmethod
    def _move_up(fd):
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return high

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self.from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.lock:
                    self.replies[None] = "closed"
                    self.lock.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self.lock:
                    if "id" in message:
                        self.replies[message["id"]] = message
                    else:
                        self.events.append(message)
                    self.lock.notify_all()

    def call(self, method, session=None, timeout=30, **params):
        with self.lock:
            self.next_id += 1
            ident = self.next_id
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self.lock:
            while ident not in self.replies:
                if None in self.replies or not self.lock.wait(max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"chromium did not answer {method}")
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def mark(self):
        with self.lock:
            return len(self.events)

    def wait_event(self, method, session, since, timeout=30):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for event in self.events[since:]:
                    if event.get("method") == method and event.get("sessionId") == session:
                        return event
                if not self.lock.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() > deadline:
                    raise AssertionError(f"no {method} from chromium in {timeout} s")

    def events_of(self, method, session):
        with self.lock:
            return [e for e in self.events if e.get("method") == method and e.get("sessionId") == session]

    def new_page(self, javascript=True, accept_language=None):
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Log.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT[0], height=VIEWPORT[1],
                  deviceScaleFactor=2, mobile=True)
        page.call("Emulation.setTouchEmulationEnabled", enabled=True)
        if accept_language:
            agent = self.call("Browser.getVersion")["userAgent"]
            page.call("Emulation.setUserAgentOverride", userAgent=agent, acceptLanguage=accept_language)
        if not javascript:
            page.call("Emulation.setScriptExecutionDisabled", value=True)
        return page

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except AssertionError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        self.log.close()


class Page:
    """One tab, used as a visitor uses a phone: taps and typing."""

    def __init__(self, tools, session):
        self.tools = tools
        self.session = session

    def call(self, method, **params):
        return self.tools.call(method, session=self.session, **params)

    def _loaded(self, since):
        self.tools.wait_event("Page.loadEventFired", self.session, since)

    def navigate(self, url):
        since = self.tools.mark()
        self.call("Page.navigate", url=url)
        self._loaded(since)

    def node(self, selector):
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise AssertionError(f"no {selector} on the page")
        return node

    def html(self, selector="html"):
        return self.call("DOM.getOuterHTML", nodeId=self.node(selector))["outerHTML"]

    def url(self):
        return self.call("Page.getNavigationHistory")["entries"][-1]["url"]

    def box(self, selector):
        """(x, y, width, height) of the element's border box, page CSS px."""
        node = self.node(selector)
        self.call("DOM.scrollIntoViewIfNeeded", nodeId=node)
        quad = self.call("DOM.getBoxModel", nodeId=node)["model"]["border"]
        xs, ys = quad[0::2], quad[1::2]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)

    def tap(self, selector, navigates=False):
        since = self.tools.mark()
        x, y, width, height = self.box(selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x + width / 2, y=y + height / 2, button="left",
                      clickCount=1)
        if navigates:
            self._loaded(since)

    def type(self, selector, text):
        self.call("DOM.focus", nodeId=self.node(selector))
        self.call("Input.insertText", text=text)

    def key(self, selector, key, code, times=1):
        self.call("DOM.focus", nodeId=self.node(selector))
        for _ in range(times):
            for kind in ("keyDown", "keyUp"):
                self.call("Input.dispatchKeyEvent", type=kind, key=key, code=code, windowsVirtualKeyCode=40,
                          nativeVirtualKeyCode=40)

    def screenshot(self, path=None, clip=None):
        params = {"format": "png"}
        if clip:
            x, y, width, height = clip
            params.update(clip={"x": x, "y": y, "width": width, "height": height, "scale": 1},
                          captureBeyondViewport=True)
        else:
            self.call("Page.bringToFront")
        data = base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
        if path:
            with open(path, "wb") as out:
                out.write(data)
        return data

    def full_screenshot(self, path):
        """The whole page, as long as it is, at the phone's width."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        self.screenshot(path, clip=(0, 0, VIEWPORT[0], size["height"]))

    def scroll_to_top(self):
        self.call("Input.dispatchMouseEvent", type="mouseWheel", x=10, y=10, deltaX=0, deltaY=-100000)

    def scripting(self):
        """Whether the page runs scripts: the HTML parser reads a <noscript>
        as markup only when they are off."""
        probe = ("(() => { const d = document.createElement('div'); d.innerHTML = '<noscript><i></i></noscript>';"
                 " return d.querySelector('i') === null; })()")
        return self.call("Runtime.evaluate", expression=probe)["result"]["value"]

    def csp_errors(self):
        return [e["params"]["entry"]["text"] for e in self.tools.events_of("Log.entryAdded", self.session)
                if "Content Security Policy" in e["params"]["entry"].get("text", "")]


class WebTestCase(unittest.TestCase):
    """A hub of its own for each class: the limits count per hub."""

    # Opened explicitly: without it the hub offers no category.
    web_settings = {"categories": "One-day;Season pass;School group"}
    # Changes to the other groups: {"group": None} drops the group,
    # {"group": {"key": None}} the key.
    hub_settings = {}
    # Where the hub listens.
    listen = "127.0.0.1:0"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pravesh-web-test-")
        cls.artifacts = os.environ.get("PRAVESH_ARTIFACTS") or cls.dir
        os.makedirs(cls.artifacts, exist_ok=True)
        cls.graph = fake_services.GraphFake(token=TOKEN)
        cls.sms = fake_services.SmsFake(auth_header=SMS_AUTH)
        cls.hub_db = os.path.join(cls.dir, "hub.db")
        hubtest.make_event(cls.hub_db, cls.dir, "Delhi Book Fair", "--venue", "Pragati Maidan, Halls 2 & 3",
                           "--gates", "Gate 1,Gate 2", days=5)
        cls.hub = cls.start_hub()

    @classmethod
    def tearDownClass(cls):
        # Stopped, not killed: it must end cleanly (under the sanitizers,
        # with no leak).
        try:
            cls.hub.stop_cleanly()
        finally:
            cls.graph.stop()
            cls.sms.stop()
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def start_hub(cls, web=None, env=None):
        settings = {
            "whatsapp": {"graph-url": cls.graph.url, "phone-number-id": PHONE_ID, "access-token": TOKEN,
                         "app-secret": APP_SECRET, "verify-token": "test-verify-token",
                         "ticket-template": "pravesh_ticket"},
            "sms": {"url-template": cls.sms.url + "send?to={to}&text={text}", "auth-header": SMS_AUTH},
            "outbox": {"poll-seconds": "1"},
            "web": {"whatsapp-number": "+" + FAIR_NUMBER, **cls.web_settings, **(web or {})},
        }
        for group, keys in cls.hub_settings.items():
            if keys is None:
                settings.pop(group, None)
                continue
            for key, value in keys.items():
                if value is None:
                    settings.setdefault(group, {}).pop(key, None)
                else:
                    settings.setdefault(group, {})[key] = value
        config = hubtest.write_config(os.path.join(cls.dir, "hub.conf"), settings)
        return hubtest.start_hub(cls.hub_db, config, os.path.join(cls.dir, "hub.log"), env=env, listen=cls.listen)

    @classmethod
    def ctl(cls, *args, rc=0):
        return hubtest.ctl(*args, db=cls.hub_db, cwd=cls.dir, rc=rc)

    def visitor(self, **kwargs):
        return Visitor(self.hub.url, **kwargs)

    def tickets(self):
        return hubtest.query(self.hub_db, "SELECT count(*) FROM people")[0][0]

    def view(self, visitor, reply):
        self.assertEqual(reply.status, 303, reply.text)
        location = reply.header("Location")
        self.assertTrue(location.startswith("/ticket/view?t="), location)
        return visitor.get(location)

    def code_in(self, page):
        """The ticket code in a ticket page: its PNG, decoded."""
        href = html.unescape(re.search(r'href="(/ticket\.png\?t=[^"]+)"', page.text).group(1))
        png = self.visitor().get(href)
        self.assertEqual(png.status, 200)
        self.assertEqual(png.header("Content-Type"), "image/png")
        self.assertIn("attachment", png.header("Content-Disposition"))
        return decode_png(png.body, self.dir)

    def verify(self, code):
        verdict = json.loads(self.ctl("verify", code).stdout)
        self.assertEqual(verdict["verdict"], "VALID", verdict)
        return verdict

    def outbox_rows(self):
        return hubtest.query(self.hub_db, "SELECT count(*) FROM outbox")[0][0]

    def ask_code(self, visitor, phone):
        """Asks for a code to @phone as the form does; the answer."""
        form = visitor.get("/ticket")
        return visitor.post("/ticket", {"csrf": form.field("csrf"), "step": "code", "phone": phone})

    def sms_code(self, phone, count):
        """The code in the @count-th SMS the gateway has taken, which went to @phone."""
        sms = self.sms.wait_messages(count, timeout=20)[count - 1]
        self.assertEqual(sms.query["to"][0], phone)
        return re.search(r"\b(\d{6})\b", sms.query["text"][0]).group(1)

    def guess(self, visitor, phone, code):
        """Types @code for @phone, with a form's token of @visitor's own."""
        form = visitor.get("/ticket")
        return visitor.post("/ticket", {"csrf": form.field("csrf"), "step": "verify", "phone": phone, "code": code})


class TestPages(WebTestCase):
    # Many forms from one address here; the limits are TestHostile's.
    web_settings = {"categories": "One-day;Season pass;School group", "posts-burst": "1000"}

    def test_event_page_in_both_languages(self):
        visitor = self.visitor()
        page = visitor.get("/")
        self.assertEqual(page.status, 200)
        self.assertIn('<html lang="en">', page.text)
        self.assertIn("<h1>Delhi Book Fair</h1>", page.text)
        self.assertIn("Pragati Maidan, Halls 2 &amp; 3", page.text)
        self.assertIn("00:00 to 23:59, every day", page.text)
        for name in ("One-day", "Season pass", "School group"):
            self.assertIn(f"<h3>{name}</h3>", page.text)
        # Not opened to the public: the exhibitors' pass is not offered.
        self.assertNotIn("<h3>Exhibitor</h3>", page.text)
        self.assertIn("Admits a group of up to 200 with one scan", page.text)
        self.assertIn('href="/register"', page.text)
        # What every page sends.
        self.assertIn("default-src 'none'", page.header("Content-Security-Policy"))
        self.assertIn("frame-ancestors 'none'", page.header("Content-Security-Policy"))
        self.assertEqual(page.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(page.header("Referrer-Policy"), "no-referrer")
        self.assertRegex(page.header("Set-Cookie"), r"^pv_form=[A-Za-z0-9_-]{22}; Path=/; HttpOnly; SameSite=Strict$")
        self.assertNotIn("<script", page.text)
        css = visitor.get("/static/style.css")
        self.assertEqual((css.status, css.header("Content-Type")), (200, "text/css; charset=utf-8"))
        self.assertNotIn("url(", css.text)  # no font or image from anywhere

        # Hindi by the browser's wish, English by the switch, which sticks.
        hindi = self.visitor(lang="hi-IN,hi;q=0.9,en;q=0.5")
        page = hindi.get("/")
        self.assertIn('<html lang="hi">', page.text)
        self.assertIn("मेले के हर दिन", page.text)
        self.assertIn("<h3>स्कूल समूह</h3>", page.text)
        self.assertIn('href="/?lang=en" lang="en" hreflang="en">English</a>', page.text)
        page = hindi.get("/?lang=en")
        self.assertIn('<html lang="en">', page.text)
        self.assertIn("pv_lang=en", page.header("Set-Cookie"))
        self.assertIn('<html lang="en">', hindi.get("/register").text)
        self.assertIn('<html lang="hi">', self.visitor(lang="en;q=0.2, hi").get("/").text)
        self.assertIn('<html lang="en">', self.visitor(lang="fr, de;q=0.5").get("/").text)

    def test_register_and_see_the_ticket(self):
        visitor = self.visitor()
        before = self.tickets()
        reply = visitor.register(name="Asha Verma", phone="98765 43210", category="1", day=TOMORROW)
        # The code is never in a URL.
        self.assertNotIn("PV1", reply.header("Location"))
        page = self.view(visitor, reply)
        self.assertEqual(page.status, 200)
        self.assertEqual(self.tickets(), before + 1)
        self.assertIn("<h1>Your ticket</h1>", page.text)
        self.assertRegex(page.text, r'<figure class="qr" role="img" aria-label="QR code of ticket \d+-\d{6}">'
                                    r'<svg aria-hidden="true"')
        self.assertIn('<dd class="ticket-category">One-day</dd>', page.text)
        self.assertIn('<dd class="ticket-name">Asha Verma</dd>', page.text)
        self.assertIn(f'href="https://wa.me/{FAIR_NUMBER}?text=ticket"', page.text)
        self.assertIn("Get it on WhatsApp", page.text)
        self.assertEqual(page.header("Cache-Control"), "no-store")
        code = self.code_in(page)
        self.assertTrue(code.startswith("PV1:"), code)
        verdict = self.verify(code)
        self.assertEqual((verdict["category"], verdict["valid_day"], verdict["party"]), ("One-day", TOMORROW, 1))
        # Issued by the hub for the web, the visitor's name and phone kept.
        shown = json.loads(self.ctl("ticket", "show", verdict["serial"], "--json").stdout)
        self.assertEqual((shown["channel"], shown["name"], shown["phone"]), ("web", "Asha Verma", "+919876543210"))

        # A link another way: forged, cut short, or for another ticket.
        token = reply.header("Location").split("t=", 1)[1]
        forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        for bad in (forged, token[:20], "", "../../hub.db", "%FF%FE"):
            for path in ("/ticket/view?t=", "/ticket.png?t="):
                answer = visitor.get(path + bad)
                self.assertEqual(answer.status, 404, path + bad)
                self.assertIn("This link has expired", answer.text)

    def test_the_same_form_sent_twice_is_one_ticket(self):
        visitor = self.visitor()
        before = self.tickets()
        form = visitor.get("/register")
        fields = {"csrf": form.field("csrf"), "name": "Double Tap", "phone": "9822200001", "category": "2",
                  "party": "1"}
        # Twice at once (a second tap while the first is on its way), then
        # once more later: one ticket, the same for all three.
        replies = []
        tabs = [self.visitor() for _ in range(2)]
        for tab in tabs:
            tab.cookies = dict(visitor.cookies)
        threads = [threading.Thread(target=lambda tab=tab: replies.append(tab.post("/register", fields)))
                   for tab in tabs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        replies.append(visitor.post("/register", fields))
        serials = {re.search(r'<dd class="ticket-serial">([^<]+)<', self.view(visitor, reply).text).group(1)
                   for reply in replies}
        self.assertEqual(len(serials), 1, serials)
        self.assertEqual(self.tickets(), before + 1)
        # The same form with another name is another ticket.
        self.assertEqual(visitor.post("/register", dict(fields, name="Double Tap Two")).status, 303)
        self.assertEqual(self.tickets(), before + 2)

    def test_a_season_pass_takes_no_day_and_a_group_its_size(self):
        visitor = self.visitor()
        page = self.view(visitor, visitor.register(category="2", day=TOMORROW, phone="9811111111"))
        verdict = self.verify(self.code_in(page))
        self.assertEqual((verdict["category"], verdict["valid_day"]), ("Season pass", None))
        self.assertIn("Every day of the fair", page.text)
        page = self.view(visitor, visitor.register(category="3", party="40", day=TODAY.isoformat(),
                                                   phone="9811111112", name="Class 7B, St. Mary’s"))
        verdict = self.verify(self.code_in(page))
        self.assertEqual((verdict["category"], verdict["party"], verdict["valid_day"]),
                         ("School group", 40, TODAY.isoformat()))

    def test_messages_next_to_the_fields(self):
        visitor = self.visitor()
        before = self.tickets()
        form = visitor.get("/register")
        reply = visitor.post("/register", {"csrf": form.field("csrf"), "name": "  ", "phone": "12", "category": "1",
                                           "day": YESTERDAY, "party": "2"})
        self.assertEqual(reply.status, 422)
        self.assertIn("<title>Error: Register · Delhi Book Fair</title>", reply.text)
        self.assertEqual(reply.by_id("name-error"), "Enter your name.")
        self.assertIn("Enter a mobile number like 98765 43210", reply.by_id("phone-error"))
        self.assertEqual(reply.by_id("day-error"), "Choose one of the days in the list.")
        # A personal ticket admits one, whatever the hidden field says.
        self.assertEqual(reply.by_id("party-error"), "")
        self.assertEqual(reply.by_id("category-error"), "")
        self.assertIn('aria-invalid="true" aria-describedby="name-hint name-error"', reply.tag("name"))
        self.assertIn('aria-invalid="true"', reply.tag("day"))
        # The summary leads to each field; what was typed stays.
        self.assertIn('<a href="#phone">', reply.text)
        self.assertEqual(reply.field("phone"), "12")
        self.assertIn(f'<option value="{TOMORROW}" >', reply.text)
        self.assertNotIn(f'value="{YESTERDAY}"', reply.text)
        self.assertIn('value="1" data-day="yes" data-party="one" aria-describedby="category-1-allows" checked>',
                      reply.text)

        cases = [
            ({"name": "x" * 67}, "name-error", "Use at most 66 letters for the name."),
            ({"name": "Asha\u202eevil"}, "name-error", "The name has characters that cannot be used."),
            ({"name": "Asha\x07"}, "name-error", "The name has characters that cannot be used."),
            ({"phone": ""}, "phone-error", "Enter your mobile number."),
            ({"phone": "98765 43210; DROP TABLE"}, "phone-error", None),
            ({"phone": "9" * 40}, "phone-error", None),
            ({"category": "99"}, "category-error", "Choose a ticket."),
            ({"category": "x"}, "category-error", "Choose a ticket."),
            ({"day": ""}, "day-error", "Choose the day of your visit."),
            ({"day": "2031-01-01"}, "day-error", "Choose one of the days in the list."),
            ({"category": "3", "party": "201"}, "party-error", "Enter a number from 1 to 200 for this ticket."),
            ({"category": "3", "party": "0"}, "party-error", None),
            ({"category": "3", "party": "-1"}, "party-error", None),
            ({"category": "3", "party": "1e3"}, "party-error", None),
            ({"category": "3", "party": ""}, "party-error", None),
        ]
        for fields, where, message in cases:
            reply = visitor.register(**fields)
            self.assertEqual(reply.status, 422, fields)
            self.assertTrue(reply.by_id(where), (fields, where))
            if message:
                self.assertEqual(reply.by_id(where), message, fields)
        # A Hindi visitor reads them in Hindi.
        hindi = self.visitor(lang="hi")
        reply = hindi.register(name="")
        self.assertEqual(reply.by_id("name-error"), "अपना नाम लिखें।")
        self.assertIn("<title>त्रुटि: पंजीकरण", reply.text)
        self.assertEqual(self.tickets(), before)

    def test_a_long_name_is_told_at_the_form(self):
        # More letters than a ticket keeps in any script (66), or few
        # letters of more bytes than it keeps (emoji take 4): told beside
        # the field, in the visitor's language, and neither a ticket nor
        # the phone's allowance spent.
        before = self.tickets()
        visitor = self.visitor()
        for name in ("क" * 67, "क्षत्रिय" * 10, "A" * 67):
            reply = visitor.register(name=name, phone="98444 00001")
            self.assertEqual(reply.status, 422, name)
            self.assertEqual(reply.by_id("name-error"), "Use at most 66 letters for the name.")
        reply = visitor.register(name="😀" * 51, phone="98444 00001")
        self.assertEqual(reply.status, 422)
        self.assertEqual(reply.by_id("name-error"),
                         "The name is too long to keep on a ticket. Please write a shorter form of it.")
        reply = self.visitor(lang="hi").register(name="क" * 70, phone="98444 00001")
        self.assertEqual(reply.status, 422)
        self.assertEqual(reply.by_id("name-error"), "नाम में अधिकतम 66 अक्षर हों।")
        self.assertEqual(self.tickets(), before)
        # The longest that fits (66 letters, 198 bytes) is a ticket, and so
        # are the phone's nine others of the hour.
        page = self.view(visitor, visitor.register(name="क" * 66, phone="98444 00001"))
        self.assertIn('<dd class="ticket-name">' + "क" * 66 + "</dd>", page.text)
        for i in range(9):
            self.assertEqual(visitor.register(name=f"Family {i}", phone="98444 00001").status, 303, i)
        self.assertEqual(self.tickets(), before + 10)

    def test_a_revoked_ticket_shows_no_code(self):
        visitor = self.visitor()
        reply = visitor.register(name="Cancelled Visitor", phone="98555 00001")
        page = self.view(visitor, reply)
        serial = re.search(r'<dd class="ticket-serial">([^<]+)<', page.text).group(1)
        png = html.unescape(re.search(r'href="(/ticket\.png\?t=[^"]+)"', page.text).group(1))
        self.assertEqual(visitor.get(png).status, 200)
        self.ctl("ticket", "revoke", serial, "--reason", "Registered twice")
        page = visitor.get(reply.header("Location"))
        self.assertEqual(page.status, 200)
        self.assertIn("This ticket was cancelled and will not open the gate.", page.text)
        self.assertIn(f'<dd class="ticket-serial">{serial}</dd>', page.text)
        for gone in ("<svg", 'class="qr"', "/ticket.png", "Download the QR code", "Get it on WhatsApp", "wa.me"):
            self.assertNotIn(gone, page.text)
        # The link to the PNG, kept from before, gives no code either.
        answer = visitor.get(png)
        self.assertEqual(answer.status, 410)
        self.assertIn("Ticket cancelled", answer.text)
        self.assertNotEqual(answer.header("Content-Type"), "image/png")
        hindi = self.visitor(lang="hi").get(reply.header("Location"))
        self.assertIn("यह टिकट रद्द कर दिया गया है", hindi.text)
        self.assertNotIn("<svg", hindi.text)

    def test_finding_a_ticket_again(self):
        visitor = self.visitor()
        page = self.view(visitor, visitor.register(phone="+91 99999 00001", name="Ravi <b>Kumar</b>"))
        code = self.code_in(page)
        self.sms.reset()

        lookup = self.visitor()
        form = lookup.get("/ticket")
        self.assertEqual(form.status, 200)
        asked = lookup.post("/ticket", {"csrf": form.field("csrf"), "step": "code", "phone": "9999900001"})
        self.assertEqual(asked.status, 200, asked.text)
        self.assertIn("If tickets were registered with +919999900001", asked.text)
        [sms] = self.sms.wait_messages(1, timeout=20)
        self.assertEqual(sms.query["to"][0], "+919999900001")
        sent = re.search(r"\b(\d{6})\b", sms.query["text"][0]).group(1)
        self.assertIn("Delhi Book Fair: your code to see your tickets is", sms.query["text"][0])

        # A wrong code, then the right one: the tickets, names escaped.
        wrong = "000000" if sent != "000000" else "111111"
        reply = lookup.post("/ticket", {"csrf": asked.field("csrf"), "step": "verify", "phone": "+919999900001",
                                        "code": wrong})
        self.assertEqual(reply.status, 422)
        self.assertEqual(reply.by_id("code-error"), "That code is wrong or has expired.")
        reply = lookup.post("/ticket", {"csrf": reply.field("csrf"), "step": "verify", "phone": "+919999900001",
                                        "code": sent})
        self.assertEqual(reply.status, 200, reply.text)
        self.assertIn('<dd class="ticket-name">Ravi &lt;b&gt;Kumar&lt;/b&gt;</dd>', reply.text)
        self.assertEqual(self.code_in(reply), code)
        # Spent.
        again = lookup.post("/ticket", {"csrf": reply.field("csrf") or asked.field("csrf"), "step": "verify",
                                        "phone": "+919999900001", "code": sent})
        self.assertEqual(again.status, 422)

        # A number with no tickets: the same answer, no message.
        stranger = self.visitor()
        form = stranger.get("/ticket")
        answer = stranger.post("/ticket", {"csrf": form.field("csrf"), "step": "code", "phone": "9999900002"})
        self.assertEqual(answer.status, 200)
        self.assertEqual(re.sub(r'value="[^"]*"', "", answer.text.replace("9999900002", "9999900001")),
                         re.sub(r'value="[^"]*"', "", asked.text))
        time.sleep(1.5)
        self.assertEqual(len(self.sms.messages()), 1)

    def test_get_it_on_whatsapp(self):
        # The page sends nothing to the number the form named, which anyone
        # could have typed: it links a chat with the fair's number, "ticket"
        # typed in, and the bot answers the phone that writes it.
        visitor = self.visitor()
        page = self.view(visitor, visitor.register(phone="9888800001"))
        code = self.code_in(page)
        self.graph.reset()
        rows = self.outbox_rows()
        self.assertIn(f'<a class="button secondary" href="https://wa.me/{FAIR_NUMBER}?text=ticket"', page.text)
        self.assertNotIn('action="/ticket/send"', page.text)
        token = re.search(r"/ticket\.png\?t=([^\"&]+)", page.text).group(1)
        hindi = self.visitor(lang="hi").get("/ticket/view?t=" + token)
        self.assertIn(f'href="https://wa.me/{FAIR_NUMBER}?text=%E0%A4%9F%E0%A4%BF%E0%A4%95%E0%A4%9F"', hindi.text)
        self.assertIn("WhatsApp पर पाएँ", hindi.text)
        # The old way in is gone, and nothing was queued by looking.
        csrf = visitor.get("/register").field("csrf")
        self.assertEqual(visitor.post("/ticket/send", {"csrf": csrf, "t": token}).status, 404)
        self.assertEqual(self.outbox_rows(), rows)

        # The visitor writes from the phone the ticket was issued to: the
        # ticket comes back, as an image that decodes to its code.
        self.graph.set_webhook(self.hub.url + "webhooks/whatsapp", APP_SECRET)
        self.assertEqual(self.graph.deliver_text("919888800001", "ticket"), 200)
        [sent] = self.graph.wait_messages(1, timeout=20)
        self.assertEqual((sent["type"], sent["to"]), ("image", "919888800001"))
        [(upload, _)] = self.graph.uploads()
        self.assertEqual(decode_png(upload.form["file"].data, self.dir), code)
        # Another number writing the same word gets no one's ticket.
        self.assertEqual(self.graph.deliver_text("919888800002", "टिकट"), 200)
        self.graph.wait_messages(2, timeout=20)
        other = [m for m in self.graph.messages() if m["to"] == "919888800002"]
        self.assertEqual([m["type"] for m in other], ["text"])
        self.assertIn("no ticket", other[0]["text"]["body"])
        self.assertEqual(len(self.graph.uploads()), 1)


class TestHostile(WebTestCase):
    def test_csrf(self):
        before = self.tickets()
        fields = {"name": "Mallory", "phone": "9800000666", "category": "1", "day": TOMORROW, "party": "1"}
        # No cookie (a post from another site, or a form the hub never gave).
        token = self.visitor().get("/register").field("csrf")
        for extra in ({}, {"csrf": token}):
            reply = self.visitor().post("/register", dict(fields, **extra))
            self.assertEqual(reply.status, 403)
            self.assertIn("The form has expired", reply.text)
        # A cookie, but the token missing, forged, cut, or made for another cookie.
        visitor = self.visitor()
        mine = visitor.get("/register").field("csrf")
        forged = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        for bad in ({}, {"csrf": ""}, {"csrf": forged}, {"csrf": mine[:-3]}, {"csrf": mine + "A"},
                    {"csrf": token}):
            reply = visitor.post("/register", dict(fields, **bad))
            self.assertEqual(reply.status, 403, bad)
        self.assertEqual(self.tickets(), before)
        # And the genuine one works.
        self.assertEqual(visitor.post("/register", dict(fields, csrf=mine)).status, 303)

    def test_hostile_requests(self):
        visitor = self.visitor()
        token = visitor.get("/register").field("csrf")
        before = self.tickets()
        good = urllib.parse.urlencode({"csrf": token, "name": "A", "phone": "9800000001", "category": "1",
                                       "day": TOMORROW, "party": "1"}).encode()
        # Too big, said or unsaid: refused from the headers.
        big = visitor.post("/register", good + b"&x=" + b"a" * 100000)
        self.assertEqual(big.status, 413)
        conn = http.client.HTTPConnection("127.0.0.1", self.hub.port, timeout=30)
        conn.putrequest("POST", "/register")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"10\r\n" + b"a" * 16 + b"\r\n")
        self.assertEqual(conn.getresponse().status, 413)
        conn.close()
        # Bodies that are not a form of UTF-8 text. A NUL escaped as %00
        # would cut the value ("A%00B" read as "A"), a broken escape drop
        # the field: refused whole, wherever a form is read.
        for body, headers in ((good + b"&name=%FF%FE", {}), (good.replace(b"name=A", b"name=A\0B"), {}),
                              (good.replace(b"name=A", b"name=A%00B"), {}),
                              (good.replace(b"name=A", b"name=Asha%00Verma"), {}),
                              (good.replace(b"phone=", b"phone=%00"), {}),
                              (good.replace(b"name=A", b"name%00x=A"), {}),
                              (good.replace(b"name=A", b"name=A%ZZ"), {}),
                              (good.replace(b"name=A", b"name=A%2"), {}),
                              (b'{"name": "A"}', {"Content-Type": "application/json"}),
                              (good, {"Content-Type": "multipart/form-data; boundary=x"})):
            reply = visitor.post("/register", body, headers=headers)
            self.assertEqual(reply.status, 400, body[:60])
            self.assertIn("The form could not be read", reply.text)
        token = visitor.get("/ticket").field("csrf")
        for fields in (b"step=code&phone=98765%0043210", b"step=verify&phone=9876543210&code=123%00456",
                       b"step=code%00&phone=9876543210"):
            reply = visitor.post("/ticket", b"csrf=" + token.encode() + b"&" + fields)
            self.assertEqual(reply.status, 400, fields)
            self.assertIn("The form could not be read", reply.text)
        hindi = self.visitor(lang="hi")
        reply = hindi.post("/register", urllib.parse.urlencode({"csrf": hindi.get("/register").field("csrf")}).encode()
                           + b"&name=A%00B")
        self.assertEqual(reply.status, 400)
        self.assertIn("फ़ॉर्म पढ़ा नहीं जा सका", reply.text)
        # An escaped percent sign is text like any other.
        reply = visitor.post("/register", good.replace(b"name=A", b"name=100%25%20Asha"))
        self.assertEqual(reply.status, 303)
        self.assertIn('<dd class="ticket-name">100% Asha</dd>', self.view(visitor, reply).text)
        self.assertEqual(self.tickets(), before + 1)
        before += 1
        # Paths and methods nobody serves.
        for path in ("/nothing", "/register/x", "/static/../hub.db", "/static/nothing.css", "/ticket.png/x",
                     "/%00", "/index.html"):
            reply = visitor.get(path)
            self.assertIn(reply.status, (400, 404), path)
            if reply.status == 404:
                self.assertIn("Page not found", reply.text)
        reply = visitor.get("/api/v1/nothing")
        self.assertEqual((reply.status, json.loads(reply.text)["error"]), (404, "There is no such endpoint"))
        reply = visitor.request("PUT", "/register", body=b"", headers={"Content-Length": "0"})
        self.assertEqual((reply.status, reply.header("Allow")), (405, "GET, HEAD, POST"))
        self.assertEqual(visitor.request("POST", "/", body=b"", headers={"Content-Length": "0"}).status, 405)
        # A body where none belongs.
        self.assertEqual(visitor.post("/ticket.png", b"x" * 10).status, 413)
        # Headers with rubbish: ignored.
        reply = visitor.get("/?lang=%0d%0aSet-Cookie:%20x=1", headers={"Accept-Language": "\x7f;q=abc,,;;"})
        self.assertEqual(reply.status, 200)
        self.assertNotIn("x=1", str(reply.headers))
        reply = visitor.get("/", headers={"Cookie": "pv_lang=<script>; pv_form=" + "A" * 5000})
        self.assertEqual(reply.status, 200)
        self.assertIn('<html lang="en">', reply.text)
        self.assertEqual(self.tickets(), before)

    def test_script_in_the_name_is_text_everywhere(self):
        names = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "=HYPERLINK(\"http://x\",\"y\")",
                 "Ravi' OR '1'='1"]
        visitor = self.visitor()
        for i, name in enumerate(names):
            page = self.view(visitor, visitor.register(name=name, phone=f"97000000{i:02d}"))
            self.assertIn(f'<dd class="ticket-name">{html.escape(name, quote=True).replace("&#x27;", "&#39;")}</dd>',
                          page.text)
            self.assertNotIn(name, page.text)
        # The control room's CSV: text, and no formula.
        csv = self.ctl("export", "tickets").stdout
        self.assertIn('<script>alert(""x"")</script>', csv)
        self.assertIn("'=HYPERLINK", csv)

    def test_rate_limit_per_address(self):
        # 1,000 requests from one address on one connection: refused after
        # the burst, with when to come back.
        flood = Visitor(self.hub.url, source="127.0.0.9")
        statuses, first_refused = [], None
        started = time.monotonic()
        for i in range(1000):
            reply = flood.get("/", keep=True)
            statuses.append(reply.status)
            if reply.status == 429 and first_refused is None:
                first_refused, refused_after = reply, time.monotonic() - started
        elapsed = time.monotonic() - started
        flood.close()
        self.assertEqual(set(statuses), {200, 429})
        # The burst of 200, and what 600 a minute gave back while it was
        # spent: however long a busy machine took over it.
        self.assertGreaterEqual(statuses.index(429), 200)
        self.assertLessEqual(statuses.index(429), 200 + int(refused_after * 10) + 2)
        self.assertLessEqual(statuses.count(200), 200 + int(elapsed * 10) + 2)
        retry = int(first_refused.header("Retry-After"))
        self.assertTrue(1 <= retry <= 2, retry)
        self.assertIn("Too many tries", first_refused.text)
        self.assertRegex(first_refused.text, r"Please wait \d+ seconds and try again, after \d\d:\d\d\.")
        # Everyone else is served.
        self.assertEqual(self.visitor().get("/").status, 200)
        self.assertEqual(Visitor(self.hub.url, source="127.0.0.10").get("/register").status, 200)

    def test_rate_limit_per_phone(self):
        before = self.tickets()
        for i in range(10):
            visitor = Visitor(self.hub.url, source=f"127.0.1.{i + 1}")
            self.assertEqual(visitor.register(phone="98000 12345", name=f"Family {i}").status, 303)
        reply = Visitor(self.hub.url, source="127.0.1.99", lang="hi").register(phone="+919800012345")
        self.assertEqual(reply.status, 429)
        self.assertTrue(300 <= int(reply.header("Retry-After")) <= 360, reply.header("Retry-After"))
        self.assertRegex(reply.text, r"कृपया [56] मिनट रुकें")
        self.assertEqual(self.tickets(), before + 10)
        # Another phone from the same address is fine.
        self.assertEqual(Visitor(self.hub.url, source="127.0.1.99").register(phone="9800012346").status, 303)

    def test_no_phone_number_in_the_log(self):
        hub = self.start_hub(env=dict(os.environ, G_MESSAGES_DEBUG="all"))
        try:
            visitor = Visitor(hub.url, source="127.0.2.1")
            page = self.view(visitor, visitor.register(phone="91234 56789", name="Log Watcher"))
            form = visitor.get("/ticket")
            visitor.post("/ticket", {"csrf": form.field("csrf"), "step": "code", "phone": "9123456789"})
            self.guess(visitor, "9123456789", "000000")
            self.assertIn("wa.me", page.text)
            self.graph.set_webhook(hub.url + "webhooks/whatsapp", APP_SECRET)
            self.assertEqual(self.graph.deliver_text("919123456789", "ticket"), 200)
            self.graph.wait_for(lambda requests: any(m["to"] == "919123456789" for m in self.graph.messages(requests)),
                                20)
            time.sleep(1.5)
        finally:
            hub.stop_cleanly()
        text = hubtest.read_log(os.path.join(self.dir, "hub.log")) + "".join(hub.lines)
        self.assertIn("Web registration: ticket", text)
        for needle in ("9123456789", "91234 56789", "Log Watcher", "56789"):
            self.assertNotIn(needle, text)


class TestLimitTable(WebTestCase):
    # A table of four addresses, three requests each, a token a minute.
    web_settings = {"categories": "One-day", "requests-burst": "3", "requests-per-minute": "1", "limit-entries": "4"}

    def test_a_flood_of_addresses_resets_nobody_busy(self):
        busy = Visitor(self.hub.url, source="127.0.5.1")
        quiet = Visitor(self.hub.url, source="127.0.5.2")
        self.assertEqual([busy.get("/").status for _ in range(4)], [200, 200, 200, 429])
        self.assertEqual([quiet.get("/").status for _ in range(4)], [200, 200, 200, 429])
        # Many new addresses, the busy one asking again between them: the
        # table is full over and over, and the busy one stays counted.
        for i in range(12):
            self.assertEqual(Visitor(self.hub.url, source=f"127.0.5.{10 + i}").get("/").status, 200, i)
            self.assertEqual(busy.get("/").status, 429, i)
        # The one that went quiet was forgotten first: it starts afresh.
        self.assertEqual(quiet.get("/").status, 200)
        self.assertEqual(busy.get("/").status, 429)


class TestRememberedForms(WebTestCase):
    web_settings = {"categories": "One-day;Season pass;School group", "remembered-forms": "3",
                    "posts-burst": "1000"}

    def test_the_oldest_forms_are_forgotten(self):
        visitor = self.visitor()
        csrf = visitor.get("/register").field("csrf")

        def send(i):
            reply = visitor.post("/register", {"csrf": csrf, "name": f"Form {i}", "phone": f"98333000{i:02d}",
                                               "category": "2", "party": "1"})
            return re.search(r'<dd class="ticket-serial">([^<]+)<', self.view(visitor, reply).text).group(1)

        first = [send(i) for i in range(5)]
        self.assertEqual(len(set(first)), 5)
        before = self.tickets()
        # The newest three are remembered: sent again, the same ticket.
        for i in (4, 3, 2):
            self.assertEqual(send(i), first[i], i)
        self.assertEqual(self.tickets(), before)
        # The oldest are not: sent again, each is another ticket.
        self.assertNotEqual(send(0), first[0])
        self.assertEqual(self.tickets(), before + 1)


class TestTicketLimits(WebTestCase):
    """New tickets per network and for everyone: three a /24 at once, six
    in all (a token a minute after that)."""

    web_settings = {"categories": "One-day;Season pass", "posts-burst": "1000",
                    "network-tickets-burst": "3", "network-tickets-per-minute": "1",
                    "tickets-burst": "6", "tickets-per-minute": "1"}

    def register(self, source, phone, lang=None):
        visitor = Visitor(self.hub.url, source=source, lang=lang)
        return visitor, visitor.register(phone=phone, category="2", name=f"Visitor {phone[-3:]}")

    def serial(self, visitor, reply):
        return re.search(r'<dd class="ticket-serial">([^<]+)<', self.view(visitor, reply).text).group(1)

    def test_many_addresses_of_one_network_and_many_networks(self):
        before = self.tickets()
        # Three addresses of 127.0.1.0/24: a ticket each.
        first = Visitor(self.hub.url, source="127.0.1.1")
        fields = {"csrf": first.get("/register").field("csrf"), "name": "First Visitor", "phone": "9870000001",
                  "category": "2", "party": "1"}
        reply = first.post("/register", fields)
        self.assertEqual(reply.status, 303)
        serial = self.serial(first, reply)
        for i in (2, 3):
            self.assertEqual(self.register(f"127.0.1.{i}", f"987000000{i}")[1].status, 303, i)
        # A fourth address of the same network: refused politely, in the
        # visitor's language, with when to come back.
        _, reply = self.register("127.0.1.4", "9870000004")
        self.assertEqual(reply.status, 429)
        retry = int(reply.header("Retry-After"))
        self.assertTrue(1 <= retry <= 60, retry)
        self.assertIn("Too many tries", reply.text)
        self.assertRegex(reply.text, r"Please wait \d+ seconds and try again, after \d\d:\d\d\.")
        _, reply = self.register("127.0.1.5", "9870000005", lang="hi")
        self.assertEqual(reply.status, 429)
        self.assertIn("बहुत अधिक प्रयास", reply.text)
        self.assertIsNotNone(reply.header("Retry-After"))
        # Pages are not new tickets, nor is the same form sent again: it
        # still gets its ticket.
        neighbour = Visitor(self.hub.url, source="127.0.1.4")
        self.assertEqual(neighbour.get("/").status, 200)
        self.assertEqual(neighbour.get("/register").status, 200)
        again = first.post("/register", fields)
        self.assertEqual(again.status, 303)
        self.assertEqual(self.serial(first, again), serial)
        # Another network is another count.
        for i, source in enumerate(("127.0.2.1", "127.0.3.1", "127.0.4.1")):
            self.assertEqual(self.register(source, f"98710000{i:02d}")[1].status, 303, source)
        # Six in all: the seventh is refused whatever its network.
        _, reply = self.register("127.0.5.1", "9872000001")
        self.assertEqual(reply.status, 429)
        self.assertEqual(self.tickets(), before + 6)


class TestDefaultTicketLimits(WebTestCase):
    """The default limits on new tickets carry a rush after a newspaper's
    mention: carrier NAT puts many phones in one /24."""

    def test_hundreds_at_once_from_one_network(self):
        before = self.tickets()
        # More than the 240 the defaults once allowed a /24 at once, from
        # twenty addresses of it (each within its own limits on requests).
        statuses = [Visitor(self.hub.url, source=f"127.0.7.{i % 20 + 1}")
                    .register(phone=f"98730{i:05d}", category="1", name=f"Visitor {i}").status for i in range(260)]
        self.assertEqual(statuses, [303] * 260)
        self.assertEqual(self.tickets(), before + 260)


class TestCountries(WebTestCase):
    """The fair sends to +91 numbers only (the default [outbox] countries)
    and, here, one paid message a day ([outbox] daily-limit)."""

    web_settings = {"categories": "One-day;Season pass", "posts-burst": "1000"}
    hub_settings = {"outbox": {"daily-limit": "1"}}

    def test_foreign_numbers_are_refused_beside_the_field(self):
        visitor = self.visitor()
        before, rows = self.tickets(), self.outbox_rows()
        message = ("This fair sends messages only to mobile numbers starting +91. Enter such a number, or ask at "
                   "the registration desk.")
        for phone in ("+44 7700 900123", "+1 900 555 0100", "00882 1234 5678", "+977 981 2345678"):
            reply = visitor.register(phone=phone, category="2")
            self.assertEqual(reply.status, 422, phone)
            self.assertEqual(reply.by_id("phone-error"), message, phone)
            self.assertEqual(reply.field("phone"), phone)
            reply = self.ask_code(visitor, phone)
            self.assertEqual(reply.status, 422, phone)
            self.assertEqual(reply.by_id("phone-error"), message, phone)
        hindi = self.visitor(lang="hi")
        reply = hindi.register(phone="+44 7700 900123", category="2")
        self.assertEqual(reply.by_id("phone-error"), "यह मेला केवल +91 से शुरू होने वाले मोबाइल नंबरों पर संदेश भेजता "
                                                     "है। ऐसा नंबर लिखें, या पंजीकरण काउंटर पर पूछें।")
        # Nothing issued, counted or queued.
        self.assertEqual(self.tickets(), before)
        self.assertEqual(self.outbox_rows(), rows)
        self.assertEqual(hubtest.query(self.hub_db, "SELECT count(*) FROM visitor_codes"), [(0,)])
        self.assertEqual(visitor.register(phone="+91 98765 11111", category="2").status, 303)

    def test_no_code_once_the_day_budget_is_spent(self):
        visitor = self.visitor()
        for phone in ("9876522221", "9876522222"):
            self.assertEqual(visitor.register(phone=phone, category="2").status, 303)
        self.sms.reset()
        self.assertEqual(self.ask_code(visitor, "9876522221").status, 200)
        self.sms_code("+919876522221", 1)
        # The day's one paid message went: the next code is not asked for,
        # nothing is queued, and the visitor is sent to the desk.
        rows = self.outbox_rows()
        reply = self.ask_code(self.visitor(), "9876522222")
        self.assertEqual(reply.status, 503)
        self.assertEqual(reply.by_id("phone-error"), "No more codes can be sent today. The registration desk can "
                                                     "find your ticket again by your mobile number.")
        self.assertEqual(self.outbox_rows(), rows)
        reply = self.ask_code(self.visitor(lang="hi"), "9876522222")
        self.assertIn("आज और कोड नहीं भेजे जा सकते", reply.by_id("phone-error"))
        metrics = urllib.request.urlopen(self.hub.url + "metrics", timeout=10).read().decode()
        self.assertIn('pravesh_outbox_budget_remaining{prefix="all"} 0\n', metrics)
        self.assertIn('pravesh_outbox_paid_today{prefix="+91",outcome="sent"} 1\n', metrics)
        self.assertEqual(len(self.sms.messages()), 1)


class TestCodeGuesses(WebTestCase):
    """Wrong codes at /ticket from a stranger's address."""

    web_settings = {"categories": "One-day;Season pass", "posts-burst": "1000"}

    def hammer(self, visitor, phone, code, times):
        """@times guesses of @code; their statuses, and the waits of those refused."""
        answers = [self.guess(visitor, phone, code) for _ in range(times)]
        return [a.status for a in answers], [int(a.header("Retry-After")) for a in answers if a.status == 429]

    def assertLockedOut(self, statuses, waits):
        # Told "wrong" a few times, then only refused until the first
        # lockout ends: a try while locked out is not checked and makes the
        # wait no longer (behind a carrier's address, the next person's try
        # must not keep everyone there out for an hour).
        told = statuses.index(429)
        self.assertTrue(1 <= told <= 4, statuses)
        self.assertEqual(statuses[:told], [422] * told, statuses)
        self.assertEqual(statuses[told:], [429] * (len(statuses) - told), statuses)
        self.assertGreaterEqual(len(waits), 2)
        self.assertTrue(all(1 <= w <= 30 for w in waits), waits)
        self.assertTrue(all(a >= b for a, b in zip(waits, waits[1:])), waits)

    def test_a_stranger_cannot_lock_the_owner_out(self):
        owner = Visitor(self.hub.url, source="127.0.4.1")
        for phone in ("9812300001", "9812300002"):
            self.assertEqual(owner.register(phone=phone, category="2", name="Owner").status, 303)
        self.sms.reset()
        self.assertEqual(self.ask_code(owner, "9812300001").status, 200)
        code = self.sms_code("+919812300001", 1)
        wrong = "000000" if code != "000000" else "111111"

        # A stranger guesses at a phone with no code on its way, then at
        # the one whose owner is waiting for theirs: locked out after a
        # few, however hard they keep trying; the guesses at the first
        # phone left no trace.
        stranger = Visitor(self.hub.url, source="127.0.3.1")
        self.assertLockedOut(*self.hammer(stranger, "9812300002", wrong, 20))
        self.assertEqual(hubtest.query(self.hub_db, "SELECT count(*) FROM visitor_codes WHERE phone = ?",
                                       "+919812300002"), [(0,)])
        statuses, waits = self.hammer(stranger, "9812300001", wrong, 6)
        self.assertLockedOut(statuses, waits)
        # Locked out, even the right code gets the stranger nothing.
        self.assertEqual(self.guess(stranger, "9812300001", code).status, 429)
        [(failures,)] = hubtest.query(self.hub_db, "SELECT failures FROM visitor_codes WHERE phone = ?",
                                      "+919812300001")
        self.assertLess(failures, 5)

        # The owner, at another address, gets in with the code; the other
        # phone's owner asks for one and gets in too.
        reply = self.guess(owner, "9812300001", code)
        self.assertEqual(reply.status, 200, reply.text)
        self.assertIn("Your ticket", reply.text)
        other = Visitor(self.hub.url, source="127.0.4.2")
        self.assertEqual(self.ask_code(other, "9812300002").status, 200)
        reply = self.guess(other, "9812300002", self.sms_code("+919812300002", 2))
        self.assertEqual(reply.status, 200, reply.text)
        self.assertIn('<dd class="ticket-name">Owner</dd>', reply.text)


# Set in the run of TestIPv6Guessers that TestIPv6GuessersInANamespace
# starts in a network namespace of its own, whose loopback has these
# addresses: four /64s of one /48, and another /48 (no machine has them).
NETNS_ENV = "PRAVESH_WEB_TEST_NETNS"
GUESSERS_V6 = [f"2001:db8:1:{i}::1" for i in range(1, 5)]
OWNER_V6 = "2001:db8:2:1::1"


class TestIPv6Guessers(WebTestCase):
    """Wrong codes from IPv6 addresses: a phone (or a machine) takes a new
    /64 whenever it likes, so guessers count by their /48."""

    web_settings = {"categories": "One-day;Season pass", "posts-burst": "1000"}
    listen = "[::1]:0"

    @classmethod
    def setUpClass(cls):
        if not os.environ.get(NETNS_ENV):
            raise unittest.SkipTest("runs in a network namespace of its own (TestIPv6GuessersInANamespace)")
        super().setUpClass()

    def test_new_64s_bring_no_new_guesses(self):
        owner = Visitor(self.hub.url, source=OWNER_V6)
        self.assertEqual(owner.register(phone="9812300011", category="2", name="Owner").status, 303)
        self.sms.reset()
        self.assertEqual(self.ask_code(owner, "9812300011").status, 200)
        code = self.sms_code("+919812300011", 1)
        wrong = "000000" if code != "000000" else "111111"
        # Four /64s of one /48, four guesses each: by /64 that would be 16
        # checked, past the 10 that spend the owner's code; by /48, 4.
        statuses = [self.guess(Visitor(self.hub.url, source=source), "9812300011", wrong).status
                    for source in GUESSERS_V6 for _ in range(4)]
        self.assertEqual(statuses, [422] * 4 + [429] * 12, statuses)
        self.assertEqual(hubtest.query(self.hub_db, "SELECT failures FROM visitor_codes WHERE phone = ?",
                                       "+919812300011"), [(4,)])
        # The owner, in another /48, gets in.
        reply = self.guess(owner, "9812300011", code)
        self.assertEqual(reply.status, 200, reply.text)
        self.assertIn('<dd class="ticket-name">Owner</dd>', reply.text)


class TestIPv6GuessersInANamespace(unittest.TestCase):
    """Runs TestIPv6Guessers in a user and network namespace of its own
    (unshare), with GUESSERS_V6 and OWNER_V6 on its loopback; skipped
    where namespaces cannot be made."""

    def test_ipv6_guessers(self):
        if os.environ.get(NETNS_ENV):
            self.skipTest("inside the namespace already")
        path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
        unshare, ip = shutil.which("unshare", path=path), shutil.which("ip", path=path)
        if unshare is None or ip is None:
            self.skipTest("needs unshare and ip")
        namespace = [unshare, "--user", "--map-root-user", "--net"]
        probe = subprocess.run(namespace + [ip, "link", "set", "lo", "up"], capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest(f"cannot make a network namespace: {probe.stderr.strip()}")
        setup = " && ".join([f"{ip} link set lo up"] + [f"{ip} -6 addr add {a}/128 dev lo nodad"
                                                         for a in GUESSERS_V6 + [OWNER_V6]])
        proc = subprocess.run(namespace + ["sh", "-c", setup + ' && exec "$@"', "sh", sys.executable,
                                           os.path.abspath(__file__), "TestIPv6Guessers"],
                              env=dict(os.environ, **{NETNS_ENV: "1"}), capture_output=True, text=True,
                              timeout=240)
        self.assertIn(proc.returncode, (0, 77), proc.stderr[-4000:])
        self.assertRegex(proc.stderr, r"test_new_64s_bring_no_new_guesses .* \.\.\. ok\n", proc.stderr[-4000:])


class TestNothingToSendBy(WebTestCase):
    """WhatsApp without its webhook (no bot to answer a visitor who writes)
    nor templates, and no SMS gateway: a visitor at the page has never
    written to the WhatsApp number, so neither a ticket nor a code can reach
    them, and neither is offered."""

    web_settings = {"categories": "One-day;Season pass", "posts-burst": "1000"}
    hub_settings = {"sms": None, "whatsapp": {"ticket-template": None, "app-secret": None}}

    def test_only_what_can_arrive_is_offered(self):
        visitor = self.visitor()
        page = self.view(visitor, visitor.register(phone="9866600001", category="2"))
        self.assertIn("Download the QR code", page.text)
        self.assertNotIn("Get it on WhatsApp", page.text)
        self.assertNotIn("wa.me", page.text)
        token = re.search(r"/ticket\.png\?t=([^\"&]+)", page.text).group(1)
        csrf = visitor.get("/register").field("csrf")
        self.assertEqual(visitor.post("/ticket/send", {"csrf": csrf, "t": token}).status, 404)

        # Finding tickets again: the desk does it.
        index = visitor.get("/")
        self.assertNotIn('href="/ticket"', index.text)
        self.assertIn("The registration desk finds it again by your mobile number.", index.text)
        for reply in (visitor.get("/ticket"),
                      visitor.post("/ticket", {"csrf": csrf, "step": "code", "phone": "9866600001"})):
            self.assertEqual(reply.status, 200)
            self.assertIn("Tickets are found again at the registration desk", reply.text)
            self.assertNotIn("<form", reply.text)
        self.assertIn("पंजीकरण काउंटर", self.visitor(lang="hi").get("/ticket").text)
        expired = visitor.get("/ticket/view?t=" + "A" * 40)
        self.assertEqual(expired.status, 404)
        self.assertIn("The registration desk can find your ticket again", expired.text)
        self.assertNotIn('href="/ticket"', expired.text)
        time.sleep(1.0)
        self.assertEqual(hubtest.query(self.hub_db, "SELECT count(*) FROM outbox"), [(0,)])
        self.assertEqual(self.graph.snapshot(), [])
        log = hubtest.read_log(os.path.join(self.dir, "hub.log"))
        self.assertEqual(log.count("Finding tickets again on the web is off"), 1)
        self.assertEqual(log.count("[web] whatsapp-number is set, but the WhatsApp bot cannot answer"), 1)


class TestCodeByTemplate(WebTestCase):
    """No SMS gateway, but WhatsApp with an approved authentication
    template: the code to find tickets again goes as that template."""

    web_settings = {"categories": "One-day;Season pass", "posts-burst": "1000", "code-channel": "sms"}
    hub_settings = {"sms": None, "whatsapp": {"code-template": "pravesh_code", "template-language": "en_US"}}

    def test_the_code_goes_as_the_template(self):
        visitor = self.visitor()
        page = self.view(visitor, visitor.register(phone="9877700001", category="2", name="Template Visitor"))
        code = self.code_in(page)
        self.graph.reset()
        form = visitor.get("/ticket")
        self.assertIn('action="/ticket"', form.text)
        asked = visitor.post("/ticket", {"csrf": form.field("csrf"), "step": "code", "phone": "9877700001"})
        self.assertEqual(asked.status, 200, asked.text)
        [sent] = self.graph.wait_messages(1, timeout=20)
        self.assertEqual((sent["type"], sent["to"]), ("template", "919877700001"))
        template = sent["template"]
        self.assertEqual((template["name"], template["language"]["code"]), ("pravesh_code", "en_US"))
        body, button = template["components"]
        digits = body["parameters"][0]["text"]
        self.assertRegex(digits, r"^\d{6}$")
        self.assertEqual((button["type"], button["sub_type"], button["index"]), ("button", "url", "0"))
        self.assertEqual(button["parameters"][0]["text"], digits)
        reply = visitor.post("/ticket", {"csrf": asked.field("csrf"), "step": "verify", "phone": "+919877700001",
                                         "code": digits})
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(self.code_in(reply), code)
        [row] = hubtest.query(self.hub_db, "SELECT kind, channel, otp, status FROM outbox")
        self.assertEqual(row[:3], ("code", "whatsapp", digits))
        log = hubtest.read_log(os.path.join(self.dir, "hub.log"))
        self.assertIn("code-channel = sms cannot reach a visitor who never wrote to us; codes to find tickets "
                      "again go by whatsapp", log)
        self.assertNotIn("Finding tickets again on the web is off", log)
        self.assertNotIn("9877700001", log)


class TestBrowser(WebTestCase):
    """The form in Debian's chromium, on a phone-sized screen."""

    @classmethod
    def setUpClass(cls):
        if CHROMIUM is None:
            raise unittest.SkipTest("chromium is not installed")
        super().setUpClass()
        cls.tools = DevTools(os.path.join(cls.dir, "profile"), os.path.join(cls.dir, "chromium.log"))

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "tools"):
            cls.tools.close()
        super().tearDownClass()

    def shot(self, page, name):
        page.screenshot(os.path.join(self.artifacts, name))

    def read_qr(self, page):
        """The code in the page's SVG, as a phone's screen shows it."""
        x, y, width, height = page.box(".qr svg")
        self.assertGreaterEqual(width, 280)
        self.assertAlmostEqual(width, height, delta=1)
        png = page.screenshot(clip=(x, y, width, height))
        return decode_png(png, self.dir)

    def fill_and_send(self, page, javascript, hindi=False):
        suffix = ("-hi" if hindi else "") + ("" if javascript else "-nojs")
        page.navigate(self.hub.url)
        self.shot(page, f"web-event{suffix}.png")
        page.tap('a.button[href="/register"]', navigates=True)
        self.assertTrue(page.url().endswith("/register"))
        self.shot(page, f"web-register{suffix}.png")
        page.full_screenshot(os.path.join(self.artifacts, f"web-register-full{suffix}.png"))

        # First with the phone missing and no day: messages by the fields.
        page.type("#name", "Meera Iyer" if not hindi else "मीरा अय्यर")
        page.tap("#category-1")
        page.tap("button[type=submit]", navigates=True)
        body = page.html("main")
        self.assertIn('id="phone-error">', body)
        self.assertRegex(body, r'id="phone-error">[^<]+</p>')
        self.assertRegex(body, r'id="day-error">[^<]+</p>')
        self.assertIn('value="Meera Iyer"' if not hindi else 'value="मीरा अय्यर"', page.html("#name"))
        page.scroll_to_top()
        self.shot(page, f"web-register-errors{suffix}.png")

        # Then right: a phone, the day after today (the list starts today).
        page.type("#phone", "98100 55555" if not hindi else "98100 55556")
        page.key("#day", "ArrowDown", "ArrowDown", times=2)
        page.tap("button[type=submit]", navigates=True)
        self.assertIn("/ticket/view?t=", page.url())
        self.assertNotIn("PV1", page.url())
        page.scroll_to_top()
        self.shot(page, f"web-ticket{suffix}.png")
        code = self.read_qr(page)
        self.assertTrue(code.startswith("PV1:"), code)
        verdict = self.verify(code)
        self.assertEqual((verdict["category"], verdict["valid_day"]), ("One-day", TOMORROW))
        self.assertEqual(page.csp_errors(), [])
        return code

    def test_register_with_javascript(self):
        page = self.tools.new_page(javascript=True)
        code = self.fill_and_send(page, javascript=True)
        self.assertTrue(page.scripting())
        self.assertIn("Your ticket", page.html("h1"))
        # The download link gives the same code.
        href = html.unescape(re.search(r'href="(/ticket\.png\?t=[^"]+)"', page.html("main")).group(1))
        self.assertEqual(decode_png(self.visitor().get(href).body, self.dir), code)

    def test_register_without_javascript_in_hindi(self):
        page = self.tools.new_page(javascript=False, accept_language="hi-IN,hi")
        self.fill_and_send(page, javascript=False, hindi=True)
        self.assertFalse(page.scripting())
        self.assertIn("आपका टिकट", page.html("h1"))
        self.assertIn('lang="hi"', page.html("html")[:100])


def main():
    if not (CTL and HUB and ZBARIMG):
        print("PRAVESH_CTL, PRAVESH_HUB and zbarimg are needed", file=sys.stderr)
        return 1
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        return 1
    # Everything else passed; without a browser the pages were not seen.
    return 77 if CHROMIUM is None else 0


if __name__ == "__main__":
    sys.exit(main())
