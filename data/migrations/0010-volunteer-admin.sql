-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0010-volunteer-admin.sql: what the control room's admin API needs that
-- the hub did not keep yet. Volunteers are deactivated rather than removed
-- (a deactivated one signs in nowhere, and comes back with one click), and
-- each sign-in is noted: who, at which device, when. Of each device the hub
-- also notes how far its clock is from the hub's and how many records it
-- held that the hub lacked. All local to the hub's file, never in the
-- ledger: the phone numbers stay here.
ALTER TABLE volunteers RENAME COLUMN removed_at TO deactivated_at;

CREATE TABLE volunteer_sign_ins (
  id           INTEGER PRIMARY KEY,
  volunteer_id INTEGER NOT NULL REFERENCES volunteers (id),
  device_id    INTEGER NOT NULL,
  at           INTEGER NOT NULL
) STRICT;
CREATE INDEX volunteer_sign_ins_at ON volunteer_sign_ins (at);
CREATE INDEX volunteer_sign_ins_volunteer ON volunteer_sign_ins (volunteer_id, at);

-- device clock minus hub clock, in ms, from what the device last sent; NULL
-- when it sent nothing to tell by
ALTER TABLE device_contacts ADD COLUMN skew_ms INTEGER;
-- records the device held that the hub lacked, from its last vector or
-- push; NULL when unknown
ALTER TABLE device_contacts ADD COLUMN pending INTEGER;
