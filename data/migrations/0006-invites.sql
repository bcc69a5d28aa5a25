-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0006-invites.sql: pairing invitations a hub has handed out. Local to the
-- hub's file: only a digest of each secret is kept, so a copy of the file
-- cannot be used to pair a device. An invitation is used once.
CREATE TABLE invites (
  secret_digest BLOB PRIMARY KEY CHECK (length(secret_digest) = 32),
  role       TEXT NOT NULL,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  device_id  INTEGER
) STRICT, WITHOUT ROWID;
