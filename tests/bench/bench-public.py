#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-public.py: the benchmark of the hub's public entry points (issue 7,
# doc/benchmarks.md), run against the built pravesh-hub, each figure from the
# same run. (a) Web self-registration: 64 keep-alive clients POST
# /register as fast as the hub answers, every request a new phone number
# for the one category open to the public (One-day), the rate limits
# raised out of the way; a registration is answered 303 only once its
# ticket is committed, which the run checks by counting the tickets in the
# hub's SQLite against the 303s (goal: 2,000/s). Beside it the same load on
# bench-bare-handler (libsoup and json-glib, no store: the framework's
# ceiling). (b) The WhatsApp webhook: 64 clients POST signed bodies, one
# text message "Hi" each from a WhatsApp id of its own, shaped as Meta
# documents them, until all are taken; the hub stores each before it
# answers 200 and the bot then answers every visitor (the replies stay
# queued in the outbox: no access token is set, and graph-url names a
# closed local port, so nothing leaves the machine). Figures: the rate at
# which the POSTs were taken, and messages processed per second from the
# first body stored to the last message acted on (goal: 1,000/s), both
# read from the hub's SQLite. The load is wrk with public.lua; without wrk
# a client in Python (asyncio, one core; slower, so it says so) stands in.
# Meson passes the programs in the environment (PV_BENCH_CTL, PV_BENCH_HUB,
# PV_BENCH_BARE, PV_BENCH_PUBLIC_LUA, PV_BENCH_WRK); by hand give
# --build-dir. One JSON object per figure on stdout, a readable table on
# stderr unless --json. Python's standard library only, and what
# bench-sync.py (beside this file) already has: its output, children and
# machine helpers are used as they are.
import argparse
import asyncio
import ctypes
import datetime
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_sync", os.path.join(HERE, "bench-sync.py"))
sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync)
sync.BENCH = "public"
BenchError = sync.BenchError
human, emit, emit_rate, emit_ratio, emit_latency = (sync.human, sync.emit, sync.emit_rate, sync.emit_ratio,
                                                    sync.emit_latency)

LOAD_LINE = "public.lua "
CATEGORY = "One-day"
PREFLIGHT_PHONE = "8000000000"
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
DISPLAY_NUMBER = "15550783881"
PREFLIGHT_WA_ID = "918999999999"
# Every limit at its largest (pv-hub-web.c takes at most 1,000,000), so
# that none answers 429 in a run of a few tens of thousands of requests
# from one address; each request takes a page token and a post token of
# the client's address, and a phone token of its number.
WEB_LIMITS = {key: "1000000" for key in ("requests-per-minute", "requests-burst", "posts-per-minute", "posts-burst",
                                         "phone-per-hour", "phone-burst", "network-tickets-per-minute",
                                         "network-tickets-burst", "tickets-per-minute", "tickets-burst")}
# A store answers within this, or the run is broken.
WAIT_TIMEOUT_S = 120
POLL_S = 0.005


def write_config(path, settings):
    with open(path, "w") as out:
        for group, keys in settings.items():
            out.write("[%s]\n" % group)
            out.writelines("%s=%s\n" % kv for kv in keys.items())
    return path


def start_hub(args, children, name, db, config):
    hub = children.start(name, [args.hub, "--db", db, "--listen", "127.0.0.1:0", "--config", config])
    return hub, children.listen_url(hub)


def query(db, sql, *params):
    """One row of @sql on @db, opened read-only beside the hub."""
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchone()
    finally:
        conn.close()


def http_request(url, method, path, body=None, headers=None):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, reply.headers, reply.read()
    finally:
        conn.close()


# The load: wrk with public.lua, or the Python client below

def start_load(args, url, mode, extra, duration):
    if args.client == "wrk":
        argv = [args.wrk, "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % duration, "--timeout", "10s",
                "-s", args.lua, url, "--", str(args.threads), mode] + extra
    else:
        argv = [sys.executable, os.path.abspath(__file__), "--load-worker", url, str(args.connections), str(duration),
                mode] + extra
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=sync._die_with_parent)


