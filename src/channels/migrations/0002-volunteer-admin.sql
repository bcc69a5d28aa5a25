-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0002-volunteer-admin.sql: what the control room's admin API needs that
-- the hub did not keep yet. Volunteers are deactivated rather than removed
-- (a deactivated one signs in nowhere, and comes back with one click), and
-- each sign-in is noted: who, at which device, when. Local to the hub's
-- file, never in the ledger: the phone numbers stay here. (Core's
-- 0010-volunteer-admin.sql did this until it moved here.)
ALTER TABLE volunteers RENAME COLUMN removed_at TO deactivated_at;

CREATE TABLE volunteer_sign_ins (
  id           INTEGER PRIMARY KEY,
  volunteer_id INTEGER NOT NULL REFERENCES volunteers (id),
  device_id    INTEGER NOT NULL,
  at           INTEGER NOT NULL
) STRICT;
CREATE INDEX volunteer_sign_ins_at ON volunteer_sign_ins (at);
CREATE INDEX volunteer_sign_ins_volunteer ON volunteer_sign_ins (volunteer_id, at);
