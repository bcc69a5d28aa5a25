-- SPDX-License-Identifier: GPL-3.0-or-later
-- 0005-whatsapp-bot.sql: the WhatsApp registration bot — one conversation
-- per visitor's WhatsApp id, the webhook deliveries taken but not yet
-- processed, and the message ids already seen, so a hub restart loses no
-- one and a delivery Meta repeats is acted on once. Local to the hub: a
-- wa_id is a phone number, and phone numbers never travel to gates.
-- (Core's 0014-whatsapp-bot.sql made this in every replica until it moved
-- here.)

-- Where each visitor has got to. A "done" conversation keeps the ticket it
-- ended in, for "ticket" to send again; starting over keeps it too.
CREATE TABLE whatsapp_conversations (
  wa_id           TEXT PRIMARY KEY, -- digits with the country code, as WhatsApp sends them
  state           TEXT NOT NULL,    -- new, language, name, category, day, party, confirm, done
  language        TEXT,             -- 'en', 'hi', or NULL before the visitor chose
  name            TEXT,
  category        INTEGER,          -- category id in the event
  day             INTEGER,          -- event day index, NULL when the category takes none
  party           INTEGER,
  ticket_issuer   INTEGER,          -- the last ticket issued in this chat
  ticket_serial   INTEGER,
  last_inbound_at INTEGER NOT NULL, -- µs; WhatsApp takes free-form replies for 24 h after it
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

-- Webhook bodies whose signature held, stored before Meta is answered 200
-- and removed once processed.
CREATE TABLE whatsapp_inbox (
  id          INTEGER PRIMARY KEY,
  payload     BLOB NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

-- Message ids acted on, written in the same transaction as what they did.
CREATE TABLE whatsapp_seen (
  message_id TEXT PRIMARY KEY,
  seen_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX whatsapp_seen_at ON whatsapp_seen (seen_at);
