#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-outbox.py: the hub's outbox between real processes — pravesh-hub on
# a real SQLite file, pravesh-ctl as the admin and as a desk, and local
# stand-ins for Meta's Graph API and an SMS gateway (fake_services.py)
# that record what the hub sends: texts and tickets go out (the uploaded
# QR decodes to a code that verifies), failures are retried with growing
# waits, rate limits pause the channel (but WhatsApp's limit on messages
# to one person delays that message alone), a refusal fails the message
# with its reason, a ticket outside the 24-hour window goes as the approved
# template (known before, refused at once, reported later by a status
# webhook, or — with the webhook off — whenever there is a template), the
# throughput limit holds, a killed hub sends every message
# after its restart (and only those it could not know were sent twice),
# a desk's "send this ticket" is sent within a second of its sync, SMS go
# through the gateway with its auth header, and the admin sees it all.
# Paid messages (SMS, WhatsApp templates) go only to the countries the
# fair sends to — whoever queued them: a refused one fails with its
# reason, free WhatsApp replies to someone who wrote still go — and within
# the day's budgets per destination prefix and in all, held once spent
# with one log line, not one per message, remembered across a restart
# (a volunteer's sign-in code still goes, a visitor's code to her phone is
# held like any); /metrics shows them, each country's budget from the
# day's start, and its counts by status stay right whoever writes the
# outbox. Devices are told, with the list of peers, which channels the
# hub can send a ticket or a sign-in code by, as its settings allow; the
# sign-in answer says whether a code was sent. A desk asks the hub where
# one ticket's sending has got (sent, failed and why in a word, never the
# phone), with its token, within a rate; other roles and no token are
# refused, and a ticket the hub does not hold is said to be unknown.

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_services  # noqa: E402
import hubtest  # noqa: E402
from hubtest import HUB, SLOW  # noqa: E402

TOKEN = "EAAG-test-token"
SMS_AUTH = "Authorization: Bearer sms-s3cret"
PHONE_ID = "106540352242922"
ASHA = "+919876543210"


class OutboxTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pravesh-outbox-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.hub_db = self.path("hub.db")
        self.servers = []
        self.addCleanup(self._stop_all)
        self.graph = fake_services.GraphFake(token=TOKEN)
        self.addCleanup(self.graph.stop)
        self.sms = fake_services.SmsFake(auth_header=SMS_AUTH)
        self.addCleanup(self.sms.stop)
        hubtest.make_event(self.hub_db, self.dir, "Outbox Fair", "--gates", "Gate 1")

    def _stop_all(self):
        for server in self.servers:
            server.kill()

    def path(self, name):
        return os.path.join(self.dir, name)

    # -- processes --

    def ctl(self, *args, db, rc=0):
        return hubtest.ctl(*args, db=db, cwd=self.dir, rc=rc)

    def ctl_json(self, *args, db, rc=0):
        return json.loads(self.ctl(*args, db=db, rc=rc).stdout)

    def config(self, **groups):
        """Writes the hub's settings: the fakes, quick retries, and @groups
        ({"whatsapp": {"key": "value"}, …}; a value None drops the key)."""
        settings = {
            "whatsapp": {"graph-url": self.graph.url, "phone-number-id": PHONE_ID, "access-token": TOKEN,
                         "app-secret": "test-app-secret", "verify-token": "test-verify-token"},
            "sms": {"url-template": self.sms.url + "send?to={to}&text={text}&from={from}",
                    "auth-header": SMS_AUTH, "from": "PRAVESH"},
            "outbox": {"poll-seconds": "1", "base-backoff-ms": "300", "max-attempts": "4",
                       "timeout-seconds": "5" if SLOW else "2"},
        }
        for group, keys in groups.items():
            if keys is None:
                settings.pop(group, None)
                continue
            settings.setdefault(group, {}).update(keys)
        return hubtest.write_config(self.path("hub.conf"), settings)

    def start_hub(self, **groups):
        hub = hubtest.start_hub(self.hub_db, self.config(**groups), self.path("hub.log"))
        self.servers.append(hub)
        return hub

    def assertStops(self, hub):
        hub.stop_cleanly()

    def log(self):
        return hubtest.read_log(self.path("hub.log"))

    # -- the outbox --

    def enqueue(self, channel, recipient, body, kind="text", issuer=None, serial=None, otp=None):
        """A row as the hub's own writers make it (another process writing
        the file is noticed within a moment)."""
        now = int(time.time() * 1e6)
        with sqlite3.connect(self.hub_db, timeout=30) as db:
            return db.execute("INSERT INTO outbox (channel, recipient, body, created_at, kind, issuer, serial, "
                              "otp, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              (channel, recipient, body, now, kind, issuer, serial, otp, now)).lastrowid

    def enqueue_many(self, channel, count, prefix="Message"):
        now = int(time.time() * 1e6)
        phones = [f"+9198{i:08d}" for i in range(count)]
        self.wrote_lately(*phones)
        with sqlite3.connect(self.hub_db, timeout=30) as db:
            first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM outbox").fetchone()[0]
            db.executemany("INSERT INTO outbox (channel, recipient, body, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           [(channel, phone, f"{prefix} {i}", now, now) for i, phone in enumerate(phones)])
        return list(range(first, first + count))

    def wrote_lately(self, *phones):
        """These visitors wrote to the WhatsApp number a minute ago, as the
        bot records it: free-form messages to them are allowed (Meta takes
        only templates from a business that was not written to for 24 h)."""
        now = int(time.time() * 1e6)
        with sqlite3.connect(self.hub_db, timeout=30) as db:
            db.executemany("INSERT OR REPLACE INTO whatsapp_conversations (wa_id, state, last_inbound_at, "
                           "created_at, updated_at) VALUES (?, 'done', ?, ?, ?)",
                           [(phone.lstrip("+"), now - 60_000_000, now, now) for phone in phones])

    def metrics(self, hub):
        return urllib.request.urlopen(hub.url + "metrics", timeout=10).read().decode()

    def assertMetricsCounts(self, hub):
        """The counts by status /metrics shows are the rows'."""
        metrics = self.metrics(hub)
        rows = dict(hubtest.query(self.hub_db, "SELECT status, count(*) FROM outbox GROUP BY status"))
        for status in ("queued", "sending", "sent", "delivered", "read", "failed", "held"):
            self.assertIn(f'pravesh_outbox_messages{{status="{status}"}} {rows.get(status, 0)}\n', metrics)

    def outbox(self, *extra):
        return {m["id"]: m for m in self.ctl_json("outbox", "--json", *extra, db=self.hub_db)}

    def wait_status(self, ids, status, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            messages = self.outbox()
            if all(messages[i]["status"] == status for i in ids):
                return messages
            if time.monotonic() > deadline:
                self.fail(f"not all {status}: {[messages[i] for i in ids if messages[i]['status'] != status]}")
            time.sleep(0.1)

    def issue(self, db, *extra):
        code = self.ctl("ticket", "issue", "--category", "Season pass", "--name", "Asha Rao", "--phone",
                        "98765 43210", *extra, db=db).stdout.splitlines()[0]
        shown = self.ctl_json("ticket", "show", code, "--json", db=db)
        return code, shown

    def decode_png(self, data):
        return hubtest.decode_qr(data, self.path("ticket.png"))

    def assertNoPhonesLogged(self, *phones):
        log = self.log()
        for phone in phones:
            self.assertNotIn(phone.lstrip("+")[-10:], log)


def opaque_id(message):
    return int(message["biz_opaque_callback_data"].split(":")[1])


class TestWhatsapp(OutboxTestCase):
    def test_text_and_ticket(self):
        code, shown = self.issue(self.hub_db)
        issuer, serial = (int(x) for x in shown["serial"].split("-"))
        self.wrote_lately(ASHA)
        text_id = self.enqueue("whatsapp", ASHA, "Welcome to the Outbox Fair")
        ticket_id = self.enqueue("whatsapp", ASHA, "Your ticket " + shown["serial"], "ticket", issuer, serial)
        hub = self.start_hub()
        sent = self.graph.wait_messages(2, timeout=20)
        requests = self.graph.snapshot()

        by_type = {m["type"]: m for m in sent}
        text = by_type["text"]
        self.assertEqual(text["messaging_product"], "whatsapp")
        self.assertEqual(text["to"], ASHA.lstrip("+"))
        self.assertEqual(text["text"]["body"], "Welcome to the Outbox Fair")
        self.assertEqual(opaque_id(text), text_id)
        for request in requests:
            self.assertEqual(request.headers["authorization"], "Bearer " + TOKEN)
            self.assertTrue(request.path.startswith(f"/v21.0/{PHONE_ID}/"), request.path)

        # The ticket: uploaded as a PNG, then sent by its media id.
        [(upload, media_id)] = self.graph.uploads()
        self.assertEqual(upload.form["messaging_product"].text, "whatsapp")
        self.assertEqual(upload.form["type"].text, "image/png")
        self.assertEqual(upload.form["file"].content_type, "image/png")
        self.assertTrue(upload.form["file"].filename.endswith(".png"))
        image = by_type["image"]
        self.assertEqual(image["image"]["id"], media_id)
        self.assertEqual(image["image"]["caption"], "Your ticket " + shown["serial"])
        self.assertEqual(opaque_id(image), ticket_id)
        decoded = self.decode_png(upload.form["file"].data)
        self.assertEqual(decoded, code)
        verdict = self.ctl("verify", decoded, db=self.hub_db)
        self.assertIn("VALID", verdict.stdout)

        messages = self.wait_status([text_id, ticket_id], "sent")
        wamids = {r.reply["messages"][0]["id"] for r in requests if r.endpoint == "messages"}
        self.assertEqual({messages[i]["provider_id"] for i in (text_id, ticket_id)}, wamids)
        self.assertEqual(messages[ticket_id]["ticket"], shown["serial"])
        self.assertEqual(messages[text_id]["recipient"], ASHA)  # the admin sees it whole
        table = self.ctl("outbox", db=self.hub_db).stdout
        self.assertIn("sent", table)
        self.assertIn("ticket " + shown["serial"], table)
        metrics = urllib.request.urlopen(hub.url + "metrics", timeout=10).read().decode()
        self.assertIn('pravesh_outbox_messages{status="sent"} 2', metrics)
        self.assertStops(hub)
        self.assertNoPhonesLogged(ASHA)

    def test_retries_with_growing_waits(self):
        # Two server errors, then an answer too slow to wait for (which the
        # provider may still have taken: delivery is at least once): three
        # failures, then it goes through.
        self.graph.fail("500", count=1)
        self.graph.fail("503", count=1)
        self.graph.fail("slow", count=1, delay=6 if SLOW else 2.5)
        self.wrote_lately(ASHA)
        message = self.enqueue("whatsapp", ASHA, "Third time lucky")
        hub = self.start_hub()
        self.graph.wait_messages(1, timeout=30)
        messages = self.wait_status([message], "sent")
        self.assertEqual(messages[message]["attempts"], 3)
        self.assertIsNone(messages[message]["last_error"])
        calls = [r for r in self.graph.snapshot() if r.endpoint == "messages"]
        self.assertEqual(len(calls), 4)
        self.assertEqual([r.status for r in calls[:2]], [500, 503])
        first, second = calls[1].t - calls[0].t, calls[2].t - calls[1].t
        # 300 ms, then 600 ms, each less up to half at random.
        self.assertGreaterEqual(first, 0.14)
        self.assertGreaterEqual(second, 0.29)
        self.assertGreaterEqual(second, first * 0.9)
        self.assertIn("failed (HTTP 500", self.log())
        self.assertStops(hub)

    def test_rate_limit_pauses_the_channel(self):
        # HTTP 429 with Retry-After, then Meta's 130429 in a 400 without it.
        self.graph.fail("429", count=1, retry_after=1)
        self.graph.fail("429", count=1, status=400)
        self.wrote_lately(ASHA)
        message = self.enqueue("whatsapp", ASHA, "Patience")
        hub = self.start_hub()
        self.graph.wait_messages(1, timeout=20)
        messages = self.wait_status([message], "sent")
        self.assertEqual(messages[message]["attempts"], 0)  # slowing down is no failure
        calls = [r for r in self.graph.snapshot() if r.endpoint == "messages"]
        self.assertEqual([r.status for r in calls], [429, 400, 200])
        self.assertGreaterEqual(calls[1].t - calls[0].t, 0.95)
        self.assertGreaterEqual(calls[2].t - calls[1].t, 1.9)  # the second pause in a row is longer
        self.assertIn("rate-limited", self.log())
        self.assertStops(hub)

    def test_refusal_fails_with_the_reason_and_retry(self):
        self.graph.fail("400", count=1)
        self.wrote_lately(ASHA)
        message = self.enqueue("whatsapp", ASHA, "Refused")
        hub = self.start_hub()
        failed = self.wait_status([message], "failed")[message]
        self.assertIn("HTTP 400", failed["last_error"])
        self.assertIn("Invalid parameter", failed["last_error"])
        self.assertEqual(failed["attempts"], 1)
        time.sleep(0.5)
        self.assertEqual(len([r for r in self.graph.snapshot() if r.endpoint == "messages"]), 1)
        self.assertEqual(list(self.outbox("--status", "failed")), [message])
        self.assertEqual(self.outbox("--status", "sent"), {})
        self.assertIn("Invalid parameter", self.ctl("outbox", "--status", "failed", db=self.hub_db).stdout)

        # The admin sends it again; the running hub notices.
        self.ctl("outbox", "--retry", str(message), db=self.hub_db)
        self.wait_status([message], "sent")
        again = self.ctl("outbox", "--retry", str(message), db=self.hub_db, rc=1)
        self.assertIn("only a failed or held", again.stderr)
        self.ctl("outbox", "--retry", "999", db=self.hub_db, rc=1)
        self.ctl("outbox", "--status", "lost", db=self.hub_db, rc=1)
        self.assertStops(hub)

    def test_template_outside_the_window(self):
        code, shown = self.issue(self.hub_db)
        issuer, serial = (int(x) for x in shown["serial"].split("-"))
        template_settings = {"ticket-template": "pravesh_ticket", "template-language": "hi"}
        # Asha never wrote: the hub knows the window is closed and sends the
        # template at once.
        first = self.enqueue("whatsapp", ASHA, "Ticket", "ticket", issuer, serial)
        hub = self.start_hub(whatsapp=template_settings)
        self.wait_status([first], "sent")
        sent = self.graph.messages()
        self.assertEqual([m["type"] for m in sent], ["template"])
        template = sent[0]["template"]
        self.assertEqual((template["name"], template["language"]["code"]), ("pravesh_ticket", "hi"))
        [(_, media_id)] = self.graph.uploads()
        header, body = template["components"]
        self.assertEqual(header["parameters"][0]["image"]["id"], media_id)
        self.assertEqual(body["parameters"][0]["text"], shown["serial"])

        # Ravi wrote, the hub thinks, but Meta says the window is closed:
        # the image is refused (131047) and the template goes instead.
        ravi = "+919810000000"
        self.wrote_lately(ravi)
        self.graph.close_window(ravi)
        second = self.enqueue("whatsapp", ravi, "Ticket", "ticket", issuer, serial)
        self.wait_status([second], "sent")
        calls = [r for r in self.graph.snapshot() if r.endpoint == "messages"][1:]
        self.assertEqual([(r.json["type"], r.status) for r in calls], [("image", 400), ("template", 200)])
        self.assertEqual(calls[0].reply["error"]["code"], 131047)
        self.assertStops(hub)

        # With no template, a ticket fails and the log says why; so does a
        # text, which has no template route.
        third = self.enqueue("whatsapp", ASHA, "Ticket", "ticket", issuer, serial)
        text = self.enqueue("whatsapp", ASHA, "Hello again")
        hub = self.start_hub()
        messages = self.wait_status([third, text], "failed")
        self.assertIn("24-hour", messages[third]["last_error"])
        self.assertIn("24-hour", messages[text]["last_error"])
        self.assertIn("no template is set", self.log())
        self.assertStops(hub)


    def test_pair_limit_delays_one_message(self):
        # Too many messages to Asha: hers waits, Ravi's go on at once.
        ravi = "+919810000000"
        self.graph.fail("131056", count=1, to=ASHA)
        self.wrote_lately(ASHA, ravi)
        first = self.enqueue("whatsapp", ASHA, "For Asha")
        hub = self.start_hub()
        self.graph.wait_for(lambda requests: any(r.status == 400 for r in requests), 15)
        refused = time.monotonic()
        later = [self.enqueue("whatsapp", ravi, f"For Ravi {i}") for i in range(3)]
        messages = self.wait_status(later, "sent", timeout=15)
        self.assertLess(time.monotonic() - refused, 5.0)
        self.assertEqual(messages[first]["status"], "queued")
        self.assertIn("131056", messages[first]["last_error"])
        messages = self.wait_status([first], "sent", timeout=20)
        self.assertEqual(messages[first]["attempts"], 0)  # waiting is no failure
        calls = [r for r in self.graph.snapshot() if r.endpoint == "messages" and r.json["to"] == ASHA.lstrip("+")]
        self.assertEqual([r.status for r in calls], [400, 200])
        self.assertGreaterEqual(calls[1].t - calls[0].t, 5.9)
        to_ravi = [r.t for r in self.graph.snapshot() if r.endpoint == "messages" and r.json["to"] == ravi.lstrip("+")]
        self.assertEqual(len(to_ravi), 3)
        self.assertLess(max(to_ravi), calls[1].t)
        self.assertIn("limit of messages to one person", self.log())
        self.assertNotIn("pausing the whatsapp channel", self.log())
        self.assertStops(hub)

    def test_template_when_nothing_knows_the_window(self):
        # The webhook is off: nothing tells the outbox who wrote lately.
        # With a template a ticket goes as it at once, since a visitor at a
        # desk or the web page has most likely never written.
        code, shown = self.issue(self.hub_db)
        issuer, serial = (int(x) for x in shown["serial"].split("-"))
        first = self.enqueue("whatsapp", ASHA, "Ticket", "ticket", issuer, serial)
        hub = self.start_hub(whatsapp={"app-secret": None, "ticket-template": "pravesh_ticket"})
        self.wait_status([first], "sent")
        self.assertEqual([m["type"] for m in self.graph.messages()], ["template"])
        self.assertIn("The WhatsApp webhook is off", self.log())
        self.assertStops(hub)
        # Without one, the image is tried (and goes, to someone who wrote).
        second = self.enqueue("whatsapp", ASHA, "Ticket", "ticket", issuer, serial)
        hub = self.start_hub(whatsapp={"app-secret": None})
        self.wait_status([second], "sent")
        self.assertEqual([m["type"] for m in self.graph.messages()], ["template", "image"])
        self.assertStops(hub)

    def test_window_closed_reported_later(self):
        # Meta takes the image, then reports by a status webhook that it
        # failed: more than 24 hours since the visitor wrote (131047). The
        # ticket goes again as the template, once; a text cannot.
        code, shown = self.issue(self.hub_db)
        issuer, serial = (int(x) for x in shown["serial"].split("-"))
        ravi, meera = "+919810000001", "+919810000002"
        self.wrote_lately(ASHA, ravi, meera)  # as far as the hub knows
        hub = self.start_hub(whatsapp={"ticket-template": "pravesh_ticket"})
        self.graph.set_webhook(hub.url + "webhooks/whatsapp", "test-app-secret")
        self.graph.close_window(ASHA, report="webhook")
        self.graph.close_window(ravi, report="webhook")
        ticket = self.enqueue("whatsapp", ASHA, "Ticket", "ticket", issuer, serial)
        text = self.enqueue("whatsapp", ravi, "Hello Ravi")

        def sent_to(phone):
            return [m["type"] for m in self.graph.messages() if m["to"] == phone.lstrip("+")]

        self.graph.wait_for(lambda requests: "template" in [m["type"] for m in self.graph.messages(requests)
                                                            if m["to"] == ASHA.lstrip("+")], 20)
        messages = self.wait_status([ticket], "sent")
        self.assertEqual(sent_to(ASHA), ["image", "template"])
        self.assertEqual(messages[ticket]["attempts"], 0)
        self.assertEqual(hubtest.query(self.hub_db, "SELECT by_template FROM outbox WHERE id = ?", ticket), [(1,)])
        template = [m for m in self.graph.messages() if m["type"] == "template"][0]
        self.assertEqual(template["template"]["components"][1]["parameters"][0]["text"], shown["serial"])
        messages = self.wait_status([text], "failed")
        self.assertIn("131047", messages[text]["last_error"])
        self.assertEqual(sent_to(ravi), ["text"])
        self.assertTrue(all(w["status"] == 200 for w in self.graph.wait_webhooks(2)))
        self.assertIn("goes again as the template", self.log())

        # A template refused the same way is not sent again and again.
        self.graph.fail("131047-webhook", count=None, to=meera)
        again = self.enqueue("whatsapp", meera, "Ticket", "ticket", issuer, serial)
        messages = self.wait_status([again], "failed", timeout=20)
        self.assertIn("131047", messages[again]["last_error"])
        self.assertEqual(sent_to(meera), ["image", "template"])
        time.sleep(1.0)
        self.assertEqual(sent_to(meera), ["image", "template"])
        self.assertStops(hub)
        self.assertNoPhonesLogged(ASHA, ravi, meera)


class TestThroughput(OutboxTestCase):
    def test_messages_per_second(self):
        ids = self.enqueue_many("whatsapp", 200)
        hub = self.start_hub(whatsapp={"messages-per-second": "50"})
        self.graph.wait_messages(200, timeout=60)
        times = sorted(r.t for r in self.graph.snapshot() if r.endpoint == "messages")
        # No second holds more than the rate, and the bucket's small burst.
        busiest = max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))
        self.assertLessEqual(busiest, 50 + 5 + 2, f"{busiest} requests in one second")
        self.assertGreaterEqual(times[-1] - times[0], (200 - 6) / 50 * 0.95)
        self.assertEqual(sorted(opaque_id(m) for m in self.graph.messages()), ids)
        self.wait_status(ids, "sent")
        self.assertStops(hub)

    def test_killed_and_restarted(self):
        ids = self.enqueue_many("whatsapp", 120)
        hub = self.start_hub(whatsapp={"messages-per-second": "40"})
        self.graph.wait_messages(30, timeout=30)
        hub.kill()
        with sqlite3.connect(self.hub_db, timeout=30) as db:
            cut_off = {row[0] for row in db.execute("SELECT id FROM outbox WHERE status = 'sending'")}
        before = len(self.graph.messages())
        self.assertLess(before, 120)

        hub = self.start_hub(whatsapp={"messages-per-second": "40"})
        self.wait_status(ids, "sent", timeout=30)
        seen = {}
        for message in self.graph.messages():
            seen[opaque_id(message)] = seen.get(opaque_id(message), 0) + 1
        self.assertEqual(sorted(seen), ids)
        # Twice only what the crash cut off between the answer and the row.
        twice = {i for i, n in seen.items() if n > 1}
        self.assertLessEqual(twice, cut_off)
        self.assertEqual(max(seen.values()), 2 if twice else 1)
        if cut_off:
            self.assertIn("cut off by the last stop", self.log())
        self.assertStops(hub)


class TestDesksAndSms(OutboxTestCase):
    def test_a_desk_asks_and_the_hub_sends(self):
        desk = self.path("desk.db")
        self.ctl("device", "add", "--role", "desk", "--name", "Desk 1", "--out", desk, db=self.hub_db)
        # A visitor at a desk has not written to the WhatsApp number: the
        # ticket goes as the approved template.
        hub = self.start_hub(whatsapp={"ticket-template": "pravesh_ticket"})
        code, shown = self.issue(desk)
        self.ctl("ticket", "send", shown["serial"], "--via", "whatsapp", db=desk)
        self.ctl("ticket", "send", shown["serial"], "--via", "sms", db=desk)
        self.ctl_json("sync", "--once", "--hub", hub.url, db=desk)
        synced = time.monotonic()
        [sent] = self.graph.wait_messages(1, timeout=10)
        self.assertLess(self.graph.snapshot()[0].t - synced, 3.0 if SLOW else 1.0)
        self.assertEqual((sent["type"], sent["to"]), ("template", ASHA.lstrip("+")))
        self.assertEqual(sent["template"]["components"][1]["parameters"][0]["text"], shown["serial"])
        [(upload, _)] = self.graph.uploads()
        self.assertEqual(self.decode_png(upload.form["file"].data), code)
        [sms] = self.sms.wait_messages(1, timeout=10)
        self.assertEqual(sms.query["to"], [ASHA])
        self.assertIn(code, sms.query["text"][0])
        self.assertIn(shown["serial"], sms.query["text"][0])

        # Each request is one message, its status the request's too.
        deadline = time.monotonic() + 10
        while True:
            deliveries = self.ctl_json("ticket", "show", shown["serial"], "--json", db=self.hub_db)["deliveries"]
            if [d["status"] for d in deliveries] == ["sent", "sent"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual([(d["channel"], d["status"]) for d in deliveries], [("whatsapp", "sent"), ("sms", "sent")])
        messages = self.outbox()
        self.assertEqual(len(messages), 2)
        self.assertTrue(all(m["delivery"]["device"] == 2 and m["kind"] == "ticket" for m in messages.values()))
        # A later sync brings nothing new to send.
        self.ctl_json("sync", "--once", db=desk)
        time.sleep(0.5)
        self.assertEqual(len(self.outbox()), 2)
        self.assertEqual(len(self.graph.messages()), 1)
        self.assertStops(hub)
        self.assertNoPhonesLogged(ASHA)

    def delivery(self, hub, db, serial, token=None):
        """The hub's word on a ticket's sending, as a device asks it: (HTTP
        status, answer)."""
        if token is None:
            token = self.ctl("token", "--for", hub.url, db=db).stdout.strip()
        url = hub.url + "api/v1/tickets/delivery?" + urllib.parse.urlencode({"serial": serial})
        headers = {"Authorization": "Bearer " + token} if token else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def test_a_desk_follows_its_tickets_sending(self):
        desk, gate = self.path("desk.db"), self.path("gate.db")
        self.ctl("device", "add", "--role", "desk", "--name", "Desk 1", "--out", desk, db=self.hub_db)
        self.ctl("device", "add", "--role", "gate", "--name", "Gate 1", "--out", gate, db=self.hub_db)
        hub = self.start_hub(whatsapp={"ticket-template": "pravesh_ticket"})
        token = self.ctl("token", "--for", hub.url, db=desk).stdout.strip()
        _, sent = self.issue(desk)
        _, refused = self.issue(desk, "--phone", "98765 43211")
        # Meta refuses the second visitor's number for good.
        self.graph.fail("131026", count=None, endpoint="messages", to="+919876543211")
        # Not synced yet: the hub holds no such ticket, and says so.
        self.assertEqual(self.delivery(hub, desk, sent["serial"], token),
                         (404, {"error": "The hub holds no such ticket"}))
        for shown in (sent, refused):
            self.ctl("ticket", "send", shown["serial"], "--via", "whatsapp", db=desk)
        self.ctl_json("sync", "--once", "--hub", hub.url, db=desk)

        deadline = time.monotonic() + 30
        while True:
            answers = [self.delivery(hub, desk, shown["serial"], token) for shown in (sent, refused)]
            states = [[m["state"] for m in a["messages"]] for _, a in answers]
            if states == [["sent"], ["failed"]]:
                break
            self.assertLess(time.monotonic(), deadline, answers)
            time.sleep(0.5)
        [(status, first), (_, second)] = answers
        self.assertEqual(status, 200)
        # Each ticket's own message only; a reason in a word the desk puts
        # in a volunteer's words, never the phone or the provider's text.
        self.assertEqual(first["serial"], sent["serial"])
        [message] = first["messages"]
        self.assertEqual(set(message), {"channel", "state", "at"})
        self.assertEqual(message["channel"], "whatsapp")
        self.assertLess(abs(message["at"] / 1e6 - time.time()), 60)
        [message] = second["messages"]
        self.assertEqual((message["channel"], message["state"], message["reason"]),
                         ("whatsapp", "failed", "not-reachable"))
        for _, answer in answers:
            self.assertNotIn("9876543", json.dumps(answer))
            self.assertNotIn("131026", json.dumps(answer))
        # Meta reports the first delivered: so does the hub.
        self.graph.set_webhook(hub.url + "webhooks/whatsapp", "test-app-secret")
        [wamid] = [r.reply["messages"][0]["id"] for r in self.graph.snapshot()
                   if r.endpoint == "messages" and r.status == 200]
        self.assertEqual(self.graph.report_status(wamid, "delivered", ASHA), 200)
        # The hub answers Meta at once and applies the report in its loop's
        # next turn: asked until it has, twice a second (within the hub's
        # limit on a device's questions) for at most half a minute.
        for _ in range(60):
            status, answer = self.delivery(hub, desk, sent["serial"], token)
            states = [(m["channel"], m["state"]) for m in answer.get("messages", [])]
            if states != [("whatsapp", "sent")]:
                break
            time.sleep(0.5)
        self.assertEqual(states, [("whatsapp", "delivered")])

        # A ticket of another device is answered too; nobody else is.
        _, by_hub = self.issue(self.hub_db)
        self.assertEqual(self.delivery(hub, desk, by_hub["serial"], token),
                         (200, {"serial": by_hub["serial"], "messages": []}))
        self.assertEqual(self.delivery(hub, desk, sent["serial"], "")[0], 401)
        self.assertEqual(self.delivery(hub, desk, sent["serial"], "PVT1.forged.token")[0], 401)
        self.assertEqual(self.delivery(hub, gate, sent["serial"]),
                         (403, {"error": "Only desks and admin devices follow a ticket's sending"}))
        self.assertEqual(self.delivery(hub, desk, "not-a-serial", token), (400, {"error": "Give ?serial=3-000145"}))
        # A device asking in a loop is told to wait, after at most two a
        # second for the minute.
        statuses = [self.delivery(hub, desk, sent["serial"], token)[0] for _ in range(121)]
        self.assertIn(429, statuses)
        self.assertStops(hub)
        self.assertNoPhonesLogged(ASHA, "+919876543211")

    def test_sms_gateway_and_volunteer_codes(self):
        gate = self.path("gate.db")
        self.ctl("device", "add", "--role", "gate", "--name", "Gate 1", "--out", gate, db=self.hub_db)
        self.ctl("volunteer", "add", "--name", "Meera", "--phone", "98000 00001", db=self.hub_db)
        hub = self.start_hub()
        self.ctl_json("sync", "--once", "--hub", hub.url, db=gate)
        self.assertEqual(self.ctl_json("signin", "--phone", "9800000001", db=gate),
                         {"sent": True, "channel": "sms"})
        [sms] = self.sms.wait_messages(1, timeout=10)
        self.assertEqual(sms.headers["authorization"], SMS_AUTH.split(": ", 1)[1])
        self.assertEqual((sms.query["to"], sms.query["from"]), (["+919800000001"], ["PRAVESH"]))
        code = re.search(r"\b(\d{6})\b", sms.query["text"][0]).group(1)
        # The admin's way to read it still works, and the code signs in.
        self.assertIn(code, self.ctl("otp", "show", "9800000001", db=self.hub_db).stdout)
        self.assertEqual(self.ctl_json("signin", "--phone", "9800000001", "--code", code, db=gate)["name"], "Meera")
        [otp] = self.outbox().values()
        self.assertEqual((otp["channel"], otp["status"], otp["provider_id"]), ("sms", "sent", "sms-1"))
        self.assertStops(hub)
        self.assertNoPhonesLogged("+919800000001")

        # A POST gateway with a JSON body; one that refuses the key fails it.
        message = self.enqueue("sms", ASHA, 'Line "one"\nline two')
        hub = self.start_hub(sms={"url-template": self.sms.url + "v2/messages", "method": "POST",
                                  "content-type": "application/json",
                                  "body-template": '{"to": "{to-digits}", "body": "{text}"}'})
        self.wait_status([message], "sent")
        posted = self.sms.messages()[-1]
        self.assertEqual(posted.method, "POST")
        self.assertEqual(posted.json, {"to": ASHA.lstrip("+"), "body": 'Line "one"\nline two'})
        self.assertStops(hub)
        refused = self.enqueue("sms", ASHA, "Wrong key")
        hub = self.start_hub(sms={"auth-header": "Authorization: Bearer wrong"})
        failed = self.wait_status([refused], "failed")[refused]
        self.assertIn("HTTP 401", failed["last_error"])
        self.assertStops(hub)

    def test_unconfigured_channel_waits(self):
        message = self.enqueue("sms", ASHA, "Waiting")
        hub = self.start_hub(sms=None, whatsapp={"access-token": None})
        time.sleep(1.5)
        self.assertEqual(self.outbox()[message]["status"], "queued")
        self.assertEqual(self.sms.snapshot(), [])
        self.assertEqual(self.log().count("not configured"), 1)
        self.assertStops(hub)

    def test_bad_settings_are_refused(self):
        # main () leaves what it made so far to the exit on this path.
        env = dict(os.environ)
        if SLOW:
            env["ASAN_OPTIONS"] += ":detect_leaks=0"
        for groups in ({"outbox": {"max-attempts": "0"}}, {"sms": {"method": "PUT"}},
                       {"sms": {"auth-header": "no colon"}}, {"whatsapp": {"messages-per-second": "fast"}},
                {"whatsapp": {"tickets-per-hour": "0"}}, {"whatsapp": {"tickets-per-hour": "many"}},
                {"outbox": {"countries": "India"}}, {"outbox": {"countries": "+0"}}, {"outbox": {"countries": "+91;*"}},
                {"outbox": {"daily-limit": "-1"}}, {"outbox": {"prefix-limits": "+91"}},
                {"outbox": {"prefix-limits": "91=5"}}, {"web": {"whatsapp-number": "the fair"}},
                {"web": {"tickets-burst": "0"}}):
            proc = subprocess.run([HUB, "--db", self.hub_db, "--listen", "127.0.0.1:0",
                                   "--config", self.config(**groups)],
                                  capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(proc.returncode, 1, f"{groups}: {proc.stderr}")
            self.assertIn("pravesh-hub: [", proc.stderr)


class TestPaidLimits(OutboxTestCase):
    def test_countries_the_fair_does_not_send_to(self):
        uk, nanp, satellite = "+447700900123", "+19005550100", "+8821234567890"
        code, shown = self.issue(self.hub_db)
        issuer, serial = (int(x) for x in shown["serial"].split("-"))
        # As the hub's writers make them — a desk's request, a volunteer's
        # code, the bot —, rows that never passed the web's checks.
        refused = [self.enqueue("sms", uk, "Code 123456"), self.enqueue("sms", uk, "Code 654321"),
                   self.enqueue("sms", nanp, "Premium"), self.enqueue("sms", satellite, "Satellite"),
                   # never wrote: the template, which is paid
                   self.enqueue("whatsapp", "+447700900999", "Ticket", "ticket", issuer, serial)]
        home = self.enqueue("sms", ASHA, "Welcome")
        # A free reply on WhatsApp to someone who wrote costs nothing: it goes.
        self.wrote_lately(uk)
        reply = self.enqueue("whatsapp", uk, "Hello from the fair")
        hub = self.start_hub(whatsapp={"ticket-template": "pravesh_ticket"})
        messages = self.wait_status(refused, "failed")
        for i in refused:
            self.assertIn("is not among the countries this fair sends to ([outbox] countries: +91)",
                          messages[i]["last_error"])
        self.assertTrue(messages[refused[0]]["last_error"].startswith("+44 "))
        self.assertTrue(messages[refused[2]]["last_error"].startswith("+1 "))
        self.assertTrue(messages[refused[3]]["last_error"].startswith("+882 "))
        self.wait_status([home, reply], "sent")
        self.assertEqual([m.query["to"] for m in self.sms.messages()], [[ASHA]])
        self.assertEqual([(m["type"], m["to"]) for m in self.graph.messages()], [("text", uk.lstrip("+"))])
        # Once in the log for +44, not once a message.
        self.assertEqual(self.log().count("no paid message goes to +44 numbers"), 1)
        self.assertEqual(self.log().count("no paid message goes to +1 numbers"), 1)
        metrics = self.metrics(hub)
        self.assertIn('pravesh_outbox_paid_today{prefix="+44",outcome="not_allowed"} 3\n', metrics)
        self.assertIn('pravesh_outbox_paid_today{prefix="+1",outcome="not_allowed"} 1\n', metrics)
        self.assertIn('pravesh_outbox_paid_today{prefix="+91",outcome="sent"} 1\n', metrics)
        self.assertMetricsCounts(hub)
        self.assertStops(hub)

        # The fair may open more: the admin sends one on.
        hub = self.start_hub(outbox={"countries": "+91, +44"})
        self.ctl("outbox", "--retry", str(refused[0]), db=self.hub_db)
        self.wait_status([refused[0]], "sent")
        self.assertEqual(self.sms.messages()[-1].query["to"], [uk])
        self.assertStops(hub)
        self.assertNoPhonesLogged(uk, nanp, ASHA)

    def test_the_day_starts_with_each_country_budget(self):
        # Nothing sent yet: /metrics shows the budget of each country the
        # fair sends to, by its calling code, a bare "+91" as much as a
        # longer prefix.
        hub = self.start_hub(outbox={"countries": "+91, +1416", "daily-limit": "50", "prefix-daily-limit": "20"})
        metrics = self.metrics(hub)
        for prefix in ("+91", "+1"):
            self.assertIn(f'pravesh_outbox_budget_remaining{{prefix="{prefix}"}} 20\n', metrics)
            self.assertIn(f'pravesh_outbox_paid_today{{prefix="{prefix}",outcome="sent"}} 0\n', metrics)
        self.assertIn('pravesh_outbox_budget_remaining{prefix="all"} 50\n', metrics)
        self.assertNotIn('prefix="?"', metrics)
        self.assertStops(hub)

    def test_budgets_hold_and_outlive_a_restart(self):
        # Four paid messages a day in all; two to +9198….
        limits = {"daily-limit": "4", "prefix-limits": "+9198 = 2"}
        gate = self.path("gate.db")
        self.ctl("device", "add", "--role", "gate", "--name", "Gate 1", "--out", gate, db=self.hub_db)
        self.ctl("volunteer", "add", "--name", "Meera", "--phone", "98000 00001", db=self.hub_db)
        a = [self.enqueue("sms", f"+9198765000{i:02d}", f"A{i}") for i in range(3)]
        b = [self.enqueue("sms", f"+9197765000{i:02d}", f"B{i}") for i in range(3)]
        hub = self.start_hub(outbox=limits)
        messages = self.wait_status([a[0], a[1], b[0], b[1]], "sent")
        messages = self.wait_status([a[2], b[2]], "held")
        self.assertIn("today's budget of paid messages to +9198 is spent (2 a day, [outbox] prefix-limits)",
                      messages[a[2]]["last_error"])
        self.assertIn("today's budget of paid messages is spent (4 a day, [outbox] daily-limit)",
                      messages[b[2]]["last_error"])
        self.assertEqual(len(self.sms.messages()), 4)
        # More of the same are held too, and the log says so once.
        more = [self.enqueue("sms", "+919876500099", "A9"), self.enqueue("sms", "+919776500099", "B9")]
        self.wait_status(more, "held")
        self.assertEqual(self.log().count("budget of paid messages to +9198 is spent"), 1)
        self.assertEqual(self.log().count("budget of paid messages is spent"), 1)
        metrics = self.metrics(hub)
        self.assertIn('pravesh_outbox_paid_today{prefix="+9198",outcome="sent"} 2\n', metrics)
        self.assertIn('pravesh_outbox_paid_today{prefix="+9198",outcome="over_budget"} 2\n', metrics)
        self.assertIn('pravesh_outbox_paid_today{prefix="+91",outcome="sent"} 2\n', metrics)
        self.assertIn('pravesh_outbox_budget_remaining{prefix="all"} 0\n', metrics)
        self.assertIn('pravesh_outbox_budget_remaining{prefix="+9198"} 0\n', metrics)
        self.assertMetricsCounts(hub)
        # A volunteer's sign-in code is not held back by what the public
        # spent; what anyone can have sent to her phone — a visitor's code
        # (a web ticket registered to her number), a text — is.
        others = [self.enqueue("sms", "+919800000001", "Your code is 123456", kind="code", otp="123456"),
                  self.enqueue("sms", "+919800000001", "Hello")]
        self.wait_status(others, "held")
        self.ctl_json("sync", "--once", "--hub", hub.url, db=gate)
        self.assertEqual(self.ctl_json("signin", "--phone", "9800000001", db=gate),
                         {"sent": True, "channel": "sms"})
        [staff] = [m for m in self.outbox().values() if m["id"] not in others and m["recipient"] == "+919800000001"]
        self.wait_status([staff["id"]], "sent")
        self.assertIn("sign-in code", self.sms.messages()[-1].query["text"][0])
        self.assertStops(hub)

        # A restart does not hand the day's budget out again; an admin's
        # retry of a held one is held again, and the counts stay right.
        hub = self.start_hub(outbox=limits)
        later = self.enqueue("sms", "+919676500001", "C")
        self.wait_status([later], "held")
        self.ctl("outbox", "--retry", str(a[2]), db=self.hub_db)
        self.wait_status([a[2]], "held")
        self.assertEqual(len(self.sms.messages()), 5)
        self.assertMetricsCounts(hub)
        self.assertStops(hub)
        # A bigger budget lets the admin send it on.
        hub = self.start_hub(outbox={"daily-limit": "10"})
        self.ctl("outbox", "--retry", str(a[2]), db=self.hub_db)
        self.wait_status([a[2]], "sent")
        self.assertMetricsCounts(hub)
        self.assertStops(hub)


class TestChannelsTold(OutboxTestCase):
    def told(self, hub, gate, phone):
        """What the hub tells a device it can send by, and what sign-in says."""
        token = self.ctl("token", "--for", hub.url, db=gate).stdout.strip()
        request = urllib.request.Request(hub.url + "sync/v1/peers", headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(request, timeout=10) as reply:
            channels = json.loads(reply.read()).get("channels")
        return channels, self.ctl_json("signin", "--phone", phone, db=gate)

    def test_channels_follow_the_settings(self):
        gate = self.path("gate.db")
        self.ctl("device", "add", "--role", "gate", "--name", "Gate 1", "--out", gate, db=self.hub_db)
        cases = [
            # Nothing set up: nothing offered, and no code said to be sent.
            ({"sms": None, "whatsapp": None}, {"tickets": [], "codes": []}, {"sent": False}),
            # WhatsApp without a ticket template cannot reach a walk-in.
            ({"sms": None}, {"tickets": [], "codes": []}, {"sent": False}),
            ({"sms": None, "whatsapp": {"ticket-template": "pravesh_ticket"}},
             {"tickets": ["whatsapp"], "codes": []}, {"sent": False}),
            ({"whatsapp": None}, {"tickets": ["sms"], "codes": ["sms"]}, {"sent": True, "channel": "sms"}),
            ({"whatsapp": {"ticket-template": "pravesh_ticket"}},
             {"tickets": ["whatsapp", "sms"], "codes": ["sms"]}, {"sent": True, "channel": "sms"}),
        ]
        for i, (groups, channels, signin) in enumerate(cases):
            with self.subTest(groups=groups):
                hub = self.start_hub(**groups)
                self.ctl_json("sync", "--once", "--hub", hub.url, db=gate)
                # A phone of no volunteer gets the same answer as one of
                # a volunteer; one each, as a phone may ask thrice in ten
                # minutes.
                self.assertEqual(self.told(hub, gate, f"98000 0010{i}"), (channels, signin))
                self.assertStops(hub)

if __name__ == "__main__":
    unittest.main(verbosity=2)
