#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-sync.py: the sync and hub benchmark (doc/benchmarks.md), run against the
# built pravesh-hub and pravesh-ctl, each figure beside its peer from the
# same run. (a) Online admissions: wrk with 64 keep-alive connections POSTs
# a fresh code per request (admit.lua, with an enrolled gate's bearer token
# where the hub asks for one) to pravesh-hub on a store of fresh tickets,
# beside the same load on bench-bare-handler (libsoup and json-glib,
# no store: the framework's ceiling), and redis-benchmark runs SET NX
# against a persistence-free redis-server (goals: at least 0.7 of the bare
# rate, p99 at most 10 ms). (b) Replication: one `sync --once` of a fresh
# gate replica pulling a million tickets from a running hub (goal: 100,000
# records/s). (c) Peer propagation with the hub down: two headless gates
# in a live session; an offline admission at one, the time from its process
# exiting until the record is in the other's file, both ways (goal: p99 at
# most 100 ms, and none later than 5 s). (d) Admissions under hostile load:
# a paced probe (wrk, 8 connections, each a gate admitting a fresh code
# every 10 ms) timed quiet, while 64 more connections flood the hub with
# cheap requests (404s), and while /metrics is polled 20 times a second
# (goal: p99 under either load at most twice the quiet p99, and at most
# 10 ms). Meson passes the binaries in the
# environment (PV_BENCH_CTL, PV_BENCH_HUB, PV_BENCH_BARE, PV_BENCH_ADMIT_LUA,
# PV_BENCH_WRK, PV_BENCH_REDIS_SERVER, PV_BENCH_REDIS_BENCHMARK); by hand
# give --build-dir. One JSON object per figure on stdout, as bench-core
# prints them; a readable table on stderr unless --json. Python's standard
# library only; every child is stopped and the temporary folder removed,
# also when something fails.
import argparse
import ctypes
import datetime
import json
import math
import os
import random
import re
import resource
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BENCH = "sync"
GATES = "Gate 1,Gate 2"
GATE = "Gate 1"
# pravesh-ctl ticket issue takes at most this many at once (PV_MAX_BULK_ISSUE).
MAX_ISSUE = 1000000
START_TIMEOUT_S = 15
PROPAGATION_TIMEOUT_S = 5

json_only = False
tmp_root = None


class BenchError(Exception):
    pass


def human(text):
    if not json_only:
        print(text, file=sys.stderr, flush=True)


def six(value):
    """A float rounded to six significant digits, as pv_bench_line_num()."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, int):
        return value
    return float("%.6g" % value)


def emit(metric, **fields):
    line = {"bench": BENCH, "metric": metric}
    for key, value in fields.items():
        line[key] = six(value) if isinstance(value, float) else value
    print(json.dumps(line, ensure_ascii=False, separators=(",", ":")), flush=True)


def emit_rate(metric, n, seconds, goal=None, **extra):
    rate = n / seconds if seconds > 0 else float("nan")
    fields = {"value": rate, "unit": "1/s", "n": n, "seconds": seconds}
    if goal is not None:
        fields.update(goal=goal, **{"pass": rate >= goal})
    fields.update(extra)
    emit(metric, **fields)
    return rate


def emit_ratio(metric, ratio, goal=None):
    fields = {"value": ratio, "unit": "ratio"}
    if goal is not None:
        fields.update(goal=goal, **{"pass": ratio >= goal})
    emit(metric, **fields)


def percentile(sorted_values, p):
    """Nearest rank, as pv_bench_percentile()."""
    n = len(sorted_values)
    if n == 0:
        return float("nan")
    rank = min(max(math.ceil(p * n), 1), n)
    return sorted_values[rank - 1]


def emit_latency(metric, p50, p99, max_, mean, n, goal_max_us=None, also_pass=True, **extra):
    fields = {"p50": p50, "p99": p99, "max": max_, "mean": mean, "unit": "us", "n": n}
    if goal_max_us is not None:
        fields.update(goal_max_p99=goal_max_us, **{"pass": also_pass and p99 <= goal_max_us})
    fields.update(extra)
    emit(metric, **fields)


def latency_of(samples_us):
    s = sorted(samples_us)
    if not s:
        return dict(p50=float("nan"), p99=float("nan"), max_=float("nan"), mean=float("nan"), n=0)
    return dict(p50=percentile(s, 0.50), p99=percentile(s, 0.99), max_=s[-1], mean=sum(s) / len(s), n=len(s))


# Children

_libc = None


def _die_with_parent():
    # A child outlives a killed benchmark only if nobody stops it: ask the
    # kernel to send it SIGTERM when this process goes.
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Children:
    """The long-running children (servers, peers), stopped in reverse."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.procs = []

    def start(self, name, argv):
        log = open(os.path.join(self.logdir, name + ".log"), "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                preexec_fn=_die_with_parent)
        log.close()
        proc.bench_name = name
        self.procs.append(proc)
        return proc

    def first_line(self, proc, timeout=START_TIMEOUT_S):
        """The first stdout line, e.g. `listening http://127.0.0.1:PORT/`."""
        deadline = time.monotonic() + timeout
        data = b""
        fd = proc.stdout.fileno()
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise BenchError("%s did not start: %s" % (proc.bench_name, self.log_tail(proc)))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    continue
                data += chunk
        return data.split(b"\n", 1)[0].decode()

    def listen_url(self, proc):
        line = self.first_line(proc)
        if not line.startswith("listening "):
            raise BenchError("%s printed %r, not `listening URL`" % (proc.bench_name, line))
        return line.split(" ", 1)[1].strip()

    def log_tail(self, proc):
        try:
            with open(os.path.join(self.logdir, proc.bench_name + ".log"), "rb") as f:
                return f.read()[-2000:].decode(errors="replace").strip() or "(nothing on stderr)"
        except OSError:
            return "(no log)"

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self):
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def run(argv, what, stdout=None, timeout=None):
    """Runs a command to its end; its stdout (text) unless redirected."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, preexec_fn=_die_with_parent)
    if proc.returncode != 0:
        raise BenchError("%s failed (exit %d): %s" % (what, proc.returncode,
                                                       proc.stderr.decode(errors="replace").strip()))
    return proc.stdout.decode() if stdout is None else None


def cpu_seconds(pid):
    """User + system CPU time of a running process, from /proc."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Stores

