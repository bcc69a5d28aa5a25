#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-ctl.py: end-to-end tests of pravesh-ctl. Every test runs the real
# binary (PRAVESH_CTL) on real SQLite files in a temporary folder and checks
# what scripts rely on: verdicts and exit statuses, JSON shapes, CSV exports,
# QR codes that decode, replicas that converge after `ledger apply`, and bad
# input that changes nothing. Python's standard library only.

import csv
import datetime
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

CTL = os.environ.get("PRAVESH_CTL")
ZBARIMG = shutil.which("zbarimg")

GATES = "Gate 1,Gate 2,Gate 3"
# Starts in the future: certificates begin now and tickets are signed now,
# so the event must not lie in the past; every scan names its time (--at).
START = datetime.date.today() + datetime.timedelta(days=2)
N_DAYS = 3


def day(index):
    return (START + datetime.timedelta(days=index)).isoformat()


def at(index, clock="11:00"):
    return f"{day(index)}T{clock}"


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)


class CtlTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pravesh-ctl-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.db = self.path("fair.db")

    def path(self, name):
        return os.path.join(self.dir, name)

    def run_ctl(self, *args, db=None, stdin=None, env=None):
        command = [CTL]
        if db is not None:
            command += ["--db", db]
        command += list(args)
        full_env = dict(os.environ)
        full_env.pop("PRAVESH_DB", None)
        if env:
            full_env.update(env)
        proc = subprocess.run(command, input=stdin, capture_output=True, text=True,
                              env=full_env, cwd=self.dir, timeout=600)
        return Result(proc)

    def ctl(self, *args, db="default", rc=0, stdin=None, env=None):
        """Runs pravesh-ctl and checks its exit status; returns the Result."""
        if db == "default":
            db = self.db
        result = self.run_ctl(*args, db=db, stdin=stdin, env=env)
        self.assertEqual(result.rc, rc,
                         f"pravesh-ctl {' '.join(args)} exited {result.rc}, not {rc}\n"
                         f"stdout: {result.out}\nstderr: {result.err}")
        if rc == 1:
            self.assertOneLineError(result)
        return result

    def assertOneLineError(self, result):
        lines = result.err.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one error line, got: {result.err!r}")
        self.assertTrue(lines[0].startswith("pravesh-ctl: "), lines[0])

    def init_event(self, db=None, gates=GATES, extra=()):
        db = db or self.db
        return self.ctl("event", "init", "--name", "National Book Fair", "--start",
                        START.isoformat(), "--days", str(N_DAYS), "--gates", gates,
                        "--json", *extra, db=db).json()

    def issue(self, category, *extra, db=None, json_out=False):
        """Issues tickets: the JSON objects, or the codes printed one a line."""
        db = db or self.db
        args = ["ticket", "issue", "--category", category, *extra]
        if json_out:
            return self.ctl(*args, "--json", db=db).json()
        return [line for line in self.ctl(*args, db=db).out.splitlines() if line]

    def issue_one(self, category, *extra, db=None):
        tickets = self.issue(category, *extra, db=db, json_out=True)
        self.assertEqual(len(tickets), 1)
        return tickets[0]

    def admit(self, code, gate="Gate 1", when=None, rc=0, db=None, exit_scan=False):
        args = ["admit", code, "--gate", gate, "--at", when or at(0)]
        if exit_scan:
            args.append("--exit")
        return self.ctl(*args, db=db or self.db, rc=rc).json()

    def digests(self, db=None):
        db = db or self.db
        return (self.ctl("ledger", "digest", db=db).out.strip(),
                self.ctl("ledger", "state-digest", db=db).out.strip())


