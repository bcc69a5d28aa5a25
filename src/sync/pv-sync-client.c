/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-client.c: the live session with reconnection and backoff, and the
 * one-round HTTP exchange (see the header). */
#include "pv-sync-client.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-ledger.h"
#include "pv-store.h"
#include "pv-sync-session.h"
#include "pv-tls.h"
#include "pv-token.h"
#include "pv-wire.h"

#define MAX_TOKEN_CLOCK_SHIFT (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 15000

struct _PvSyncClient
{
  GObject parent_instance;
  PvStoreWatch *watch;
  SoupSession *http;
  GUri *base;
  char *url;
  PvSyncStatus status;
  gboolean running;
  GCancellable *connecting;
  PvSyncSession *session;
  guint retry_id;
  guint backoff_ms;
  gint64 last_success;
  gint64 clock_offset;
  char *last_error;
  char *token; /* signed by this device, reused until near its expiry */
  gint64 token_until;
  gboolean pinned;
  guint8 pin[PV_FINGERPRINT_SIZE];
  gulong changed_id;
  gboolean to_hub; /* @url is the hub this device was paired with */
  /* What tokens are signed with, read once: a round's worker thread may be
   * writing to the store when a token is due. */
  guint32 event_id;
  guint16 device_id;
  gboolean have_key;
  guint8 secret_key[PV_SECRET_KEY_SIZE];
};

