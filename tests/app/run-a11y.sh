#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# run-a11y.sh COMMAND…: runs COMMAND in a private D-Bus session with its own
# accessibility bus (at-spi-bus-launcher, which starts the registry), as a
# desktop with a screen reader has, so a test can read the app's
# accessibility tree without touching the machine's buses.
set -eu

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] || [ "${PRAVESH_A11Y_SESSION:-}" != 1 ]; then
  PRAVESH_A11Y_SESSION=1 exec dbus-run-session -- "$0" "$@"
fi
/usr/libexec/at-spi-bus-launcher --launch-immediately &
launcher=$!
trap 'kill "$launcher" 2>/dev/null || true; wait "$launcher" 2>/dev/null || true' EXIT INT TERM
# The walker's own libatspi warns while the app is still joining the bus;
# fatal warnings are for the app, which the walker starts with them.
PRAVESH_APP_G_DEBUG=${G_DEBUG:-} env -u G_DEBUG "$@"
