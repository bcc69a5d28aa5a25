/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-server.c: the sync endpoints (see the header). Everything runs on
 * the main loop that runs the SoupServer; a request body over the limit is
 * refused from its headers, before it is read. */
#include "pv-sync-server.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-ledger.h"
#include "pv-listener.h"
#include "pv-store.h"
#include "pv-sync-session.h"
#include "pv-token.h"
#include "pv-wire.h"

#define MAX_URL 512
/* How often what devices said of themselves is written down. */
#define CONTACTS_FLUSH_S 5

/* What this server last heard from a device. */
typedef struct
{
  char *url;      /* where it serves sync to peers, or NULL */
  gint64 seen;    /* µs */
  gint64 held;    /* records it held, -1 when unknown */
  gint64 behind;  /* records it lacked then */
  gint64 pending; /* of @held, records this server lacked, -1 when unknown */
  gint64 skew_ms; /* its clock minus ours, when @has_skew */
  gboolean has_skew;
  gboolean dirty;
} Contact;

/* Tokens checked lately: a keep-alive client sends the same one for
 * minutes, and an Ed25519 check costs more than the request around it. */
#define MAX_CACHED_TOKENS 4096

struct _PvSyncServer
{
  GObject parent_instance;
  PvStoreWatch *watch;
  GPtrArray *sessions;  /* PvSyncSession, owned */
  GHashTable *contacts; /* device id → Contact* */
  guint flush_id;
  GHashTable *tokens;    /* token → PvTokenInfo*, verified */
  GByteArray *audiences; /* the URLs this server answers at, as token tags */
  /* Records in the ledger (the sum of every author's chain head), worked
   * out again only after the ledger changed, so /metrics costs nothing
   * the ledger's size decides. */
  gint64 records;
  gboolean records_stale;
  gulong changed_id;
  /* What the hub can send to phones (pv_sync_server_set_channels ()); NULL
   * on a server never told, which then says nothing about it. */
  GStrv ticket_channels;
  GStrv code_channels;
};

G_DEFINE_FINAL_TYPE (PvSyncServer, pv_sync_server, G_TYPE_OBJECT)

static void
contact_free (Contact *contact)
{
  g_free (contact->url);
  g_free (contact);
}

static Contact *
contact_for (PvSyncServer *self, guint16 device)
{
  Contact *contact = g_hash_table_lookup (self->contacts, GUINT_TO_POINTER (device));

  if (contact == NULL)
    {
      contact = g_new0 (Contact, 1);
      contact->held = -1;
      contact->pending = -1;
      g_hash_table_insert (self->contacts, GUINT_TO_POINTER (device), contact);
    }
  contact->dirty = TRUE;
  return contact;
}

static void
load_one_contact (const PvSavedContact *saved, gpointer user_data)
{
  Contact *contact = contact_for (user_data, saved->device_id);

  contact->seen = saved->seen;
  contact->held = saved->held;
  contact->behind = saved->behind;
  contact->url = g_strdup (saved->url);
  contact->has_skew = saved->has_skew;
  contact->skew_ms = saved->skew_ms;
  contact->pending = saved->pending;
  contact->dirty = FALSE;
}

static void
load_contacts (PvSyncServer *self)
{
  pv_devices_foreach_saved_contact (pv_store_watch_get_store (self->watch), load_one_contact, self, NULL);
}

/* Records @theirs holds that @ours lacks (entries that mean "left out"
 * not counted); saturates. */
static gint64
vector_excess (GHashTable *theirs, GHashTable *ours)
{
  GHashTableIter iter;
  gpointer key, value;
  gint64 excess = 0;

  g_hash_table_iter_init (&iter, theirs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 seq = *(guint64 *) value;
      guint64 *mine = g_hash_table_lookup (ours, key);
      guint64 have = mine && *mine < G_MAXINT64 ? *mine : 0;

      if (seq >= G_MAXINT64 || seq <= have)
        continue;
      if (seq - have > (guint64) (G_MAXINT64 - excess))
        return G_MAXINT64;
      excess += (gint64) (seq - have);
    }
  return excess;
}

/* Brings what the live sessions know into the contacts, and works out how
 * far behind each dirty one is against this replica's @total now. */