G_DEFINE_FINAL_TYPE (PvSyncClient, pv_sync_client, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATUS,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

const char *
pv_sync_status_to_string (PvSyncStatus status)
{
  switch (status)
    {
    case PV_SYNC_CONNECTING:
      return "connecting";
    case PV_SYNC_SYNCING:
      return "syncing";
    case PV_SYNC_ONLINE:
      return "online";
    case PV_SYNC_OFFLINE:
    default:
      return "offline";
    }
}

static void
set_status (PvSyncClient *self, PvSyncStatus status)
{
  if (self->status == status)
    return;
  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

static void
set_error (PvSyncClient *self, const char *message)
{
  g_free (self->last_error);
  self->last_error = g_strdup (message);
}

gboolean
pv_sync_get_pinned (PvStore *store, guint8 out[PV_FINGERPRINT_SIZE])
{
  g_autofree char *hex = pv_store_dup_meta_string (store, "hub-fingerprint");
  size_t len = 0;

  return hex != NULL && strlen (hex) == PV_FINGERPRINT_HEX_SIZE
         && sodium_hex2bin (out, PV_FINGERPRINT_SIZE, hex, strlen (hex), NULL, &len, NULL) == 0
         && len == PV_FINGERPRINT_SIZE;
}

void
pv_sync_client_set_pin (PvSyncClient *self, const guint8 fingerprint[PV_FINGERPRINT_SIZE])
{
  self->pinned = TRUE;
  memcpy (self->pin, fingerprint, sizeof self->pin);
}

/* Adds this device's token: made by the other side's clock as far as it
 * is known, so a gate whose clock drifted is not turned away. */
static void
authorize (PvSyncClient *self, SoupMessage *msg)
{
  gint64 now = g_get_real_time ();
  g_autofree char *header = NULL;

  if (self->token == NULL || now >= self->token_until)
    {
      g_autoptr (GError) error = NULL;

      g_clear_pointer (&self->token, g_free);
      /* Signed by the hub's clock when it is near ours; a clock more than an
       * hour off is for a person to set right (see clock_is_off). */
      gint64 offset = ABS (self->clock_offset) <= MAX_TOKEN_CLOCK_SHIFT ? self->clock_offset : 0;

      if (!self->have_key)
        return;
      self->token = pv_token_sign (self->event_id, self->device_id, self->secret_key, now + offset, self->url);
      self->token_until = now + PV_TOKEN_LIFETIME / 2;
    }
  header = g_strconcat ("Bearer ", self->token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", header);
  pv_sync_stamp_date (msg);
}

void
pv_sync_stamp_date (SoupMessage *msg)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = soup_date_time_to_string (now, SOUP_DATE_HTTP);

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Date", date);
}

static SoupMessage *
new_message (PvSyncClient *self, const char *method, const char *path)
{
  g_autoptr (GUri) uri = g_uri_parse_relative (self->base, path, G_URI_FLAGS_NONE, NULL);
  SoupMessage *msg = soup_message_new_from_uri (method, uri);

  authorize (self, msg);
  if (self->pinned)
    pv_tls_pin_certificate (msg, self->pin);
  return msg;
}

/* The other side's clock from its Date header. */
static void
note_date (PvSyncClient *self, SoupMessage *msg)
{
  const char *date = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Date");
  g_autoptr (GDateTime) then = date ? soup_date_time_new_from_http_string (date) : NULL;

  /* Only the hub's clock counts: a peer could otherwise have this device
   * sign tokens that hold far into the future. */
  if (then != NULL && self->to_hub)
    {
      gint64 offset = g_date_time_to_unix (then) * G_USEC_PER_SEC - g_get_real_time ();

      /* Dates are whole seconds: only a real difference makes new tokens. */
      if (ABS (offset - self->clock_offset) > 2 * G_USEC_PER_SEC)
        self->token_until = 0;
      self->clock_offset = offset;
    }
}

/* Live session */

static void connect_live (PvSyncClient *self);

static gboolean
retry_cb (gpointer user_data)
{
  PvSyncClient *self = user_data;

  self->retry_id = 0;
  connect_live (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (PvSyncClient *self)
{
  set_status (self, PV_SYNC_OFFLINE);
  if (!self->running || self->retry_id != 0)
    return;
  self->retry_id = g_timeout_add (self->backoff_ms, retry_cb, self);
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
}

static void
on_session_closed (PvSyncSession *session, PvSyncClient *self)
{
  g_signal_handlers_disconnect_by_data (session, self);
  g_clear_object (&self->session);
  schedule_retry (self);
}

gint64
pv_sync_client_get_pending (PvSyncClient *self)
{
  g_autoptr (GHashTable) mine = NULL;
  gint64 held;

  if (self->session == NULL || (held = pv_sync_session_get_peer_held (self->session)) < 0
      || !(mine = pv_ledger_version_vector (pv_store_watch_get_store (self->watch), NULL)))
    return -1;
  return MAX (pv_vector_total (mine) - held, 0);
}

gboolean
pv_sync_client_clock_is_off (PvSyncClient *self)
{
  return ABS (self->clock_offset) > PV_SYNC_CLOCK_WARNING;
}

static void
update_session_status (PvSyncClient *self)
{
  if (self->session != NULL)
    set_status (self, pv_sync_client_get_pending (self) > 0 ? PV_SYNC_SYNCING : PV_SYNC_ONLINE);
}

static void
on_session_applied (PvSyncSession *session, const PvMergeStats *stats, PvSyncClient *self)
{
  self->last_success = g_get_real_time ();
  update_session_status (self);
}

static void
on_store_changed (PvStoreWatch *watch, PvSyncClient *self)
{
  update_session_status (self);
}

static void
connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvSyncClient) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupWebsocketConnection) connection = soup_session_websocket_connect_finish (SOUP_SESSION (source),
                                                                                          result, &error);

  g_clear_object (&self->connecting);
  if (connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          set_error (self, error->message);
          schedule_retry (self);
        }
      return;
    }
  self->backoff_ms = BACKOFF_FIRST_MS;
  self->last_success = g_get_real_time ();
  self->session = pv_sync_session_new (self->watch, connection, 0, self->to_hub);
  g_signal_connect (self->session, "closed", G_CALLBACK (on_session_closed), self);
  g_signal_connect (self->session, "applied", G_CALLBACK (on_session_applied), self);
  set_status (self, PV_SYNC_ONLINE);
}

