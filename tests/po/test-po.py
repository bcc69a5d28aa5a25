#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# The Hindi translation is complete: the template is made afresh from the
# sources (as `ninja pravesh-pot` makes it, into a scratch folder), merged
# with po/hi.po, and every message must have a Hindi text that is not fuzzy.
# A file with translatable strings missing from po/POTFILES.in, a .ui
# property a person reads without translatable="yes", and a literal English
# string handed to a widget without _() fail too: they would be English in
# Hindi whatever po/hi.po says. Python's standard library and gettext's
# tools only.
import os
import re
import subprocess
import sys
import tempfile

SOURCE_ROOT = os.environ.get("PRAVESH_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PO_DIR = os.path.join(SOURCE_ROOT, "po")
LANGUAGES = ["hi"]

# The keywords of meson's glib preset (i18n.gettext(preset: 'glib')).
XGETTEXT_ARGS = [
    "--from-code=UTF-8", "--add-comments=Translators:",
    "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2", "--keyword=NC_:1c,2",
    "--keyword=g_dcgettext:2", "--keyword=g_dngettext:2,3",
    "--keyword=g_dpgettext2:2c,3",
    "--flag=N_:1:pass-c-format", "--flag=C_:2:pass-c-format",
    "--flag=NC_:2:pass-c-format", "--flag=g_dngettext:2:pass-c-format",
    "--flag=g_strdup_printf:1:c-format",
    "--flag=g_string_printf:2:c-format",
    "--flag=g_string_append_printf:2:c-format",
    "--flag=g_error_new:3:c-format", "--flag=g_set_error:4:c-format",
    "--flag=g_markup_printf_escaped:1:c-format",
]

# Widget properties a person reads or hears (screen readers too).
UI_PROPERTIES = {"label", "title", "subtitle", "tooltip-text", "tooltip-markup",
                 "placeholder-text", "description", "text", "secondary-text",
                 "heading", "body", "button-label", "header-suffix-label"}

# Calls whose string arguments end up on screen.
SHOWN_CALLS = re.compile(
    r"\b(gtk_label_new|gtk_label_set_text|gtk_label_set_label|gtk_label_set_markup|"
    r"gtk_button_new_with_label|gtk_button_set_label|gtk_check_button_new_with_label|"
    r"gtk_widget_set_tooltip_text|gtk_window_set_title|gtk_entry_set_placeholder_text|"
    r"adw_preferences_row_set_title|adw_action_row_set_subtitle|adw_status_page_set_title|"
    r"adw_status_page_set_description|adw_window_title_set_title|adw_window_title_set_subtitle|"
    r"adw_toast_new|adw_message_dialog_new|"
    r"adw_preferences_group_set_title|adw_preferences_group_set_description|"
    r"adw_expander_row_set_subtitle|adw_preferences_page_set_title)\s*\(")


def run(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def potfiles():
    with open(os.path.join(PO_DIR, "POTFILES.in"), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def top_level_literals(text, start):
    """The string literals among the arguments of the call whose parenthesis
    is at @start, not those inside a nested call: _ ("…") is marked, and
    what json_object_get_string_member ("name") returns is data."""
    depth = 0
    found = []
    i = start
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if depth == 1:
                found.append(text[i:j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    return found


def unmarked_in_c(path, text):
    problems = []
    for m in SHOWN_CALLS.finditer(text):
        for lit in top_level_literals(text, m.end() - 1):
            # Markup, format directives and codes in capitals are not words.
            words = re.sub(r"<[^>]*>|%[-+ #0-9.]*[a-z]+|\\.", "", lit)
            if re.search(r"[a-z]{2}", words):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{path}:{line}: {lit} is shown untranslated")
    return problems


def unmarked_in_ui(path, text):
    problems = []
    for m in re.finditer(r"<(property|attribute)\s+([^>]*)>([^<]*)</\1>", text):
        attrs, value = m.group(2), m.group(3).strip()
        name = re.search(r'name="([^"]+)"', attrs)
        if name is None or name.group(1) not in UI_PROPERTIES:
            continue
        if not re.search(r"[A-Za-z]{2}", value) or 'translatable="yes"' in attrs:
            continue
        line = text.count("\n", 0, m.start()) + 1
        problems.append(f'{path}:{line}: “{value}” lacks translatable="yes"')
    return problems


def check_sources():
    listed = set(potfiles())
    problems = []
    for folder, _dirs, files in os.walk(os.path.join(SOURCE_ROOT, "src")):
        for name in sorted(files):
            if not name.endswith((".c", ".ui")):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, SOURCE_ROOT)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            marked = re.search(r'\b(?:_|N_|C_|NC_|ngettext)\s*\(\s*"|translatable="yes"', text)
            if marked and rel not in listed:
                problems.append(f"{rel}: has translatable strings but is not in po/POTFILES.in")
            if name.endswith(".ui"):
                problems += unmarked_in_ui(rel, text)
            elif rel.startswith("src/app/"):
                problems += unmarked_in_c(rel, text)
    for rel in listed:
        if not os.path.exists(os.path.join(SOURCE_ROOT, rel)):
            problems.append(f"po/POTFILES.in: {rel} does not exist")
    return problems


def untranslated(po_path):
    """(msgid, why) of each message that is untranslated or fuzzy."""
    out = run(["msgattrib", "--only-fuzzy", "--no-wrap", po_path]).stdout
    out += run(["msgattrib", "--untranslated", "--no-wrap", po_path]).stdout
    found = []
    for m in re.finditer(r'^(#, .*fuzzy.*\n)?(?:#.*\n)*(?:msgctxt .*\n)?msgid "(.*)"\n', out, re.M):
        if m.group(2) == "":
            continue  # the header
        found.append((m.group(2), "fuzzy" if m.group(1) else "untranslated"))
    return found


def main():
    print("TAP version 13")
    failures = 0
    problems = check_sources()
    ok = not problems
    print(f"{'ok' if ok else 'not ok'} 1 - every shown string is marked and its file listed")
    for p in problems:
        print(f"# {p}")
    failures += not ok

    with tempfile.TemporaryDirectory(prefix="pravesh-po-") as tmp:
        pot = os.path.join(tmp, "pravesh.pot")
        run(["xgettext", "--package-name=pravesh", "-f", os.path.join(PO_DIR, "POTFILES.in"),
             "-D", SOURCE_ROOT, "-o", pot] + XGETTEXT_ARGS)
        n = 1
        for lang in LANGUAGES:
            po = os.path.join(PO_DIR, lang + ".po")
            n += 1
            check = subprocess.run(["msgfmt", "-c", "--check-format", "-o", os.devnull, po],
                                   capture_output=True, text=True)
            print(f"{'ok' if check.returncode == 0 else 'not ok'} {n} - po/{lang}.po is valid")
            for line in check.stderr.splitlines():
                print(f"# {line}")
            failures += check.returncode != 0

            merged = os.path.join(tmp, lang + ".po")
            run(["msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged, po, pot])
            missing = untranslated(merged)
            n += 1
            print(f"{'ok' if not missing else 'not ok'} {n} - po/{lang}.po translates every "
                  f"message ({len(missing)} missing)")
            for msgid, why in missing:
                print(f"# {why}: \"{msgid}\"")
            failures += bool(missing)
        print(f"1..{n}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
