-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0005-people-wanted.sql: tickets whose record carries a digest of a name
-- and phone this replica has not received yet. A desk or admin replica may
-- get a ticket record from a gate (which never holds personal data) and the
-- person later from another replica; this list is what it asks for, so
-- nobody has to scan every ticket to find the gaps. Local bookkeeping, not
-- derived from the ledger.
CREATE TABLE people_wanted (
  issuer  INTEGER NOT NULL,
  serial  INTEGER NOT NULL,
  PRIMARY KEY (issuer, serial)
) STRICT, WITHOUT ROWID;

INSERT INTO people_wanted (issuer, serial)
  SELECT t.issuer, t.serial FROM tickets t
  WHERE t.pii_digest IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM people p WHERE p.issuer = t.issuer AND p.serial = t.serial)
    AND NOT EXISTS (SELECT 1 FROM meta m JOIN devices d ON d.id = CAST (m.value AS INTEGER)
                    WHERE m.key = 'device-id' AND d.role = 'gate');