static void
update_contacts (PvSyncServer *self, gint64 total, gboolean all)
{
  GHashTableIter iter;
  gpointer value;

  /* A live session knows best what its device holds: what was sent. It
   * knows the total only, so of the difference either side may lack,
   * only what this side lacks beyond what it has counts as pending: the
   * device pushes what it writes at once, so that is the usual case. */
  for (guint i = 0; i < self->sessions->len; i++)
    {
      PvSyncSession *session = self->sessions->pdata[i];
      guint16 device = pv_sync_session_get_peer_device (session);

      if (device != 0)
        {
          Contact *contact = contact_for (self, device);
          contact->held = pv_sync_session_get_peer_held (session);
          contact->pending = contact->held >= 0 ? MAX (contact->held - total, 0) : -1;
          contact->seen = g_get_real_time ();
        }
    }
  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Contact *contact = value;

      /* What both hold is what it held less what only it held (clamped:
       * a device's word of itself may be anything). */
      if ((contact->dirty || all) && contact->held >= 0)
        contact->behind = total - CLAMP (contact->held - MAX (contact->pending, 0), 0, total);
    }
}

static gboolean
flush_contacts (gpointer user_data)
{
  PvSyncServer *self = user_data;
  PvStore *store = pv_store_watch_get_store (self->watch);
  g_autoptr (GHashTable) mine = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gboolean ok;

  if (pv_store_in_transaction (store) || !(mine = pv_ledger_version_vector (store, NULL)))
    return G_SOURCE_CONTINUE;
  update_contacts (self, pv_vector_total (mine), FALSE);
  ok = pv_store_begin (store, TRUE, &error);
  g_hash_table_iter_init (&iter, self->contacts);
  while (ok && g_hash_table_iter_next (&iter, &key, &value))
    {
      Contact *contact = value;
      PvSavedContact saved = {
        .device_id = (guint16) GPOINTER_TO_UINT (key),
        .seen = contact->seen,
        .held = contact->held,
        .behind = contact->behind,
        .pending = contact->pending,
        .has_skew = contact->has_skew,
        .skew_ms = contact->skew_ms,
        .url = contact->url,
      };

      if (!contact->dirty)
        continue;
      ok = pv_devices_save_contact (store, &saved, &error);
      contact->dirty = !ok;
    }
  ok = ok && pv_store_commit (store, &error);
  if (!ok)
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      g_message ("Cannot note what devices said: %s", error ? error->message : "?");
    }
  return G_SOURCE_CONTINUE;
}

static void
on_ledger_changed (PvStoreWatch *watch, PvSyncServer *self)
{
  self->records_stale = TRUE;
}

gint64
pv_sync_server_count_records (PvSyncServer *self)
{
  g_autoptr (GHashTable) vector = NULL;

  if (self->records_stale && (vector = pv_ledger_version_vector (pv_store_watch_get_store (self->watch), NULL)))
    {
      self->records = pv_vector_total (vector);
      self->records_stale = FALSE;
    }
  return self->records;
}

void
pv_sync_server_write_metrics (PvSyncServer *self, GString *out)
{
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = g_get_real_time ();

  /* In memory only: a scrape writes nothing (the contacts are written
   * down on their own timer). */
  update_contacts (self, pv_sync_server_count_records (self), FALSE);
  g_string_append (out, "# HELP pravesh_live_sessions Devices connected for live sync.\n"
                        "# TYPE pravesh_live_sessions gauge\n");
  g_string_append_printf (out, "pravesh_live_sessions %u\n", self->sessions->len);
  g_string_append (out, "# HELP pravesh_device_sync_lag_records Records a device lacked when last heard from.\n"
                        "# TYPE pravesh_device_sync_lag_records gauge\n");
  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (((Contact *) value)->held >= 0)
      g_string_append_printf (out, "pravesh_device_sync_lag_records{device=\"%u\"} %" G_GINT64_FORMAT "\n",
                              GPOINTER_TO_UINT (key), ((Contact *) value)->behind);
  g_string_append (out, "# HELP pravesh_device_last_seen_seconds Seconds since a device was last heard from.\n"
                        "# TYPE pravesh_device_last_seen_seconds gauge\n");
  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_string_append_printf (out, "pravesh_device_last_seen_seconds{device=\"%u\"} %.1f\n", GPOINTER_TO_UINT (key),
                            (double) (now - ((Contact *) value)->seen) / G_USEC_PER_SEC);
  g_string_append (out, "# HELP pravesh_device_pending_records Records a device held that this server lacked.\n"
                        "# TYPE pravesh_device_pending_records gauge\n");
  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (((Contact *) value)->pending >= 0)
      g_string_append_printf (out, "pravesh_device_pending_records{device=\"%u\"} %" G_GINT64_FORMAT "\n",
                              GPOINTER_TO_UINT (key), ((Contact *) value)->pending);
  g_string_append (out, "# HELP pravesh_device_clock_skew_seconds A device's clock minus this server's.\n"
                        "# TYPE pravesh_device_clock_skew_seconds gauge\n");
  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (((Contact *) value)->has_skew)
      g_string_append_printf (out, "pravesh_device_clock_skew_seconds{device=\"%u\"} %.3f\n", GPOINTER_TO_UINT (key),
                              (double) ((Contact *) value)->skew_ms / 1000);
}

