-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0010-volunteer-admin.sql: what the control room's admin API needs that
-- the hub did not keep yet. Of each device the hub notes how far its clock
-- is from the hub's and how many records it held that the hub lacked:
-- local to the file, never in the ledger. (This step also deactivated
-- volunteers rather than removing them and noted their sign-ins; that part
-- moved to the channels' migration 0002-volunteer-admin.sql with the rest
-- of the hub's own tables.)

-- device clock minus hub clock, in ms, from what the device last sent; NULL
-- when it sent nothing to tell by
ALTER TABLE device_contacts ADD COLUMN skew_ms INTEGER;
-- records the device held that the hub lacked, from its last vector or
-- push; NULL when unknown
ALTER TABLE device_contacts ADD COLUMN pending INTEGER;
