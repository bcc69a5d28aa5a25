/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-whatsapp.c: the WhatsApp Cloud API webhook (see the header). A
 * POST is checked against its signature before anything else is looked
 * at; the bodies that pass are stored in the inbox together, one commit
 * for all that arrived in one turn of the main loop, then answered; an
 * idle callback then reads them (json-glib, every member's type checked),
 * hands each visitor's message to the conversation in core
 * (pv-conversations.c) and each delivery report to the outbox. */
#include "config.h"

#include "pv-hub-whatsapp.h"

#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "pv-conversations.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-hub-web-guards.h"
#include "pv-outbox.h"
#include "pv-store.h"
#include "pv-sync-server.h"
#include "pv-wire.h"

#define GROUP "whatsapp"
#define SIGNATURE_HEADER "X-Hub-Signature-256"
#define MAX_CHALLENGE 256
#define MAX_JSON_DEPTH 32
/* Bodies processed in one transaction. */
#define PROCESS_BATCH 64
/* A body that fails alone is tried again later, this many times. */
#define MAX_ATTEMPTS 10
#define RETRY_FIRST_MS 1000
#define RETRY_CAP_MS 60000
/* Meta repeats a delivery it got no 200 for for some days; ids seen are
 * kept longer than that, and forgotten once an hour. */
#define SEEN_KEEP (14 * G_TIME_SPAN_DAY)
#define FORGET_INTERVAL_S 3600
/* WhatsApp's error for a free-form message outside the 24-hour window. */
#define ERROR_REENGAGEMENT 131047
#define DEFAULT_TICKETS_PER_HOUR 10
/* A person answering the bot sends a message every few seconds at most,
 * and a registration or two takes about a dozen. */
#define DEFAULT_SENDER_BURST 12
#define DEFAULT_SENDER_PER_MINUTE 4.0
/* Senders whose pace is kept track of at once; a bucket that has filled
 * up again says nothing and goes first. */
#define MAX_SENDERS 50000

struct _PvHubWhatsapp
{
  const PvHubContext *hub;
  PvHubOutbox *outbox;
  gboolean serving; /* the webhook is taken: [whatsapp] app-secret is set */
  char *app_secret;
  char *verify_token;
  char *phone_number_id; /* NULL: any */
  char **categories;     /* NULL: all */
  PvBotOptions options;
  GQueue pending; /* Delivery* waiting for the inbox commit */
  guint flush_id;
  guint process_id;
  guint retry_id;
  guint retry_ms;
  gint64 failing_id; /* the inbox item that failed alone last, and how often */
  guint failing_attempts;
  guint forget_id;
  /* How fast one sender is answered: a token bucket per wa_id. */
  PvWebLimit senders;
  /* What the senders' limits decided for the messages of the inbox items
   * being processed (message id → PvBotPace), so that a batch rolled back
   * and processed again one body at a time charges nobody twice. */
  GHashTable *paced;
  /* since the start, for /metrics */
  guint64 taken, refused, messages, statuses, dropped, slowed, silenced;
};

typedef struct
{
  SoupServerMessage *msg;
  GBytes *body;
} Delivery;

static void
delivery_free (Delivery *delivery)
{
  g_object_unref (delivery->msg);
  g_bytes_unref (delivery->body);
  g_free (delivery);
}

static void schedule_processing (PvHubWhatsapp *self);

/* Reading the payload: each member looked up by its type, absent otherwise */

/* Meta's timestamps are seconds as a decimal string; 0 when not that. */
static gint64
timestamp_us (const char *text)
{
  guint64 seconds = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64 / G_USEC_PER_SEC, &seconds, NULL))
    return 0;
  return (gint64) seconds * G_USEC_PER_SEC;
}

/* Refuses nesting deeper than MAX_JSON_DEPTH before json-glib, which
 * recurses, sees it. */