void
pv_sync_server_update_contacts (PvSyncServer *self)
{
  PvStore *store = pv_store_watch_get_store (self->watch);
  g_autoptr (GHashTable) mine = NULL;

  if (!pv_store_in_transaction (store) && (mine = pv_ledger_version_vector (store, NULL)))
    update_contacts (self, pv_vector_total (mine), TRUE);
}

gboolean
pv_sync_server_lookup_contact (PvSyncServer *self, guint16 device, PvDeviceContact *out)
{
  const Contact *contact;

  memset (out, 0, sizeof *out);
  out->behind = out->pending = -1;
  if (!(contact = g_hash_table_lookup (self->contacts, GUINT_TO_POINTER (device))))
    return FALSE;
  out->seen = contact->seen;
  if (contact->held >= 0)
    out->behind = contact->behind;
  out->pending = contact->pending;
  out->has_skew = contact->has_skew;
  out->skew_ms = contact->skew_ms;
  out->url = contact->url;
  return TRUE;
}

void
pv_sync_reply_json (SoupServerMessage *msg, GBytes *bytes)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, g_bytes_get_data (bytes, NULL),
                                    g_bytes_get_size (bytes));
}

void
pv_sync_reply_error (SoupServerMessage *msg, guint status, const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) bytes = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  bytes = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, bytes);
  soup_server_message_set_status (msg, status, NULL);
}

static guint
status_for (const GError *error)
{
  if (g_error_matches (error, PV_ERROR, PV_ERROR_WRONG_EVENT))
    return SOUP_STATUS_CONFLICT;
  if (g_error_matches (error, PV_ERROR, PV_ERROR_STORE) || g_error_matches (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED))
    return SOUP_STATUS_SERVICE_UNAVAILABLE;
  return SOUP_STATUS_BAD_REQUEST;
}

/* How far the caller's clock is from ours, from what it sent: its Date
 * header (its own clock, to the second) when it sends one, else the issue
 * time of a token seen for the first time (signed just before it is sent;
 * clients sign by the hub's clock as far as they know it, so this shows
 * the clock they use with the hub, not necessarily the one they use
 * alone). A token seen before says nothing new. */
static void
note_skew (PvSyncServer *self, SoupServerMessage *msg, const PvTokenInfo *who, gboolean fresh)
{
  const char *date = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Date");
  g_autoptr (GDateTime) then = date ? soup_date_time_new_from_http_string (date) : NULL;
  gint64 now = g_get_real_time ();
  Contact *contact;

  if (then == NULL && !fresh)
    return;
  contact = contact_for (self, who->device_id);
  contact->has_skew = TRUE;
  /* A Date is the second its clock was in: half a second more is its
   * likeliest reading. */
  contact->skew_ms = then ? (g_date_time_to_unix (then) * G_USEC_PER_SEC + G_USEC_PER_SEC / 2 - now) / 1000
                          : (who->expires_at - PV_TOKEN_LIFETIME - now) / 1000;
}

/* The token check itself: FALSE with the reason in @error. */
static gboolean
check_token (PvSyncServer *self, SoupServerMessage *msg, PvTokenInfo *out, GError **error)
{
  PvStore *store = pv_store_watch_get_store (self->watch);
  const char *header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  const char *token = header && g_str_has_prefix (header, "Bearer ") ? header + strlen ("Bearer ") : NULL;
  PvTokenInfo *cached = token ? g_hash_table_lookup (self->tokens, token) : NULL;
  gint64 now = pv_store_now (store);
  const PvDeviceInfo *device;

  /* A revocation another program wrote into this file counts at once (a
   * look at the file's change counter: microseconds). */
  if (!pv_store_in_transaction (store))
    pv_store_refresh (store);
  /* A cached token still needs its device in good standing: a revocation
   * that arrived since ends it at once. */
  if (cached != NULL && cached->expires_at > now && (device = pv_store_lookup_device (store, cached->device_id)) != NULL
      && device->revoked_at > now && now < device->valid_until)
    {
      *out = *cached;
      contact_for (self, out->device_id)->seen = g_get_real_time ();
      note_skew (self, msg, out, FALSE);
      return TRUE;
    }
  if (token == NULL)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_PERMISSION,
                                "Send a device token: Authorization: Bearer PVT1.…"),
           FALSE;
  if (!pv_token_verify (store, token, now, self->audiences->data, self->audiences->len / PV_TOKEN_AUDIENCE_SIZE, out,
                        error))
    return FALSE;
  if (g_hash_table_size (self->tokens) >= MAX_CACHED_TOKENS)
    g_hash_table_remove_all (self->tokens);
  g_hash_table_insert (self->tokens, g_strdup (token), g_memdup2 (out, sizeof *out));
  contact_for (self, out->device_id)->seen = g_get_real_time ();
  note_skew (self, msg, out, TRUE);
  return TRUE;
}

