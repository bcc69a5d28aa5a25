-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0001-initial.sql: the first schema of a Pravesh replica. The ledger
-- (records) is the truth; every table marked "derived" is rebuilt from it by
-- pv_state_rebuild(); "local" tables belong to this file alone and never
-- replicate.

-- local: this replica's identity and clocks (device id, next seq, last HLC).
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value ANY
) STRICT;

-- local: key material; never leaves the file.
CREATE TABLE secrets (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
) STRICT;

-- the ledger: append-only, never updated or deleted.
CREATE TABLE records (
  device_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL CHECK (seq >= 1),
  hlc       INTEGER NOT NULL,
  kind      INTEGER NOT NULL,
  body      BLOB NOT NULL,
  prev      BLOB NOT NULL CHECK (length(prev) = 32),
  hash      BLOB NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (device_id, seq)
) STRICT, WITHOUT ROWID;

-- local: a second, different record seen for a (device_id, seq) we hold.
CREATE TABLE forks (
  device_id  INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  hlc        INTEGER NOT NULL,
  kind       INTEGER NOT NULL,
  body       BLOB NOT NULL,
  prev       BLOB NOT NULL,
  hash       BLOB NOT NULL,
  seen_at    INTEGER NOT NULL,
  PRIMARY KEY (device_id, seq, hash),
  FOREIGN KEY (device_id, seq) REFERENCES records (device_id, seq)
) STRICT, WITHOUT ROWID;

-- personal data, kept apart so gate replicas can go without it. Keyed by
-- ticket; the ticket record carries only a salted digest of name and phone.
CREATE TABLE people (
  issuer  INTEGER NOT NULL,
  serial  INTEGER NOT NULL,
  name    TEXT NOT NULL,
  phone   TEXT NOT NULL,
  salt    BLOB NOT NULL,
  PRIMARY KEY (issuer, serial)
) STRICT, WITHOUT ROWID;
CREATE INDEX people_phone ON people (phone);

-- derived: the event configuration record in force (latest HLC wins).
CREATE TABLE event_config (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  hlc       INTEGER NOT NULL,
  device_id INTEGER NOT NULL,
  config    BLOB NOT NULL
) STRICT;

-- derived: certified devices and their revocation.
CREATE TABLE devices (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL,
  public_key  BLOB NOT NULL,
  valid_from  INTEGER NOT NULL,
  valid_until INTEGER NOT NULL,
  cert        BLOB NOT NULL,
  enrolled_hlc INTEGER NOT NULL, -- its first enrolment: its records come after
  revoked_at  INTEGER,
  revoke_reason TEXT
) STRICT;

-- derived: tickets known from their issue records.
CREATE TABLE tickets (
  issuer     INTEGER NOT NULL,
  serial     INTEGER NOT NULL,
  category   INTEGER NOT NULL,
  day        INTEGER NOT NULL,
  party      INTEGER NOT NULL,
  channel    TEXT NOT NULL,
  issued_at  INTEGER NOT NULL,
  code       TEXT NOT NULL,
  pii_digest BLOB,
  rec_device INTEGER NOT NULL,
  rec_seq    INTEGER NOT NULL,
  PRIMARY KEY (issuer, serial),
  FOREIGN KEY (rec_device, rec_seq) REFERENCES records (device_id, seq)
) STRICT, WITHOUT ROWID;

-- derived: ticket revocations (a ticket may be revoked before its issue
-- record arrives, so this is not a column of tickets). Earliest wins.
CREATE TABLE ticket_revocations (
  issuer     INTEGER NOT NULL,
  serial     INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  PRIMARY KEY (issuer, serial)
) STRICT, WITHOUT ROWID;

-- derived: every entry and exit scan. is_double, is_void and counted_party
-- follow from all scans of the ticket in canonical order, never from the
-- order they arrived in.
CREATE TABLE scans (
  device_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  hlc       INTEGER NOT NULL,
  at        INTEGER NOT NULL,
  issuer    INTEGER NOT NULL,
  serial    INTEGER NOT NULL,
  category  INTEGER NOT NULL,
  day       INTEGER NOT NULL,
  gate      TEXT NOT NULL,
  party     INTEGER NOT NULL,
  is_exit   INTEGER NOT NULL,
  offline   INTEGER NOT NULL,
  is_double INTEGER NOT NULL DEFAULT 0,
  is_void   INTEGER NOT NULL DEFAULT 0, -- by a device after its revocation
  counted_party INTEGER NOT NULL DEFAULT 0, -- visitors: the day's first entry
  PRIMARY KEY (device_id, seq),
  FOREIGN KEY (device_id, seq) REFERENCES records (device_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX scans_ticket ON scans (issuer, serial, hlc, device_id, seq);
CREATE INDEX scans_double ON scans (is_double) WHERE is_double = 1;

-- derived: incremental counters (registrations by channel, entries per
-- day / hour / quarter hour / gate, people inside per day, doubles).
CREATE TABLE counters (
  name  TEXT NOT NULL,
  key   TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (name, key)
) STRICT, WITHOUT ROWID;
