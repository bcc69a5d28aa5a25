-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0007-device-contacts.sql: what a server (the hub, mostly) last heard from
-- each device: when, how many records the device held then and how many
-- it lacked, and where it serves sync to peers. Local bookkeeping for the
-- control room ("devices", /metrics) and the peer list, written a few
-- seconds after the fact, never part of the ledger.
CREATE TABLE device_contacts (
  device_id INTEGER PRIMARY KEY,
  seen_at   INTEGER NOT NULL,
  held      INTEGER NOT NULL DEFAULT 0,
  behind    INTEGER NOT NULL DEFAULT 0,
  url       TEXT
) STRICT;