def ctl(args, *argv):
    return [args.ctl] + list(argv)


def new_event(args, db):
    # An event in UTC from yesterday to tomorrow, open all day, so every scan
    # falls within it whenever the benchmark runs.
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    run(ctl(args, "--db", db, "event", "init", "--name", "Bench", "--start", start, "--days", "3",
            "--gates", GATES, "--open", "00:00", "--close", "24:00", "--timezone", "UTC"), "event init")


def issue(args, db, count, out_path):
    """Issues @count tickets, their codes to @out_path; returns the seconds."""
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        left = count
        while left > 0:
            n = min(left, MAX_ISSUE)
            run(ctl(args, "--db", db, "ticket", "issue", "--category", "Season pass", "--count", str(n)),
                "ticket issue", stdout=out)
            left -= n
    return time.monotonic() - t0


def device_add(args, db, name, out):
    run(ctl(args, "--db", db, "device", "add", "--role", "gate", "--name", name, "--out", out), "device add")


# (a) Online admissions

def wrk_run(args, url, codes, token=None):
    argv = [args.wrk, "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % args.duration, "--latency",
            "-s", args.admit_lua, url, "--", codes, str(args.threads), GATE] + ([token] if token else [])
    out = run(argv, "wrk", timeout=args.duration + 120)
    for line in out.splitlines():
        if line.startswith("admit.lua "):
            return json.loads(line[len("admit.lua "):])
    raise BenchError("wrk printed no `admit.lua {…}` line:\n" + out)


def report_wrk(metric, label, w, server_cpu, goal_p99=None, **extra):
    errors = {k: v for k, v in w["errors"].items() if v}
    per_request = server_cpu * 1e6 / max(w["requests"], 1)
    fields = {"errors": sum(errors.values()), "server_cpu_us_per_request": per_request}
    fields.update(extra)
    fields.update(("errors_" + k, v) for k, v in sorted(errors.items()))
    rate = emit_rate(metric, w["requests"], w["duration_us"] / 1e6, **fields)
    emit_latency(metric + ".latency", w["p50_us"], w["p99_us"], w["max_us"], w["mean_us"], w["requests"],
                 goal_max_us=goal_p99)
    human("  %-36s %9.0f /s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  server CPU %.0f µs/req"
          % (label, rate, w["p50_us"] / 1000, w["p99_us"] / 1000, w["max_us"] / 1000, per_request))
    if errors:
        human("  %-36s %s" % ("", ", ".join("%s errors %d" % kv for kv in sorted(errors.items()))))
    # wrk counts a read error each time the server closes a connection it
    # has just answered on: one per request means no keep-alive at all.
    if errors.get("read", 0) >= 0.9 * w["requests"]:
        human("  %-36s (the server closed the connection after every answer: no keep-alive)" % "")
    return rate