static void
connect_live (PvSyncClient *self)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GUri) uri = g_uri_parse_relative (self->base, "sync/v1/live", G_URI_FLAGS_NONE, NULL);
  g_autoptr (GUri) ws = NULL;

  if (!self->running || self->session != NULL || self->connecting != NULL)
    return;
  set_status (self, PV_SYNC_CONNECTING);
  msg = soup_message_new_from_uri ("GET", uri);
  authorize (self, msg);
  if (self->pinned)
    pv_tls_pin_certificate (msg, self->pin);
  g_signal_connect_swapped (msg, "got-headers", G_CALLBACK (note_date), self);
  self->connecting = g_cancellable_new ();
  soup_session_websocket_connect_async (self->http, msg, NULL, NULL, G_PRIORITY_DEFAULT, self->connecting,
                                        connected_cb, g_object_ref (self));
}

void
pv_sync_client_start (PvSyncClient *self)
{
  self->running = TRUE;
  connect_live (self);
}

void
pv_sync_client_stop (PvSyncClient *self)
{
  self->running = FALSE;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->connecting != NULL)
    g_cancellable_cancel (self->connecting);
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      pv_sync_session_close (self->session);
      g_clear_object (&self->session);
    }
  set_status (self, PV_SYNC_OFFLINE);
}

/* One round over HTTP */

/* Pages pulled in a round are parsed as they arrive and applied, in order,
 * on a worker thread, while the next page is already on its way: the other
 * side collects, the network carries, this side parses and writes, all at
 * once. At most this many pages wait to be applied. */
#define PAGES_AHEAD 2

typedef struct
{
  PvSyncRoundStats stats;
  PvPullRequest *remote; /* what the other side holds */
  PvPullPlan *plan;
  PvPullRequest *asked; /* the last pull request sent */
  PvPullRequest *next;  /* the following one, held back while pages wait */
  guint in_flight;      /* pull requests sent, not yet answered */
  guint to_apply;       /* pages handed to the worker, not yet applied */
  gboolean ask_afresh;  /* a page changed the plan: the next request is made anew */
  GThreadPool *applier; /* one thread: pages apply in the order they came */
  GError *failure;      /* kept until the pages handed to the worker are done */
  gint stopping;        /* atomic: the worker leaves the rest unapplied */
} Round;

static void
round_free (Round *round)
{
  if (round->applier != NULL)
    g_thread_pool_free (round->applier, FALSE, TRUE);
  pv_pull_request_free (round->remote);
  pv_pull_plan_free (round->plan);
  pv_pull_request_free (round->asked);
  pv_pull_request_free (round->next);
  g_clear_error (&round->failure);
  g_free (round);
}

static void round_push (GTask *task);
static void round_pull (GTask *task);

/* Sends @msg (with @body as JSON, if any); calls @next with the reply body
 * of a 200, or fails the task with the server's own error message. */
typedef void (*ReplyFunc) (GTask *task, SoupMessage *msg, GBytes *reply);

typedef struct
{
  GTask *task;
  ReplyFunc next;
} Pending;

/* A round may have a request in flight when another step fails: the task
 * is answered once, and what arrives after is dropped. */
static void
task_fail (GTask *task, GError *error)
{
  Round *round = g_object_get_data (G_OBJECT (task), "pv-round");

  if (g_object_get_data (G_OBJECT (task), "pv-answered") != NULL)
    {
      g_error_free (error);
      return;
    }
  /* The worker still holds pages (and the store): the answer waits for it,
   * so nobody reads the store while it writes, nor leaves before it ends. */
  if (round != NULL && round->to_apply > 0)
    {
      g_atomic_int_set (&round->stopping, 1);
      if (round->failure == NULL)
        round->failure = error;
      else
        g_error_free (error);
      return;
    }
  g_object_set_data (G_OBJECT (task), "pv-answered", GINT_TO_POINTER (1));
  g_task_return_error (task, error);
}