gboolean
pv_sync_server_authorize (PvSyncServer *self, SoupServerMessage *msg, PvTokenInfo *out)
{
  g_autoptr (GError) error = NULL;

  if (check_token (self, msg, out, &error))
    {
      /* A device's connection is read before the public's (pv-listener.h). */
      pv_listen_prefer (msg);
      return TRUE;
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate",
                                "Bearer realm=\"pravesh\"");
  pv_sync_reply_error (msg, SOUP_STATUS_UNAUTHORIZED, error->message);
  return FALSE;
}

/* Whether a body is in the binary framing (else JSON). */
static gboolean
is_binary (SoupMessageHeaders *headers)
{
  const char *type = soup_message_headers_get_content_type (headers, NULL);

  return g_strcmp0 (type, PV_BATCH_BINARY_TYPE) == 0;
}

/* Whether the asker takes a batch in the binary framing. */
static gboolean
accepts_binary (SoupServerMessage *msg)
{
  const char *accept = soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Accept");

  return accept != NULL && soup_header_contains (accept, PV_BATCH_BINARY_TYPE);
}

/* The body, or NULL after replying 405 to another method. */
static GBytes *
take_body (SoupServerMessage *msg, const char *method)
{
  if (g_strcmp0 (soup_server_message_get_method (msg), method) != 0)
    {
      pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed here");
      return NULL;
    }
  return soup_message_body_flatten (soup_server_message_get_request_body (msg));
}

/* The vector, as a pull request: it also says which device answers. */
static void
handle_vector (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  PvSyncServer *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvPullRequest) request = NULL;
  g_autoptr (GBytes) bytes = NULL;
  PvTokenInfo who;

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed here");
  if (!pv_sync_server_authorize (self, msg, &who))
    return;
  if (!(request = pv_sync_make_request (pv_store_watch_get_store (self->watch), NULL, &error)))
    return pv_sync_reply_error (msg, status_for (error), error->message);
  bytes = pv_pull_request_to_json (request);
  pv_sync_reply_json (msg, bytes);
}

static void
handle_pull (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  PvSyncServer *self = user_data;
  g_autoptr (GBytes) body = take_body (msg, "POST");
  g_autoptr (GError) error = NULL;
  g_autoptr (PvPullRequest) request = NULL;
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GBytes) bytes = NULL;
  PvTokenInfo who;

  if (body == NULL || !pv_sync_server_authorize (self, msg, &who))
    return;
  request = pv_pull_request_new_from_json (g_bytes_get_data (body, NULL), g_bytes_get_size (body), PV_SYNC_MAX_JSON,
                                           &error);
  /* What the asker may receive follows from who it proved to be. */
  if (request != NULL)
    {
      g_autoptr (GHashTable) mine = pv_ledger_version_vector (pv_store_watch_get_store (self->watch), NULL);
      Contact *contact = contact_for (self, who.device_id);

      request->device_id = who.device_id;
      contact->held = pv_vector_total (request->vector);
      /* Its whole vector is here: what it holds that this side lacks is
       * known exactly. */
      contact->pending = mine ? vector_excess (request->vector, mine) : -1;
    }
  if (request == NULL
      || !(batch = pv_sync_collect_for (pv_store_watch_get_store (self->watch), request, TRUE, &error)))
    return pv_sync_reply_error (msg, status_for (error), error->message);
  /* It will hold what it is sent now. */
  contact_for (self, who.device_id)->held += batch->records->len;
  if (accepts_binary (msg))
    {
      bytes = pv_batch_to_binary (batch);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, PV_BATCH_BINARY_TYPE, SOUP_MEMORY_COPY, g_bytes_get_data (bytes, NULL),
                                        g_bytes_get_size (bytes));
      return;
    }
  bytes = pv_batch_to_json (batch);
  pv_sync_reply_json (msg, bytes);
}

