-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0006-outbox-spend.sql: what the hub keeps to stop a public door from
-- spending the fair's money: the outbox's messages counted by status as
-- they change (so /metrics reads seven rows, not the whole outbox, however
-- long the fair has run), the paid messages sent or refused per day and
-- destination prefix (so a restart does not hand out a day's budget
-- again), which messages are volunteers' sign-in codes (the one kind no
-- budget holds back), and the end of phone-wide lockouts on visitors'
-- codes, which a stranger could set off for any number.
-- (Core's 0015-outbox-spend.sql made this in every replica until it moved
-- here.)

-- How many messages are in each status. Kept by triggers, so every writer
-- of the outbox (the hub, pravesh-ctl outbox --retry, a volunteer's code
-- written straight into the table) keeps it right without knowing of it.
CREATE TABLE outbox_counts (
  status TEXT PRIMARY KEY,
  n      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

WITH statuses (status) AS (
  VALUES ('queued'), ('sending'), ('sent'), ('delivered'), ('read'), ('failed'), ('held'))
INSERT INTO outbox_counts (status, n)
  SELECT s.status, (SELECT count(*) FROM outbox o WHERE o.status = s.status) FROM statuses s;

CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox
BEGIN
  UPDATE outbox_counts SET n = n + 1 WHERE status = NEW.status;
END;

CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox
BEGIN
  UPDATE outbox_counts SET n = n - 1 WHERE status = OLD.status;
END;

CREATE TRIGGER outbox_counts_update AFTER UPDATE OF status ON outbox
  WHEN NEW.status != OLD.status
BEGIN
  UPDATE outbox_counts SET n = n - 1 WHERE status = OLD.status;
  UPDATE outbox_counts SET n = n + 1 WHERE status = NEW.status;
END;

-- Paid messages (every SMS, every WhatsApp template) by the event's
-- calendar day in its own time zone ('2026-12-05'), destination prefix
-- ('+91', or a longer one the settings name) and what became of them:
-- sent (handed to the provider; a retry counts again, as it may be charged
-- again), over-budget (held: the day's budget was spent), not-allowed
-- (failed: a country the fair does not send to).
CREATE TABLE outbox_spend (
  day     TEXT NOT NULL,
  prefix  TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'over-budget', 'not-allowed')),
  n       INTEGER NOT NULL,
  PRIMARY KEY (day, prefix, outcome)
) STRICT, WITHOUT ROWID;

-- 1: a volunteer's sign-in code, written by the hub's sign-in request
-- (pv_volunteers_request_code ()) alone; no public door can queue one. The fair's
-- people sign in whatever the public spent, so budgets do not hold these
-- back. Not the recipient: anyone can have a visitor's code or a ticket
-- sent to a volunteer's phone, and those must count and be held like any.
ALTER TABLE outbox ADD COLUMN sign_in INTEGER NOT NULL DEFAULT 0 CHECK (sign_in IN (0, 1));

-- Wrong codes now count against the code that was sent, never lock the
-- phone (pv-visitor-codes.h): lockouts set the old way are lifted.
UPDATE visitor_codes SET locked_until = 0, failures = 0 WHERE locked_until != 0 OR failures != 0;
