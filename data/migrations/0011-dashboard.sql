-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0011-dashboard.sql: what the control room's live dashboard reads. Each
-- gate's rate over the last minute is a range over scan times, so scans
-- get an index on them. The dashboard also reads counters this version
-- adds (people inside per quarter hour, registrations by category and
-- channel together); a replica that already holds tickets or scans is
-- marked so the counters are counted again, once, before they are read.
CREATE INDEX scans_at ON scans (at);
INSERT INTO meta (key, value)
  SELECT 'counters-stale', 1
  WHERE EXISTS (SELECT 1 FROM scans) OR EXISTS (SELECT 1 FROM tickets);
