#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Every control of the app has a name a screen reader can say. The control
# room (whose sidebar holds every page), and before it the first-run
# window of a station with no event yet, a gate-only station (asking
# "Which Gate Is This?", then scanning) and a desk-only one, run on a
# private X display and a private D-Bus session with its own accessibility
# bus, as Orca would find it; this walker reads the app's accessibility
# tree through AT-SPI, visits each page by selecting its sidebar row,
# presses "Pair a New Device…", opens Preferences through the window's own
# action, and fails on any control whose name is empty or only a GTK type
# name ("GtkMenuButton", "GtkToggleButton").
#
# Run by run-a11y.sh (the buses), under run-xvfb.sh (the display). It needs
# Debian's python3-pyatspi, so it runs with /usr/bin/python3.
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pyatspi
from gi.repository import GLib

# Generous: under ASan the app answers the walker's many calls slowly.
TIMEOUT_S = 180
# What a person operates, by AT-SPI role name.
CONTROLS = {
    "push button", "toggle button", "menu button", "check box", "combo box",
    "entry", "text", "password text", "spin button", "list item", "slider",
    "switch", "radio button", "menu item", "page tab", "link",
}
TYPE_NAME = re.compile(r"^(Gtk|Adw|Pv|Gdk)[A-Z]\w*$")


def wait_for(what, test):
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        value = test()
        if value:
            return value
        if time.monotonic() > deadline:
            sys.exit(f"Bail out! timed out waiting for {what}")
        time.sleep(0.1)


def children(node):
    try:
        return [c for c in node if c is not None]
    except Exception:
        return []


def role_of(node):
    try:
        return node.getRoleName()
    except Exception:
        return None


def unnamed(node):
    """The controls under @node without a proper name, as readable lines."""
    found = []

    def walk(n, path):
        role = role_of(n)
        if role is None:
            return
        try:
            name = n.name or ""
        except Exception:
            name = ""
        here = path + [f"{role} “{name}”" if name else role]
        if role in CONTROLS and (not name.strip() or TYPE_NAME.match(name)):
            # Where it is: the nearest named ancestors.
            named = [p for p in here[:-1] if "“" in p][-2:]
            found.append(f"{role} “{name}” in {' › '.join(named) or 'the window'}")
        # The rows of a combo box's own list are the combo box's business:
        # GTK names the combo box, and says the chosen row as its value.
        if role == "combo box" and name and not TYPE_NAME.match(name):
            return
        for c in children(n):
            walk(c, here)

    walk(node, [])
    return found


def find(node, test):
    if test(node):
        return node
    for c in children(node):
        hit = find(c, test)
        if hit is not None:
            return hit
    return None


def app_named(name):
    for a in children(pyatspi.Registry.getDesktop(0)):
        try:
            if a.name == name:
                return a
        except Exception:
            pass
    return None


def stable_walk(node):
    """Walks @node until two walks agree: pages fill in from workers."""
    last = None
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        now = unnamed(node)
        if now == last or time.monotonic() > deadline:
            return now
        last = now
        time.sleep(0.2)


def start_app(build, args):
    env = dict(os.environ, G_DEBUG=os.environ.get("PRAVESH_APP_G_DEBUG", ""))
    # GTK 4.8's AT-SPI code, which only a screen reader wakes (every other
    # UI test runs with GTK_A11Y=none), leaks the action lists it answers
    # with; LeakSanitizer would report GTK's leak, not ours, at exit.
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return subprocess.Popen([os.path.join(build, "src", "app", "pravesh")] + args, env=env)


def stop_app(app):
    app.send_signal(signal.SIGTERM)
    try:
        app.wait(timeout=30)
    except subprocess.TimeoutExpired:
        app.kill()
        app.wait()


def check_first_run(build, n):
    """The window a new station opens on: pair with a hub, or open a file."""
    app = start_app(build, [])
    try:
        accessible = wait_for("the app on the accessibility bus", lambda: app_named("pravesh"))
        frame = wait_for("its window", lambda: find(accessible, lambda x: role_of(x) == "frame"))
        problems = stable_walk(frame)
    finally:
        stop_app(app)
    print(f"{'ok' if not problems else 'not ok'} {n} - every control in the first-run window is named")
    for p in problems:
        print(f"# unnamed: {p}")
    return bool(problems)


def press(node, what):
    """Presses @node's first action (a button's "click"), as Orca does."""
    try:
        node.queryAction().doAction(0)
    except GLib.Error as e:
        # Done before the reply goes, which a slow app may not send in time.
        print(f"# no reply to pressing {what} yet: {e.message}")


def tell(n, what, problems):
    print(f"{'ok' if not problems else 'not ok'} {n} - every control {what} is named")
    for p in problems:
        print(f"# unnamed: {p}")
    return bool(problems)


def named_button(name):
    # GTK 4.8 says a button with a mnemonic twice, the first time with
    # its underscore ("_Cancel Cancel"): the last words are its label.
    return lambda x: role_of(x) == "push button" and (x.name == name or x.name.endswith(" " + name))


def check_station(build, n, args, what):
    """A gate-only or desk-only station's window, shown by itself."""
    app = start_app(build, args)
    try:
        accessible = wait_for("the app on the accessibility bus", lambda: app_named("pravesh"))
        frame = wait_for("its window", lambda: find(accessible, lambda x: role_of(x) == "frame"))
        problems = stable_walk(frame)
    finally:
        stop_app(app)
    return tell(n, what, problems)


