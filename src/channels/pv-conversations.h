/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-conversations.h: the WhatsApp registration bot's side that needs no
 * network — one conversation per visitor (their WhatsApp id), kept in the
 * hub's SQLite so a restart loses no one, stepped by each message the
 * visitor sends: greeting → language (English or Hindi) → name → category
 * → day → party size → confirm → a signed ticket. Replies and the ticket
 * are queued in the outbox (pv-outbox.h) in the same transaction as the
 * step, with the message's id, so a message WhatsApp delivers twice is
 * acted on once, even across restarts. Also the hub's inbox of webhook
 * bodies taken but not yet processed, and the 24-hour customer-service
 * window the outbox needs to know about. The HTTP side (the webhook, its
 * signature, the Graph API) is in src/hub/. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* WhatsApp takes free-form messages to a person for 24 hours after that
 * person last wrote; after that only approved templates. */
#define PV_WHATSAPP_WINDOW (24 * G_TIME_SPAN_HOUR)

/* What a visitor typed is read up to this many bytes; WhatsApp's own limit
 * for a text is 4096 characters. */
#define PV_CONVERSATION_MAX_TEXT 4096

typedef enum
{
  PV_CONVERSATION_NEW,      /* nothing asked yet (or cancelled) */
  PV_CONVERSATION_LANGUAGE, /* greeted, language asked */
  PV_CONVERSATION_NAME,
  PV_CONVERSATION_CATEGORY,
  PV_CONVERSATION_DAY,
  PV_CONVERSATION_PARTY,
  PV_CONVERSATION_CONFIRM,
  PV_CONVERSATION_DONE, /* ticket issued and queued */
} PvConversationState;

const char *pv_conversation_state_to_string (PvConversationState state);

/* One message from a visitor, as the webhook read it. */
typedef struct
{
  const char *wa_id;      /* the sender: digits with the country code ("919812345678") */
  const char *message_id; /* WhatsApp's id ("wamid.…"); one already seen is ignored */
  const char *text;       /* what they typed, or the id of the reply button they tapped;
                           * NULL for a message that is not text (an image, a location) */
  gint64 sent_at;         /* µs, the message's timestamp; 0 or later than now: now */
} PvInbound;

/* What the bot does with a message it has not seen before: the hub's
 * limit on how fast one sender is answered decides (see PvBotOptions). */
typedef enum
{
  PV_BOT_ANSWER,    /* step the conversation, as always */
  PV_BOT_SLOW_DOWN, /* only ask the visitor, in their language, to slow down */
  PV_BOT_SILENT,    /* record the message as seen; no answer, no ticket */
} PvBotPace;

typedef PvBotPace (*PvBotPaceFunc) (const PvInbound *message, gpointer user_data);

/* Settings of the bot. */
typedef struct
{
  /* Names of the categories offered, in this order; NULL: every category
   * of the event, in the event's order. */
  const char *const *categories;
  /* Tickets the bot issues to one phone in any hour; 0: no limit. Beyond
   * it the visitor is told, politely, when to try again. */
  guint tickets_per_hour;
  /* Asked once for each message not seen before, inside its transaction
   * (so a delivery repeated is never counted twice); NULL: every message
   * is answered. */
  PvBotPaceFunc pace;
  gpointer pace_data;
} PvBotOptions;

/* Steps the conversation of @message->wa_id with @message, in one
 * transaction (joining the caller's, when there is one): marks the message
 * seen, moves the conversation on, issues the ticket when the visitor
 * confirms (channel "whatsapp", their name and phone) and queues in the
 * outbox the replies (PV_OUTBOX_TEXT) and the ticket (PV_OUTBOX_TICKET, its
 * caption the body) on channel "whatsapp". @out_queued (optional) gets the
 * number of messages queued, 0 for a message seen before. Anything a
 * visitor types gets an answer (unless @options->pace holds the message
 * back), never an error; FALSE only for a store
 * failure or a @message without a well-formed wa_id or message id
 * (PV_ERROR_MALFORMED). Inside a caller's transaction, a ticket that
 * cannot be issued fails the whole transaction (the caller retries the
 * message on its own); on its own, the visitor is told to try again. */
gboolean pv_conversations_receive (PvStore *store,
                                   const PvInbound *message,
                                   const PvBotOptions *options,
                                   guint *out_queued,
                                   GError **error);

/* A conversation as stored, for the control room and tests. */
typedef struct
{
  char *wa_id;
  PvConversationState state;
  char *language; /* "en", "hi" or NULL */
  char *name;
  int category; /* id, -1 when not chosen */
  int day;      /* event day index, -1 when none */
  guint party;  /* 0 when not given */
  guint16 ticket_issuer;
  guint32 ticket_serial; /* 0 when no ticket was issued in this chat */
  gint64 last_inbound_at;
  gint64 updated_at;
} PvConversation;

void pv_conversation_clear (PvConversation *conversation);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PvConversation, pv_conversation_clear)

/* Fills @out with the conversation of @wa_id; FALSE with PV_ERROR_NOT_FOUND
 * when there is none. */
gboolean pv_conversations_lookup (PvStore *store, const char *wa_id, PvConversation *out, GError **error);

/* TRUE when @phone (normalised, "+919812345678", or a bare wa_id) wrote to
 * the hub's WhatsApp number within PV_WHATSAPP_WINDOW before @now (µs):
 * free-form messages may go to them; otherwise only a template. */
gboolean pv_conversations_in_window (PvStore *store, const char *phone, gint64 now);

/* Forgets the message ids seen before @before (µs). Meta repeats a
 * delivery it got no 200 for during a few days at most. */
gboolean pv_conversations_forget_seen (PvStore *store, gint64 before, GError **error);

/* The inbox: webhook bodies kept from the moment their signature held until
 * they are processed, so one answered 200 survives a crash. */
typedef struct
{
  gint64 id;
  GBytes *payload;
  gint64 received_at; /* µs */
} PvInboxItem;

void pv_inbox_item_free (PvInboxItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvInboxItem, pv_inbox_item_free)

gboolean pv_conversations_inbox_add (PvStore *store, GBytes *payload, gint64 *out_id, GError **error);
/* The oldest @limit bodies still to process (element-type PvInboxItem). */
GPtrArray *pv_conversations_inbox_peek (PvStore *store, guint limit, GError **error);
gboolean pv_conversations_inbox_remove (PvStore *store, gint64 id, GError **error);

G_END_DECLS
