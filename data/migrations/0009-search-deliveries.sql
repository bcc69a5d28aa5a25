-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0009-search-deliveries.sql: what a desk's search box and its "send this
-- ticket" buttons need. A visitor often reads out only the last digits of
-- their phone; an index over the phone written backwards turns "ends with
-- 43210" into a range seek instead of a scan of every person. The column is
-- computed by SQLite from built-in functions only, so every writer of the
-- file keeps it right. Deliveries are derived from the ledger's
-- delivery-requested records, except their status, which belongs to the
-- hub's outbox: it alone moves it on from 'queued', and a rebuild keeps it.
ALTER TABLE people ADD COLUMN phone_tail TEXT GENERATED ALWAYS AS (
  substr (phone, -1, 1) || substr (phone, -2, 1) || substr (phone, -3, 1)
  || substr (phone, -4, 1) || substr (phone, -5, 1) || substr (phone, -6, 1)
  || substr (phone, -7, 1) || substr (phone, -8, 1) || substr (phone, -9, 1)
  || substr (phone, -10, 1) || substr (phone, -11, 1) || substr (phone, -12, 1)
  || substr (phone, -13, 1) || substr (phone, -14, 1) || substr (phone, -15, 1)
  || substr (phone, -16, 1)) VIRTUAL;
CREATE INDEX people_phone_tail ON people (phone_tail);

-- derived (but for status): a request to send a ticket to its visitor, one
-- row per delivery-requested record, whether or not the ticket is known yet.
CREATE TABLE deliveries (
  requested_by INTEGER NOT NULL, -- the device that wrote the record
  rec_seq      INTEGER NOT NULL,
  issuer       INTEGER NOT NULL,
  serial       INTEGER NOT NULL,
  channel      TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  status       TEXT NOT NULL DEFAULT 'queued', -- the hub's outbox: local
  PRIMARY KEY (requested_by, rec_seq),
  FOREIGN KEY (requested_by, rec_seq) REFERENCES records (device_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX deliveries_ticket ON deliveries (issuer, serial);
CREATE INDEX deliveries_queued ON deliveries (requested_at) WHERE status = 'queued';