def check_gate_chooser(build, n, db):
    """A gate station that knows no gate asks which it is, then scans."""
    app = start_app(build, ["--db", db, "--role", "gate", "--camera", "none"])
    failures = 0
    try:
        accessible = wait_for("the app on the accessibility bus", lambda: app_named("pravesh"))
        frame = wait_for("its window", lambda: find(accessible, lambda x: role_of(x) == "frame"))
        gate = wait_for("“Which Gate Is This?”", lambda: find(frame, named_button("Gate 2")))
        failures += tell(n, "in the gate's “Which Gate Is This?”", stable_walk(frame))
        press(gate, "Gate 2")
        wait_for("the gate chosen", lambda: find(frame, named_button("Gate 2")) is None)
        failures += tell(n + 1, "in the gate-only station's window", stable_walk(frame))
    finally:
        stop_app(app)
    return failures


def main():
    build = os.environ["PRAVESH_BUILD_ROOT"]
    ctl = os.environ["PRAVESH_CTL"]
    tmp = tempfile.mkdtemp(prefix="pravesh-test-a11y-")
    db = os.path.join(tmp, "fair.db")
    today = time.strftime("%Y-%m-%d")
    subprocess.run([ctl, "--db", db, "event", "init", "--name", "Test Book Fair", "--start", today,
                    "--days", "9", "--gates", "Gate 1,Gate 2"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([ctl, "--db", db, "ticket", "issue", "--category", "One-day", "--day", today,
                    "--name", "Asha Verma"], check=True, stdout=subprocess.DEVNULL)

    print("TAP version 13")
    n = 1
    failures = check_first_run(build, n)
    # Its own copy: the gate chosen is kept in the file.
    gate_db = os.path.join(tmp, "gate.db")
    shutil.copyfile(db, gate_db)
    failures += check_gate_chooser(build, n + 1, gate_db)
    n += 2
    n += 1
    failures += check_station(build, n, ["--db", db, "--role", "desk"], "in the desk-only station's window")
    app = start_app(build, ["--db", db, "--role", "admin", "--camera", "none"])
    try:
        accessible = wait_for("the app on the accessibility bus", lambda: app_named("pravesh"))
        frame = wait_for("its window", lambda: find(accessible, lambda x: role_of(x) == "frame"))
        # The sidebar by its name: pages have lists of their own.
        sidebar = wait_for("the sidebar", lambda: find(
            frame, lambda x: role_of(x) == "list" and x.name == "Pages"
            and any(role_of(c) == "list item" for c in children(x))))
        rows = [c for c in children(sidebar) if role_of(c) == "list item"]
        if not rows:
            sys.exit("Bail out! the sidebar has no rows")
        selection = sidebar.querySelection()
        # Every page is in the tree whichever is shown: each is told once,
        # under the first page it was found with.
        told = set()
        for i, row in enumerate(rows):
            selection.selectChild(i)
            wait_for(f"sidebar row {i} to be chosen", lambda: selection.isChildSelected(i))
            problems = [p for p in stable_walk(frame) if p not in told]
            told.update(problems)
            n += 1
            ok = not problems
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {n} - every control is named with page {i + 1} "
                  f"(“{row.name}”) shown")
            for p in problems:
                print(f"# unnamed: {p}")

        # "Pair a New Device…" on the Devices page, pressed as Orca would.
        devices = next(i for i, row in enumerate(rows) if row.name == "Devices")
        selection.selectChild(devices)
        wait_for("the Devices page", lambda: selection.isChildSelected(devices))
        pair = wait_for("“Pair a New Device…”", lambda: find(frame, named_button("Pair a New Device…")))
        press(pair, "Pair a New Device…")
        dialog = wait_for("the pairing dialog", lambda: next(
            (w for w in children(accessible) if role_of(w) in ("frame", "dialog") and w != frame), None))
        n += 1
        failures += tell(n, "in “Pair a New Device”", stable_walk(dialog))
        press(wait_for("its Cancel", lambda: find(dialog, named_button("Cancel"))), "Cancel")
        wait_for("the pairing dialog gone", lambda: all(
            w == frame for w in children(accessible) if role_of(w) in ("frame", "dialog")))

        # Preferences, opened as a keyboard user would, by the window's action.
        actions = frame.queryAction()
        names = [actions.getName(i) for i in range(actions.nActions)]
        try:
            actions.doAction(names.index("win.preferences"))
        except GLib.Error as e:
            # The window is built before the reply goes, which a slow
            # (sanitized) app may not send within D-Bus's timeout.
            print(f"# no reply to the action yet: {e.message}")
        prefs = wait_for("Preferences", lambda: next(
            (w for w in children(accessible) if role_of(w) == "frame" and w != frame), None))
        problems = stable_walk(prefs)
        n += 1
        failures += bool(problems)
        print(f"{'ok' if not problems else 'not ok'} {n} - every control in Preferences is named")
        for p in problems:
            print(f"# unnamed: {p}")
    finally:
        stop_app(app)
        subprocess.run(["rm", "-rf", "--", tmp], check=False)
    print(f"1..{n}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
