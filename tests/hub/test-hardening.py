#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-hardening.py: the servers we run against hostile clients, as real
# processes on 127.0.0.1 — pravesh-hub run with `ulimit -n 1024` as a
# service would be, and a gate's own server for its peers
# (`pravesh-ctl sync`): a Content-Length of -1 or past 2^64 refused from
# the headers on any path, and heads libsoup would leak on ended before it
# reads them; silent, slow and idle connections closed at their deadlines;
# a cap on connections in all and per address, with the hub still
# answering a visitor while one address holds a thousand connections open,
# and idle kept-alive connections making room at a cap; thousands of
# requests on one kept-alive connection; a pause, not a spin, when file
# descriptors run out;
# /metrics on its own address, writing nothing, counting the ledger
# without reading it; online admissions decided in time while the hub is
# flooded with cheap requests and /metrics polls; TLS 1.2+ with AEAD suites
# only (openssl s_client); no versions in the Server header.
# Python's standard library only.

import json
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import CTL, HUB, SLOW  # noqa: E402

# Deadlines short enough for a test, and how long to wait at most for
# something that should happen at one of them (generous: a busy machine).
DEADLINE_S = 2
PATIENCE_S = 60

# This process opens over a thousand sockets of its own.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def connect(port, source="127.0.0.1", timeout=10):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def closed_by_server(sock, timeout):
    """Waits until the server ends @sock (EOF or reset); True if it did."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def read_answer(sock):
    """One whole HTTP answer (it has a Content-Length) from @sock: (head,
    body)."""
    reply = b""
    while b"\r\n\r\n" not in reply:
        part = sock.recv(65536)
        if not part:
            raise ConnectionResetError("the server closed the connection")
        reply += part
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def unverified():
    """A TLS context that takes the hub's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def metrics(url):
    with urllib.request.urlopen(url + "metrics", timeout=30, context=unverified()) as reply:
        text = reply.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