def finish_load(proc, timeout):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError("the load generator did not end")
    for line in out.decode(errors="replace").splitlines():
        if line.startswith(LOAD_LINE):
            w = json.loads(line[len(LOAD_LINE):])
            w["statuses"] = {int(k): v for k, v in w["statuses"].items()}
            return w
    raise BenchError("the load generator printed no `%s{…}` line (exit %s):\n%s%s"
                     % (LOAD_LINE, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")))


def run_load(args, url, mode, extra):
    proc = start_load(args, url, mode, extra, args.duration)
    return finish_load(proc, args.duration + 120)


class LoadState:
    """What the Python client shares between its connections."""

    def __init__(self, mode, extra):
        self.mode = mode
        self.sent = 0
        self.ran_out = False
        self.stopping = False
        self.statuses = {}
        self.latencies = []
        self.bytes = 0
        self.errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
        if mode == "register":
            token, cookie, category, day = extra
            self.head = ("POST /register HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         "Cookie: %s\r\n" % cookie).encode()
            self.form_head = "csrf=%s&name=Bench+Visitor&phone=" % urllib.parse.quote(token, safe="")
            self.form_tail = "&category=%s&day=%s&party=1" % (urllib.parse.quote(category), urllib.parse.quote(day))
        elif mode == "admit":
            self.head = b"POST /api/v1/admit HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        else:
            with open(extra[0]) as f:
                self.bodies = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
            self.cursor = 0

    def next_request(self):
        if self.mode == "webhook":
            if self.cursor >= len(self.bodies):
                self.ran_out = True
                return None
            signature, body = self.bodies[self.cursor]
            self.cursor += 1
            self.sent += 1
            body = body.encode()
            return (b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                    b"User-Agent: facebookexternalua\r\nX-Hub-Signature-256: %s\r\nContent-Length: %d\r\n\r\n"
                    % (signature.encode(), len(body)) + body)
        self.sent += 1
        phone = "90%08d" % self.sent
        if self.mode == "register":
            body = (self.form_head + phone + self.form_tail).encode()
        else:
            body = ('{"code":"%s","gate":"Gate 1"}' % phone).encode()
        return self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body


async def load_connection(state, host, port, deadline):
    reader = writer = None
    while not state.stopping and time.monotonic() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                state.errors["connect"] += 1
                await asyncio.sleep(0.01)
                continue
        request = state.next_request()
        if request is None:
            break
        t0 = time.monotonic()
        try:
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            fields = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
            fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
            if b"chunked" in fields.get(b"transfer-encoding", b""):
                raise ValueError("a chunked answer")
            body = await asyncio.wait_for(reader.readexactly(int(fields.get(b"content-length", b"0"))), 10)
        except asyncio.TimeoutError:
            state.errors["timeout"] += 1
            writer.close()
            writer = None
            continue
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            state.errors["read"] += 1
            writer.close()
            writer = None
            continue
        state.latencies.append((time.monotonic() - t0) * 1e6)
        state.bytes += len(head) + len(body)
        state.statuses[status] = state.statuses.get(status, 0) + 1
        if status > 399:
            state.errors["status"] += 1
        if fields.get(b"connection", b"").lower() == b"close":
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def load_main(url, connections, duration, mode, extra):
    state = LoadState(mode, extra)
    parts = urllib.parse.urlsplit(url)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, lambda: setattr(state, "stopping", True))
    t0 = time.monotonic()
    await asyncio.gather(*(load_connection(state, parts.hostname, parts.port, t0 + duration)
                           for _ in range(connections)))
    return state, time.monotonic() - t0


def load_worker(argv):
    """The client that stands in for wrk: the same requests, the same line."""
    url, connections, duration, mode, extra = argv[0], int(argv[1]), int(argv[2]), argv[3], argv[4:]
    state, seconds = asyncio.run(load_main(url, connections, duration, mode, extra))
    s = sorted(state.latencies)
    pick = (lambda p: s[min(max(int(p * len(s) + 0.999999), 1), len(s)) - 1]) if s else (lambda p: 0)
    line = {"requests": len(s), "duration_us": int(seconds * 1e6), "bytes": state.bytes, "sent": state.sent,
            "ran_out": state.ran_out, "statuses": {str(k): v for k, v in state.statuses.items()},
            "p50_us": pick(0.5), "p90_us": pick(0.9), "p99_us": pick(0.99), "max_us": s[-1] if s else 0,
            "mean_us": sum(s) / len(s) if s else 0, "errors": state.errors}
    print(LOAD_LINE + json.dumps(line), flush=True)
    return 0


def report_load(metric, label, w, server_cpu, goal=None, n=None, **extra):
    """A rate and its latencies from a load line; @n requests counted (all
    answered ones unless given)."""
    n = w["requests"] if n is None else n
    errors = {k: v for k, v in w["errors"].items() if v}
    per_request = server_cpu * 1e6 / max(n, 1)
    fields = {"errors": sum(errors.values()), "server_cpu_us_per_request": per_request,
              "statuses": {str(k): v for k, v in sorted(w["statuses"].items())}}
    fields.update(extra)
    fields.update(("errors_" + k, v) for k, v in sorted(errors.items()))
    rate = emit_rate(metric, n, w["duration_us"] / 1e6, goal=goal, **fields)
    emit_latency(metric + ".latency", w["p50_us"], w["p99_us"], w["max_us"], w["mean_us"], w["requests"])
    human("  %-38s %9.0f /s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  server CPU %.0f µs/req%s"
          % (label, rate, w["p50_us"] / 1000, w["p99_us"] / 1000, w["max_us"] / 1000, per_request,
             "  (goal ≥ %d)" % goal if goal else ""))
    others = {k: v for k, v in sorted(w["statuses"].items())}
    if errors or len(others) > 1:
        human("  %-38s answers %s%s" % ("", ", ".join("%d: %d" % kv for kv in others.items()),
                                       "".join("; %s errors %d" % kv for kv in sorted(errors.items()))))
    return rate


# (a) Registrations

def new_event(args, db):
    # A folder kept from an earlier run (--dir) holds the last one's store.
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    # In UTC from yesterday for three days, open all day: tomorrow can always
    # be chosen, whenever the benchmark runs.
    sync.new_event(args, db)
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%d")


def open_form(url):
    """GET /register as a browser: the form cookie, its token, and the id of
    the one category offered."""
    status, headers, body = http_request(url, "GET", "/register")
    if status != 200:
        raise BenchError("GET /register answered %d" % status)
    cookie = None
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("pv_form="):
            cookie = value.split(";", 1)[0]
    text = body.decode()
    token = re.search(r'<input[^>]*\bname="csrf"[^>]*\bvalue="([^"]+)"', text)
    categories = re.findall(r'<input[^>]*\bname="category"[^>]*\bvalue="(\d+)"', text)
    if cookie is None or token is None:
        raise BenchError("GET /register gave no form cookie or no CSRF token")
    if len(categories) != 1:
        raise BenchError("the form offers %d categories, not the one set in [web] categories" % len(categories))
    return token.group(1), cookie, categories[0]


def web_tickets(db):
    return query(db, "SELECT count(*) FROM tickets WHERE channel = 'web'")[0]


def bench_register(args, children, tmp):
    human("\nweb registration: POST /register, %d keep-alive clients for %d s, a new phone number each (%s)"
          % (args.connections, args.duration, load_label(args)))
    db = os.path.join(tmp, "register-hub.db")
    day = new_event(args, db)
    config = write_config(os.path.join(tmp, "register-hub.conf"), {"web": dict(WEB_LIMITS, categories=CATEGORY)})

    bare_rate = None
    if args.bare:
        bare = children.start("bench-bare-handler", [args.bare])
        url = children.listen_url(bare)
        cpu0 = sync.cpu_seconds(bare.pid)
        w = run_load(args, url, "admit", [])
        cpu = sync.cpu_seconds(bare.pid) - cpu0
        children.stop(bare)
        bare_rate = report_load("register.bare", "bare libsoup handler, no store", w, cpu)
    else:
        human("  bare handler: skipped, bench-bare-handler not built")

    hub, url = start_hub(args, children, "pravesh-hub-register", db, config)
    token, cookie, category = open_form(url)
    # One registration by hand first: anything but a 303 and its ticket
    # stops the run before wrk's answers are taken for registrations.
    form = urllib.parse.urlencode({"csrf": token, "name": "Bench Visitor", "phone": PREFLIGHT_PHONE,
                                   "category": category, "day": day, "party": "1"})
    status, _, body = http_request(url, "POST", "/register", form,
                                   {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    if status != 303 or web_tickets(db) != 1:
        raise BenchError("the first registration was answered %d (%d tickets): %s"
                         % (status, web_tickets(db), body.decode(errors="replace")[:500]))

    cpu0 = sync.cpu_seconds(hub.pid)
    load = start_load(args, url, "register", [token, cookie, category, day], args.duration)
    # Tickets committed, counted once a second: a rate that falls as the
    # store fills shows here, where the load's average hides it.
    timeline, t_next = [], time.monotonic() + 1
    while load.poll() is None:
        time.sleep(max(0.0, min(t_next - time.monotonic(), 0.05)))
        if time.monotonic() >= t_next and load.poll() is None:
            timeline.append(web_tickets(db) - 1)
            t_next += 1
    w = finish_load(load, 60)
    cpu = sync.cpu_seconds(hub.pid) - cpu0
    # Every 303 was sent after its commit: all are in the file already.
    committed = web_tickets(db) - 1
    # Stopped, the hub issues and commits what it had read when the load
    # stopped, which the load never saw answered.
    children.stop(hub)
    final = web_tickets(db) - 1
    phones = query(db, "SELECT count(DISTINCT phone) FROM people p JOIN tickets t USING (issuer, serial) "
                   "WHERE t.channel = 'web'")[0] - 1

    seen = w["statuses"].get(303, 0)
    unanswered = w["sent"] - sum(w["statuses"].values())
    durable = committed >= seen and seen <= final <= seen + unanswered and phones == final
    hub_rate = report_load("register.hub", "pravesh-hub, durable, group commit", w, cpu, goal=2000, n=seen,
                           tickets=final, durable=durable)
    emit("register.durable", answered_303=seen, tickets_at_load_end=committed, tickets=final,
         unanswered_at_load_end=unanswered, distinct_phones=phones, **{"pass": durable})
    human("  %-38s %d answered 303; %d tickets in SQLite as the load ended, %d once the hub stopped "
          "(%d requests were in flight); %d phone numbers: %s"
          % ("durability check", seen, committed, final, unanswered, phones, "ok" if durable else "FAILED"))
    per_second = [b - a for a, b in zip([0] + timeline, timeline)]
    emit("register.hub.per_second", values=per_second, unit="1/s")
    human("  %-38s %s" % ("tickets committed, each second", " ".join("%d" % v for v in per_second)))
    if bare_rate:
        emit_ratio("register.hub_vs_bare", hub_rate / bare_rate)
        human("  %-38s %9.2f" % ("hub / bare", hub_rate / bare_rate))
    if not durable:
        raise BenchError("tickets in the store do not match the registrations answered")


# (b) The WhatsApp webhook

def webhook_body(wa_id, n, now):
    """A messages webhook with one text "Hi" from @wa_id, as Meta sends it."""
    message = {"from": wa_id, "id": "wamid.HBgM%sFQIAEhgg%016X" % (wa_id, n), "timestamp": str(now),
               "text": {"body": "Hi"}, "type": "text"}
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
             "contacts": [{"profile": {"name": "Visitor %d" % n}, "wa_id": wa_id}], "messages": [message]}
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}]}
    return json.dumps(body, separators=(",", ":")).encode()


