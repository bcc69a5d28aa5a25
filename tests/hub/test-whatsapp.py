#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-whatsapp.py: the hub's WhatsApp registration bot between real
# processes on 127.0.0.1 — pravesh-hub on a real SQLite file, driven by
# webhook bodies shaped as Meta documents them and signed as Meta signs
# them, answering through its outbox to a local stand-in for the Graph API
# (fake_services.GraphFake) that records what it is sent. A whole chat
# from "Hi" to a ticket in English and in Hindi, the ticket image read
# back with zbarimg and verified by pravesh-ctl; the verification
# handshake; forged, missing and malformed signatures refused with nothing
# changed; a delivery repeated giving one ticket; a hub killed
# mid-conversation carrying on after a restart; delivery reports marking
# the outbox; no more tickets to one number an hour than the settings
# allow; a number flooding the bot told once to slow down, then not
# answered. Python's standard library only (and zbarimg).

import hashlib
import hmac
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_services  # noqa: E402
import hubtest  # noqa: E402
from hubtest import CTL, HUB  # noqa: E402

# How long a wait may last at most. Each wait returns as soon as what it
# waits for has happened, so a generous deadline costs a passing test
# nothing, and a busy machine (the sanitizers, two cores) never turns a
# slow success into a failure. The timeout a caller names is what it
# expects; this is the patience behind it.
PATIENCE_S = 120

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
DISPLAY_NUMBER = "15550783881"
WA_ID = "919812345678"


def sign(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def change(value):
    """A webhook body around one change, as Meta sends it."""
    value = dict(value)
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
             **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}]}


class WhatsAppTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pravesh-whatsapp-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.hub = None
        self.addCleanup(self._stop_hub)
        self.graph = fake_services.GraphFake(token=ACCESS_TOKEN)
        self.addCleanup(self.graph.stop)
        self.db = self.path("hub.db")
        # From yesterday to tomorrow, open all day: "day 1" of the bot's
        # list is today, whatever the hour.
        hubtest.make_event(self.db, self.dir, "Book Fair", close="24:00")
        self.config = self.write_config()
        self.counter = 0
        self.start_hub()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_config(self, **whatsapp):
        return hubtest.write_config(self.path("hub.conf"), {
            "whatsapp": {"graph-url": self.graph.url, "phone-number-id": PHONE_NUMBER_ID,
                         "access-token": ACCESS_TOKEN, "app-secret": APP_SECRET, "verify-token": VERIFY_TOKEN,
                         "ticket-template": "pravesh_ticket", **whatsapp},
            "outbox": {"poll-seconds": "1", "base-backoff-ms": "100"},
        })

    def ctl(self, *args, rc=0):
        return hubtest.ctl(*args, db=self.db, cwd=self.dir, rc=rc)

    def start_hub(self):
        self.hub = hubtest.start_hub(self.db, self.config, self.path("hub.log"))
        self.webhook = self.hub.url.rstrip("/") + "/webhooks/whatsapp"

    def stop_hub(self):
        hub, self.hub = self.hub, None
        hub.stop_cleanly()

    def _stop_hub(self):
        # Stopped as a supervisor stops it, so that under the sanitizers a
        # leak or an error on the way out fails the test.
        if self.hub is not None:
            self.stop_hub()

    def query(self, sql, *params):
        return hubtest.query(self.db, sql, *params)

    def counts(self):
        return {table: self.query(f"SELECT count(*) FROM {table}")[0][0]
                for table in ("whatsapp_conversations", "whatsapp_inbox", "whatsapp_seen", "outbox",
                              "tickets", "records")}

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + max(timeout, PATIENCE_S)
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        self.fail(f"waited {max(timeout, PATIENCE_S)} s for {what}")

    # -- talking to the hub as Meta does --

    def post(self, body, signature="sign", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        all_headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature == "sign":
            all_headers["X-Hub-Signature-256"] = sign(data)
        elif signature is not None:
            all_headers["X-Hub-Signature-256"] = signature
        all_headers.update(headers or {})
        request = urllib.request.Request(self.webhook, data=data, method="POST", headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def message(self, text=None, wa_id=WA_ID, kind="text", content=None, message_id=None):
        """A messages webhook: one message from @wa_id."""
        self.counter += 1
        message = {"from": wa_id,
                   "id": message_id or f"wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhgg{self.counter:016d}",
                   "timestamp": str(int(time.time())),
                   "type": kind}
        message[kind] = content if content is not None else {"body": text}
        return change({"contacts": [{"profile": {"name": "Asha"}, "wa_id": wa_id}], "messages": [message]})

    def button(self, button_id, title, wa_id=WA_ID):
        """An interactive reply button tapped."""
        body = self.message(wa_id=wa_id, kind="interactive",
                            content={"type": "button_reply", "button_reply": {"id": button_id, "title": title}})
        body["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = {
            "from": DISPLAY_NUMBER, "id": "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAERgSQkFCRDQ3"}
        return body

    # -- what the hub sent --

    def sent(self, wa_id=WA_ID):
        """What went to @wa_id: (type, text or caption, the request's JSON)."""
        out = []
        for m in self.graph.messages():
            if str(m.get("to", "")).lstrip("+") != wa_id:
                continue
            if m.get("type") == "text":
                out.append(("text", m["text"]["body"], m))
            elif m.get("type") == "image":
                out.append(("image", m["image"].get("caption", ""), m))
            else:
                out.append((m.get("type"), "", m))
        return out

    def say(self, text, expect, wa_id=WA_ID, body=None):
        """Sends @text (or @body) and waits for the one answer, which holds @expect."""
        before = len(self.sent(wa_id))
        status, reply = self.post(body if body is not None else self.message(text, wa_id=wa_id))
        self.assertEqual(status, 200, reply)
        self.graph.wait_for(lambda requests: len(self.sent(wa_id)) > before, 15)
        time.sleep(0.05)
        new = self.sent(wa_id)[before:]
        self.assertEqual(len(new), 1, f"after {text!r} the hub sent {new}")
        kind, said, message = new[0]
        self.assertIn(expect, said, f"after {text!r}")
        return kind, said, message

    def decode_ticket(self, message):
        """The ticket image a message sent, read by zbarimg."""
        media_id = message["image"]["id"]
        image = self.graph.media[media_id]
        self.assertEqual(image["type"], "image/png")
        code = hubtest.decode_qr(image["data"], self.path(f"ticket-{media_id}.png"))
        self.assertTrue(code.startswith("PV1:"), code)
        return code

    def verify(self, code):
        return json.loads(self.ctl("verify", code).stdout)


class TestVerification(WhatsAppTestCase):
    def get(self, params):
        url = self.webhook + "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def test_handshake(self):
        ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
        self.assertEqual(self.get(ok), (200, "1158201444"))
        for bad in ({**ok, "hub.verify_token": "wrong"}, {**ok, "hub.verify_token": VERIFY_TOKEN + "x"},
                    {**ok, "hub.mode": "unsubscribe"}, {k: v for k, v in ok.items() if k != "hub.mode"},
                    {k: v for k, v in ok.items() if k != "hub.verify_token"},
                    {k: v for k, v in ok.items() if k != "hub.challenge"}, {}):
            self.assertEqual(self.get(bad)[0], 403, bad)


class TestChat(WhatsAppTestCase):
    def test_english(self):
        self.say("Hi", "Welcome to Book Fair!")
        self.say("English", "What is your full name?")
        self.say("Asha Rao", "Which ticket would you like?\n1. One-day")
        self.say("7", "Please reply with one of these numbers")
        self.say("1", "Which day will you come?\n1. ")
        self.say("1", "Name: Asha Rao\nTicket: One-day")
        kind, caption, message = self.say("1", "Your ticket for Book Fair")
        self.assertEqual(kind, "image")
        self.assertIn("Asha Rao · One-day", caption)
        self.assertEqual(message["messaging_product"], "whatsapp")
        # Uploaded first, as Meta documents, then sent by its media id.
        uploads = self.graph.uploads()
        self.assertEqual(len(uploads), 1)
        request, media_id = uploads[0]
        self.assertEqual(request.path, f"/v21.0/{PHONE_NUMBER_ID}/media")
        self.assertEqual(request.form["messaging_product"].text, "whatsapp")
        self.assertEqual(message["image"]["id"], media_id)

        code = self.decode_ticket(message)
        verdict = self.verify(code)
        self.assertEqual(verdict["verdict"], "VALID", verdict)
        serial = verdict["serial"]
        self.assertIn(f"Serial {serial}", caption)
        ticket = json.loads(self.ctl("ticket", "show", serial, "--json").stdout)
        self.assertEqual(ticket.get("channel"), "whatsapp", ticket)
        self.assertEqual(self.counts()["tickets"], 1)

        # "ticket" sends the same ticket again.
        kind, again, message = self.say("ticket", f"Serial {serial}")
        self.assertEqual(kind, "image")
        self.assertEqual(self.decode_ticket(message), code)
        self.say("help", "TICKET — get your ticket again")
        self.say("Hi", f"You are registered: ticket {serial}")
        self.assertEqual(self.counts()["tickets"], 1)
        # Every request carried the access token.
        for request in self.graph.snapshot():
            self.assertEqual(request.headers.get("authorization"), "Bearer " + ACCESS_TOKEN)

    def test_hindi(self):
        wa_id = "919900011122"
        self.say("नमस्ते", "Book Fair में आपका स्वागत है!", wa_id=wa_id)
        # The language by a reply button, as an interactive message.
        self.say(None, "आपका पूरा नाम क्या है?", wa_id=wa_id, body=self.button("2", "हिन्दी", wa_id=wa_id))
        self.say("सीता देवी", "धन्यवाद, सीता देवी। आपको कौन-सा टिकट चाहिए?", wa_id=wa_id)
        self.say("3", "आप किस दिन आएँगे?", wa_id=wa_id)
        self.say("१", "इस टिकट पर आपके सहित कितने लोग आएँगे? (1 से 200)", wa_id=wa_id)
        self.say("बहुत सारे", "कृपया 1 से 200 तक की कोई संख्या भेजें।", wa_id=wa_id)
        self.say(None, "क्षमा करें, मैं केवल लिखा हुआ संदेश पढ़ सकता हूँ।", wa_id=wa_id,
                 body=self.message(wa_id=wa_id, kind="image",
                                   content={"mime_type": "image/jpeg", "sha256": "abc", "id": "1234567890"}))
        self.say("12", "कृपया जाँच लें:\nनाम: सीता देवी\nटिकट: School group", wa_id=wa_id)
        kind, caption, message = self.say("हाँ", "Book Fair के लिए आपका टिकट", wa_id=wa_id)
        self.assertEqual(kind, "image")
        self.assertIn("12 लोग", caption)
        verdict = self.verify(self.decode_ticket(message))
        self.assertEqual(verdict["verdict"], "VALID", verdict)
        self.assertEqual(verdict["party"], 12)
        self.assertIn(f"क्रमांक {verdict['serial']}", caption)

    def test_unknown_number_and_statuses(self):
        self.say("Hi", "Welcome")
        _, _, first = self.say("1", "What is your full name?")
        wamid = next(r.reply["messages"][0]["id"] for r in self.graph.snapshot()
                     if r.endpoint == "messages" and r.json == first)
        self.wait_for(lambda: self.query("SELECT status FROM outbox WHERE provider_id = ?", wamid) == [("sent",)],
                      10, "the message marked sent")

        def report(status, **extra):
            return change({"statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())),
                                         "recipient_id": WA_ID,
                                         "conversation": {"id": "CONVERSATION_ID",
                                                          "origin": {"type": "service"}},
                                         "pricing": {"billable": True, "pricing_model": "CBP",
                                                     "category": "service"},
                                         **extra}]})

        self.assertEqual(self.post(report("delivered"))[0], 200)
        self.wait_for(lambda: self.query("SELECT status FROM outbox WHERE provider_id = ?", wamid)
                      == [("delivered",)], 10, "the message marked delivered")
        self.assertEqual(self.post(report("read"))[0], 200)
        self.wait_for(lambda: self.query("SELECT status FROM outbox WHERE provider_id = ?", wamid)
                      == [("read",)], 10, "the message marked read")
        # A late "delivered" does not take it back; an unknown id is no harm.
        self.assertEqual(self.post(report("delivered"))[0], 200)
        unknown = report("delivered")
        unknown["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.unknown"
        self.assertEqual(self.post(unknown)[0], 200)
        self.wait_for(lambda: self.counts()["whatsapp_inbox"] == 0, 10, "the reports processed")
        self.assertEqual(self.query("SELECT status FROM outbox WHERE provider_id = ?", wamid), [("read",)])

        # Changes for another phone number of the same app are not ours.
        other = self.message("Hi", wa_id="919800000077")
        other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
        self.assertEqual(self.post(other)[0], 200)
        self.wait_for(lambda: self.counts()["whatsapp_inbox"] == 0, 10, "the change processed")
        self.assertEqual(self.query("SELECT count(*) FROM whatsapp_conversations WHERE wa_id = '919800000077'"),
                         [(0,)])


class TestTicketLimit(WhatsAppTestCase):
    def test_tickets_per_hour(self):
        # A script cannot have the bot issue tickets without end from one
        # number: past the limit it is told, in its language, when to try.
        self.stop_hub()
        self.write_config(**{"tickets-per-hour": "2"})
        self.start_hub()
        wa_id = "919900011133"
        self.say("नमस्ते", "स्वागत", wa_id=wa_id)
        self.say("2", "आपका पूरा नाम क्या है?", wa_id=wa_id)
        self.say("सीता", "आपको कौन-सा टिकट चाहिए?", wa_id=wa_id)
        self.say("2", "कृपया जाँच लें", wa_id=wa_id)
        self.assertEqual(self.say("हाँ", "क्रमांक", wa_id=wa_id)[0], "image")
        self.say("नया", "आपका पूरा नाम क्या है?", wa_id=wa_id)
        self.say("गीता", "आपको कौन-सा टिकट चाहिए?", wa_id=wa_id)
        self.say("2", "कृपया जाँच लें", wa_id=wa_id)
        self.assertEqual(self.say("1", "क्रमांक", wa_id=wa_id)[0], "image")
        kind, said, _ = self.say("नया", "क्षमा करें, इस नंबर से पिछले एक घंटे में उतने टिकट बन चुके हैं", wa_id=wa_id)
        self.assertEqual(kind, "text")
        self.assertRegex(said, r"कृपया \d\d:\d\d के बाद फिर से कोशिश करें")
        self.assertEqual(self.counts()["tickets"], 2)
        # Others are not held back by it.
        self.say("Hi", "Welcome")
        self.say("1", "What is your full name?")
        self.say("Asha", "Which ticket")
        self.say("2", "Reply 1 to confirm")
        self.assertEqual(self.say("1", "Your ticket")[0], "image")
        self.assertEqual(self.counts()["tickets"], 3)
        self.assertIn("limit of 2 tickets an hour", hubtest.read_log(self.hub.log_path))


class TestSenderLimit(WhatsAppTestCase):
    def metrics(self):
        with urllib.request.urlopen(self.hub.url + "metrics", timeout=10) as reply:
            return reply.read().decode()

    def test_flood_from_one_number(self):
        # 300 "help"s from one number as fast as Meta can deliver them: the
        # first ten are answered, one more asks it to slow down, the rest
        # are taken and marked seen, and nothing else. Another number
        # writing in the middle of it is answered as ever.
        self.stop_hub()
        # A trickle so slow that nothing refills during the test.
        self.write_config(**{"sender-burst": "10", "sender-per-minute": "0.001"})
        self.start_hub()
        flood, other = "919812300001", "919812300002"
        bodies = [json.dumps(self.message("help", wa_id=flood)).encode() for _ in range(300)]
        for i, body in enumerate(bodies):
            self.assertEqual(self.post(body)[0], 200)
            if i == 150:
                self.say("Hi", "Welcome to Book Fair!", wa_id=other)
        self.wait_for(lambda: self.counts()["whatsapp_inbox"] == 0, 60, "the flood processed")
        self.assertEqual(self.query("SELECT count(*) FROM whatsapp_seen")[0][0], 301)
        self.wait_for(lambda: self.query("SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")
                      == [(0,)], 60, "the outbox sent")
        said = [text for _, text, _ in self.sent(flood)]
        self.assertEqual(len(said), 11, f"{len(said)} replies")
        slow = [text for text in said if "You are writing faster than I can answer" in text]
        self.assertEqual(len(slow), 1, said)
        # Before a language is chosen the bot speaks both.
        self.assertIn("आप इतनी जल्दी-जल्दी लिख रहे हैं", slow[0])
        # The outbox sends several at once: the order they reach Meta in is
        # not the order they were written in.
        self.assertTrue(all("TICKET — get your ticket again" in text for text in said if text != slow[0]), said)
        self.assertEqual(len(self.sent(other)), 1)
        self.assertEqual(self.counts()["tickets"], 0)
        metrics = self.metrics()
        self.assertIn('pravesh_whatsapp_sender_limited_total{reply="slow_down"} 1\n', metrics)
        self.assertIn('pravesh_whatsapp_sender_limited_total{reply="none"} 289\n', metrics)

        # Meta delivering again, an answered message or one held back, is
        # neither answered nor counted again.
        before = len(self.graph.messages())
        for body in (bodies[0], bodies[200]):
            self.assertEqual(self.post(body)[0], 200)
        self.wait_for(lambda: self.counts()["whatsapp_inbox"] == 0, 10, "the repeats processed")
        time.sleep(0.5)
        self.assertEqual(len(self.graph.messages()), before)
        self.assertIn('pravesh_whatsapp_sender_limited_total{reply="none"} 289\n', self.metrics())
        self.assertEqual(self.query("SELECT count(*) FROM whatsapp_seen")[0][0], 301)
        self.assertNotIn(flood, hubtest.read_log(self.hub.log_path))


class TestWindow(WhatsAppTestCase):
    def send_ticket(self, wa_id):
        before = len(self.sent(wa_id))
        [ticket] = json.loads(self.ctl("ticket", "issue", "--category", "Season pass", "--name", "Desk visitor",
                                       "--phone", "+" + wa_id, "--json").stdout)
        self.ctl("ticket", "send", ticket["serial"], "--via", "whatsapp")
        self.graph.wait_for(lambda requests: len(self.sent(wa_id)) > before, 15)
        return ticket

    def test_template_outside_the_window(self):
        # A desk sends a ticket to someone who never wrote to the number:
        # only a template may go, and the bot tells the outbox so before it
        # tries anything else.
        stranger = "919800000055"
        self.send_ticket(stranger)
        attempts = [r.json for r in self.graph.snapshot()
                    if r.endpoint == "messages" and str(r.json.get("to", "")).lstrip("+") == stranger]
        self.assertEqual([m["type"] for m in attempts], ["template"])
        self.assertEqual(attempts[0]["template"]["name"], "pravesh_ticket")

    def test_image_inside_the_window(self):
        self.say("Hi", "Welcome")
        self.send_ticket(WA_ID)
        self.assertEqual([kind for kind, _, _ in self.sent()], ["text", "image"])


class TestRefused(WhatsAppTestCase):
    def test_signatures(self):
        self.say("Hi", "Welcome")
        before = self.counts()
        sent = len(self.graph.messages())
        body = json.dumps(self.message("1")).encode()
        good = sign(body)
        cases = [
            (None, 401),
            ("", 403),
            ("sha256=", 403),
            (sign(body, "another-secret"), 403),
            (good[:-1] + ("0" if good[-1] != "0" else "1"), 403),
            (good.replace("sha256=", "sha1="), 403),
            (good + "00", 403),
            (good[:-2], 403),
            ("sha256=" + "zz" * 32, 403),
        ]
        for signature, status in cases:
            self.assertEqual(self.post(body, signature=signature)[0], status, signature)
        # The right signature over another body is no signature at all.
        self.assertEqual(self.post(body + b" ", signature=good)[0], 403)
        # Garbage is refused on its signature, never parsed.
        self.assertEqual(self.post(b"\xff{{{[[[", signature=None)[0], 401)
        self.assertEqual(self.post(b"\xff{{{[[[", signature=good)[0], 403)
        time.sleep(0.5)
        self.assertEqual(self.counts(), before)
        self.assertEqual(len(self.graph.messages()), sent)
        self.assertNotIn(WA_ID, hubtest.read_log(self.hub.log_path))
        # And the conversation is where it was.
        self.say("1", "What is your full name?")

    def test_bodies(self):
        big = b'{"object": "whatsapp_business_account", "pad": "' + b"x" * (300 * 1024) + b'"}'
        self.assertEqual(self.post(big)[0], 413)
        # Signed but meaningless: taken (Meta would only send it again) and
        # done with, nothing else changed.
        before = self.counts()
        for body in (b"", b"[]", b"not json", b"{}", b'{"object": "page", "entry": []}',
                     b"[" * 100000, json.dumps({"object": "whatsapp_business_account", "entry": [
                         {"changes": [{"field": "messages", "value": {
                             "metadata": {"phone_number_id": PHONE_NUMBER_ID}, "messages": [
                             {"from": 5, "id": None}, {"from": "919812345678"}, "x",
                             {"from": "12", "id": "wamid.short", "type": "text", "text": {"body": "Hi"}},
                             {"from": "919812345678", "id": "wamid.t", "type": "text", "text": "Hi"}]}}]}]}).encode()):
            self.assertEqual(self.post(body)[0], 200, body[:40])
        self.wait_for(lambda: self.counts()["whatsapp_inbox"] == 0, 10, "the bodies processed")
        after = self.counts()
        # Only the one well-formed message (a text without a body reads as
        # "not text") was acted on.
        self.assertEqual(after["whatsapp_seen"], before["whatsapp_seen"] + 1)
        self.assertEqual(after["tickets"], before["tickets"])
        self.assertEqual(self.query("SELECT state FROM whatsapp_conversations"), [("language",)])
        self.assertEqual(self.post(b"{}", headers={"Content-Type": "text/plain"})[0], 200)
        # Only GET and POST.
        request = urllib.request.Request(self.webhook, data=b"{}", method="PUT",
                                         headers={"X-Hub-Signature-256": sign(b"{}")})
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        self.assertEqual(refused.exception.code, 405)


class TestOnce(WhatsAppTestCase):
    def reach_confirm(self):
        self.say("Hi", "Welcome")
        self.say("1", "What is your full name?")
        self.say("Asha", "Which ticket")
        self.say("2", "Reply 1 to confirm")

    def test_replayed_delivery(self):
        self.reach_confirm()
        confirm = json.dumps(self.message("1")).encode()
        before = len(self.graph.messages())
        # Meta delivers again when it missed our answer: together, and later.
        threads = [threading.Thread(target=self.post, args=(confirm,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.graph.wait_for(lambda requests: len(self.graph.messages(requests)) > before, 15)
        self.assertEqual(self.post(confirm)[0], 200)
        self.wait_for(lambda: self.counts()["whatsapp_inbox"] == 0, 10, "the deliveries processed")
        time.sleep(1.0)
        self.assertEqual(self.counts()["tickets"], 1)
        self.assertEqual(len(self.graph.messages()), before + 1)
        self.assertEqual(len(self.graph.uploads()), 1)
        # And after a restart, too.
        self.stop_hub()
        self.start_hub()
        self.assertEqual(self.post(confirm)[0], 200)
        self.wait_for(lambda: self.counts()["whatsapp_inbox"] == 0, 10, "the delivery processed")
        time.sleep(0.5)
        self.assertEqual(self.counts()["tickets"], 1)
        self.assertEqual(len(self.graph.messages()), before + 1)

    def test_killed_mid_conversation(self):
        self.say("Hi", "Welcome")
        self.say("1", "What is your full name?")
        self.hub.kill()
        self.start_hub()
        self.say("Asha Rao", "Thank you, Asha Rao.")
        self.hub.proc.send_signal(signal.SIGTERM)
        self.stop_hub()
        self.start_hub()
        self.say("2", "Name: Asha Rao\nTicket: Season pass")
        kind, caption, message = self.say("yes", "Your ticket")
        self.assertEqual(self.verify(self.decode_ticket(message))["verdict"], "VALID")
        self.stop_hub()

    def test_taken_but_not_processed(self):
        # A body answered 200 is in the inbox before the answer: one left
        # there by a crash is processed at the next start.
        self.say("Hi", "Welcome")
        self.stop_hub()
        with sqlite3.connect(self.db, timeout=10) as connection:
            connection.execute("INSERT INTO whatsapp_inbox (payload, received_at) VALUES (?, 0)",
                               (json.dumps(self.message("1")).encode(),))
        before = len(self.sent())
        self.start_hub()
        self.graph.wait_for(lambda requests: len(self.sent()) > before, 15)
        self.assertIn("What is your full name?", self.sent()[-1][1])


if __name__ == "__main__":
    if not CTL or not HUB:
        sys.exit("PRAVESH_CTL and PRAVESH_HUB must name the built programs")
    unittest.main(verbosity=2)