static void
handle_push (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  PvSyncServer *self = user_data;
  PvStore *store = pv_store_watch_get_store (self->watch);
  g_autoptr (GBytes) body = take_body (msg, "POST");
  g_autoptr (GError) error = NULL;
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GHashTable) wanted = NULL, vector = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) vector_json = NULL, reply = NULL;
  PvMergeStats stats = { 0 };
  PvTokenInfo who;

  if (body == NULL || !pv_sync_server_authorize (self, msg, &who))
    return;
  batch = is_binary (soup_server_message_get_request_headers (msg))
            ? pv_batch_new_from_binary (g_bytes_get_data (body, NULL), g_bytes_get_size (body), PV_SYNC_MAX_MESSAGE,
                                        &error)
            : pv_batch_new_from_json (g_bytes_get_data (body, NULL), g_bytes_get_size (body), PV_SYNC_MAX_JSON,
                                      &error);
  if (batch == NULL || !pv_batch_apply (store, batch, &stats, &wanted, &error)
      || !(vector = pv_ledger_version_vector (store, &error)))
    return pv_sync_reply_error (msg, status_for (error), error->message);
  if (stats.applied > 0 || stats.people > 0)
    pv_store_watch_notify (self->watch);
  {
    Contact *contact = contact_for (self, who.device_id);

    /* What it pushed is no longer only its own. */
    if (contact->pending >= 0)
      contact->pending = MAX (contact->pending - (gint64) stats.applied, 0);
  }
  if (stats.forks > 0)
    g_message ("Device %u pushed %" G_GUINT64_FORMAT " fork(s): the second records are kept as evidence",
               who.device_id, stats.forks);
  /* Nothing taken and somebody refused: the sender hears why, plainly. */
  if (stats.refused_authors > 0 && stats.applied == 0 && stats.duplicates == 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, stats.refused_reason);
  pv_vector_overlay (vector, wanted);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "applied");
  json_builder_add_int_value (builder, (gint64) stats.applied);
  json_builder_set_member_name (builder, "duplicates");
  json_builder_add_int_value (builder, (gint64) stats.duplicates);
  json_builder_set_member_name (builder, "forks");
  json_builder_add_int_value (builder, (gint64) stats.forks);
  json_builder_set_member_name (builder, "people");
  json_builder_add_int_value (builder, (gint64) stats.people);
  json_builder_set_member_name (builder, "refused_authors");
  json_builder_add_int_value (builder, stats.refused_authors);
  if (stats.refused_authors > 0)
    {
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, stats.refused_reason);
    }
  /* What to send next time: the vector, with refused authors set past
   * everything and histories to prove a fork set back. */
  vector_json = pv_vector_to_json (batch->event_id, vector);
  json_builder_set_member_name (builder, "holds");
  {
    g_autoptr (JsonParser) parser = json_parser_new ();

    json_parser_load_from_data (parser, g_bytes_get_data (vector_json, NULL), (gssize) g_bytes_get_size (vector_json),
                                NULL);
    json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
  }
  json_builder_end_object (builder);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

static int
compare_devices (gconstpointer a, gconstpointer b)
{
  return (int) GPOINTER_TO_UINT (a) - (int) GPOINTER_TO_UINT (b);
}

static void
add_channels (JsonBuilder *builder, const char *member, GStrv channels)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; channels != NULL && channels[i] != NULL; i++)
    json_builder_add_string_value (builder, channels[i]);
  json_builder_end_array (builder);
}

GBytes *
pv_sync_server_dup_peers (PvSyncServer *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) devices = g_hash_table_get_keys (self->contacts);

  devices = g_list_sort (devices, compare_devices);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "peers");
  json_builder_begin_array (builder);
  for (const GList *l = devices; l != NULL; l = l->next)
    {
      const Contact *contact = g_hash_table_lookup (self->contacts, l->data);
      const PvDeviceInfo *device = pv_store_lookup_device (pv_store_watch_get_store (self->watch),
                                                           (guint16) GPOINTER_TO_UINT (l->data));

      /* A revoked device is nobody's peer any more. */
      if (contact->url == NULL || device == NULL || device->revoked_at != G_MAXINT64)
        continue;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "device");
      json_builder_add_int_value (builder, GPOINTER_TO_UINT (l->data));
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, device->name);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, pv_role_to_string (device->role));
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, contact->url);
      json_builder_set_member_name (builder, "seen");
      json_builder_add_int_value (builder, contact->seen);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  if (self->ticket_channels != NULL)
    {
      json_builder_set_member_name (builder, "channels");
      json_builder_begin_object (builder);
      add_channels (builder, "tickets", self->ticket_channels);
      add_channels (builder, "codes", self->code_channels);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return pv_json_builder_to_bytes (builder);
}

