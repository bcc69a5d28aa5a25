-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0004-head-history.sql: every verified signed head, not only the newest of
-- each author. Records travel in pages; a replica can pass another author's
-- records on page by page only up to heads that author signed, so it keeps
-- them all (one per page the author served, a few hundred bytes each).
CREATE TABLE signed_heads (
  device_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  hash      BLOB NOT NULL CHECK (length(hash) = 32),
  signature BLOB NOT NULL CHECK (length(signature) = 64),
  PRIMARY KEY (device_id, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO signed_heads (device_id, seq, hash, signature)
  SELECT device_id, seq, hash, signature FROM heads;
DROP TABLE heads;
