-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0002-heads.sql: signed chain heads. A device vouches for all of its
-- records at once by signing the hash of its newest one; a replica keeps the
-- newest such signature of every author it holds records of, so it can pass
-- them on with proof that the author, not the relay, wrote them.
CREATE TABLE heads (
  device_id INTEGER PRIMARY KEY,
  seq       INTEGER NOT NULL,
  hash      BLOB NOT NULL CHECK (length(hash) = 32),
  signature BLOB NOT NULL CHECK (length(signature) = 64)
) STRICT;
