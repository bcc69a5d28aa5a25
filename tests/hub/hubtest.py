# SPDX-License-Identifier: GPL-3.0-or-later
# hubtest.py: what the hub's tests (test-outbox.py, test-whatsapp.py,
# test-web.py) share to drive real processes on 127.0.0.1 — the built
# programs, an event made with pravesh-ctl, pravesh-hub started with a
# settings file and waited for until it prints `listening URL`, stopped as a
# supervisor stops it (and failed on an unclean end), its log, a read-only
# look at its SQLite file, and a ticket's QR code read back with zbarimg.
# The stand-ins for the services the hub talks to are in fake_services.py.
# Python's standard library only.

import datetime
import os
import signal
import sqlite3
import subprocess
import threading

CTL = os.environ.get("PRAVESH_CTL")
HUB = os.environ.get("PRAVESH_HUB")

# Under the sanitizers everything is slower, and stacks are whole: libsoup
# leaks a little on failed connections, and the suppression that names it
# needs frames the fast unwinder cannot see through system libraries.
SLOW = "ASAN_OPTIONS" in os.environ
if SLOW and "fast_unwind_on_malloc=0" not in os.environ["ASAN_OPTIONS"]:
    os.environ["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"

# Events run from yesterday in their own zone, open all day, so that today
# is always one of their days, whatever the hour.
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
TODAY = datetime.datetime.now(IST).date()
START = (TODAY - datetime.timedelta(days=1)).isoformat()


def read_log(path):
    with open(path, errors="replace") as log:
        return log.read()


class Server:
    """A process that prints `listening URL` first; stdout is drained after
    into .lines (GLib writes its info and debug lines there)."""

    def __init__(self, args, log_path, env=None):
        self.name = os.path.basename(args[0])
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, env=env)
        self.lines = []
        self.drain = None
        first = []
        self.reader = threading.Thread(target=lambda: first.append(self.proc.stdout.readline()), daemon=True)
        self.reader.start()
        self.reader.join(30)
        line = first[0].decode().strip() if first else ""
        if not line.startswith("listening "):
            self.kill()
            raise AssertionError(f"{self.name} did not start: {line!r}\n{read_log(log_path)[-3000:]}")
        self.url = line.split()[1]
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace"))

    def stop(self):
        """SIGTERM, as a supervisor stops it; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()
        return self.proc.returncode

    def stop_cleanly(self):
        """Stops it, and fails unless it ended with 0: under the sanitizers,
        a leak or an error on the way out ends it otherwise."""
        rc = self.stop()
        if rc != 0:
            raise AssertionError(f"{self.name} ended with {rc}:\n{read_log(self.log_path)[-4000:]}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        # Once the process is gone its stdout ends, and the threads with it.
        for thread in (self.reader, self.drain):
            if thread is not None:
                thread.join(10)
        if not any(t is not None and t.is_alive() for t in (self.reader, self.drain)):
            self.proc.stdout.close()
        self.log.close()


def start_hub(db, config, log_path, env=None, listen="127.0.0.1:0"):
    """pravesh-hub on @db with the settings file @config, on a free port
    (of @listen's address)."""
    return Server([HUB, "--db", db, "--listen", listen, "--config", config], log_path, env=env)


def write_config(path, settings):
    """Writes @settings ({"group": {"key": "value"}, …}; a value None is left
    out) as the key file at @path, and returns @path."""
    with open(path, "w") as out:
        for group, keys in settings.items():
            out.write(f"[{group}]\n")
            out.writelines(f"{key}={value}\n" for key, value in keys.items() if value is not None)
    return path


def ctl(*args, db, cwd, rc=0):
    """Runs pravesh-ctl on @db (never on $PRAVESH_DB) and fails unless it
    exits with @rc."""
    env = dict(os.environ)
    env.pop("PRAVESH_DB", None)
    # A guard against a hang, not a measure: 100,000 tickets issued under
    # the sanitizers on a busy machine took over two minutes.
    proc = subprocess.run([CTL, "--db", db] + list(args), capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=600)
    if proc.returncode != rc:
        raise AssertionError(f"pravesh-ctl {' '.join(args)} exited {proc.returncode}, not {rc}\n"
                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def make_event(db, cwd, name, *options, days=3, close="23:59"):
    """The event @name in @db, from yesterday (START) for @days days, open
    from midnight to @close, with this hub as its device "Hub"; @options go
    to `pravesh-ctl event init` as they are."""
    return ctl("event", "init", "--name", name, "--start", START, "--days", str(days), "--open", "00:00",
               "--close", close, "--device-name", "Hub", *options, db=db, cwd=cwd)


def query(db, sql, *params):
    """The rows @sql gives on @db, opened read-only beside the hub."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def decode_qr(data, path):
    """The text of the QR code in the PNG @data, written to @path and read
    by zbarimg."""
    with open(path, "wb") as out:
        out.write(data)
    proc = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"zbarimg found no QR code in {path}: {proc.stderr}")
    return proc.stdout.strip()
