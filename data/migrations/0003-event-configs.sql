-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0003-event-configs.sql: every configuration record, not just the one in
-- force (derived). The one in force is the newest whose author was not
-- revoked when it wrote it, so revoking a stolen admin laptop takes back the
-- configurations it wrote afterwards, whatever order the records came in.
CREATE TABLE event_configs (
  device_id INTEGER NOT NULL,
  hlc       INTEGER NOT NULL,
  config    BLOB NOT NULL,
  PRIMARY KEY (device_id, hlc)
) STRICT, WITHOUT ROWID;

INSERT INTO event_configs (device_id, hlc, config)
  SELECT device_id, hlc, config FROM event_config;