class TestHelpAndErrors(CtlTestCase):
    def test_help_for_every_command(self):
        top = self.ctl("--help", db=None)
        self.assertIn("Usage:", top.out)
        commands = []
        in_list = False
        for line in top.out.splitlines():
            if line.startswith("Commands:"):
                in_list = True
                continue
            if in_list and not line.strip():
                break
            if in_list:
                words = line.split()
                # "ledger state-digest  Print …": the name is one or two words.
                name = words[:2] if words[1][0].islower() else words[:1]
                commands.append(name)
        expected = {"event init", "event show", "category list", "category add",
                    "ticket issue", "ticket show", "ticket revoke", "ticket send", "verify", "admit", "qr", "scan",
                    "export tickets", "export entries", "stats", "doubles", "ledger digest",
                    "ledger state-digest", "ledger apply", "ledger rebuild", "ledger count",
                    "sync", "token", "pair", "peers", "hub cert", "device invite", "devices",
                    "volunteer add", "volunteer list", "volunteer deactivate", "otp show", "outbox", "signin",
                    "device add", "device list",
                    "device revoke"}
        self.assertEqual({" ".join(c) for c in commands}, expected)
        for command in commands:
            result = self.ctl(*command, "--help", db=None)
            self.assertIn("Usage:", result.out)
            self.assertIn("pravesh-ctl " + " ".join(command), result.out)
            self.assertIn("--help", result.out)
        for group in ("event", "category", "ticket", "export", "ledger", "device"):
            result = self.ctl(group, "--help", db=None)
            self.assertIn(group, result.out)
        self.assertIn("pravesh-ctl", self.ctl("--version", db=None).out)

    def test_usage_errors(self):
        self.init_event()
        for args in (["bogus"], ["event"], ["event", "bogus"], ["admit", "X", "--bogus"],
                     ["ticket", "issue"], ["admit", "PV1:X"], ["verify"],
                     ["verify", "a", "b"], ["ledger", "count", "extra"],
                     ["ticket", "issue", "--category", "One-day", "--count", "-3"],
                     ["ticket", "issue", "--category", "One-day", "--channel", "fax"]):
            self.ctl(*args, rc=1)
        result = self.ctl("admit", "X", "--gate", "Gate 1", "--frobnicate", rc=1)
        self.assertIn("--help", result.err)
        result = self.ctl("ticket", "issue", rc=1)
        self.assertIn("--category", result.err)

    def test_db_is_required_and_never_created(self):
        result = self.ctl("event", "show", db=None, rc=1)
        self.assertIn("--db", result.err)
        missing = self.path("missing.db")
        result = self.ctl("event", "show", db=missing, rc=1)
        self.assertIn("does not exist", result.err)
        self.assertFalse(os.path.exists(missing))
        self.assertFalse(os.path.exists(missing + "-wal"))
        # PRAVESH_DB stands in for --db.
        self.init_event()
        shown = self.ctl("event", "show", "--json", db=None,
                         env={"PRAVESH_DB": self.db}).json()
        self.assertEqual(shown["name"], "National Book Fair")
        # --db after the command works too.
        self.ctl("event", "show", "--db", self.db, db=None)

    def test_failed_init_leaves_no_file(self):
        db = self.path("bad.db")
        self.ctl("event", "init", "--name", "X", "--start", START.isoformat(), "--days", "3",
                 "--timezone", "Mars/Olympus", db=db, rc=1)
        self.ctl("event", "init", "--name", "X", "--start", "2026-13-45", "--days", "3",
                 db=db, rc=1)
        self.ctl("event", "init", "--name", "X", "--start", START.isoformat(), "--days", "0",
                 db=db, rc=1)
        self.ctl("event", "init", "--name", "X", "--start", START.isoformat(), "--days", "3",
                 "--open", "10:00", db=db, rc=1)
        self.assertFalse(os.path.exists(db))


class TestEvent(CtlTestCase):
    def test_init_show_and_categories(self):
        created = self.init_event(extra=["--venue", "Pragati Maidan", "--open", "09:00",
                                         "--close", "21:00", "--capacity", "5000"])
        self.assertRegex(created["id"], r"^[0-9a-f]{8}$")
        self.assertEqual(created["days"], N_DAYS)
        self.assertEqual(created["dates"], [day(i) for i in range(N_DAYS)])
        self.assertEqual(created["gates"], GATES.split(","))
        self.assertEqual(created["device_id"], 1)
        self.assertEqual(created["timezone"], "Asia/Kolkata")
        self.assertEqual(created["hours"][0], {"date": day(0), "open": "09:00", "close": "21:00"})
        self.assertEqual([c["name"] for c in created["categories"]],
                         ["One-day", "Season pass", "School group", "Exhibitor"])

        shown = self.ctl("event", "show", "--json").json()
        self.assertEqual(shown["id"], created["id"])
        self.assertEqual(shown["capacity"], 5000)
        self.assertIn("National Book Fair", self.ctl("event", "show").out)

        # A second event in the same store is refused.
        result = self.ctl("event", "init", "--name", "Other", "--start", START.isoformat(),
                          "--days", "2", rc=1)
        self.assertIn("already", result.err)
        self.assertEqual(self.ctl("event", "show", "--json").json()["id"], created["id"])

        categories = self.ctl("category", "list", "--json").json()
        by_name = {c["name"]: c for c in categories}
        self.assertEqual(by_name["Exhibitor"]["entries_per_day"], "unlimited")
        self.assertEqual(by_name["One-day"]["gates"], "all")
        self.assertEqual(by_name["School group"]["max_party"], 200)
        self.assertIn("School group", self.ctl("category", "list").out)

        added = self.ctl("category", "add", "--name", "VIP", "--validity", "every-day",
                         "--entries", "unlimited", "--reentry", "yes", "--gates", "gate 3",
                         "--max-party", "4", "--json").json()
        self.assertEqual(added["gates"], ["Gate 3"])
        self.assertEqual(added["entries_per_day"], "unlimited")
        self.assertEqual(len(self.ctl("category", "list", "--json").json()), 5)
        self.ctl("category", "add", "--name", "vip", "--validity", "every-day", rc=1)
        self.ctl("category", "add", "--name", "X", "--validity", "sometimes", rc=1)
        self.ctl("category", "add", "--name", "X", "--validity", "every-day",
                 "--gates", "Gate 9", rc=1)