static gboolean
shallow_enough (const char *data, gsize len)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if ((c == '[' || c == '{') && ++depth > MAX_JSON_DEPTH)
        return FALSE;
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* What a visitor's message says to the bot: its text, the id of the reply
 * button or list row they tapped, a template's quick-reply button; NULL
 * for anything else (an image, a location). @skip is set for what needs
 * no answer at all (a reaction, a system notice). */
static const char *
message_text (JsonObject *message, const char *type, gboolean *skip)
{
  *skip = FALSE;
  if (g_strcmp0 (type, "text") == 0)
    return pv_json_member_string (pv_json_member_object (message, "text"), "body");
  if (g_strcmp0 (type, "interactive") == 0)
    {
      JsonObject *interactive = pv_json_member_object (message, "interactive");
      const char *kind = pv_json_member_string (interactive, "type");
      JsonObject *chosen = NULL;
      const char *id;

      if (g_strcmp0 (kind, "button_reply") == 0)
        chosen = pv_json_member_object (interactive, "button_reply");
      else if (g_strcmp0 (kind, "list_reply") == 0)
        chosen = pv_json_member_object (interactive, "list_reply");
      id = pv_json_member_string (chosen, "id");
      return id ? id : pv_json_member_string (chosen, "title");
    }
  if (g_strcmp0 (type, "button") == 0)
    {
      JsonObject *button = pv_json_member_object (message, "button");
      const char *text = pv_json_member_string (button, "text");
      return text ? text : pv_json_member_string (button, "payload");
    }
  if (g_strcmp0 (type, "reaction") == 0 || g_strcmp0 (type, "system") == 0 || type == NULL)
    *skip = TRUE;
  return NULL;
}

/* Senders' limits */

/* Takes a token from @wa_id's bucket. Without one the sender is told once
 * to slow down, then not answered until a token is back; told again only
 * after a quiet spell long enough to fill the bucket. */
static PvBotPace
sender_take (PvHubWhatsapp *self, const char *wa_id)
{
  switch (pv_web_limit_take_or_tell (&self->senders, wa_id, g_get_monotonic_time ()))
    {
    case PV_WEB_TAKEN:
      return PV_BOT_ANSWER;
    case PV_WEB_REFUSED_TELL:
      return PV_BOT_SLOW_DOWN;
    case PV_WEB_REFUSED:
    default:
      return PV_BOT_SILENT;
    }
}

/* The bot asks this once for each message it has not seen before. */
static PvBotPace
pace_sender (const PvInbound *message, gpointer user_data)
{
  PvHubWhatsapp *self = user_data;
  gpointer decided;
  PvBotPace pace;

  if (g_hash_table_lookup_extended (self->paced, message->message_id, NULL, &decided))
    return (PvBotPace) GPOINTER_TO_INT (decided);
  pace = sender_take (self, message->wa_id);
  g_hash_table_insert (self->paced, g_strdup (message->message_id), GINT_TO_POINTER (pace));
  if (pace == PV_BOT_SLOW_DOWN)
    {
      self->slowed++;
      /* The number stays out of the log, as everywhere. */
      g_message ("WhatsApp bot: a number wrote faster than %.0f messages at once and %g a minute: asked it to "
                 "slow down",
                 self->senders.burst, self->senders.per_us * 60.0 * G_USEC_PER_SEC);
    }
  else if (pace == PV_BOT_SILENT)
    self->silenced++;
  return pace;
}

