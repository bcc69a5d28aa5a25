-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0016-manual-scans.sql: which scans were decided by hand. A gate's lookup
-- by serial admits on a number typed in and the volunteer's eye, not on a
-- signed code read by the camera; those records have their own kinds
-- (manual-entry, manual-exit) and the derived scans say so here, so an
-- organiser can tell them apart. Every scan recorded before this was read
-- from a code (or cannot be told apart any more): 0.
ALTER TABLE scans ADD COLUMN manual INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1));