class TestAdmission(CtlTestCase):
    def setUp(self):
        super().setUp()
        self.init_event()

    def test_each_default_category(self):
        one_day = self.issue_one("One-day", "--day", day(0))
        season = self.issue_one("Season pass")
        group = self.issue_one("School group", "--day", day(0), "--party", "40")
        exhibitor = self.issue_one("Exhibitor")
        self.assertEqual(one_day["day"], day(0))
        self.assertIsNone(season["day"])
        self.assertEqual(group["party"], 40)
        self.assertRegex(one_day["serial"], r"^1-\d{6}$")
        self.assertTrue(one_day["code"].startswith("PV1:"))

        verdict = self.admit(one_day["code"], "Gate 1", at(0, "11:00"))
        self.assertEqual(verdict["verdict"], "ADMIT")
        self.assertEqual(verdict["day"], 1)
        self.assertEqual(verdict["n_days"], N_DAYS)
        self.assertEqual(verdict["gate"], "Gate 1")
        self.assertTrue(verdict["offline"])
        self.assertEqual(verdict["at"], f"{day(0)}T11:00:00+05:30")
        self.assertEqual(verdict["category"], "One-day")

        again = self.admit(one_day["code"], "gate 2", at(0, "11:05"), rc=2)
        self.assertEqual(again["verdict"], "ALREADY_USED")
        self.assertEqual(again["previous_gate"], "Gate 1")
        self.assertEqual(again["previous_at"], f"{day(0)}T11:00:00+05:30")
        self.assertEqual(again["gate"], "Gate 2")

        verdict = self.admit(group["code"], "Gate 2", at(0, "11:10"))
        self.assertEqual(verdict["verdict"], "ADMIT")
        self.assertEqual(verdict["party"], 40)
        self.assertIn("40", verdict["message"])

        self.assertEqual(self.admit(season["code"], "Gate 3", at(0, "12:00"))["verdict"], "ADMIT")
        self.assertEqual(self.admit(season["code"], "Gate 3", at(1, "12:00"))["verdict"], "ADMIT")
        self.assertEqual(self.admit(exhibitor["code"], "Gate 1", at(0, "12:00"))["verdict"], "ADMIT")
        # Unlimited entries a day, even without an exit scan.
        self.assertEqual(self.admit(exhibitor["code"], "Gate 1", at(0, "12:01"))["verdict"], "ADMIT")

        stats = self.ctl("stats", "--json", "--at", at(0, "13:00")).json()
        self.assertEqual(stats["registered_total"], 4)
        # Visitors count once a day; entries count every pass through a gate.
        self.assertEqual(stats["entered_today"], 1 + 40 + 1 + 1)
        self.assertEqual(stats["entries_today"], 1 + 40 + 1 + 2)
        self.assertEqual(stats["scans_today"], 5)
        self.assertEqual(stats["inside_now"], 44)
        self.assertEqual(stats["day"], 1)
        self.assertEqual(stats["today"], day(0))
        self.assertEqual(stats["doubles_total"], 0)
        gates = {c["key"]: c["value"] for c in stats["entries_by_gate"]}
        self.assertEqual(gates, {"Gate 1": 3, "Gate 2": 40, "Gate 3": 1})
        categories = {c["key"]: c["value"] for c in stats["by_category"]}
        self.assertEqual(categories, {"One-day": 1, "Season pass": 1, "School group": 1,
                                      "Exhibitor": 1})
        self.assertEqual({c["key"]: c["value"] for c in stats["by_channel"]}, {"desk": 4})
        self.assertEqual({c["key"]: c["value"] for c in stats["entries_by_hour"]},
                         {"11": 41, "12": 3})
        self.assertIn("Tickets issued", self.ctl("stats", "--at", at(0, "13:00")).out)
        day2 = self.ctl("stats", "--json", "--at", at(1, "13:00")).json()
        self.assertEqual(day2["entered_today"], 1)

    def test_exit_and_reentry(self):
        one_day = self.issue_one("One-day", "--day", day(0))["code"]
        group = self.issue_one("School group", "--day", day(0), "--party", "30")["code"]

        self.assertEqual(self.admit(one_day, when=at(0, "10:30"))["verdict"], "ADMIT")
        out = self.admit(one_day, "Gate 2", at(0, "12:00"), exit_scan=True)
        self.assertEqual(out["verdict"], "EXIT")
        back = self.admit(one_day, "Gate 3", at(0, "14:00"))
        self.assertEqual(back["verdict"], "ADMIT")
        self.assertEqual(self.admit(one_day, when=at(0, "14:05"), rc=2)["verdict"],
                         "ALREADY_USED")

        # School groups come in once: leaving does not give the entry back.
        self.assertEqual(self.admit(group, when=at(0, "10:30"))["verdict"], "ADMIT")
        self.assertEqual(self.admit(group, when=at(0, "12:00"), exit_scan=True)["verdict"], "EXIT")
        self.assertEqual(self.admit(group, when=at(0, "13:00"), rc=2)["verdict"], "ALREADY_USED")

        # Leaving without having come in.
        never = self.issue_one("Season pass")["code"]
        self.assertEqual(self.admit(never, when=at(0, "12:00"), rc=2, exit_scan=True)["verdict"],
                         "NOT_INSIDE")

        stats = self.ctl("stats", "--json", "--at", at(0, "15:00")).json()
        self.assertEqual(stats["entered_today"], 1 + 30)
        self.assertEqual(stats["entries_today"], 1 + 1 + 30)
        self.assertEqual(stats["exited_today"], 1 + 30)
        self.assertEqual(stats["inside_now"], 1)

    def test_calendar_refusals(self):
        tomorrow = self.issue_one("One-day", "--day", day(1))["code"]
        season = self.issue_one("Season pass")["code"]

        wrong = self.admit(tomorrow, when=at(0), rc=2)
        self.assertEqual(wrong["verdict"], "WRONG_DAY")
        self.assertEqual(wrong["valid_day"], day(1))
        early = self.admit(season, when=at(-1), rc=2)
        self.assertEqual(early["verdict"], "NOT_YET_VALID")
        self.assertIsNone(early["day"])
        self.assertEqual(self.admit(season, when=at(N_DAYS), rc=2)["verdict"], "EXPIRED")
        self.assertEqual(self.admit(season, when=at(0, "08:00"), rc=2)["verdict"], "OUTSIDE_HOURS")
        self.assertEqual(self.admit(season, when=at(0, "20:00"), rc=2)["verdict"], "OUTSIDE_HOURS")
        # An explicit offset: 05:30 UTC is 11:00 in Kolkata.
        verdict = self.admit(tomorrow, when=f"{day(1)}T05:30:00Z")
        self.assertEqual(verdict["verdict"], "ADMIT")
        self.assertEqual(verdict["at"], f"{day(1)}T11:00:00+05:30")
        self.assertEqual(verdict["day"], 2)
        self.ctl("admit", season, "--gate", "Gate 1", "--at", "yesterday", rc=1)

    def test_wrong_gate(self):
        self.ctl("category", "add", "--name", "VIP", "--validity", "every-day",
                 "--gates", "Gate 3")
        vip = self.issue_one("VIP")["code"]
        refused = self.admit(vip, "Gate 1", rc=2)
        self.assertEqual(refused["verdict"], "WRONG_GATE")
        self.assertIn("Gate 3", refused["message"])
        self.assertEqual(self.admit(vip, "Gate 3")["verdict"], "ADMIT")

    def test_revoked_forged_malformed(self):
        good = self.issue_one("Season pass")
        bad = self.issue_one("Season pass")

        verified = self.ctl("verify", good["code"], rc=0).json()
        self.assertEqual(verified["verdict"], "VALID")
        self.assertEqual(verified["serial"], good["serial"])
        self.assertEqual(verified["category"], "Season pass")
        self.assertEqual(verified["issuer"], 1)
        self.assertIsNone(verified["valid_day"])

        self.ctl("ticket", "revoke", bad["serial"], rc=1)  # --reason is required
        self.ctl("ticket", "revoke", bad["serial"], "--reason", "lost and reissued")
        self.assertEqual(self.ctl("verify", bad["code"], rc=2).json()["verdict"], "REVOKED")
        revoked = self.admit(bad["code"], rc=2)
        self.assertEqual(revoked["verdict"], "REVOKED")
        self.assertIn("lost and reissued", revoked["message"])
        self.ctl("ticket", "revoke", "1-999999", "--reason", "typo", rc=1)

        # Flip one character of the signature part (near the end).
        code = good["code"]
        i = len(code) - 5
        flipped = code[:i] + ("A" if code[i] != "A" else "B") + code[i + 1:]
        forged = self.admit(flipped, rc=2)
        self.assertIn(forged["verdict"], ("FORGED", "MALFORMED"))
        self.assertIn(self.ctl("verify", flipped, rc=2).json()["verdict"], ("FORGED", "MALFORMED"))

        for garbage in ("hello world", "PV1:", "PV1:!!!!", "PV2:ABC"):
            verdict = self.admit(garbage, rc=2)
            self.assertEqual(verdict["verdict"], "MALFORMED")
            self.assertIsNone(verdict["serial"])
            self.assertEqual(self.ctl("verify", garbage, rc=2).json()["verdict"], "MALFORMED")

        result = self.ctl("admit", good["code"], "--gate", "Gate 42", "--at", at(0), rc=1)
        self.assertIn("Gate 42", result.err)
        # Neither the refusals nor the error recorded anything for the good one.
        self.assertEqual(self.admit(good["code"])["verdict"], "ADMIT")

    def test_admit_from_stdin(self):
        codes = [t["code"] for t in self.issue("Season pass", "--count", "3", json_out=True)]
        result = self.ctl("admit", "-", "--gate", "Gate 2", "--at", at(0),
                          stdin="\n".join(codes) + "\n\n", rc=0)
        lines = [json.loads(line) for line in result.out.splitlines()]
        self.assertEqual([v["verdict"] for v in lines], ["ADMIT"] * 3)
        result = self.ctl("admit", "-", "--gate", "Gate 2", "--at", at(0, "12:00"),
                          stdin=codes[0] + "\nnonsense\n", rc=2)
        lines = [json.loads(line) for line in result.out.splitlines()]
        self.assertEqual([v["verdict"] for v in lines], ["ALREADY_USED", "MALFORMED"])
        self.ctl("admit", "-", "--gate", "Gate 2", "--at", at(0), stdin="", rc=0)

    def test_issue_options(self):
        codes = self.issue("Season pass", "--count", "5")
        self.assertEqual(len(codes), 5)
        self.assertEqual(len(set(codes)), 5)
        self.ctl("ticket", "issue", "--category", "One-day", rc=1)  # needs --day
        self.ctl("ticket", "issue", "--category", "One-day", "--day", day(N_DAYS), rc=1)
        self.ctl("ticket", "issue", "--category", "One-day", "--day", day(0), "--party", "2",
                 rc=1)
        self.ctl("ticket", "issue", "--category", "Season pass", "--day", day(0), rc=1)
        web = self.issue_one("season PASS", "--channel", "web", "--name", "Asha",
                             "--phone", "+91 98765-43210")
        shown = self.ctl("ticket", "show", web["serial"], "--json").json()
        self.assertEqual(shown["channel"], "web")
        self.assertEqual(shown["name"], "Asha")
        self.assertEqual(shown["phone"], "+919876543210")

    def test_issue_after_the_event_is_refused(self):
        # Ended last week: a ticket issued now would be refused at every
        # gate, so none is made, and the reason is said.
        over = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
        db = self.path("over.db")
        self.ctl("event", "init", "--name", "Last Fair", "--start", over, "--days", "3",
                 "--gates", GATES, db=db)
        result = self.ctl("ticket", "issue", "--category", "Season pass", db=db, rc=1)
        self.assertIn("The event ended on ", result.err)
        self.assertEqual(self.ctl("export", "tickets", db=db).out.strip().count("\n"), 0)

    def test_ticket_show(self):
        ticket = self.issue_one("One-day", "--day", day(0), "--name", "Ravi", "--phone",
                                "9876543210")
        self.admit(ticket["code"], "Gate 1", at(0, "10:15"))
        self.admit(ticket["code"], "Gate 2", at(0, "13:00"), exit_scan=True)
        shown = self.ctl("ticket", "show", ticket["serial"], "--json").json()
        self.assertTrue(shown["known"])
        self.assertEqual(shown["category"], "One-day")
        self.assertEqual(shown["day"], day(0))
        self.assertEqual(shown["party"], 1)
        self.assertEqual(shown["channel"], "desk")
        self.assertFalse(shown["revoked"])
        self.assertEqual(shown["name"], "Ravi")
        self.assertEqual(shown["phone"], "+919876543210")
        self.assertEqual([(s["gate"], s["direction"], s["double"]) for s in shown["scans"]],
                         [("Gate 1", "entry", False), ("Gate 2", "exit", False)])
        by_code = self.ctl("ticket", "show", ticket["code"], "--json").json()
        self.assertEqual(by_code["serial"], ticket["serial"])
        text = self.ctl("ticket", "show", ticket["serial"]).out
        self.assertIn("Ravi", text)
        self.assertIn("Gate 2", text)
        self.ctl("ticket", "show", "1-424242", rc=1)
        self.ctl("ticket", "show", "not-a-serial", rc=1)