def preflight(url, code, token):
    """One admission by hand: anything but 200 with a verdict stops the run."""
    body = json.dumps({"code": code, "gate": GATE}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url + "api/v1/admit", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            verdict = json.loads(reply.read()).get("verdict")
    except urllib.error.HTTPError as e:
        raise BenchError("the hub answered an admission with HTTP %d (%s)%s"
                         % (e.code, e.read().decode(errors="replace").strip(),
                            "" if token else "; this pravesh-ctl has no `token` command to sign requests with"))
    except (OSError, ValueError) as e:
        raise BenchError("the first admission failed: %s" % e)
    if verdict != "ADMIT":
        raise BenchError("the first admission of a fresh ticket was %s, not ADMIT" % verdict)


def listening(port):
    """Whether a socket listens on 127.0.0.1:@port, from /proc/net/tcp."""
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == "0100007F:%04X" % port and fields[3] == "0A":
                    return True
    except (OSError, IndexError):
        return None
    return False


def hub_metrics(url, hub):
    """The hub's verdict counters and other figures from /metrics."""
    text = None
    for attempt in range(5):
        try:
            with urllib.request.urlopen(url + "metrics", timeout=10) as reply:
                text = reply.read().decode()
            break
        except OSError as e:
            human("  /metrics: %s%s" % (e, ", trying again" if attempt < 4 else ""))
            time.sleep(0.2)
    if text is None:
        port = urllib.parse.urlsplit(url).port
        human("  /metrics: the hub is %s; port %d is %s" % (
            "running" if hub.poll() is None else "gone (exit %s)" % hub.returncode, port,
            {True: "listening", False: "not listening", None: "unknown"}[listening(port)]))
        return None, {}
    verdicts, values = {}, {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        try:
            number = float(value)
        except ValueError:
            continue
        number = int(number) if number.is_integer() else number
        if name.startswith('pravesh_admissions_total{verdict="'):
            verdicts[name.split('"')[1]] = number
        else:
            values[name] = number
    return verdicts, values


def bench_admit(args, children, tmp):
    if not args.wrk:
        human("admission: skipped, wrk not found (install wrk)")
        emit("admit.hub", skipped="wrk not found")
        return
    human("\nonline admission: wrk -t%d -c%d -d%ds, one fresh code per request"
          % (args.threads, args.connections, args.duration))
    db = os.path.join(tmp, "admit-hub.db")
    codes = os.path.join(tmp, "admit-codes.txt")
    new_event(args, db)
    # wrk speaks for a gate enrolled at the hub, with a bearer token that
    # gate signs (`pravesh-ctl token`, good for ten minutes) where the hub
    # asks for one; a build without tokens gets none.
    gate = os.path.join(tmp, "admit-gate.db")
    device_add(args, db, "wrk", gate)
    seconds = issue(args, db, args.tickets + 1, codes)
    # One ticket of its own for the first request, which checks that the hub
    # admits at all before wrk's figures are taken for admissions.
    with open(codes) as f:
        lines = f.read().splitlines()
    probe = lines.pop()
    with open(codes, "w") as f:
        f.write("\n".join(lines) + "\n")
    emit_rate("admit.store_issue", args.tickets + 1, seconds)
    human("  %-36s %9.0f /s  (%d tickets in the hub's store)" % ("store built, ticket issue", args.tickets / seconds,
                                                               args.tickets))

    bare_rate = None
    if args.bare:
        bare = children.start("bench-bare-handler", [args.bare])
        url = children.listen_url(bare)
        cpu0 = cpu_seconds(bare.pid)
        w = wrk_run(args, url, codes)
        cpu = cpu_seconds(bare.pid) - cpu0
        children.stop(bare)
        bare_rate = report_wrk("admit.bare", "bare libsoup handler, no store", w, cpu)
    else:
        human("  bare handler: skipped, bench-bare-handler not built")

    hub = children.start("pravesh-hub", [args.hub, "--db", db, "--listen", "127.0.0.1:0"])
    url = children.listen_url(hub)
    # Tokens are made out to the server they are for: the hub, here.
    try:
        token = run(ctl(args, "--db", gate, "token", "--for", url), "token").strip() or None
    except BenchError:
        token = None
    preflight(url, probe, token)
    cpu0 = cpu_seconds(hub.pid)
    w = wrk_run(args, url, codes, token)
    cpu = cpu_seconds(hub.pid) - cpu0
    verdicts, values = hub_metrics(url, hub)
    children.stop(hub)
    hub_rate = report_wrk("admit.hub", "pravesh-hub, durable, group commit", w, cpu, goal_p99=10000,
                          token=token is not None)
    if verdicts is None:
        emit("admit.hub.verdicts", skipped="/metrics did not answer")
    else:
        verdicts["ADMIT"] = verdicts.get("ADMIT", 0) - 1  # the probe
        groups = values.get("pravesh_commit_groups_total", 0)
        decided = sum(verdicts.values())
        emit("admit.hub.verdicts", **verdicts, decided=decided, commit_groups=groups,
             per_group=decided / groups if groups else float("nan"))
        human("  %-36s %s; %d commits of %.1f decisions"
              % ("hub verdicts", ", ".join("%s %d" % kv for kv in sorted(verdicts.items())), groups,
                 decided / groups if groups else float("nan")))
    if bare_rate:
        emit_ratio("admit.hub_vs_bare", hub_rate / bare_rate, 0.7)
        human("  %-36s %9.2f    (goal ≥ 0.7; and p99 ≤ 10 ms: %.2f ms)"
              % ("hub / bare", hub_rate / bare_rate, w["p99_us"] / 1000))

    if not (args.redis_server and args.redis_benchmark):
        human("  redis: skipped, redis-server or redis-benchmark not found (install redis-server, redis-tools)")
        emit("admit.redis", skipped="redis-server or redis-benchmark not found")
        return
    port = free_port()
    redis = children.start("redis-server", [args.redis_server, "--port", str(port), "--bind", "127.0.0.1",
                                            "--save", "", "--appendonly", "no", "--daemonize", "no",
                                            "--dir", tmp, "--logfile", ""])
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or redis.poll() is not None:
            raise BenchError("redis-server did not start: " + children.log_tail(redis))
        time.sleep(0.05)
    cpu0 = cpu_seconds(redis.pid)
    out = run([args.redis_benchmark, "-h", "127.0.0.1", "-p", str(port), "-c", str(args.connections),
               "-n", str(args.redis_requests), "-r", "1000000000", "--csv", "SET", "key:__rand_int__", "1", "NX"],
              "redis-benchmark", timeout=300)
    cpu = cpu_seconds(redis.pid) - cpu0
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"DBSIZE\r\n")
        keys = int(s.recv(64).strip().lstrip(b":"))
    children.stop(redis)
    rows = [line for line in out.splitlines() if line.startswith('"') and not line.startswith('"test"')]
    if not rows:
        raise BenchError("redis-benchmark printed no figures:\n" + out)
    cols = [c.strip('"') for c in rows[-1].split('","')]
    rps, avg, p50, p99, max_ = float(cols[1]), float(cols[2]), float(cols[4]), float(cols[6]), float(cols[7])
    emit("admit.redis", value=rps, unit="1/s", n=args.redis_requests, new_keys=keys,
         server_cpu_us_per_request=cpu * 1e6 / args.redis_requests)
    emit_latency("admit.redis.latency", p50 * 1000, p99 * 1000, max_ * 1000, avg * 1000, args.redis_requests)
    emit_ratio("admit.hub_vs_redis", hub_rate / rps)
    human("  %-36s %9.0f /s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  server CPU %.0f µs/req"
          % ("redis SET NX, no persistence", rps, p50, p99, max_, cpu * 1e6 / args.redis_requests))
    human("  %-36s %9.2f" % ("hub / redis", hub_rate / rps))


# (b) Replication

def bench_replicate(args, children, tmp):
    human("\nreplication: %d records from the hub into a fresh gate replica, one `sync --once`" % args.records)
    db = os.path.join(tmp, "replicate-hub.db")
    gate = os.path.join(tmp, "replicate-gate.db")
    new_event(args, db)
    # Enrolled first, so the replica holds none of the tickets yet.
    device_add(args, db, "replica", gate)
    seconds = issue(args, db, args.records, os.devnull)
    emit_rate("replicate.store_issue", args.records, seconds)
    human("  %-36s %9.0f /s" % ("store built, ticket issue", args.records / seconds))

    hub = children.start("pravesh-hub", [args.hub, "--db", db, "--listen", "127.0.0.1:0"])
    url = children.listen_url(hub)
    hub_cpu0, client_cpu0 = cpu_seconds(hub.pid), children_cpu_seconds()
    t0 = time.monotonic()
    out = run(ctl(args, "--db", gate, "sync", "--once", "--hub", url), "sync --once", timeout=1800)
    seconds = time.monotonic() - t0
    hub_cpu, client_cpu = cpu_seconds(hub.pid) - hub_cpu0, children_cpu_seconds() - client_cpu0
    children.stop(hub)
    stats = json.loads(out)
    pulled = stats["pulled"]
    if pulled < args.records:
        raise BenchError("sync --once pulled %d records, fewer than the %d issued" % (pulled, args.records))
    hub_count = int(run(ctl(args, "--db", db, "ledger", "count"), "ledger count").split()[0])
    gate_count = int(run(ctl(args, "--db", gate, "ledger", "count"), "ledger count").split()[0])
    if hub_count != gate_count:
        raise BenchError("after sync the gate holds %d records, the hub %d" % (gate_count, hub_count))
    rate = emit_rate("replicate.pull", pulled, seconds, goal=100000, pages=stats["pages"],
                     hub_cpu_s=hub_cpu, client_cpu_s=client_cpu)
    human("  %-36s %9.0f /s  (%d records, %d pages, %.2f s; CPU hub %.2f s, gate %.2f s; goal ≥ 100000)"
          % ("sync --once, records pulled", rate, pulled, stats["pages"], seconds, hub_cpu, client_cpu))
    for path in (db, gate):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)