void
pv_sync_server_set_channels (PvSyncServer *self, const char *const *tickets, const char *const *codes)
{
  g_return_if_fail (PV_IS_SYNC_SERVER (self));

  g_clear_pointer (&self->ticket_channels, g_strfreev);
  g_clear_pointer (&self->code_channels, g_strfreev);
  self->ticket_channels = g_strdupv ((char **) (tickets ? tickets : (const char *const[]){ NULL }));
  self->code_channels = g_strdupv ((char **) (codes ? codes : (const char *const[]){ NULL }));
}

static void
handle_peers (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  PvSyncServer *self = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = NULL;
  JsonObject *root;
  const char *url;
  gint64 device;
  Contact *contact;
  PvTokenInfo who;

  if (!pv_sync_server_authorize (self, msg, &who))
    return;
  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") == 0)
    {
      g_autoptr (GBytes) bytes = pv_sync_server_dup_peers (self);
      return pv_sync_reply_json (msg, bytes);
    }
  if (!(body = take_body (msg, "POST")))
    return;
  if (g_bytes_get_size (body) > 4096
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Expected {\"device\": n, \"url\": \"http://…\"}");
  root = json_node_get_object (json_parser_get_root (parser));
  device = json_object_get_int_member_with_default (root, "device", 0);
  url = json_object_get_string_member_with_default (root, "url", NULL);
  if (device < 1 || device > G_MAXUINT16 || url == NULL || strlen (url) > MAX_URL
      || !(uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL))
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "A peer is a device id (1…65535) and an http or https URL");
  if (device != who.device_id)
    return pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, "A device advertises its own address only");
  contact = contact_for (self, (guint16) device);
  g_free (contact->url);
  contact->url = g_strdup (url);
  {
    g_autoptr (GBytes) bytes = pv_sync_server_dup_peers (self);
    pv_sync_reply_json (msg, bytes);
  }
}

static void
on_session_closed (PvSyncSession *session, PvSyncServer *self)
{
  g_ptr_array_remove (self->sessions, session);
}

/* Runs before the WebSocket handshake: no token, no upgrade. */
static void
authorize_live (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  PvSyncServer *self = user_data;
  PvTokenInfo who;

  if (pv_sync_server_authorize (self, msg, &who))
    g_object_set_data_full (G_OBJECT (msg), "pv-token-info", g_memdup2 (&who, sizeof who), g_free);
}

static void
handle_live (SoupServer *server, SoupServerMessage *msg, const char *path, SoupWebsocketConnection *connection,
             gpointer user_data)
{
  PvSyncServer *self = user_data;
  const PvTokenInfo *who = g_object_get_data (G_OBJECT (msg), "pv-token-info");
  PvSyncSession *session;

  if (who == NULL)
    {
      soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "Not authorized");
      return;
    }
  /* The session watches its own connection from here on. */
  pv_listen_release (msg);
  session = pv_sync_session_new (self->watch, connection, who->device_id, FALSE);

  g_signal_connect (session, "closed", G_CALLBACK (on_session_closed), self);
  g_ptr_array_add (self->sessions, session);
}

/* A connection being shut after a refusal: the answer is written without
 * blocking (a client that reads nothing must not stall the server's one
 * thread), then what the client still sends is read and dropped for a
 * moment, so closing does not reset the connection (and destroy the
 * answer) while its body is still arriving. One step runs at a time; the
 * timer cuts it short. */
typedef struct
{
  GIOStream *stream;
  GCancellable *cancellable;
  guint timeout_id;
  gsize drained;
  GBytes *answer;
} Lingering;

#define LINGER_MS 2000
#define LINGER_MAX_BYTES (4 * 1024 * 1024)