static void
reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  g_autoptr (GTask) task = pending->task;
  PvSyncClient *self = g_task_get_source_object (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  ReplyFunc next = pending->next;

  g_free (pending);
  if (g_object_get_data (G_OBJECT (task), "pv-answered") != NULL)
    return;
  if (reply == NULL)
    {
      set_error (self, error->message);
      task_fail (task, g_steal_pointer (&error));
      return;
    }
  note_date (self, msg);
  if (soup_message_get_status (msg) != SOUP_STATUS_OK)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      const char *said = NULL;
      g_autofree char *message = NULL;

      if (json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), (gssize) g_bytes_get_size (reply), NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        said = json_object_get_string_member_with_default (json_node_get_object (json_parser_get_root (parser)),
                                                           "error", NULL);
      message = g_strdup_printf ("%s answered %u %s%s%s", self->url, soup_message_get_status (msg),
                                 soup_message_get_reason_phrase (msg), said ? ": " : "", said ? said : "");
      set_error (self, message);
      task_fail (task, g_error_new (PV_ERROR, PV_ERROR_MALFORMED, "%s", message));
      return;
    }
  next (task, msg, reply);
}

static void
send_request (GTask *task, const char *method, const char *path, const char *content_type, GBytes *body,
              ReplyFunc next)
{
  PvSyncClient *self = g_task_get_source_object (task);
  g_autoptr (SoupMessage) msg = new_message (self, method, path);
  Pending *pending = g_new0 (Pending, 1);

  /* Batches back in the binary framing, please; JSON does too. */
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                PV_BATCH_BINARY_TYPE ", application/json");
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  pending->task = g_object_ref (task);
  pending->next = next;
  soup_session_send_and_read_async (self->http, msg, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), reply_cb,
                                    pending);
}

static void
round_done (GTask *task)
{
  PvSyncClient *self = g_task_get_source_object (task);

  self->last_success = g_get_real_time ();
  g_object_set_data (G_OBJECT (task), "pv-answered", GINT_TO_POINTER (1));
  g_task_return_boolean (task, TRUE);
}

static void send_pull (GTask *task, PvPullRequest *request);

typedef struct
{
  GTask *task;
  PvBatch *batch;
  PvMergeStats stats;
  GHashTable *wanted;
  GError *error;
} Page;

static void
page_free (Page *page)
{
  g_object_unref (page->task);
  pv_batch_free (page->batch);
  g_clear_pointer (&page->wanted, g_hash_table_unref);
  g_clear_error (&page->error);
  g_free (page);
}

/* Back on the main context: what applying a page did. */
static gboolean
page_applied (gpointer user_data)
{
  Page *page = user_data;
  GTask *task = page->task;
  PvSyncClient *self = g_task_get_source_object (task);
  Round *round = g_task_get_task_data (task);

  round->to_apply--;
  if (round->failure != NULL)
    {
      if (round->to_apply == 0)
        task_fail (task, g_steal_pointer (&round->failure));
      return G_SOURCE_REMOVE;
    }
  if (page->error != NULL)
    {
      task_fail (task, g_steal_pointer (&page->error));
      return G_SOURCE_REMOVE;
    }
  round->stats.pulled += page->stats.applied;
  round->stats.people += page->stats.people;
  round->stats.refused_authors += page->stats.refused_authors;
  round->stats.pages++;
  if (page->stats.applied > 0 || page->stats.people > 0)
    pv_store_watch_notify (self->watch);
  if (pv_pull_plan_update (round->plan, page->wanted))
    round->ask_afresh = TRUE;
  if (g_object_get_data (G_OBJECT (task), "pv-answered") != NULL)
    return G_SOURCE_REMOVE;
  /* A request held back while pages waited goes now. */
  if (round->next != NULL && !round->ask_afresh)
    send_pull (task, g_steal_pointer (&round->next));
  if (round->in_flight > 0 || round->to_apply > 0)
    return G_SOURCE_REMOVE;
  g_clear_pointer (&round->next, pv_pull_request_free);
  if (round->ask_afresh)
    {
      round->ask_afresh = FALSE;
      round_pull (task);
      return G_SOURCE_REMOVE;
    }
  round_done (task);
  return G_SOURCE_REMOVE;
}