static gboolean
take_message (PvHubWhatsapp *self, JsonObject *message, guint *queued, GError **error)
{
  const char *from = pv_json_member_string (message, "from");
  const char *id = pv_json_member_string (message, "id");
  const char *type = pv_json_member_string (message, "type");
  gboolean skip = FALSE;
  PvInbound inbound = { 0 };
  g_autoptr (GError) local_error = NULL;
  guint n = 0;

  inbound.text = message_text (message, type, &skip);
  if (skip)
    return TRUE;
  inbound.wa_id = from;
  inbound.message_id = id;
  inbound.sent_at = timestamp_us (pv_json_member_string (message, "timestamp"));
  if (!pv_conversations_receive (self->hub->store, &inbound, &self->options, &n, &local_error))
    {
      /* A message without a sender or an id cannot be answered, whatever
       * happens: it is dropped, not retried. */
      if (g_error_matches (local_error, PV_ERROR, PV_ERROR_MALFORMED))
        {
          g_message ("WhatsApp message ignored: %s", local_error->message);
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  *queued += n;
  self->messages++;
  return TRUE;
}

static gboolean
take_status (PvHubWhatsapp *self, JsonObject *report, guint *queued, GError **error)
{
  const char *id = pv_json_member_string (report, "id");
  const char *status_text = pv_json_member_string (report, "status");
  JsonArray *errors = pv_json_member_array (report, "errors");
  g_autofree char *reason = NULL;
  PvOutboxStatus status;
  gboolean found = FALSE, requeued = FALSE;
  gint64 error_code = 0;

  /* sent, delivered, read, failed; anything else ("deleted", "warning")
   * says nothing about delivery. */
  if (id == NULL || status_text == NULL || !pv_outbox_status_from_string (status_text, &status)
      || (status != PV_OUTBOX_SENT && status != PV_OUTBOX_DELIVERED && status != PV_OUTBOX_READ
          && status != PV_OUTBOX_FAILED))
    return TRUE;
  if (status == PV_OUTBOX_FAILED && errors && json_array_get_length (errors) > 0)
    {
      JsonObject *first = pv_json_element_object (errors, 0);
      JsonNode *code;
      const char *title = pv_json_member_string (first, "title");
      const char *details = pv_json_member_string (pv_json_member_object (first, "error_data"), "details");

      if ((code = pv_json_member_of_type (first, "code", G_TYPE_INT64)) != NULL)
        error_code = json_node_get_int (code);
      reason = g_strdup_printf ("WhatsApp error %" G_GINT64_FORMAT ": %s%s%s", error_code, title ? title : "failed",
                                details ? " — " : "", details ? details : "");
    }
  /* Taken, then refused because the visitor's window had closed: a ticket
   * or a code goes again as the approved template, when there is one. */
  if (status == PV_OUTBOX_FAILED && error_code == ERROR_REENGAGEMENT && self->outbox != NULL)
    {
      if (!pv_hub_outbox_resend_by_template (self->outbox, id, reason, &requeued, error))
        return FALSE;
      if (requeued)
        {
          (*queued)++;
          self->statuses++;
          return TRUE;
        }
    }
  if (!pv_outbox_update_status (self->hub->store, id, status, reason, &found, error))
    return FALSE;
  if (!found)
    g_debug ("WhatsApp status %s for a message this hub did not send", status_text);
  self->statuses++;
  return TRUE;
}

/* Acts on every message and status report of one webhook body. A body
 * that does not parse, or is about something else, is logged and done
 * with: Meta will not send it better a second time. */
static gboolean
process_payload (PvHubWhatsapp *self, GBytes *payload, guint *queued, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size = 0;
  const char *data = g_bytes_get_data (payload, &size);
  JsonNode *root;
  JsonArray *entries;

  if (size == 0 || !shallow_enough (data, size) || !json_parser_load_from_data (parser, data, (gssize) size, NULL)
      || !(root = json_parser_get_root (parser)) || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_message ("WhatsApp webhook body ignored: not a JSON object");
      return TRUE;
    }
  if (g_strcmp0 (pv_json_member_string (json_node_get_object (root), "object"), "whatsapp_business_account") != 0
      || !(entries = pv_json_member_array (json_node_get_object (root), "entry")))
    {
      g_message ("WhatsApp webhook body ignored: not about a WhatsApp Business Account");
      return TRUE;
    }
  for (guint e = 0; e < json_array_get_length (entries); e++)
    {
      JsonArray *changes = pv_json_member_array (pv_json_element_object (entries, e), "changes");

      for (guint c = 0; changes && c < json_array_get_length (changes); c++)
        {
          JsonObject *change = pv_json_element_object (changes, c);
          JsonObject *value = pv_json_member_object (change, "value");
          const char *number = pv_json_member_string (pv_json_member_object (value, "metadata"), "phone_number_id");
          JsonArray *messages = pv_json_member_array (value, "messages");
          JsonArray *statuses = pv_json_member_array (value, "statuses");

          if (g_strcmp0 (pv_json_member_string (change, "field"), "messages") != 0 || value == NULL)
            continue;
          if (self->phone_number_id && g_strcmp0 (number, self->phone_number_id) != 0)
            {
              g_message ("WhatsApp change for another phone number id ignored");
              continue;
            }
          for (guint m = 0; messages && m < json_array_get_length (messages); m++)
            {
              JsonObject *message = pv_json_element_object (messages, m);
              if (message && !take_message (self, message, queued, error))
                return FALSE;
            }
          for (guint s = 0; statuses && s < json_array_get_length (statuses); s++)
            {
              JsonObject *report = pv_json_element_object (statuses, s);
              if (report && !take_status (self, report, queued, error))
                return FALSE;
            }
        }
    }
  return TRUE;
}

/* Processing the inbox */

static void
processed (PvHubWhatsapp *self, guint queued)
{
  /* A ticket is a ledger record: devices hear of it. */
  pv_store_watch_notify (self->hub->watch);
  if (queued > 0 && self->outbox)
    pv_hub_outbox_kick (self->outbox);
}

static gboolean
retry_cb (gpointer user_data)
{
  PvHubWhatsapp *self = user_data;

  self->retry_id = 0;
  schedule_processing (self);
  return G_SOURCE_REMOVE;
}

/* One body on its own: each message in its own transaction, so a ticket
 * that cannot be issued is told to its visitor rather than failing the
 * rest. TRUE when it is done with (processed, or given up on). */
static gboolean
process_alone (PvHubWhatsapp *self, PvInboxItem *item)
{
  g_autoptr (GError) error = NULL;
  guint queued = 0;

  if (process_payload (self, item->payload, &queued, &error)
      && pv_conversations_inbox_remove (self->hub->store, item->id, &error))
    {
      processed (self, queued);
      if (self->failing_id == item->id)
        self->failing_attempts = 0;
      return TRUE;
    }
  if (pv_store_in_transaction (self->hub->store))
    pv_store_rollback (self->hub->store);
  if (self->failing_id != item->id)
    {
      self->failing_id = item->id;
      self->failing_attempts = 0;
    }
  /* What it did before failing is marked seen and stays done. */
  processed (self, queued);
  if (++self->failing_attempts < MAX_ATTEMPTS)
    {
      g_warning ("WhatsApp webhook body %" G_GINT64_FORMAT " not processed (try %u): %s", item->id,
                 self->failing_attempts, error->message);
      return FALSE;
    }
  self->dropped++;
  g_warning ("WhatsApp webhook body %" G_GINT64_FORMAT " dropped after %u tries: %s", item->id,
             self->failing_attempts, error->message);
  g_clear_error (&error);
  if (!pv_conversations_inbox_remove (self->hub->store, item->id, &error))
    {
      g_warning ("Cannot drop WhatsApp webhook body %" G_GINT64_FORMAT ": %s", item->id, error->message);
      return FALSE;
    }
  self->failing_attempts = 0;
  return TRUE;
}

static void
process_inbox (PvHubWhatsapp *self)
{
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) items = NULL;
  guint queued = 0;
  gboolean ok;

  if (!(items = pv_conversations_inbox_peek (store, PROCESS_BATCH, &error)))
    {
      g_warning ("Cannot read the WhatsApp inbox: %s", error->message);
      goto later;
    }
  if (items->len == 0)
    return;

  /* All together first: one commit for the batch. */
  ok = pv_store_begin (store, TRUE, &error);
  for (guint i = 0; ok && i < items->len; i++)
    {
      PvInboxItem *item = g_ptr_array_index (items, i);
      ok = process_payload (self, item->payload, &queued, &error)
           && pv_conversations_inbox_remove (store, item->id, &error);
    }
  ok = ok && pv_store_commit (store, &error);
  if (ok)
    {
      processed (self, queued);
      self->retry_ms = 0;
      if (items->len == PROCESS_BATCH)
        schedule_processing (self);
      return;
    }
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  g_debug ("WhatsApp inbox batch failed (%s); one body at a time", error->message);

  /* Then one at a time, in order: a body that fails stops those after it,
   * since a visitor's messages must be read in the order they came. */
  for (guint i = 0; i < items->len; i++)
    if (!process_alone (self, g_ptr_array_index (items, i)))
      goto later;
  self->retry_ms = 0;
  schedule_processing (self);
  return;

later:
  self->retry_ms = self->retry_ms ? MIN (self->retry_ms * 2, RETRY_CAP_MS) : RETRY_FIRST_MS;
  if (self->retry_id == 0)
    self->retry_id = g_timeout_add (self->retry_ms, retry_cb, self);
}

static gboolean
process_cb (gpointer user_data)
{
  PvHubWhatsapp *self = user_data;

  self->process_id = 0;
  process_inbox (self);
  g_hash_table_remove_all (self->paced);
  return G_SOURCE_REMOVE;
}

static void
schedule_processing (PvHubWhatsapp *self)
{
  if (self->process_id == 0 && self->retry_id == 0)
    self->process_id = g_idle_add (process_cb, self);
}

/* Taking webhook bodies */

/* Stores every body waiting in one transaction, then answers them all: 200
 * once durable (Meta will not send them again), 503 when not (it will). */
static gboolean
flush_cb (gpointer user_data)
{
  PvHubWhatsapp *self = user_data;
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  self->flush_id = 0;
  ok = pv_store_begin (store, TRUE, &error);
  for (GList *l = self->pending.head; ok && l; l = l->next)
    ok = pv_conversations_inbox_add (store, ((Delivery *) l->data)->body, NULL, &error);
  ok = ok && pv_store_commit (store, &error);
  if (!ok)
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      g_warning ("Cannot store WhatsApp webhook bodies: %s", error->message);
    }
  while (!g_queue_is_empty (&self->pending))
    {
      Delivery *delivery = g_queue_pop_head (&self->pending);

      if (ok)
        {
          soup_server_message_set_status (delivery->msg, SOUP_STATUS_OK, NULL);
          soup_server_message_set_response (delivery->msg, "text/plain", SOUP_MEMORY_STATIC, "OK", 2);
        }
      else
        pv_sync_reply_error (delivery->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Try again later");
      soup_server_message_unpause (delivery->msg);
      delivery_free (delivery);
    }
  if (ok)
    schedule_processing (self);
  return G_SOURCE_REMOVE;
}

/* SOUP_STATUS_OK when @body carries the app secret's HMAC-SHA256 in
 * X-Hub-Signature-256 ("sha256=" and 64 hex digits); 401 when the header
 * is missing, 403 when it is malformed or does not match. */
static guint
check_signature (PvHubWhatsapp *self, SoupServerMessage *msg, GBytes *body)
{
  const char *header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), SIGNATURE_HEADER);
  guint8 expected[crypto_auth_hmacsha256_BYTES], actual[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  const char *hex, *end = NULL;
  gsize data_len = 0, bin_len = 0;
  gconstpointer data = g_bytes_get_data (body, &data_len);
  int same;

  if (header == NULL)
    return SOUP_STATUS_UNAUTHORIZED;
  if (g_ascii_strncasecmp (header, "sha256=", 7) != 0)
    return SOUP_STATUS_FORBIDDEN;
  hex = header + 7;
  if (strlen (hex) != 2 * sizeof expected
      || sodium_hex2bin (expected, sizeof expected, hex, strlen (hex), NULL, &bin_len, &end) != 0
      || bin_len != sizeof expected || end == NULL || *end != '\0')
    return SOUP_STATUS_FORBIDDEN;
  crypto_auth_hmacsha256_init (&state, (const guint8 *) self->app_secret, strlen (self->app_secret));
  crypto_auth_hmacsha256_update (&state, data ? data : (gconstpointer) "", data_len);
  crypto_auth_hmacsha256_final (&state, actual);
  same = sodium_memcmp (actual, expected, sizeof actual);
  sodium_memzero (&state, sizeof state);
  return same == 0 ? SOUP_STATUS_OK : SOUP_STATUS_FORBIDDEN;
}

