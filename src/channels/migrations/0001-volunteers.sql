-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0001-volunteers.sql: the people who staff desks and gates, their one-time
-- sign-in codes, and the outbox that carries messages (the codes among
-- them) to phones. Local to the hub: phone numbers never travel to gates.
-- Only a salted digest of each code is kept. (Core's 0008-volunteers.sql
-- made these tables in every replica until they moved here.)
CREATE TABLE volunteers (
  id        INTEGER PRIMARY KEY,
  name      TEXT NOT NULL,
  phone     TEXT NOT NULL UNIQUE,
  role      TEXT NOT NULL,
  added_at  INTEGER NOT NULL,
  removed_at INTEGER
) STRICT;

CREATE TABLE otps (
  phone        TEXT PRIMARY KEY,
  code_digest  BLOB,
  salt         BLOB,
  expires_at   INTEGER NOT NULL DEFAULT 0,
  failures     INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0,
  -- the start of the window in which requests are counted, and the count
  window_start INTEGER NOT NULL DEFAULT 0,
  requests     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY,
  channel    TEXT NOT NULL,
  recipient  TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at    INTEGER
) STRICT;
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