/* On the worker thread; nothing else uses the store while a round pulls. */
static void
apply_page (gpointer data, gpointer user_data)
{
  Page *page = data;
  PvSyncClient *self = g_task_get_source_object (page->task);

  Round *round = g_task_get_task_data (page->task);

  if (!g_atomic_int_get (&round->stopping))
    pv_batch_apply (pv_store_watch_get_store (self->watch), page->batch, &page->stats, &page->wanted,
                    &page->error);
  g_main_context_invoke_full (g_task_get_context (page->task), G_PRIORITY_DEFAULT, page_applied, page,
                              (GDestroyNotify) page_free);
}

static void
pulled (GTask *task, SoupMessage *msg, GBytes *reply)
{
  Round *round = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean binary = g_strcmp0 (soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL),
                               PV_BATCH_BINARY_TYPE)
                    == 0;
  g_autoptr (PvBatch) batch = binary ? pv_batch_new_from_binary (g_bytes_get_data (reply, NULL),
                                                                 g_bytes_get_size (reply), PV_SYNC_MAX_MESSAGE, &error)
                                     : pv_batch_new_from_json (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply),
                                                               PV_SYNC_MAX_MESSAGE, &error);
  Page *page;

  round->in_flight--;
  if (batch == NULL)
    return task_fail (task, g_steal_pointer (&error));
  /* The next page starts where this one ends, whatever this side makes of
   * it; it is asked for at once unless enough pages wait already. */
  /* A page that says "more" but brings nothing would have the round ask
   * for the same page for ever. */
  if (batch->more && !round->ask_afresh && batch->records->len > 0)
    {
      PvPullRequest *next = g_new0 (PvPullRequest, 1);

      next->event_id = round->asked->event_id;
      next->device_id = round->asked->device_id;
      next->limit = round->asked->limit;
      next->vector = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      pv_vector_overlay (next->vector, round->asked->vector);
      pv_sync_vector_advance (next->vector, batch);
      if (round->to_apply < PAGES_AHEAD)
        send_pull (task, next);
      else
        {
          pv_pull_request_free (round->next);
          round->next = next;
        }
    }
  if (round->applier == NULL)
    round->applier = g_thread_pool_new (apply_page, NULL, 1, TRUE, NULL);
  page = g_new0 (Page, 1);
  page->task = g_object_ref (task);
  page->batch = g_steal_pointer (&batch);
  round->to_apply++;
  g_thread_pool_push (round->applier, page, NULL);
}

static void
send_pull (GTask *task, PvPullRequest *request)
{
  Round *round = g_task_get_task_data (task);
  g_autoptr (GBytes) body = pv_pull_request_to_json (request);

  pv_pull_request_free (round->asked);
  round->asked = request;
  round->in_flight++;
  send_request (task, "POST", "sync/v1/pull", "application/json", body, pulled);
}

static void
round_pull (GTask *task)
{
  PvSyncClient *self = g_task_get_source_object (task);
  Round *round = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PvPullRequest *request = pv_sync_make_request (pv_store_watch_get_store (self->watch),
                                                 pv_pull_plan_next_overlay (round->plan), &error);

  if (request == NULL)
    return task_fail (task, g_steal_pointer (&error));
  send_pull (task, request);
}