static void
lingering_free (Lingering *linger)
{
  GSocket *socket = pv_listen_socket_of (linger->stream);

  g_clear_handle_id (&linger->timeout_id, g_source_remove);
  /* Shut first: closing a TLS stream would otherwise wait to write to a
   * peer that may never read. */
  if (socket != NULL)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  g_io_stream_close_async (linger->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_object_unref (linger->stream);
  g_object_unref (linger->cancellable);
  g_bytes_unref (linger->answer);
  g_free (linger);
}

static gboolean
linger_timeout (gpointer user_data)
{
  Lingering *linger = user_data;

  linger->timeout_id = 0;
  g_cancellable_cancel (linger->cancellable);
  return G_SOURCE_REMOVE;
}

static void
linger_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lingering *linger = user_data;
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, NULL);

  if (bytes == NULL || g_bytes_get_size (bytes) == 0
      || (linger->drained += g_bytes_get_size (bytes)) > LINGER_MAX_BYTES)
    {
      lingering_free (linger);
      return;
    }
  g_input_stream_read_bytes_async (G_INPUT_STREAM (source), 64 * 1024, G_PRIORITY_LOW, linger->cancellable,
                                   linger_read_cb, linger);
}

static void
linger_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lingering *linger = user_data;
  GSocket *socket;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    {
      lingering_free (linger);
      return;
    }
  /* Nothing more to say: the client sees the end of the answer. */
  if ((socket = pv_listen_socket_of (linger->stream)) != NULL)
    g_socket_shutdown (socket, FALSE, TRUE, NULL);
  g_input_stream_read_bytes_async (g_io_stream_get_input_stream (linger->stream), 64 * 1024, G_PRIORITY_LOW,
                                   linger->cancellable, linger_read_cb, linger);
}

static void
refuse_and_close (SoupServerMessage *msg, guint status, const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) body = NULL;
  GString *answer = g_string_new (NULL);
  Lingering *linger;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  body = pv_json_builder_to_bytes (builder);
  g_string_printf (answer,
                   "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n",
                   status, soup_status_get_phrase (status), g_bytes_get_size (body));
  g_string_append_len (answer, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body));
  /* Taken from libsoup, which would otherwise read the whole body first;
   * the linger below is its only deadline now. */
  pv_listen_release (msg);
  linger = g_new0 (Lingering, 1);
  linger->stream = soup_server_message_steal_connection (msg);
  linger->cancellable = g_cancellable_new ();
  linger->answer = g_string_free_to_bytes (answer);
  linger->timeout_id = g_timeout_add (LINGER_MS, linger_timeout, linger);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (linger->stream),
                                   g_bytes_get_data (linger->answer, NULL), g_bytes_get_size (linger->answer),
                                   G_PRIORITY_DEFAULT, linger->cancellable, linger_written_cb, linger);
}

/* Whether a Content-Length header is a plain count of bytes. libsoup reads
 * "-1" or one past 2^64 as a length of -1, which slips under every limit
 * and means "read until the client stops". */
static gboolean
content_length_ok (SoupMessageHeaders *headers)
{
  const char *text = soup_message_headers_get_one (headers, "Content-Length");
  gsize digits = text ? strspn (text, "0123456789") : 0;

  return text == NULL
         || (digits > 0 && digits <= 18 && text[digits] == '\0'
             && soup_message_headers_get_content_length (headers) >= 0);
}

/* TRUE when the body is refused (and the connection taken over). */
static gboolean
refused_for_size (SoupServerMessage *msg, gsize max_bytes)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (headers);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (!content_length_ok (headers))
    {
      refuse_and_close (msg, SOUP_STATUS_BAD_REQUEST, "Content-Length must be a number of bytes");
      return TRUE;
    }
  if (encoding == SOUP_ENCODING_NONE || (encoding == SOUP_ENCODING_CONTENT_LENGTH && length <= (goffset) max_bytes))
    return FALSE;
  refuse_and_close (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                    encoding == SOUP_ENCODING_CONTENT_LENGTH
                      ? "The request is larger than this server takes"
                      : "Send a Content-Length: bodies of unknown size are not taken");
  return TRUE;
}

void
pv_sync_refuse_large_bodies (SoupServer *server,
                             SoupServerMessage *msg,
                             const char *path,
                             GHashTable *query,
                             gpointer max_bytes)
{
  refused_for_size (msg, GPOINTER_TO_SIZE (max_bytes));
}

typedef struct
{
  PvSyncServer *self;
  gsize max_body;
} Guard;

/* Before a body is read: its size, then (for a body worth reading) the
 * caller's token, so nobody without one makes the server hold megabytes. */