/* Meta's verification handshake: hub.mode=subscribe and our verify token
 * are answered with hub.challenge. */
static void
handle_verify (PvHubWhatsapp *self, SoupServerMessage *msg, GHashTable *query)
{
  const char *mode = query ? g_hash_table_lookup (query, "hub.mode") : NULL;
  const char *token = query ? g_hash_table_lookup (query, "hub.verify_token") : NULL;
  const char *challenge = query ? g_hash_table_lookup (query, "hub.challenge") : NULL;
  guint8 want[crypto_generichash_BYTES], got[crypto_generichash_BYTES];

  if (self->verify_token == NULL || g_strcmp0 (mode, "subscribe") != 0 || token == NULL || challenge == NULL
      || *challenge == '\0' || strlen (challenge) > MAX_CHALLENGE)
    {
      g_message ("WhatsApp webhook verification refused");
      return pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, "Verification refused");
    }
  /* Compared as digests, in constant time whatever the lengths. */
  crypto_generichash (want, sizeof want, (const guint8 *) self->verify_token, strlen (self->verify_token), NULL, 0);
  crypto_generichash (got, sizeof got, (const guint8 *) token, strlen (token), NULL, 0);
  if (sodium_memcmp (want, got, sizeof want) != 0)
    {
      g_message ("WhatsApp webhook verification refused: wrong verify token");
      return pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, "Verification refused");
    }
  g_message ("WhatsApp webhook verified");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, challenge, strlen (challenge));
}

