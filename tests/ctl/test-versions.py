#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-versions.py: the three programs answer --version with the project's
# version, and `pravesh` answers --help and --version even where its
# settings schema is not installed (it used to abort), and says in words
# what is missing when it is asked to open a station there.

import os
import subprocess
import tempfile
import unittest

VERSION = os.environ["PRAVESH_VERSION"]
PROGRAMS = {"pravesh": os.environ["PRAVESH_APP"], "pravesh-hub": os.environ["PRAVESH_HUB"],
            "pravesh-ctl": os.environ["PRAVESH_CTL"]}


def run(program, *args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([PROGRAMS[program], *args], capture_output=True, text=True, env=full_env,
                          timeout=60)


class TestVersions(unittest.TestCase):
    def test_each_program_says_its_version(self):
        for name in PROGRAMS:
            result = run(name, "--version")
            self.assertEqual(result.returncode, 0, f"{name}: {result.stderr}")
            self.assertEqual(result.stdout.strip(), f"{name} {VERSION}")

    def test_app_without_its_schema(self):
        with tempfile.TemporaryDirectory(prefix="pravesh-no-schema-") as empty:
            # Nowhere to find in.pravesh.Pravesh, and no display either.
            env = {"GSETTINGS_SCHEMA_DIR": empty, "XDG_DATA_DIRS": empty, "DISPLAY": "",
                   "WAYLAND_DISPLAY": ""}
            version = run("pravesh", "--version", env=env)
            self.assertEqual(version.returncode, 0, version.stderr)
            self.assertEqual(version.stdout.strip(), f"pravesh {VERSION}")
            helped = run("pravesh", "--help", env=env)
            self.assertEqual(helped.returncode, 0, helped.stderr)
            self.assertIn("--demo", helped.stdout)
            opened = run("pravesh", "--db", os.path.join(empty, "fair.db"), env=env)
            self.assertEqual(opened.returncode, 1)
            self.assertIn("settings (in.pravesh.Pravesh) are missing", opened.stderr)
            self.assertNotIn("ERROR", opened.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