class TestOutputs(CtlTestCase):
    def setUp(self):
        super().setUp()
        self.init_event()

    def test_qr(self):
        code = self.issue_one("Season pass")["code"]
        png = self.path("ticket.png")
        svg = self.path("ticket.svg")
        # The code is self-contained: no store needed.
        self.ctl("qr", code, "--png", png, db=None)
        self.ctl("qr", code, "--svg", svg, "--module-px", "4", db=None)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(svg, encoding="utf-8") as f:
            self.assertIn("<svg", f.read())
        self.ctl("qr", code, db=None, rc=1)
        self.ctl("qr", code, "--png", png, "--svg", svg, db=None, rc=1)
        self.ctl("qr", "garbage", "--png", self.path("g.png"), db=None, rc=1)
        self.assertFalse(os.path.exists(self.path("g.png")))
        if ZBARIMG is None:
            self.skipTest("zbarimg is not installed")
        decoded = subprocess.run([ZBARIMG, "-q", "--raw", png], capture_output=True, text=True,
                                 timeout=60)
        self.assertEqual(decoded.returncode, 0, decoded.stderr)
        self.assertEqual(decoded.stdout.strip("\n"), code)

    def test_export(self):
        self.issue("Season pass", "--count", "3")
        hostile = self.issue_one("One-day", "--day", day(0), "--name", "=HYPERLINK(\"x\")")
        group = self.issue_one("School group", "--day", day(0), "--party", "25")
        self.admit(hostile["code"], "Gate 1", at(0, "10:30"))
        self.admit(group["code"], "Gate 2", at(0, "10:31"))
        self.admit(hostile["code"], "Gate 1", at(0, "12:00"), exit_scan=True)

        out = self.path("tickets.csv")
        result = self.ctl("export", "tickets", "--out", out)
        self.assertIn("5", result.err)
        self.assertFalse(os.path.exists(out + ".tmp"))
        with open(out, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 5)
        by_serial = {r["serial"]: r for r in rows}
        self.assertEqual(by_serial[hostile["serial"]]["name"], "'=HYPERLINK(\"x\")")
        self.assertEqual(by_serial[group["serial"]]["party"], "25")
        self.assertEqual(by_serial[group["serial"]]["day"], day(0))

        result = self.ctl("export", "entries")
        rows = list(csv.DictReader(io.StringIO(result.out, newline="")))
        self.assertEqual(len(rows), 3)
        self.assertEqual([r["direction"] for r in rows], ["entry", "entry", "exit"])
        self.assertEqual(rows[1]["party"], "25")
        self.assertIn("3", result.err)

        # A failed export leaves neither the file nor a half of it.
        bad = self.path("no-such-dir/x.csv")
        self.ctl("export", "tickets", "--out", bad, rc=1)
        self.assertFalse(os.path.exists(bad))
        self.ctl("export", "bogus", rc=1)


