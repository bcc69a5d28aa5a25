-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0003-outbox.sql: the hub's outbox becomes a durable queue. Every message
-- to a phone is a row first; the hub's worker claims due rows, sends them
-- with retries and backoff, and keeps each one's status for the control
-- room. Local to the hub, like the outbox itself.
--
-- kind: text, ticket (the QR as an image), or code (a one-time code).
-- status: queued (waiting, from next_attempt_at on) → sending (claimed by
-- the worker; one found at start-up was cut off by a crash and is sent
-- again) → sent (the provider took it; provider_id is its id) → delivered
-- → read (the provider's status reports); failed (given up: last_error
-- says why); held (never sent unless an admin asks).
-- (Core's 0012-outbox.sql made this in every replica until it moved
-- here.)
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'ticket', 'code'));
ALTER TABLE outbox ADD COLUMN issuer INTEGER;  -- a ticket's, for kind 'ticket'
ALTER TABLE outbox ADD COLUMN serial INTEGER;
ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'queued'
  CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'held'));
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN provider_id TEXT;
-- an uploaded image's id (WhatsApp media), kept so a retry sends it again
-- without uploading it again
ALTER TABLE outbox ADD COLUMN media_id TEXT;
ALTER TABLE outbox ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
-- the delivery-requested record this message carries out, if any
ALTER TABLE outbox ADD COLUMN delivery_device INTEGER;
ALTER TABLE outbox ADD COLUMN delivery_seq INTEGER;
-- a one-time code alone (kind 'code'; the body says it in words), for the
-- approved template that carries it to a phone that never wrote to us
ALTER TABLE outbox ADD COLUMN otp TEXT;
-- 1: send it as the channel's approved template from now on (WhatsApp
-- reported the visitor's 24-hour window closed after taking it)
ALTER TABLE outbox ADD COLUMN by_template INTEGER NOT NULL DEFAULT 0 CHECK (by_template IN (0, 1));

-- What was queued before there was a worker (volunteers' sign-in codes,
-- long expired) must not go out the first time one runs.
UPDATE outbox SET status = 'held', updated_at = created_at;

CREATE INDEX outbox_due ON outbox (channel, next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_status ON outbox (status, id);
CREATE INDEX outbox_provider ON outbox (provider_id) WHERE provider_id IS NOT NULL;
-- one message per delivery request, however often the worker looks
CREATE UNIQUE INDEX outbox_delivery ON outbox (delivery_device, delivery_seq)
  WHERE delivery_device IS NOT NULL;

-- A delivery's status follows its message's; 'pending' while it waits in
-- the outbox. Only the hub's outbox moves it on from 'queued' (core's
-- 0009-search-deliveries.sql).
CREATE TRIGGER outbox_delivery_status AFTER UPDATE OF status ON outbox
  WHEN NEW.delivery_device IS NOT NULL AND NEW.status != OLD.status
BEGIN
  UPDATE deliveries
     SET status = CASE WHEN NEW.status IN ('queued', 'sending', 'held') THEN 'pending' ELSE NEW.status END
   WHERE requested_by = NEW.delivery_device AND rec_seq = NEW.delivery_seq;
END;