static void
pushed (GTask *task, SoupMessage *msg, GBytes *reply)
{
  Round *round = g_task_get_task_data (task);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  JsonNode *holds;
  g_autoptr (GBytes) held = NULL;
  gint64 applied;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), (gssize) g_bytes_get_size (reply), &error))
    return task_fail (task, g_steal_pointer (&error));
  root = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ? json_node_get_object (json_parser_get_root (parser))
                                                                : NULL;
  holds = root ? json_object_get_member (root, "holds") : NULL;
  if (holds == NULL)
    return task_fail (task, g_error_new_literal (PV_ERROR, PV_ERROR_MALFORMED, "The push reply says nothing of what it holds"));
  applied = json_object_get_int_member_with_default (root, "applied", 0);
  round->stats.pushed += (guint64) MAX (applied, 0);
  round->stats.pages++;
  held = pv_json_to_bytes (holds);
  g_clear_pointer (&round->remote->vector, g_hash_table_unref);
  if (!(round->remote->vector = pv_vector_new_from_json (g_bytes_get_data (held, NULL), g_bytes_get_size (held),
                                                         PV_SYNC_MAX_MESSAGE, NULL, &error)))
    return task_fail (task, g_steal_pointer (&error));
  /* Nothing taken: what is left is refused, not worth sending again. */
  if (applied == 0)
    return round_pull (task);
  round_push (task);
}

static void
round_push (GTask *task)
{
  PvSyncClient *self = g_task_get_source_object (task);
  Round *round = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (PvBatch) batch = pv_sync_collect_for (pv_store_watch_get_store (self->watch), round->remote, self->to_hub,
                                                   &error);
  g_autoptr (GBytes) body = NULL;

  if (batch == NULL)
    return task_fail (task, g_steal_pointer (&error));
  g_array_set_size (round->remote->people_wanted, 0);
  if (batch->records->len == 0 && batch->people->len == 0)
    return round_pull (task);
  body = pv_batch_to_binary (batch);
  send_request (task, "POST", "sync/v1/push", PV_BATCH_BINARY_TYPE, body, pushed);
}

static void
got_vector (GTask *task, SoupMessage *msg, GBytes *reply)
{
  Round *round = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  round->remote = pv_pull_request_new_from_json (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply),
                                                 PV_SYNC_MAX_MESSAGE, &error);
  if (round->remote == NULL)
    return task_fail (task, g_steal_pointer (&error));
  round_push (task);
}

void
pv_sync_client_round_async (PvSyncClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  Round *round = g_new0 (Round, 1);

  round->plan = pv_pull_plan_new ();
  g_task_set_task_data (task, round, (GDestroyNotify) round_free);
  g_object_set_data (G_OBJECT (task), "pv-round", round);
  send_request (task, "GET", "sync/v1/vector", "application/json", NULL, got_vector);
}

gboolean
pv_sync_client_round_finish (PvSyncClient *self, GAsyncResult *result, PvSyncRoundStats *out_stats, GError **error)
{
  Round *round = g_task_get_task_data (G_TASK (result));

  if (out_stats)
    *out_stats = round->stats;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
advertised (GTask *task, SoupMessage *msg, GBytes *reply)
{
  g_task_return_pointer (task, g_bytes_ref (reply), (GDestroyNotify) g_bytes_unref);
}

void
pv_sync_client_advertise_async (PvSyncClient *self, const char *own_url, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) body = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "device");
  json_builder_add_int_value (builder, pv_store_get_device_id (pv_store_watch_get_store (self->watch)));
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, own_url);
  json_builder_end_object (builder);
  body = pv_json_builder_to_bytes (builder);
  send_request (task, "POST", "sync/v1/peers", "application/json", body, advertised);
}