void
pv_hub_whatsapp_handle (PvHubWhatsapp *self, SoupServerMessage *msg, GHashTable *query)
{
  g_autoptr (GBytes) body = NULL;
  Delivery *delivery;
  guint status;

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") == 0)
    return handle_verify (self, msg, query);
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  /* Nothing about the body is looked at before its signature holds. */
  if ((status = check_signature (self, msg, body)) != SOUP_STATUS_OK)
    {
      self->refused++;
      g_message ("WhatsApp webhook refused: %s signature",
                 status == SOUP_STATUS_UNAUTHORIZED ? "no" : "a wrong or malformed");
      return pv_sync_reply_error (msg, status,
                                  status == SOUP_STATUS_UNAUTHORIZED ? "Missing " SIGNATURE_HEADER
                                                                     : "Invalid " SIGNATURE_HEADER);
    }
  self->taken++;
  pv_listen_prefer (msg);
  delivery = g_new0 (Delivery, 1);
  delivery->msg = g_object_ref (msg);
  delivery->body = g_steal_pointer (&body);
  soup_server_message_pause (msg);
  g_queue_push_tail (&self->pending, delivery);
  /* Bodies read in this turn of the loop share one commit, first in the
   * next turn: Meta gives up on a webhook that is not answered in time. */
  if (self->flush_id == 0)
    self->flush_id = g_idle_add_full (G_PRIORITY_HIGH, flush_cb, self, NULL);
}