def sign(body):
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def metrics(url):
    status, _, body = http_request(url, "GET", "/metrics")
    if status != 200:
        raise BenchError("/metrics answered %d" % status)
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


class Inbox:
    """The hub's SQLite read beside it: bodies taken (stored, and answered
    200 after their commit) and visitors' messages acted on."""

    def __init__(self, db):
        self.conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)

    def counts(self):
        # One statement, one snapshot. Conversations are only added here,
        # one a visitor, so the largest rowid counts them without reading
        # them all (count(*) would, every few ms, on a core the hub needs);
        # the inbox is emptied as it is processed and stays small.
        waiting, done = self.conn.execute("SELECT (SELECT count(*) FROM whatsapp_inbox), "
                                          "(SELECT ifnull(max(rowid), 0) FROM whatsapp_conversations)").fetchone()
        return waiting + done, done

    def close(self):
        self.conn.close()


def bench_webhook(args, children, tmp):
    n = args.messages
    human("\nWhatsApp webhook: %d signed bodies, one \"Hi\" each from a WhatsApp id of its own, POSTed by %d "
          "keep-alive clients (%s)" % (n, args.connections, load_label(args)))
    db = os.path.join(tmp, "webhook-hub.db")
    new_event(args, db)
    # No access token: the bot's replies stay queued in the outbox, and
    # graph-url names a closed port here in case anything tried to send.
    config = write_config(os.path.join(tmp, "webhook-hub.conf"), {
        "whatsapp": {"graph-url": "http://127.0.0.1:9/v21.0", "phone-number-id": PHONE_NUMBER_ID,
                     "app-secret": APP_SECRET, "verify-token": "bench-verify-token"}})
    bodies = os.path.join(tmp, "webhook-bodies.txt")
    now = int(time.time())
    with open(bodies, "w") as out:
        for i in range(n):
            body = webhook_body("9170%08d" % i, i, now)
            out.write("%s\t%s\n" % (sign(body), body.decode()))

    hub, url = start_hub(args, children, "pravesh-hub-webhook", db, config)
    inbox, load = Inbox(db), None
    try:
        # One body by hand first, until the bot has acted on it.
        body = webhook_body(PREFLIGHT_WA_ID, n, now)
        status, _, reply = http_request(url, "POST", "/webhooks/whatsapp", body,
                                        {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)})
        if status != 200:
            raise BenchError("the first webhook body was answered %d: %s" % (status, reply.decode(errors="replace")))
        deadline = time.monotonic() + 10
        while inbox.counts() != (1, 1):
            if time.monotonic() > deadline:
                raise BenchError("the first webhook message was not processed in 10 s: %s"
                                 % children.log_tail(hub))
            time.sleep(0.01)

        # The load runs until every body is taken: wrk's threads stop when
        # their share of the bodies runs out, and it is told to end then.
        cpu0 = sync.cpu_seconds(hub.pid)
        load = start_load(args, url, "webhook", [bodies], WAIT_TIMEOUT_S)
        t_first = t_taken = t_done = None
        last, last_change, last_done, done_change = 0, time.monotonic(), 0, None
        timeline = []  # messages acted on, each second from the first body stored
        while t_done is None:
            now_mono = time.monotonic()
            taken, done = inbox.counts()
            taken, done = taken - 1, done - 1
            if taken > 0 and t_first is None:
                t_first = now_mono
            if t_first is not None and now_mono - t_first >= len(timeline) + 1:
                timeline.append(done)
            if taken != last:
                last, last_change = taken, now_mono
            if done != last_done:
                last_done, done_change = done, now_mono
            if t_taken is None and (taken >= n or (taken > 0 and now_mono - last_change > 3)):
                t_taken = now_mono if taken >= n else last_change
                if load.poll() is None:
                    load.send_signal(signal.SIGINT)
            if t_taken is not None and done >= taken:
                # When the last message was seen acted on: not later, when
                # the wait for bodies that never came gave up.
                t_done = done_change
            elif now_mono - last_change > WAIT_TIMEOUT_S or (taken == 0 and load.poll() is not None):
                load.kill()
                raise BenchError("the hub took %d bodies and acted on %d, then nothing for %d s: %s"
                                 % (taken, done, WAIT_TIMEOUT_S, children.log_tail(hub)))
            time.sleep(POLL_S)
        cpu = sync.cpu_seconds(hub.pid) - cpu0
        w = finish_load(load, 60)
    finally:
        inbox.close()
        if load is not None and load.poll() is None:
            load.kill()
            load.wait()
    m = metrics(url)
    outbox = query(db, "SELECT count(*) FROM outbox WHERE channel = 'whatsapp' AND status = 'queued'")[0] - 1
    seen_ids = query(db, "SELECT count(*) FROM whatsapp_seen")[0] - 1
    done = query(db, "SELECT count(*) FROM whatsapp_conversations")[0] - 1
    children.stop(hub)

    accept_s, done_s = t_taken - t_first, t_done - t_first
    refused = int(m.get('pravesh_whatsapp_webhooks_total{outcome="refused"}', 0))
    dropped = int(m.get('pravesh_whatsapp_webhooks_total{outcome="dropped"}', 0))
    processed = int(m.get('pravesh_whatsapp_processed_total{kind="message"}', 0)) - 1
    taken_metric = int(m.get('pravesh_whatsapp_webhooks_total{outcome="taken"}', 0)) - 1
    errors = {k: v for k, v in w["errors"].items() if v}
    rate = emit_rate("webhook.accept", taken, accept_s, answered_200=w["statuses"].get(200, 0),
                     statuses={str(k): v for k, v in sorted(w["statuses"].items())}, refused=refused,
                     sent=w["sent"], taken_metric=taken_metric, load_rate=w["requests"] / (w["duration_us"] / 1e6),
                     **{"errors_" + k: v for k, v in errors.items()})
    emit_latency("webhook.accept.latency", w["p50_us"], w["p99_us"], w["max_us"], w["mean_us"], w["requests"])
    human("  %-38s %9.0f /s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%d bodies in %.2f s)"
          % ("POSTs taken (stored, then 200)", rate, w["p50_us"] / 1000, w["p99_us"] / 1000, w["max_us"] / 1000,
             taken, accept_s))
    if errors or set(w["statuses"]) - {200}:
        human("  %-38s answers %s%s" % ("", ", ".join("%d: %d" % kv for kv in sorted(w["statuses"].items())),
                                       "".join("; %s errors %d" % kv for kv in sorted(errors.items()))))
    ok = (taken == n and taken_metric == n and done == n and processed == n and seen_ids == n and outbox >= n
          and refused == 0 and dropped == 0)
    rate = emit_rate("webhook.processed", done, done_s, goal=1000, hub_cpu_s=cpu,
                     server_cpu_us_per_message=cpu * 1e6 / max(done, 1), processed_metric=processed,
                     replies_queued=outbox, ids_seen=seen_ids, dropped=dropped, complete=ok)
    human("  %-38s %9.0f /s  (%d messages, first stored to last acted on in %.2f s; hub CPU %.0f µs/message, "
          "its POST included; goal ≥ 1000)"
          % ("messages processed, end to end", rate, done, done_s, cpu * 1e6 / max(done, 1)))
    per_second = [b - a for a, b in zip([0] + timeline, timeline + [done])]
    emit("webhook.processed.per_second", values=per_second, unit="1/s")
    human("  %-38s %s  (the last second in part)" % ("messages acted on, each second",
                                                     " ".join("%d" % v for v in per_second)))
    human("  %-38s %d conversations, %d message ids seen, %d replies queued, /metrics %d processed, %d refused, "
          "%d dropped: %s" % ("check", done, seen_ids, outbox, processed, refused, dropped, "ok" if ok else "FAILED"))
    if w["ran_out"] is False and taken < n:
        human("  %-38s the load ended before every body was sent" % "")
    if not ok:
        raise BenchError("the hub did not take and act on every webhook message once")


