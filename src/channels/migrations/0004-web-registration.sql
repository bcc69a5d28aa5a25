-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0004-web-registration.sql: what the hub's public registration pages keep:
-- the one-time codes by which a visitor finds their tickets again on the
-- web (a salted digest of each, never the code), with the counts that
-- limit requests per phone and lock a phone out after wrong guesses. Local
-- to the hub, like the phone numbers they are sent to. The columns are
-- those of otps (0001-volunteers.sql), so that one module (pv-otp.c) keeps
-- both kinds of code.
-- (Core's 0013-web-registration.sql made this in every replica until it moved
-- here.)
CREATE TABLE visitor_codes (
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