class TestReplicas(CtlTestCase):
    def setUp(self):
        super().setUp()
        self.init_event()

    def test_two_gates_offline_then_merge(self):
        ticket = self.issue_one("Season pass", "--name", "Meera", "--phone", "9876501234")
        gate1 = self.path("gate1.db")
        gate2 = self.path("gate2.db")
        added = self.ctl("device", "add", "--role", "gate", "--name", "Gate 1 laptop",
                         "--out", gate1, "--json").json()
        self.assertEqual(added["id"], 2)
        self.assertEqual(added["role"], "gate")
        self.ctl("device", "add", "--role", "gate", "--name", "Gate 2 laptop", "--out", gate2)
        self.ctl("device", "add", "--role", "gate", "--name", "again", "--out", gate2, rc=1)
        self.ctl("device", "add", "--role", "hub", "--name", "x", "--out",
                 self.path("hub.db"), rc=1)

        # Gates may neither issue nor reconfigure, and say so clearly.
        result = self.ctl("ticket", "issue", "--category", "Season pass", db=gate1, rc=1)
        self.assertIn("may not issue", result.err)
        result = self.ctl("category", "add", "--name", "X", "--validity", "every-day",
                          db=gate1, rc=1)
        self.assertIn("admin", result.err)

        # The same ticket, admitted at two gates that cannot see each other.
        first = self.admit(ticket["code"], "Gate 1", at(0, "11:00"), db=gate1)
        second = self.admit(ticket["code"], "Gate 2", at(0, "11:01"), db=gate2)
        self.assertEqual(first["verdict"], "ADMIT")
        self.assertEqual(second["verdict"], "ADMIT")

        applied = self.ctl("ledger", "apply", gate2, "--json", db=gate1).json()
        self.assertGreaterEqual(applied["applied"], 1)
        self.assertEqual(applied["forks"], 0)
        self.assertEqual(applied["people"], 0)
        self.ctl("ledger", "apply", gate1, db=gate2)
        self.ctl("ledger", "apply", gate1, db=self.db)
        again = self.ctl("ledger", "apply", gate1, "--json", db=self.db).json()
        self.assertEqual(again["applied"], 0)

        d_admin, d1, d2 = self.digests(), self.digests(gate1), self.digests(gate2)
        self.assertEqual(d1, d2)
        self.assertEqual(d_admin, d1)
        count = self.ctl("ledger", "count").out.strip()
        self.assertEqual(self.ctl("ledger", "count", db=gate1).out.strip(), count)

        for db in (self.db, gate1, gate2):
            doubles = self.ctl("doubles", "--json", db=db).json()
            self.assertEqual(len(doubles), 1, doubles)
            double = doubles[0]
            self.assertEqual(double["serial"], ticket["serial"])
            self.assertEqual(double["day"], day(0))
            self.assertEqual(double["double"]["gate"], "Gate 2")
            self.assertEqual(double["double"]["device"], 3)
            self.assertTrue(double["double"]["offline"])
            self.assertEqual(double["first"]["gate"], "Gate 1")
            self.assertEqual(double["first"]["device"], 2)
        self.assertIn(ticket["serial"], self.ctl("doubles").out)
        stats = self.ctl("stats", "--json", "--at", at(0, "12:00"), db=gate2).json()
        self.assertEqual(stats["doubles_total"], 1)

        # Names and phones never reach a gate.
        for db in (gate1, gate2):
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                self.assertEqual(conn.execute("SELECT count(*) FROM people").fetchone()[0], 0)
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            self.assertEqual(conn.execute("SELECT count(*) FROM people").fetchone()[0], 1)
        shown = self.ctl("ticket", "show", ticket["serial"], "--json", db=gate1).json()
        self.assertIsNone(shown["name"])
        self.assertIsNone(shown["phone"])

        for db in (self.db, gate1):
            result = self.ctl("ledger", "rebuild", db=db)
            lines = result.out.split()
            self.assertEqual(lines[1], lines[3])
            self.assertEqual(self.digests(db), d1)

        devices = self.ctl("device", "list", "--json").json()
        self.assertEqual([(d["id"], d["role"]) for d in devices],
                         [(1, "admin"), (2, "gate"), (3, "gate")])
        self.assertTrue(devices[0]["this_device"])
        self.ctl("device", "revoke", "3", "--reason", "stolen")
        devices = self.ctl("device", "list", "--json").json()
        self.assertTrue(devices[2]["revoked"])
        self.assertEqual(devices[2]["revoke_reason"], "stolen")
        self.ctl("device", "revoke", "1", rc=1)
        self.ctl("device", "revoke", "99", rc=1)
        self.ctl("device", "revoke", "3", db=gate1, rc=1)

    def test_desk_replica(self):
        desk = self.path("desk.db")
        self.ctl("device", "add", "--role", "desk", "--name", "Desk A", "--out", desk)
        ticket = self.issue_one("Season pass", "--name", "Kiran", db=desk)
        self.assertTrue(ticket["serial"].startswith("2-"))
        # Any replica that knows the desk's certificate verifies its tickets
        # offline, before the desk's records arrive.
        self.assertEqual(self.ctl("verify", ticket["code"]).json()["verdict"], "VALID")
        self.ctl("ticket", "show", ticket["serial"], rc=1)
        early = self.ctl("ticket", "show", ticket["code"], "--json").json()
        self.assertFalse(early["known"])
        self.assertEqual(early["category"], "Season pass")
        self.ctl("ledger", "apply", desk)
        shown = self.ctl("ticket", "show", ticket["serial"], "--json").json()
        self.assertTrue(shown["known"])
        self.assertEqual(shown["name"], "Kiran")
        self.ctl("ledger", "apply", self.db, db=desk)
        self.assertEqual(self.digests(), self.digests(desk))


    def test_ticket_send(self):
        desk = self.path("desk.db")
        gate = self.path("gate.db")
        self.ctl("device", "add", "--role", "desk", "--name", "Desk A", "--out", desk)
        self.ctl("device", "add", "--role", "gate", "--name", "Gate A", "--out", gate)
        ticket = self.issue_one("Season pass", "--name", "Kiran", "--phone", "98765 43210", db=desk)
        nameless = self.issue_one("Season pass", "--name", "Ravi", db=desk)
        sent = self.ctl("ticket", "send", ticket["serial"], "--via", "whatsapp", db=desk)
        self.assertIn(ticket["serial"], sent.out)
        self.assertIn("WhatsApp", sent.out)
        self.ctl("ticket", "send", ticket["code"], "--via", "sms", db=desk)
        # Refusals say why and write nothing.
        count = self.ctl("ledger", "count", db=desk).out
        self.ctl("ticket", "send", ticket["serial"], db=desk, rc=1)
        self.ctl("ticket", "send", ticket["serial"], "--via", "fax", db=desk, rc=1)
        self.ctl("ticket", "send", "2-999999", "--via", "sms", db=desk, rc=1)
        refused = self.ctl("ticket", "send", nameless["serial"], "--via", "sms", db=desk, rc=1)
        self.assertIn("phone", refused.err)
        self.assertEqual(self.ctl("ledger", "count", db=desk).out, count)

        shown = self.ctl("ticket", "show", ticket["serial"], "--json", db=desk).json()
        self.assertEqual([(d["channel"], d["device"], d["status"]) for d in shown["deliveries"]],
                         [("whatsapp", 2, "queued"), ("sms", 2, "queued")])
        self.assertTrue(all(d["requested_at"] for d in shown["deliveries"]))
        text = self.ctl("ticket", "show", ticket["serial"], db=desk).out
        self.assertIn("Deliveries:", text)
        self.assertIn("WhatsApp", text)
        self.assertNotIn("Deliveries", self.ctl("ticket", "show", nameless["serial"], db=desk).out)
        self.assertEqual(self.ctl("ticket", "show", nameless["serial"], "--json", db=desk).json()["deliveries"], [])

        # The requests reach a gate, which holds no phone, and the admin.
        self.ctl("ledger", "apply", desk, db=gate)
        on_gate = self.ctl("ticket", "show", ticket["serial"], "--json", db=gate).json()
        self.assertEqual(len(on_gate["deliveries"]), 2)
        self.assertIsNone(on_gate["phone"])
        self.ctl("ticket", "send", ticket["serial"], "--via", "sms", db=gate, rc=1)
        self.ctl("ledger", "apply", desk)
        self.ctl("ticket", "send", ticket["serial"], "--via", "sms")
        self.ctl("ledger", "apply", self.db, db=desk)
        self.ctl("ledger", "apply", self.db, db=gate)
        self.assertEqual(self.digests(), self.digests(desk))
        self.assertEqual(self.digests(), self.digests(gate))
        for db in (self.db, desk, gate):
            self.ctl("ledger", "rebuild", db=db)

    def test_cloned_gate_is_a_fork(self):
        first = self.issue_one("Season pass")["code"]
        second = self.issue_one("Season pass")["code"]
        gate = self.path("gate.db")
        clone = self.path("clone.db")
        self.ctl("device", "add", "--role", "gate", "--name", "Gate laptop", "--out", gate)
        shutil.copyfile(gate, clone)
        # Both files now write as device 2, each its own history.
        self.admit(first, db=gate)
        self.admit(second, db=clone)
        self.ctl("ledger", "apply", gate)
        before = self.digests()
        result = self.ctl("ledger", "apply", clone, "--json")
        self.assertEqual(result.json()["forks"], 1)
        self.assertEqual(result.json()["applied"], 0)
        self.assertIn("warning", result.err)
        self.assertEqual(self.digests(), before)
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            self.assertEqual(conn.execute("SELECT count(*) FROM forks").fetchone()[0], 1)