GBytes *
pv_sync_client_advertise_finish (PvSyncClient *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The object */

const char *
pv_sync_client_get_url (PvSyncClient *self)
{
  return self->url;
}

PvSyncStatus
pv_sync_client_get_status (PvSyncClient *self)
{
  return self->status;
}

gint64
pv_sync_client_get_last_success (PvSyncClient *self)
{
  return self->last_success;
}

gint64
pv_sync_client_get_clock_offset (PvSyncClient *self)
{
  return self->clock_offset;
}

const char *
pv_sync_client_get_last_error (PvSyncClient *self)
{
  return self->last_error;
}

static void
pv_sync_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PvSyncClient *self = PV_SYNC_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_int (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pv_sync_client_dispose (GObject *object)
{
  PvSyncClient *self = PV_SYNC_CLIENT (object);

  pv_sync_client_stop (self);
  if (self->watch != NULL)
    g_clear_signal_handler (&self->changed_id, self->watch);
  g_clear_object (&self->connecting);
  g_clear_object (&self->http);
  g_clear_object (&self->watch);
  G_OBJECT_CLASS (pv_sync_client_parent_class)->dispose (object);
}

static void
pv_sync_client_finalize (GObject *object)
{
  PvSyncClient *self = PV_SYNC_CLIENT (object);

  g_clear_pointer (&self->base, g_uri_unref);
  g_free (self->url);
  g_free (self->last_error);
  g_free (self->token);
  sodium_memzero (self->secret_key, sizeof self->secret_key);
  G_OBJECT_CLASS (pv_sync_client_parent_class)->finalize (object);
}

static void
pv_sync_client_class_init (PvSyncClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = pv_sync_client_get_property;
  object_class->dispose = pv_sync_client_dispose;
  object_class->finalize = pv_sync_client_finalize;
  properties[PROP_STATUS] = g_param_spec_int ("status", NULL, NULL, PV_SYNC_OFFLINE, PV_SYNC_ONLINE,
                                              PV_SYNC_OFFLINE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pv_sync_client_init (PvSyncClient *self)
{
  self->backoff_ms = BACKOFF_FIRST_MS;
}

/* The same base URL, a trailing slash or not. */
static gboolean
same_base (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  while (la > 0 && a[la - 1] == '/')
    la--;
  while (lb > 0 && b[lb - 1] == '/')
    lb--;
  return la == lb && strncmp (a, b, la) == 0;
}

PvSyncClient *
pv_sync_client_new (PvStoreWatch *watch, const char *base_url, GError **error)
{
  g_autoptr (GUri) base = NULL;
  g_autofree char *with_slash = NULL;
  PvSyncClient *self;

  with_slash = g_str_has_suffix (base_url, "/") ? g_strdup (base_url) : g_strconcat (base_url, "/", NULL);
  base = g_uri_parse (with_slash, G_URI_FLAGS_NONE, error);
  if (base == NULL)
    return NULL;
  if (g_strcmp0 (g_uri_get_scheme (base), "http") != 0 && g_strcmp0 (g_uri_get_scheme (base), "https") != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: not an http or https URL", base_url), NULL;
  self = g_object_new (PV_TYPE_SYNC_CLIENT, NULL);
  self->watch = g_object_ref (watch);
  self->base = g_steal_pointer (&base);
  self->url = g_strdup (base_url);
  self->pinned = pv_sync_get_pinned (pv_store_watch_get_store (watch), self->pin);
  self->event_id = pv_store_get_event_id (pv_store_watch_get_store (watch));
  self->device_id = pv_store_get_device_id (pv_store_watch_get_store (watch));
  /* Without a key the requests go unsigned and the other side says so. */
  self->have_key = pv_store_get_device_secret_key (pv_store_watch_get_store (watch), self->secret_key, NULL);
  {
    g_autofree char *hub = pv_store_dup_meta_string (pv_store_watch_get_store (watch), PV_META_HUB_URL);
    self->to_hub = hub != NULL && same_base (hub, with_slash);
  }
  self->changed_id = g_signal_connect (watch, "changed", G_CALLBACK (on_store_changed), self);
  self->http = soup_session_new_with_options ("timeout", 30, "idle-timeout", 60, "user-agent", "pravesh-sync/1",
                                              NULL);
  return self;
}