static void
guard_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Guard *guard = user_data;
  g_autoptr (GError) error = NULL;
  PvTokenInfo who;

  /* Small bodies are read and refused in the handler, keeping the
   * connection; a large one is refused unread, and the connection closed. */
  if (refused_for_size (msg, guard->max_body)
      || soup_message_headers_get_content_length (soup_server_message_get_request_headers (msg)) <= 4096)
    return;
  if (!check_token (guard->self, msg, &who, &error))
    refuse_and_close (msg, SOUP_STATUS_UNAUTHORIZED, error->message);
}

void
pv_sync_server_guard (PvSyncServer *self, SoupServer *server, const char *path, gsize max_body)
{
  Guard *guard = g_new0 (Guard, 1);

  guard->self = self;
  guard->max_body = max_body;
  soup_server_add_early_handler (server, path, guard_early, guard, g_free);
}

void
pv_sync_server_mount (PvSyncServer *self, SoupServer *server)
{
  /* An early handler is found by the same path as the handler, so every
   * path gets its own; paths nobody serves get the catch-all, which takes
   * no body at all. */
  pv_sync_server_guard (self, server, "/sync/v1/pull", PV_SYNC_MAX_JSON);
  pv_sync_server_guard (self, server, "/sync/v1/push", PV_SYNC_MAX_MESSAGE);
  pv_sync_server_guard (self, server, "/sync/v1/peers", 4096);
  pv_sync_server_guard (self, server, "/sync/v1/vector", 0);
  pv_sync_server_guard (self, server, "/sync/v1/live", 0);
  soup_server_add_early_handler (server, NULL, pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (0), NULL);
  soup_server_add_handler (server, "/sync/v1/vector", handle_vector, self, NULL);
  soup_server_add_handler (server, "/sync/v1/pull", handle_pull, self, NULL);
  soup_server_add_handler (server, "/sync/v1/push", handle_push, self, NULL);
  soup_server_add_handler (server, "/sync/v1/peers", handle_peers, self, NULL);
  soup_server_add_handler (server, "/sync/v1/live", authorize_live, self, NULL);
  soup_server_add_websocket_handler (server, "/sync/v1/live", NULL, NULL, handle_live, self, NULL);
}

void
pv_sync_server_add_audience (PvSyncServer *self, const char *url)
{
  guint8 tag[PV_TOKEN_AUDIENCE_SIZE];

  if (url == NULL)
    return;
  pv_token_audience (url, tag);
  g_byte_array_append (self->audiences, tag, sizeof tag);
}

guint
pv_sync_server_get_n_live (PvSyncServer *self)
{
  return self->sessions->len;
}

static void
pv_sync_server_dispose (GObject *object)
{
  PvSyncServer *self = PV_SYNC_SERVER (object);

  /* What the sessions know is written down before they go. */
  if (self->contacts != NULL && self->watch != NULL && self->sessions != NULL)
    flush_contacts (self);
  if (self->sessions != NULL)
    for (guint i = 0; i < self->sessions->len; i++)
      g_signal_handlers_disconnect_by_data (self->sessions->pdata[i], self);
  g_clear_pointer (&self->sessions, g_ptr_array_unref);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->watch != NULL)
    g_clear_signal_handler (&self->changed_id, self->watch);
  g_clear_pointer (&self->contacts, g_hash_table_unref);
  g_clear_pointer (&self->tokens, g_hash_table_unref);
  g_clear_pointer (&self->ticket_channels, g_strfreev);
  g_clear_pointer (&self->code_channels, g_strfreev);
  g_clear_pointer (&self->audiences, g_byte_array_unref);
  g_clear_object (&self->watch);
  G_OBJECT_CLASS (pv_sync_server_parent_class)->dispose (object);
}

static void
pv_sync_server_class_init (PvSyncServerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pv_sync_server_dispose;
}

static void
pv_sync_server_init (PvSyncServer *self)
{
  self->sessions = g_ptr_array_new_with_free_func (g_object_unref);
  self->contacts = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) contact_free);
  self->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->audiences = g_byte_array_new ();
}

PvSyncServer *
pv_sync_server_new (PvStoreWatch *watch)
{
  PvSyncServer *self = g_object_new (PV_TYPE_SYNC_SERVER, NULL);

  self->watch = g_object_ref (watch);
  self->records_stale = TRUE;
  self->changed_id = g_signal_connect (watch, "changed", G_CALLBACK (on_ledger_changed), self);
  load_contacts (self);
  self->flush_id = g_timeout_add_seconds (CONTACTS_FLUSH_S, flush_contacts, self);
  return self;
}