# (c) Peer propagation with the hub down

def parse_record(out):
    record = json.loads(out).get("record")
    if not record:
        raise BenchError("admit --offline recorded nothing:\n" + out)
    device, seq = record.split("/")
    return int(device), int(seq)


def wait_for_record(conn, record, timeout=PROPAGATION_TIMEOUT_S):
    """Polls every ~1 ms; the monotonic time the record is seen, or None."""
    deadline = time.monotonic() + timeout
    while True:
        if conn.execute("SELECT 1 FROM records WHERE device_id = ? AND seq = ?", record).fetchone():
            return time.monotonic()
        if time.monotonic() > deadline:
            return None
        time.sleep(0.001)


def bench_peers(args, children, tmp):
    n = args.propagations
    human("\npeer propagation, hub down: %d offline admissions each way between two live gates" % n)
    db = os.path.join(tmp, "peers-hub.db")
    codes_path = os.path.join(tmp, "peers-codes.txt")
    gate_a, gate_b = os.path.join(tmp, "peers-a.db"), os.path.join(tmp, "peers-b.db")
    new_event(args, db)
    issue(args, db, 2 * n + 2, codes_path)
    with open(codes_path) as f:
        codes = [line.strip() for line in f if line.strip()]
    # Enrolled after the tickets were issued, so both hold them; no hub runs.
    # A's copy was taken before B was enrolled: the hub's ledger merged into
    # both files tells each of the other, which a hub that checks device
    # tokens needs before one gate takes the other's session.
    device_add(args, db, "gate-a", gate_a)
    device_add(args, db, "gate-b", gate_b)
    for gate in (gate_a, gate_b):
        run(ctl(args, "--db", gate, "ledger", "apply", db), "ledger apply")

    a = children.start("gate-a", ctl(args, "--db", gate_a, "sync", "--listen", "127.0.0.1:0"))
    url_a = children.listen_url(a)
    # B connects to A; the one live session carries records both ways.
    b = children.start("gate-b", ctl(args, "--db", gate_b, "sync", "--listen", "127.0.0.1:0", "--peer", url_a))
    children.listen_url(b)
    conns = {
        gate_a: sqlite3.connect("file:%s?mode=ro" % gate_a, uri=True),
        gate_b: sqlite3.connect("file:%s?mode=ro" % gate_b, uri=True),
    }
    try:
        def admit(at, code):
            t0 = time.monotonic()
            out = run(ctl(args, "--db", at, "admit", code, "--gate", GATE, "--offline"), "admit --offline")
            t_exit = time.monotonic()
            return parse_record(out), t_exit, t_exit - t0

        # The first admission each way waits for the session to come up and
        # is not counted.
        for at, to in ((gate_a, gate_b), (gate_b, gate_a)):
            record, _, _ = admit(at, codes.pop())
            if wait_for_record(conns[to], record, timeout=30) is None:
                raise BenchError("no live session between the gates: %s never reached %s\n%s\n%s"
                                 % (record, to, children.log_tail(a), children.log_tail(b)))

        samples = {"a_to_b": [], "b_to_a": []}
        process_us = []
        lost = {"a_to_b": [], "b_to_a": []}
        rng = random.Random(8470)
        for i in range(2 * n):
            key, at, to = ("a_to_b", gate_a, gate_b) if i % 2 == 0 else ("b_to_a", gate_b, gate_a)
            # A random pause, so admissions land at every phase of the
            # watchers' 20 ms polling rather than in step with it.
            time.sleep(rng.uniform(0, 0.02))
            record, t_exit, took = admit(at, codes.pop())
            process_us.append(took * 1e6)
            seen = wait_for_record(conns[to], record)
            if seen is None:
                lost[key].append((record, to, t_exit))
            else:
                samples[key].append((seen - t_exit) * 1e6)
        # Late or never: one more look at what did not arrive in time.
        late = {key: 0 for key in lost}
        for key, missing in lost.items():
            for record, to, t_exit in missing:
                seen = wait_for_record(conns[to], record, timeout=PROPAGATION_TIMEOUT_S)
                human("  record %d/%d, %s: %s" % (record[0], record[1], key.replace("_", " "),
                                                  "arrived after %.1f s" % (seen - t_exit) if seen else "never arrived"))
                late[key] += seen is not None
    finally:
        for conn in conns.values():
            conn.close()
    children.stop(b)
    children.stop(a)

    for key, label in (("a_to_b", "propagation A → B (B dialled A)"), ("b_to_a", "propagation B → A")):
        l = latency_of(samples[key])
        # A record that did not arrive within the timeout is not a sample,
        # but the goal is not met while one can be that late.
        emit_latency("peer.propagation." + key, l["p50"], l["p99"], l["max_"], l["mean"], l["n"],
                     goal_max_us=100000, also_pass=not lost[key], lost=len(lost[key]), late=late[key])
        human("  %-36s p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (n %d, not in %d s: %d; goal p99 ≤ 100 ms)"
              % (label, l["p50"] / 1000, l["p99"] / 1000, l["max_"] / 1000, l["n"], PROPAGATION_TIMEOUT_S,
                 len(lost[key])))
    l = latency_of(process_us)
    emit_latency("peer.admit_process", l["p50"], l["p99"], l["max_"], l["mean"], l["n"])
    human("  %-36s p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms"
          % ("the admit --offline process itself", l["p50"] / 1000, l["p99"] / 1000, l["max_"] / 1000))
    n_lost = len(lost["a_to_b"]) + len(lost["b_to_a"])
    if n_lost:
        human("  %d records did not reach the other gate within %d s (%d of them arrived later):"
              " the goal is not met" % (n_lost, PROPAGATION_TIMEOUT_S, late["a_to_b"] + late["b_to_a"]))