static gboolean
forget_cb (gpointer user_data)
{
  PvHubWhatsapp *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!pv_conversations_forget_seen (self->hub->store, pv_store_now (self->hub->store) - SEEN_KEEP, &error))
    g_warning ("Cannot forget old WhatsApp message ids: %s", error->message);
  return G_SOURCE_CONTINUE;
}

/* For the outbox: a visitor who has not written for 24 hours (or never)
 * gets a template, not a free-form message. */
static gboolean
window_closed (const char *recipient, gpointer user_data)
{
  PvHubWhatsapp *self = user_data;
  PvStore *store = self->hub->store;

  return !pv_conversations_in_window (store, recipient, pv_store_now (store));
}

static char *
setting (GKeyFile *config, const char *key)
{
  g_autofree char *value = g_key_file_get_string (config, GROUP, key, NULL);

  if (value)
    g_strstrip (value);
  return value && *value ? g_steal_pointer (&value) : NULL;
}

/* [whatsapp] tickets-per-hour: how many tickets the bot issues to one
 * phone in any hour. */
static gboolean
read_ticket_limit (GKeyFile *config, guint *out, GError **error)
{
  g_autofree char *text = setting (config, "tickets-per-hour");
  guint64 value = DEFAULT_TICKETS_PER_HOUR;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 1, 10000, &value, NULL))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "[" GROUP "] tickets-per-hour = %s: a whole number from 1 to 10000 is expected", text),
           FALSE;
  *out = (guint) value;
  return TRUE;
}

