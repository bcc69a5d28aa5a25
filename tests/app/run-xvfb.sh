#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# run-xvfb.sh COMMAND…: runs a UI test on a private Xvfb display of its own.
# Xvfb picks a free display and says which (-displayfd), so tests run in
# parallel without xvfb-run's race for display numbers. The screen is
# 1280x800 unless PRAVESH_XVFB_SCREEN says another (e.g. 1024x576x24).
set -eu

dir=$(mktemp -d "${TMPDIR:-/tmp}/pravesh-xvfb.XXXXXX")
trap 'kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true; rm -rf -- "$dir"' EXIT INT TERM
mkfifo "$dir/fd"
Xvfb -displayfd 3 -screen 0 "${PRAVESH_XVFB_SCREEN:-1280x800x24}" -nolisten tcp -noreset 3>"$dir/fd" 2>"$dir/log" &
xvfb=$!
read -r display <"$dir/fd" || { cat "$dir/log" >&2; exit 1; }
DISPLAY=:$display "$@"