class HardeningTestCase(unittest.TestCase):
    settings = {}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pravesh-hardening-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.servers = []
        self.addCleanup(self._stop_all)
        self.hub_db = self.path("hub.db")
        hubtest.make_event(self.hub_db, self.dir, "Hardened Fair", "--gates", "Gate 1,Gate 2")

    def _stop_all(self):
        for server in self.servers:
            server.kill()

    def path(self, name):
        return os.path.join(self.dir, name)

    def ctl(self, *args, db, rc=0):
        return hubtest.ctl(*args, db=db, cwd=self.dir, rc=rc)

    def start_hub(self, settings=None, *extra, fd_limit=1024):
        """pravesh-hub with @settings ({"hub": {...}}) under a descriptor
        limit of @fd_limit, soft and hard, as a service's LimitNOFILE."""
        config = hubtest.write_config(self.path("hub.conf"), settings or self.settings)
        args = ["bash", "-c", f'ulimit -n {fd_limit} && exec "$0" "$@"', HUB, "--db", self.hub_db, "--listen",
                "127.0.0.1:0", "--config", config] + list(extra)
        server = hubtest.Server(args, self.path("hub.log"))
        self.servers.append(server)
        return server

    def stop(self, server):
        server.stop_cleanly()
        self.servers.remove(server)

    def log(self):
        return hubtest.read_log(self.path("hub.log"))

    def wait_for(self, predicate, what, timeout=PATIENCE_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail(f"waited {timeout} s for {what}")

    def tls_args(self):
        cert, key = self.path("hub.crt"), self.path("hub.key")
        subprocess.run([CTL, "hub", "cert", "--cert", cert, "--key", key, "--name", "127.0.0.1"], check=True,
                       capture_output=True, timeout=60)
        return ["--tls-cert", cert, "--tls-key", key]

    def answers(self, url):
        """Whether the server at @url answers a GET of / with 200 now."""
        try:
            return self.get(url)[0] == 200
        except OSError:
            return False

    def get(self, url, path="", source="127.0.0.1"):
        """GET @path from @source; (status, headers, body)."""
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        with connect(port, source, timeout=30) as sock:
            sock.sendall(f"GET /{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            reply = b""
            while True:
                part = sock.recv(65536)
                if not part:
                    break
                reply += part
        head, _, body = reply.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), headers, body


class TestContentLength(HardeningTestCase):
    """A Content-Length that is not a plain count is refused from the
    headers, on every path of every server, token or not."""

    # Refused from the headers in words; and heads libsoup 3.2 would leak
    # the path of (it reads no number in them), on which the connection
    # ends before libsoup has the whole head.
    HOSTILE = ["-1", "99999999999999999999", "18446744073709551615", "-5", "+5"]
    UNPARSED = ["5, 6", "0x10", "5\r\nContent-Length: 5", "5\r\n 6", "5\r\nTransfer-Encoding: gzip",
                "5\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"]

    def refused(self, port, method, path, length):
        with connect(port) as sock:
            sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
            reply = b""
            while True:
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
        reply = reply.decode(errors="replace")
        return reply.split("\r\n", 1)[0], reply

    def assertRefusedEverywhere(self, port, paths):
        for method, path in paths:
            for length in self.HOSTILE:
                status, reply = self.refused(port, method, path, length)
                self.assertTrue(status.startswith("HTTP/1.1 400"), f"{method} {path} {length}: {reply}")
                self.assertIn('"error":"Content-Length must be a number of bytes"', reply)
            for length in self.UNPARSED:
                try:
                    status, reply = self.refused(port, method, path, length)
                except ConnectionResetError:
                    status, reply = "", ""
                self.assertEqual(status, "", f"{method} {path} {length!r}: {reply}")

    def stream_after_headers(self, pid, port, path, mib):
        """Sends @mib MiB of body after a Content-Length of -1; returns how
        much the server's resident memory grew (KiB) and whether it ended the
        connection."""
        before = rss_kib(pid)
        chunk = b"x" * (1 << 20)
        with connect(port) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode())
            ended = False
            try:
                for _ in range(mib):
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                ended = True
            ended = ended or closed_by_server(sock, PATIENCE_S)
        return rss_kib(pid) - before, ended

    def test_hub(self):
        hub = self.start_hub()
        self.assertRefusedEverywhere(hub.port, [
            ("POST", "/sync/v1/push"), ("POST", "/webhooks/whatsapp"), ("POST", "/api/v1/pair"),
            ("POST", "/api/v1/admit"), ("POST", "/register"), ("GET", "/"), ("POST", "/no/such/path"),
            ("GET", "/metrics"),
        ])
        grown, ended = self.stream_after_headers(hub.proc.pid, hub.port, "/sync/v1/push", 200)
        self.assertTrue(ended, "the hub kept reading a body of no size")
        self.assertLess(grown, 32 * 1024, f"the hub grew by {grown} KiB")
        # Still serving.
        self.assertEqual(self.get(hub.url)[0], 200)
        self.stop(hub)

    def test_gate_peer_server(self):
        gate = self.path("gate.db")
        self.ctl("device", "add", "--role", "gate", "--name", "Gate laptop", "--out", gate, db=self.hub_db)
        device = hubtest.Server([CTL, "--db", gate, "sync", "--listen", "127.0.0.1:0"], self.path("gate.log"))
        self.servers.append(device)
        self.assertRefusedEverywhere(device.port, [
            ("POST", "/sync/v1/push"), ("POST", "/sync/v1/pull"), ("POST", "/sync/v1/peers"), ("GET", "/"),
        ])
        grown, ended = self.stream_after_headers(device.proc.pid, device.port, "/sync/v1/push", 200)
        self.assertTrue(ended)
        self.assertLess(grown, 32 * 1024, f"the gate grew by {grown} KiB")
        self.assertEqual(self.get(device.url)[1].get("Server"), "pravesh")
        device.stop_cleanly()
        self.servers.remove(device)