/* [whatsapp] @key: a number from @min to @max, @fallback when not set. */
static gboolean
read_number (GKeyFile *config, const char *key, double fallback, double min, double max, double *out,
             GError **error)
{
  g_autofree char *text = setting (config, key);
  char *end = NULL;
  double value = fallback;

  if (text != NULL)
    {
      value = g_ascii_strtod (text, &end);
      if (end == text || *end != '\0' || !(value >= min && value <= max))
        return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                            "[" GROUP "] %s = %s: a number from %g to %g is expected", key, text, min, max),
               FALSE;
    }
  *out = value;
  return TRUE;
}

/* [whatsapp] sender-burst and sender-per-minute: how fast one sender is
 * answered. */
static gboolean
read_sender_limit (PvHubWhatsapp *self, GKeyFile *config, GError **error)
{
  g_autofree char *text = setting (config, "sender-burst");
  guint64 burst = DEFAULT_SENDER_BURST;
  double per_minute;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 1, 10000, &burst, NULL))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "[" GROUP "] sender-burst = %s: a whole number from 1 to 10000 is expected", text),
           FALSE;
  if (!read_number (config, "sender-per-minute", DEFAULT_SENDER_PER_MINUTE, 0.001, 10000, &per_minute, error))
    return FALSE;
  pv_web_limit_set_rate (&self->senders, per_minute, (double) burst);
  return TRUE;
}

PvHubWhatsapp *
pv_hub_whatsapp_new (const PvHubContext *hub, PvHubOutbox *outbox, GError **error)
{
  g_autoptr (PvHubWhatsapp) self = g_new0 (PvHubWhatsapp, 1);

  self->hub = hub;
  self->outbox = outbox;
  g_queue_init (&self->pending);
  pv_web_limit_init (&self->senders, DEFAULT_SENDER_PER_MINUTE, DEFAULT_SENDER_BURST, MAX_SENDERS);
  self->paced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->options.pace = pace_sender;
  self->options.pace_data = self;
  if (!g_key_file_has_group (hub->config, GROUP))
    return g_steal_pointer (&self);
  self->app_secret = setting (hub->config, "app-secret");
  self->verify_token = setting (hub->config, "verify-token");
  self->phone_number_id = setting (hub->config, "phone-number-id");
  if (g_key_file_has_key (hub->config, GROUP, "categories", NULL))
    {
      self->categories = g_key_file_get_string_list (hub->config, GROUP, "categories", NULL, error);
      if (self->categories == NULL)
        return g_prefix_error (error, "[" GROUP "] categories: "), NULL;
      for (guint i = 0; self->categories[i]; i++)
        {
          PvEvent *event = pv_store_get_event (hub->store, NULL);
          g_strstrip (self->categories[i]);
          if (event && !pv_event_find_category (event, self->categories[i]))
            return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                                "[" GROUP "] categories: the event has no category “%s”", self->categories[i]),
                   NULL;
        }
      self->options.categories = (const char *const *) self->categories;
    }
  if (!read_ticket_limit (hub->config, &self->options.tickets_per_hour, error)
      || !read_sender_limit (self, hub->config, error))
    return NULL;
  if (self->app_secret == NULL)
    {
      /* Sending alone (the outbox) is a setup of its own, not a fault. */
      g_message ("The WhatsApp webhook is off: [" GROUP "] app-secret is not set");
      return g_steal_pointer (&self);
    }
  if (self->verify_token == NULL)
    g_message ("[" GROUP "] verify-token is not set: Meta cannot verify the webhook");

  self->serving = TRUE;
  if (outbox)
    pv_hub_outbox_set_window_func (outbox, window_closed, self);
  /* What a crash left in the inbox, and the ids that no longer matter. */
  schedule_processing (self);
  forget_cb (self);
  self->forget_id = g_timeout_add_seconds (FORGET_INTERVAL_S, forget_cb, self);
  g_message ("WhatsApp webhook at %s", PV_HUB_WHATSAPP_PATH);
  return g_steal_pointer (&self);
}