# (d) Admissions under hostile load

FLOOD_LUA = """
-- Cheap requests as fast as the connection takes them: a path nobody serves.
request = function() return wrk.format("GET", "/no/such/page") end
"""


def poll_metrics(url, per_second, stop_at, counts):
    """GETs /metrics @per_second times a second until @stop_at, each on a
    new connection, as a scraper does."""
    period = 1.0 / per_second
    next_at = time.monotonic()
    while time.monotonic() < stop_at:
        try:
            with urllib.request.urlopen(url + "metrics", timeout=10) as reply:
                reply.read()
            counts["ok"] += 1
        except OSError:
            counts["failed"] += 1
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))


def bench_load(args, children, tmp):
    if not args.wrk:
        human("admissions under load: skipped, wrk not found (install wrk)")
        emit("load.quiet", skipped="wrk not found")
        return
    phases = ("quiet", "flood", "metrics")
    human("\nonline admission under load: a paced probe (wrk -c%d, one admission per connection every %d ms) "
          "for %d s each: quiet, %d connections of cheap requests, /metrics %d times a second"
          % (args.probe_connections, args.probe_delay_ms, args.duration, args.connections, args.metrics_per_second))
    db = os.path.join(tmp, "load-hub.db")
    gate = os.path.join(tmp, "load-gate.db")
    new_event(args, db)
    device_add(args, db, "probe", gate)
    # A ledger of some size (a scan of it would show), and fresh codes for
    # every phase, so that every probe admission is a first one.
    all_codes = os.path.join(tmp, "load-codes.txt")
    issue(args, db, args.load_tickets, all_codes)
    with open(all_codes) as f:
        lines = f.read().splitlines()
    share = len(lines) // len(phases)
    codes = {}
    for i, phase in enumerate(phases):
        codes[phase] = os.path.join(tmp, "load-codes-%s.txt" % phase)
        with open(codes[phase], "w") as f:
            f.write("\n".join(lines[i * share:(i + 1) * share]) + "\n")
    flood_lua = os.path.join(tmp, "flood.lua")
    with open(flood_lua, "w") as f:
        f.write(FLOOD_LUA)

    hub = children.start("pravesh-hub", [args.hub, "--db", db, "--listen", "127.0.0.1:0"])
    url = children.listen_url(hub)
    token = run(ctl(args, "--db", gate, "token", "--for", url), "token").strip()
    probe_argv = [args.wrk, "-t1", "-c%d" % args.probe_connections, "-d%ds" % args.duration, "--latency",
                  "-s", args.admit_lua, url, "--"]
    results = {}
    for phase in phases:
        env = dict(os.environ, PV_BENCH_DELAY_MS=str(args.probe_delay_ms), PV_BENCH_CODES=codes[phase],
                   PV_BENCH_THREADS="1", PV_BENCH_GATE=GATE, PV_BENCH_TOKEN=token)
        load, polls, poller = None, {"ok": 0, "failed": 0}, None
        if phase == "flood":
            load = subprocess.Popen([args.wrk, "-t1", "-c%d" % args.connections, "-d%ds" % (args.duration + 2),
                                     "-s", flood_lua, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            time.sleep(1)
        elif phase == "metrics":
            poller = threading.Thread(target=poll_metrics, args=(url, args.metrics_per_second,
                                                                 time.monotonic() + args.duration + 1, polls))
            poller.start()
        cpu0 = cpu_seconds(hub.pid)
        proc = subprocess.run(probe_argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=args.duration + 120)
        cpu = cpu_seconds(hub.pid) - cpu0
        out = proc.stdout.decode(errors="replace")
        line = next((l for l in out.splitlines() if l.startswith("admit.lua ")), None)
        if line is None:
            raise BenchError("the probe printed no `admit.lua {…}` line:\n" + out)
        w = json.loads(line[len("admit.lua "):])
        extra = {}
        if load is not None:
            flood_out = load.communicate(timeout=args.duration + 120)[0].decode(errors="replace")
            match = re.search(r"Requests/sec:\s+([\d.]+)", flood_out)
            extra["flood_rate"] = float(match.group(1)) if match else float("nan")
        if poller is not None:
            poller.join()
            extra["metrics_polls"] = polls["ok"]
            extra["metrics_failed"] = polls["failed"]
        results[phase] = w
        errors = sum(w["errors"].values())
        emit_rate("load.%s" % phase, w["requests"], w["duration_us"] / 1e6, errors=errors,
                  server_cpu_us_per_second=cpu * 1e6 / (w["duration_us"] / 1e6), **extra)
        emit_latency("load.%s.latency" % phase, w["p50_us"], w["p99_us"], w["max_us"], w["mean_us"], w["requests"],
                     goal_max_us=None if phase == "quiet" else 10000)
        note = ""
        if "flood_rate" in extra:
            note = "  (flood answered %.0f requests/s)" % extra["flood_rate"]
        if "metrics_polls" in extra:
            note = "  (/metrics answered %d times, %d failed)" % (extra["metrics_polls"], extra["metrics_failed"])
        human("  %-36s %6.0f /s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  errors %d%s"
              % ("admissions, " + phase, w["requests"] / (w["duration_us"] / 1e6), w["p50_us"] / 1000,
                 w["p99_us"] / 1000, w["max_us"] / 1000, errors, note))
    verdicts, _ = hub_metrics(url, hub)
    children.stop(hub)
    if verdicts is not None:
        emit("load.verdicts", **verdicts)
        human("  %-36s %s" % ("hub verdicts", ", ".join("%s %d" % kv for kv in sorted(verdicts.items()))))
    quiet = results["quiet"]["p99_us"]
    for phase in ("flood", "metrics"):
        ratio = results[phase]["p99_us"] / quiet if quiet else float("nan")
        emit("load.%s_vs_quiet" % phase, value=ratio, unit="x", goal_max=2.0,
             **{"pass": ratio <= 2.0 and results[phase]["p99_us"] <= 10000})
        human("  %-36s %6.2f x  (goal p99 ≤ 2× quiet and ≤ 10 ms)" % ("p99 %s / quiet" % phase, ratio))


# Machine

def tool_version(argv):
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=10).stdout.decode(errors="replace")
        return out.splitlines()[0].strip() if out else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def fs_type(path):
    best, kind = "", "unknown"
    path = os.path.realpath(path)
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                fields = line.split()
                mount = fields[1].replace("\\040", " ")
                if (path == mount or path.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                    best, kind = mount, fields[2]
    except OSError:
        pass
    return kind


def machine_line(args, tmp):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    fields = {"cpu": cpu, "nproc": os.cpu_count(), "kernel": os.uname().release, "fs": fs_type(tmp),
              "buildtype": args.buildtype}
    if shutil.which("pkg-config"):
        for name, module in (("sqlite", "sqlite3"), ("glib", "glib-2.0"), ("libsoup", "libsoup-3.0"),
                             ("json_glib", "json-glib-1.0")):
            fields[name] = tool_version(["pkg-config", "--modversion", module])
    if args.wrk:
        fields["wrk"] = tool_version([args.wrk, "-v"]).split(" [")[0]
    if args.redis_server:
        fields["redis"] = tool_version([args.redis_server, "--version"]).split(" sha=")[0]
    emit("machine", **fields)
    human("%s, %d cores, Linux %s; stores on %s in %s; %s build"
          % (cpu, os.cpu_count(), fields["kernel"], fields["fs"], tmp, fields["buildtype"]))
    if fields["buildtype"] not in ("release", "debugoptimized"):
        human("warning: a %s build; figures from it say little" % fields["buildtype"])


# Main

def find_tool(given, env, build_dir, relative, name=None):
    if given:
        return given
    if os.environ.get(env):
        return os.environ[env]
    if build_dir and relative and os.path.exists(os.path.join(build_dir, relative)):
        return os.path.join(build_dir, relative)
    if name:
        return shutil.which(name) or ""
    return ""


def build_type(build_dir):
    try:
        with open(os.path.join(build_dir, "meson-info", "intro-buildoptions.json")) as f:
            return next(o["value"] for o in json.load(f) if o["name"] == "buildtype")
    except (TypeError, OSError, ValueError, StopIteration, KeyError):
        return "unknown"


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="Times online admission at pravesh-hub beside a bare libsoup "
                                "handler and redis, replication into a fresh gate, and propagation between "
                                "two gates with the hub down. JSON lines on stdout, a table on stderr.")
    p.add_argument("--build-dir", help="Meson build folder to take the binaries from (when not in the environment)")
    p.add_argument("--ctl", help="pravesh-ctl (default $PV_BENCH_CTL)")
    p.add_argument("--hub", help="pravesh-hub (default $PV_BENCH_HUB)")
    p.add_argument("--bare", help="bench-bare-handler (default $PV_BENCH_BARE)")
    p.add_argument("--admit-lua", help="the wrk script (default $PV_BENCH_ADMIT_LUA, or admit.lua beside this one)")
    p.add_argument("--wrk", help="wrk (default $PV_BENCH_WRK or PATH)")
    p.add_argument("--redis-server", help="redis-server (default $PV_BENCH_REDIS_SERVER or PATH)")
    p.add_argument("--redis-benchmark", help="redis-benchmark (default $PV_BENCH_REDIS_BENCHMARK or PATH)")
    p.add_argument("--only", default="admit,replicate,peers,load",
                   help="Comma-separated parts to run: admit, replicate, peers, load (default all)")
    p.add_argument("--tickets", type=int, default=300000,
                   help="Fresh tickets in the online admission store (default 300000)")
    p.add_argument("--duration", type=int, default=10, help="Seconds of each wrk run (default 10)")
    p.add_argument("--connections", type=int, default=64, help="Keep-alive connections (default 64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--redis-requests", type=int, default=200000, help="redis-benchmark requests (default 200000)")
    p.add_argument("--records", type=int, default=1000000, help="Records replicated by sync --once (default 1000000)")
    p.add_argument("--propagations", type=int, default=200,
                   help="Offline admissions timed each way between the gates (default 200)")
    p.add_argument("--load-tickets", type=int, default=200000,
                   help="Tickets in the store of the under-load figure, a third of them probed (default 200000)")
    p.add_argument("--probe-connections", type=int, default=8,
                   help="Gates of the under-load probe, each one connection (default 8)")
    p.add_argument("--probe-delay-ms", type=int, default=10,
                   help="Pause of each probe gate between an answer and its next admission (default 10)")
    p.add_argument("--metrics-per-second", type=int, default=20,
                   help="/metrics polls a second in the under-load figure (default 20)")
    p.add_argument("--dir", help="Work in DIR and keep it (default: a temporary folder, removed at the end)")
    p.add_argument("--json", action="store_true", help="Only the JSON lines on stdout, no table on stderr")
    args = p.parse_args()

    b = args.build_dir
    args.ctl = find_tool(args.ctl, "PV_BENCH_CTL", b, "src/ctl/pravesh-ctl")
    args.hub = find_tool(args.hub, "PV_BENCH_HUB", b, "src/hub/pravesh-hub")
    args.bare = find_tool(args.bare, "PV_BENCH_BARE", b, "tests/bench/bench-bare-handler")
    args.admit_lua = args.admit_lua or os.environ.get("PV_BENCH_ADMIT_LUA") or os.path.join(here, "admit.lua")
    # Meson sets these to "" when the tool is missing: then it is missing.
    for attr, env, name in (("wrk", "PV_BENCH_WRK", "wrk"), ("redis_server", "PV_BENCH_REDIS_SERVER", "redis-server"),
                            ("redis_benchmark", "PV_BENCH_REDIS_BENCHMARK", "redis-benchmark")):
        if getattr(args, attr) is None:
            setattr(args, attr, os.environ[env] if env in os.environ else (shutil.which(name) or ""))
    args.buildtype = os.environ.get("PV_BENCH_BUILDTYPE") or build_type(b)
    args.only = set(part.strip() for part in args.only.split(",") if part.strip())
    unknown = args.only - {"admit", "replicate", "peers", "load"}
    if unknown:
        p.error("unknown part(s) for --only: %s" % ", ".join(sorted(unknown)))
    for name in ("tickets", "duration", "connections", "threads", "redis_requests", "records", "propagations",
                 "load_tickets", "probe_connections", "probe_delay_ms", "metrics_per_second"):
        if getattr(args, name) < 1:
            p.error("--%s must be positive" % name.replace("_", "-"))
    if args.connections < args.threads:
        p.error("--connections must be at least --threads")
    for name, path in (("pravesh-ctl", args.ctl), ("pravesh-hub", args.hub)):
        if not path or not os.access(path, os.X_OK):
            p.error("%s not found: give --build-dir, --%s or set the PV_BENCH_ variable"
                    % (name, "ctl" if name == "pravesh-ctl" else "hub"))
    if args.bare and not os.access(args.bare, os.X_OK):
        args.bare = ""
    if args.only & {"admit", "load"} and args.wrk and not os.path.exists(args.admit_lua):
        p.error("the wrk script %s does not exist" % args.admit_lua)
    return args


def on_signal(signum, frame):
    # Leave through the finally blocks, which stop the children.
    raise SystemExit(128 + signum)


def main():
    global json_only, _libc
    args = parse_args()
    json_only = args.json
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        _libc = None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t0 = time.monotonic()
    keep = args.dir is not None
    if keep:
        os.makedirs(args.dir, exist_ok=True)
        tmp = os.path.abspath(args.dir)
    else:
        tmp = tempfile.mkdtemp(prefix="pv-bench-sync-")
    children = Children(tmp)
    status = 0
    try:
        machine_line(args, tmp)
        if "admit" in args.only:
            bench_admit(args, children, tmp)
        if "replicate" in args.only:
            bench_replicate(args, children, tmp)
        if "peers" in args.only:
            bench_peers(args, children, tmp)
        if "load" in args.only:
            bench_load(args, children, tmp)
        emit("total_seconds", value=time.monotonic() - t0, unit="s")
        human("\ndone in %.0f s" % (time.monotonic() - t0))
    except (BenchError, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as e:
        print("bench-sync: %s" % e, file=sys.stderr, flush=True)
        status = 1
    finally:
        children.stop_all()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