# Main

def load_label(args):
    if args.client == "wrk":
        return "wrk -t%d, public.lua" % args.threads
    return "the Python client, not wrk"


def parse_args():
    p = argparse.ArgumentParser(description="Times web self-registration at pravesh-hub beside a bare libsoup "
                                "handler, and the WhatsApp webhook from POST to the bot's answer. JSON lines on "
                                "stdout, a table on stderr.")
    p.add_argument("--build-dir", help="Meson build folder to take the programs from (when not in the environment)")
    p.add_argument("--ctl", help="pravesh-ctl (default $PV_BENCH_CTL)")
    p.add_argument("--hub", help="pravesh-hub (default $PV_BENCH_HUB)")
    p.add_argument("--bare", help="bench-bare-handler (default $PV_BENCH_BARE)")
    p.add_argument("--lua", help="the wrk script (default $PV_BENCH_PUBLIC_LUA, or public.lua beside this one)")
    p.add_argument("--wrk", help="wrk (default $PV_BENCH_WRK or PATH)")
    p.add_argument("--client", choices=["wrk", "python"],
                   help="The load generator (default wrk when found, else the Python client)")
    p.add_argument("--only", default="register,webhook",
                   help="Comma-separated parts to run: register, webhook (default both)")
    p.add_argument("--duration", type=int, default=10, help="Seconds of each registration run (default 10)")
    p.add_argument("--messages", type=int, default=40000, help="Webhook messages (default 40000)")
    p.add_argument("--connections", type=int, default=64, help="Keep-alive connections (default 64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2, at most 10)")
    p.add_argument("--dir", help="Work in DIR and keep it (default: a temporary folder, removed at the end)")
    p.add_argument("--json", action="store_true", help="Only the JSON lines on stdout, no table on stderr")
    args = p.parse_args()

    b = args.build_dir
    args.ctl = sync.find_tool(args.ctl, "PV_BENCH_CTL", b, "src/ctl/pravesh-ctl")
    args.hub = sync.find_tool(args.hub, "PV_BENCH_HUB", b, "src/hub/pravesh-hub")
    args.bare = sync.find_tool(args.bare, "PV_BENCH_BARE", b, "tests/bench/bench-bare-handler")
    args.lua = args.lua or os.environ.get("PV_BENCH_PUBLIC_LUA") or os.path.join(HERE, "public.lua")
    if args.wrk is None:
        # Meson sets it to "" when wrk is missing: then it is missing.
        args.wrk = os.environ["PV_BENCH_WRK"] if "PV_BENCH_WRK" in os.environ else (shutil.which("wrk") or "")
    if args.client is None:
        args.client = "wrk" if args.wrk else "python"
    if args.client == "wrk" and not args.wrk:
        p.error("--client wrk: wrk not found (install wrk, or give --wrk)")
    args.redis_server = ""  # for bench-sync's machine line
    args.buildtype = os.environ.get("PV_BENCH_BUILDTYPE") or sync.build_type(b)
    args.only = set(part.strip() for part in args.only.split(",") if part.strip())
    unknown = args.only - {"register", "webhook"}
    if unknown:
        p.error("unknown part(s) for --only: %s" % ", ".join(sorted(unknown)))
    for name in ("duration", "messages", "connections", "threads"):
        if getattr(args, name) < 1:
            p.error("--%s must be positive" % name)
    if args.threads > 10:
        p.error("--threads: at most 10 (public.lua puts the thread in one digit of the phone numbers)")
    if args.connections < args.threads:
        p.error("--connections must be at least --threads")
    for name, path in (("pravesh-ctl", args.ctl), ("pravesh-hub", args.hub)):
        if not path or not os.access(path, os.X_OK):
            p.error("%s not found: give --build-dir, --%s or set the PV_BENCH_ variable"
                    % (name, "ctl" if name == "pravesh-ctl" else "hub"))
    if args.bare and not os.access(args.bare, os.X_OK):
        args.bare = ""
    if args.client == "wrk" and not os.path.exists(args.lua):
        p.error("the wrk script %s does not exist" % args.lua)
    return args


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--load-worker":
        return load_worker(sys.argv[2:])
    args = parse_args()
    sync.json_only = args.json
    try:
        sync._libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        sync._libc = None
    signal.signal(signal.SIGTERM, sync.on_signal)
    signal.signal(signal.SIGINT, sync.on_signal)

    t0 = time.monotonic()
    keep = args.dir is not None
    if keep:
        os.makedirs(args.dir, exist_ok=True)
        tmp = os.path.abspath(args.dir)
    else:
        tmp = tempfile.mkdtemp(prefix="pv-bench-public-")
    children = sync.Children(tmp)
    status = 0
    try:
        sync.machine_line(args, tmp)
        if args.client != "wrk":
            human("wrk not found: a Python client on one core makes the load, and its own cost on this machine "
                  "may cap the rates below (install wrk for the real figures)")
            emit("load", client="python", note="wrk not found")
        if "register" in args.only:
            bench_register(args, children, tmp)
        if "webhook" in args.only:
            bench_webhook(args, children, tmp)
        emit("total_seconds", value=time.monotonic() - t0, unit="s")
        human("\ndone in %.0f s" % (time.monotonic() - t0))
    except (BenchError, subprocess.TimeoutExpired, OSError, ValueError, KeyError, sqlite3.Error) as e:
        print("bench-public: %s" % e, file=sys.stderr, flush=True)
        status = 1
    finally:
        children.stop_all()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