gboolean
pv_hub_whatsapp_is_serving (PvHubWhatsapp *self)
{
  return self != NULL && self->serving;
}

void
pv_hub_whatsapp_write_metrics (PvHubWhatsapp *self, GString *out)
{
  g_string_append (out, "# HELP pravesh_whatsapp_webhooks_total WhatsApp webhook bodies by outcome.\n"
                        "# TYPE pravesh_whatsapp_webhooks_total counter\n");
  g_string_append_printf (out, "pravesh_whatsapp_webhooks_total{outcome=\"taken\"} %" G_GUINT64_FORMAT "\n",
                          self->taken);
  g_string_append_printf (out, "pravesh_whatsapp_webhooks_total{outcome=\"refused\"} %" G_GUINT64_FORMAT "\n",
                          self->refused);
  g_string_append_printf (out, "pravesh_whatsapp_webhooks_total{outcome=\"dropped\"} %" G_GUINT64_FORMAT "\n",
                          self->dropped);
  g_string_append (out, "# HELP pravesh_whatsapp_processed_total Visitors' messages and delivery reports acted on "
                        "(a message counts again when its transaction was retried).\n"
                        "# TYPE pravesh_whatsapp_processed_total counter\n");
  g_string_append_printf (out, "pravesh_whatsapp_processed_total{kind=\"message\"} %" G_GUINT64_FORMAT "\n",
                          self->messages);
  g_string_append_printf (out, "pravesh_whatsapp_processed_total{kind=\"status\"} %" G_GUINT64_FORMAT "\n",
                          self->statuses);
  g_string_append (out, "# HELP pravesh_whatsapp_sender_limited_total Visitors' messages over their number's "
                        "limit, taken but not acted on: the one answered with a request to slow down, and those "
                        "not answered.\n"
                        "# TYPE pravesh_whatsapp_sender_limited_total counter\n");
  g_string_append_printf (out, "pravesh_whatsapp_sender_limited_total{reply=\"slow_down\"} %" G_GUINT64_FORMAT "\n",
                          self->slowed);
  g_string_append_printf (out, "pravesh_whatsapp_sender_limited_total{reply=\"none\"} %" G_GUINT64_FORMAT "\n",
                          self->silenced);
}

void
pv_hub_whatsapp_free (PvHubWhatsapp *self)
{
  if (self == NULL)
    return;
  /* Bodies taken are stored and answered; the inbox keeps what is not
   * processed yet for the next start. */
  if (!g_queue_is_empty (&self->pending))
    flush_cb (self);
  if (self->serving && self->outbox)
    pv_hub_outbox_set_window_func (self->outbox, NULL, NULL);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_clear_handle_id (&self->process_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->forget_id, g_source_remove);
  if (self->app_secret)
    sodium_memzero (self->app_secret, strlen (self->app_secret));
  g_free (self->app_secret);
  g_free (self->verify_token);
  g_free (self->phone_number_id);
  g_strfreev (self->categories);
  pv_web_limit_clear (&self->senders);
  g_clear_pointer (&self->paced, g_hash_table_unref);
  g_free (self);
}