class TestBadInputChangesNothing(CtlTestCase):
    def test_refused_inputs(self):
        self.init_event()
        code = self.issue_one("Season pass")["code"]
        self.admit(code)
        before = self.digests()

        text_file = self.path("notes.txt")
        with open(text_file, "w") as f:
            f.write("not a database\n" * 100)
        foreign = self.path("foreign.db")
        with sqlite3.connect(foreign) as conn:
            conn.execute("CREATE TABLE t (x)")
            conn.execute("INSERT INTO t VALUES (1)")
        conn.close()
        with open(foreign, "rb") as f:
            foreign_bytes = f.read()
        other_event = self.path("other.db")
        self.init_event(db=other_event)

        self.ctl("ledger", "apply", text_file, rc=1)
        self.ctl("ledger", "apply", self.path("missing.db"), rc=1)
        self.assertFalse(os.path.exists(self.path("missing.db")))
        result = self.ctl("ledger", "apply", foreign, rc=1)
        self.assertIn("not a Pravesh store", result.err)
        result = self.ctl("ledger", "apply", other_event, rc=1)
        self.assertIn("another event", result.err)
        self.ctl("ledger", "apply", self.db, rc=1)
        self.ctl("admit", code, "--gate", "Gate 1", "--at", at(0, "12:00"), "--wrong-flag", rc=1)
        self.ctl("admit", code, "--at", at(0, "12:00"), rc=1)
        self.ctl("ticket", "issue", "--category", "Platinum", rc=1)
        result = self.ctl("ticket", "issue", "--category", "Season pass", "--name", "X",
                          "--phone", "call me maybe", rc=1)
        self.assertIn("not a mobile number", result.err)
        self.ctl("ticket", "issue", "--category", "Season pass", "--phone", "12", rc=1)
        self.ctl("event", "init", "--name", "Again", "--start", START.isoformat(), "--days", "2",
                 rc=1)

        self.assertEqual(self.digests(), before)
        with open(text_file) as f:
            self.assertEqual(f.read(), "not a database\n" * 100)
        with open(foreign, "rb") as f:
            self.assertEqual(f.read(), foreign_bytes)
        with sqlite3.connect(f"file:{foreign}?mode=ro", uri=True) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
        self.assertEqual(tables, ["t"])
        # Init refuses a foreign file rather than turning it into a store.
        self.ctl("event", "init", "--name", "X", "--start", START.isoformat(), "--days", "2",
                 db=foreign, rc=1)
        with open(foreign, "rb") as f:
            self.assertEqual(f.read(), foreign_bytes)


if __name__ == "__main__":
    if not CTL or not os.access(CTL, os.X_OK):
        sys.exit("PRAVESH_CTL must name the pravesh-ctl binary")
    unittest.main(verbosity=2)
