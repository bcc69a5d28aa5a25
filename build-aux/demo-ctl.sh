#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# demo-ctl.sh BUILD_DIR: the short scripted tour that `./build-aux/dev demo`
# runs. In a temporary folder it creates a nine-day book fair starting today,
# issues a few tickets, admits them at gates (with --at inside today's opening
# hours, so the demo works at any time of day), shows a refusal, an exit and
# a re-entry, makes a gate replica that admits the same ticket offline,
# merges the two with `ledger apply`, and shows the double entry, the
# figures and a QR code. Then it serves the event with pravesh-hub on
# 127.0.0.1, pairs a gate with a one-time code, lets the hub refuse a ticket
# at a second gate online, stops the hub and shows the gate carrying on
# offline and catching up. Every command is printed before it runs, so a
# newcomer sees exactly what the CLI does.
set -euo pipefail

if (($# != 1)); then
  printf 'Usage: %s BUILD_DIR\n' "$0" >&2
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
CTL=$BUILD_DIR/src/ctl/pravesh-ctl
HUB=$BUILD_DIR/src/hub/pravesh-hub
if [[ ! -x $CTL || ! -x $HUB ]]; then
  printf 'demo: %s or %s is not built\n' "$CTL" "$HUB" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pravesh-demo.XXXXXX")
HUB_PID=
stop_hub ()
{
  if [[ -n $HUB_PID ]]; then
    kill -TERM "$HUB_PID" 2>/dev/null || true
    wait "$HUB_PID" 2>/dev/null || true
    HUB_PID=
  fi
}
trap 'stop_hub; rm -rf -- "$WORK"' EXIT
cd "$WORK"

# The event lives in India; "today" is today there.
TODAY=$(TZ=Asia/Kolkata date +%F)

# Ticket codes are 130 characters long: in the printed commands they appear
# as the shell variable that holds them.
declare -A LABELS=()

# Bold commands on a terminal, plain text in a log.
if [[ -t 1 ]]; then
  BOLD=$'\033[1m'
  PLAIN=$'\033[0m'
else
  BOLD=
  PLAIN=
fi

# One argument as a person would type it.
quote ()
{
  local arg=$1
  if [[ -n ${LABELS[$arg]:-} ]]; then
    printf '"$%s"' "${LABELS[$arg]}"
  elif [[ $arg =~ ^[A-Za-z0-9_./:=+,@-]+$ ]]; then
    printf '%s' "$arg"
  elif [[ $arg != *[\$\`\"\\!]* ]]; then
    printf '"%s"' "$arg"
  else
    printf '%q' "$arg"
  fi
}

show_command ()
{
  local arg line='$ pravesh-ctl'
  for arg in "$@"; do
    line+=" $(quote "$arg")"
  done
  printf '\n%s%s%s\n' "$BOLD" "$line" "$PLAIN"
}

# say LINE…: narration, one comment line each.
say ()
{
  printf '\n'
  printf '# %s\n' "$@"
}

# run ARGS…: a command that must succeed.
run ()
{
  show_command "$@"
  "$CTL" "$@"
}

# refused ARGS…: a scan that must be refused (exit status 2).
refused ()
{
  local rc=0
  show_command "$@"
  "$CTL" "$@" || rc=$?
  if ((rc != 2)); then
    printf 'demo: expected a refusal (exit 2), got exit %d\n' "$rc" >&2
    exit 1
  fi
  printf '(exit status 2: refused)\n'
}

# issue VAR ARGS…: issues one ticket and keeps its code in $VAR.
issue ()
{
  local var=$1 code
  shift
  show_command "$@"
  code=$("$CTL" "$@")
  printf '%s\n' "$code"
  printf -v "$var" '%s' "$code"
  LABELS[$code]=$var
}

say "Create the event: this file becomes its first (admin) device. (Open round" \
  "the clock, so the hub's own decisions at the end work at any hour.)"
run --db fair.db event init --name "National Book Fair" --start "$TODAY" --days 9 \
  --gates "Gate 1,Gate 2,Gate 3" --venue "Pragati Maidan, New Delhi" --open 00:00 --close 23:59
run --db fair.db category list

say "Issue tickets: a one-day ticket for today, a school group of 40, a season pass."
issue ONE_DAY --db fair.db ticket issue --category One-day --day "$TODAY" \
  --name "Asha Verma" --phone 98765-43210
issue GROUP --db fair.db ticket issue --category "School group" --day "$TODAY" --party 40 \
  --name "Class 7B, Kendriya Vidyalaya"
issue SEASON --db fair.db ticket issue --category "Season pass"

say "Check a ticket without recording anything (exit 0 when genuine)."
run --db fair.db verify "$ONE_DAY" --at "${TODAY}T10:55"

say "Admit at the gates. One scan lets the whole school group in."
run --db fair.db admit "$ONE_DAY" --gate "Gate 1" --at "${TODAY}T11:00"
run --db fair.db admit "$GROUP" --gate "Gate 2" --at "${TODAY}T11:30"

say "The same one-day ticket shown again at another gate: refused."
refused --db fair.db admit "$ONE_DAY" --gate "Gate 2" --at "${TODAY}T11:20"

say "Asha leaves for lunch and comes back: one-day tickets allow re-entry."
run --db fair.db admit "$ONE_DAY" --gate "Gate 3" --at "${TODAY}T13:00" --exit
run --db fair.db admit "$ONE_DAY" --gate "Gate 3" --at "${TODAY}T14:00"

say "Enrol a gate laptop: it gets its own replica file, key and certificate."
run --db fair.db device add --role gate --name "Gate 3 laptop" --out gate3.db

say "The network is down: the season pass is let in at Gate 1, and a screenshot" \
  "of it at Gate 3, whose laptop decides offline from its own replica."
run --db fair.db admit "$SEASON" --gate "Gate 1" --at "${TODAY}T15:00"
run --db gate3.db admit "$SEASON" --gate "Gate 3" --at "${TODAY}T15:02"

say "The network is back: merge both ways. Both replicas now hold the same" \
  "records and derive the same state, so the digests agree."
run --db fair.db ledger apply gate3.db
run --db gate3.db ledger apply fair.db
run --db fair.db ledger digest
run --db gate3.db ledger digest

say "Every replica finds the double entry the same way (earliest wins)."
run --db fair.db doubles
run --db gate3.db doubles

say "The control room's figures for today; what one ticket went through."
run --db fair.db stats --at "${TODAY}T16:00"
run --db fair.db ticket show 1-000001

say "Export the scans for a spreadsheet, and the ticket as a QR image."
run --db fair.db export entries
run qr "$ONE_DAY" --png ticket.png

say "Read it back through the gate's own decoder, as a webcam frame would be."
run scan ticket.png

# start_hub [PORT]: pravesh-hub on 127.0.0.1 in the background; $HUB_URL.
start_hub ()
{
  printf '\n%s$ pravesh-hub --db fair.db --listen 127.0.0.1:%s &%s\n' "$BOLD" "${1:-0}" "$PLAIN"
  "$HUB" --db fair.db --listen "127.0.0.1:${1:-0}" >hub.out 2>hub.log &
  HUB_PID=$!
  for _ in $(seq 100); do
    if grep -q '^listening ' hub.out 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  HUB_URL=$(awk '/^listening /{print $2; exit}' hub.out)
  if [[ -z $HUB_URL ]]; then
    printf 'demo: the hub did not start:\n' >&2
    cat hub.log >&2
    exit 1
  fi
  printf '%s\n' "$(head -1 hub.out)"
}

say "Serve the event: pravesh-hub keeps its own replica (this file) and is" \
  "where devices meet. A new gate pairs with a one-time code (shown as a QR" \
  "in the app): its key pair is made on the gate, the hub certifies it."
start_hub
issue PAIRING --db fair.db device invite --role gate --name "Gate 2 laptop"
run --db gate2.db pair "$PAIRING"

say "Online, the hub decides: the first gate to ask wins, and a copy of the" \
  "ticket at another gate the same second is refused."
issue WALK_IN --db fair.db ticket issue --category One-day --day "$TODAY"
run --db gate2.db admit "$WALK_IN" --gate "Gate 2"
refused --db gate3.db admit "$WALK_IN" --gate "Gate 3" --hub "$HUB_URL"

say "The hub goes down. Gate 2 waits 800 ms for it, then decides from its own" \
  "replica and says so; when the hub is back, one round of sync catches up."
issue LATE --db fair.db ticket issue --category "Season pass"
run --db gate2.db sync --once
stop_hub
run --db gate2.db admit "$LATE" --gate "Gate 2"
PORT=${HUB_URL%/}
start_hub "${PORT##*:}"
run --db gate2.db sync --once
run --db fair.db devices

printf '\nDemo complete: every file above lived in %s, removed now.\n' "$WORK"