class TestConnections(HardeningTestCase):
    settings = {"hub": {"header-timeout": DEADLINE_S, "idle-timeout": DEADLINE_S, "body-timeout": DEADLINE_S,
                        "tls-handshake-timeout": DEADLINE_S}}

    def test_one_address_cannot_hold_the_hub(self):
        hub = self.start_hub({"hub": {"max-connections-per-address": 50}})
        held = [connect(hub.port, "127.0.0.2") for _ in range(1100)]
        self.addCleanup(lambda: [sock.close() for sock in held])
        # A visitor from elsewhere is answered while they are open.
        self.assertEqual(self.get(hub.url, source="127.0.0.3")[0], 200)
        values = metrics(hub.url)
        self.assertLessEqual(values["pravesh_http_connections"], 52)
        self.assertGreaterEqual(values['pravesh_http_connections_refused_total{reason="address"}'], 1000)
        self.assertLess(open_fds(hub.proc.pid), 200)
        # Those over the cap were told why before being closed.
        told = 0
        for sock in held:
            sock.settimeout(0.01)
            try:
                told += sock.recv(64).startswith(b"HTTP/1.1 503")
            except (socket.timeout, ConnectionResetError):
                pass
        self.assertGreater(told, 900)
        self.assertEqual(self.log().count("Refusing connections"), 1, "one line for the whole flood")
        self.stop(hub)

    def test_idle_connections_make_room(self):
        # Phones behind one NAT each keep a connection alive after their
        # page: at the address's cap the oldest idle one is closed for the
        # next visitor, who is served, not refused.
        hub = self.start_hub({"hub": {"max-connections-per-address": 5, "idle-timeout": 3600}})
        kept = []
        for _ in range(5):
            sock = connect(hub.port, "127.0.0.4")
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(read_answer(sock)[0].startswith(b"HTTP/1.1 200"))
            kept.append(sock)
        self.addCleanup(lambda: [sock.close() for sock in kept])
        self.assertEqual(self.get(hub.url, source="127.0.0.4")[0], 200)
        self.assertTrue(closed_by_server(kept[0], PATIENCE_S), "the oldest idle connection is still open")
        self.assertEqual(metrics(hub.url)["pravesh_http_connections_evicted_total"], 1)
        # A connection keeps serving request after request (each answer
        # hands it back to libsoup afresh).
        for _ in range(2000):
            kept[-1].sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(read_answer(kept[-1])[0].startswith(b"HTTP/1.1 200"))
        self.stop(hub)

    def test_the_cap_follows_the_descriptor_limit(self):
        hub = self.start_hub({"hub": {"max-connections-per-address": 5000}}, fd_limit=256)
        cap = metrics(hub.url)["pravesh_http_connections_max"]
        self.assertLess(cap, 256 - 16)
        held = [connect(hub.port, f"127.0.1.{1 + i % 50}") for i in range(400)]
        # The last ones in are over the cap, and told so.
        self.assertTrue(held[-1].recv(64).startswith(b"HTTP/1.1 503"))
        self.assertLess(open_fds(hub.proc.pid), 256)
        for sock in held:
            sock.close()
        self.wait_for(lambda: self.answers(hub.url), "the hub to answer again")
        values = metrics(hub.url)
        self.assertGreaterEqual(values['pravesh_http_connections_refused_total{reason="capacity"}'], 400 - cap)
        self.assertEqual(values["pravesh_http_accept_pauses_total"], 0, "descriptors never ran out")
        self.stop(hub)

    def test_descriptors_run_out(self):
        # A cap set above what descriptors allow: accept() fails with EMFILE,
        # and the hub pauses accepting instead of spinning on it.
        hub = self.start_hub({"hub": {"max-connections": 5000, "max-connections-per-address": 5000,
                                      "header-timeout": 3600}}, fd_limit=256)
        cpu_before = cpu_seconds(hub.proc.pid)
        started = time.monotonic()
        held = []
        self.addCleanup(lambda: [sock.close() for sock in held])
        for i in range(600):
            held.append(connect(hub.port, f"127.0.2.{1 + i % 50}"))
        self.wait_for(lambda: "Out of file descriptors" in self.log(), "the hub to run out of descriptors")
        time.sleep(3)
        spent, elapsed = cpu_seconds(hub.proc.pid) - cpu_before, time.monotonic() - started
        # A spinning accept loop burns a core: the whole of the time.
        self.assertLess(spent, elapsed / 2, f"{spent:.2f} s of CPU in {elapsed:.2f} s")
        self.assertLess(self.log().count("\n"), 50, "a quiet log")
        for sock in held:
            sock.close()
        held.clear()
        # Descriptors come free: accepting resumes.
        self.wait_for(lambda: self.answers(hub.url), "the hub to answer again")
        self.assertGreaterEqual(metrics(hub.url)["pravesh_http_accept_pauses_total"], 1)
        self.stop(hub)

    def test_deadlines(self):
        hub = self.start_hub()
        silent = connect(hub.port)
        slow_headers = connect(hub.port)
        half_body = connect(hub.port)
        idle = connect(hub.port)
        half_body.sendall(b"POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                          b"Content-Length: 1000\r\n\r\nname=A")
        idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(read_answer(idle)[0].startswith(b"HTTP/1.1 200"))

        # Headers a byte at a time, forever: the deadline counts from the
        # first byte, not the last.
        stop = threading.Event()

        def drip():
            try:
                slow_headers.sendall(b"GET / HTTP/1.1\r\n")
                while not stop.wait(0.3):
                    slow_headers.sendall(b"X")
            except OSError:
                pass

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        for name, sock in [("silent", silent), ("idle", idle), ("half body", half_body),
                           ("slow headers", slow_headers)]:
            self.assertTrue(closed_by_server(sock, PATIENCE_S), f"the {name} connection is still open")
        stop.set()
        dripper.join()
        for sock in (silent, slow_headers, half_body, idle):
            sock.close()
        values = metrics(hub.url)
        self.assertGreaterEqual(values['pravesh_http_timeouts_total{step="headers"}'], 2)
        self.assertGreaterEqual(values['pravesh_http_timeouts_total{step="body"}'], 1)
        self.assertGreaterEqual(values['pravesh_http_timeouts_total{step="idle"}'], 1)
        self.wait_for(lambda: metrics(hub.url)["pravesh_http_connections"] <= 1, "every connection to be let go")
        self.stop(hub)



class TestTls(HardeningTestCase):
    settings = TestConnections.settings

    def setUp(self):
        super().setUp()
        # As in test-network.py's TestTls: GIO's TLS module and the leak
        # scan of Debian 12's GCC do not get along at exit.
        if "ASAN_OPTIONS" in os.environ:
            saved = os.environ["ASAN_OPTIONS"]
            os.environ["ASAN_OPTIONS"] = saved + ":detect_leaks=0"
            self.addCleanup(os.environ.__setitem__, "ASAN_OPTIONS", saved)

    def handshake(self, port, *options):
        proc = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *options],
                              input=b"", capture_output=True, timeout=60)
        match = re.search(rb"New, (\S+), Cipher is (\S+)", proc.stdout)
        return (match.group(1).decode(), match.group(2).decode()) if match else None

    def test_handshake_deadline(self):
        hub = self.start_hub(None, *self.tls_args())
        silent = connect(hub.port)
        self.assertTrue(closed_by_server(silent, PATIENCE_S), "a silent TLS connection is still open")
        silent.close()
        self.assertGreaterEqual(metrics(hub.url)['pravesh_http_timeouts_total{step="handshake"}'], 1)
        self.stop(hub)

    def test_versions_and_suites(self):
        hub = self.start_hub(None, *self.tls_args())
        # Old versions and CBC suites, which the client is told to allow.
        for options in (["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"], ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                        ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA@SECLEVEL=0"],
                        ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384"]):
            self.assertIn(self.handshake(hub.port, *options), (None, ("(NONE)", "(NONE)")), options)
        self.assertEqual(self.handshake(hub.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"),
                         ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"))
        self.assertEqual(self.handshake(hub.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"),
                         ("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"))
        self.assertEqual(self.handshake(hub.port, "-tls1_3")[0], "TLSv1.3")
        # And the hub still serves over what is left.
        with urllib.request.urlopen(hub.url, context=unverified(), timeout=30) as reply:
            self.assertEqual(reply.status, 200)
        self.stop(hub)


class TestMetrics(HardeningTestCase):
    def metrics_url(self):
        match = re.search(r"Metrics at (\S+)metrics", self.log())
        self.assertIsNotNone(match, self.log())
        return match.group(1)

    def test_own_address_and_no_writes(self):
        self.ctl("ticket", "issue", "--category", "Season pass", "--count", "3000", db=self.hub_db)
        hub = self.start_hub({"hub": {"metrics-listen": "127.0.0.1:0"}})
        url = self.metrics_url()
        self.assertNotEqual(url, hub.url)
        # Not on the public address.
        self.assertEqual(self.get(hub.url, "metrics")[0], 404)
        self.assertEqual(self.get(url, "register")[0], 404)
        records = hubtest.query(self.hub_db, "SELECT count(*) FROM records")[0][0]

        def files():
            return [(os.stat(p).st_size, os.stat(p).st_mtime_ns)
                    for p in (self.hub_db, self.hub_db + "-wal") if os.path.exists(p)]

        before = files()
        for _ in range(100):
            values = metrics(url)
        self.assertEqual(files(), before, "scrapes wrote to the store")
        self.assertEqual(values["pravesh_ledger_records"], records)
        self.assertIn("pravesh_http_connections", values)
        self.assertEqual(self.get(url, "metrics")[1].get("Server"), "pravesh-hub")
        self.stop(hub)

    def test_admissions_while_flooded(self):
        # A ledger big enough that a scan of it would show, a gate, and
        # tickets for it to admit.
        self.ctl("ticket", "issue", "--category", "Season pass", "--count", "100000", db=self.hub_db)
        codes = [line for line in self.ctl("ticket", "issue", "--category", "Season pass", "--count", "12",
                                           db=self.hub_db).stdout.splitlines() if line.startswith("PV1:")]
        hub = self.start_hub()
        invite = self.ctl("device", "invite", "--role", "gate", "--name", "Gate 1 laptop", db=self.hub_db)
        gate = self.path("gate.db")
        self.ctl("pair", invite.stdout.strip(), db=gate)

        stop = threading.Event()
        answered = [0]

        def flood(path):
            with connect(hub.port, "127.0.0.5", timeout=30) as sock:
                request = f"GET /{path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                while not stop.is_set():
                    sock.sendall(request)
                    read_answer(sock)
                    answered[0] += 1

        threads = [threading.Thread(target=flood, args=("no/such/page",), daemon=True) for _ in range(16)]
        threads += [threading.Thread(target=flood, args=("metrics",), daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        self.addCleanup(stop.set)
        self.wait_for(lambda: answered[0] > 200, "the flood to start")
        # The gate's real path: ask the hub, decide alone past the bound.
        # Starved, an admission waits as long as the flood lasts; the bound
        # only has to be finite (the gate's own is 800 ms, a busy test
        # machine gets more).
        bound = "5000" if SLOW else "2000"
        for code in codes:
            verdict = json.loads(self.ctl("admit", code, "--gate", "Gate 1", "--bound", bound, db=gate).stdout)
            self.assertEqual((verdict["verdict"], verdict["decided"]), ("ADMIT", "online"), verdict)
        stop.set()
        for thread in threads:
            thread.join(30)
        self.stop(hub)
        self.assertEqual(hubtest.query(self.hub_db, "SELECT count(*) FROM scans")[0][0], len(codes))


class TestServerHeader(HardeningTestCase):
    def test_no_versions(self):
        hub = self.start_hub()
        for path in ("", "no/such/page", "metrics", "sync/v1/vector"):
            self.assertEqual(self.get(hub.url, path)[1].get("Server"), "pravesh-hub", path)
        self.stop(hub)


if __name__ == "__main__":
    unittest.main(verbosity=2)
