/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-client.c: one JSON exchange with the hub under a time bound, the API
 * calls made of it, and pairing (see the header). Everything that reads or
 * writes a store happens on the caller's thread, between network steps;
 * only libsoup's I/O runs while the caller's main loop goes on. */
#include "config.h"

#include "pv-api-client.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-ledger.h"
#include "pv-pairing.h"
#include "pv-store-watch.h"
#include "pv-store.h"
#include "pv-sync-client.h"
#include "pv-ticket-code.h"
#include "pv-tickets.h"
#include "pv-tls.h"
#include "pv-token.h"
#include "pv-wire.h"

/* A person pairing a device waits for a slow hub, but not forever. */
#define PAIR_BOUND_MS 30000

SoupSession *
pv_api_session_new (void)
{
  return soup_session_new_with_options ("user-agent", "pravesh/" PACKAGE_VERSION " ", NULL);
}

/* One exchange */

typedef struct
{
  SoupSession *session;
  /* Ours, handed to libsoup: cancelled when the bound passes or the
   * caller's cancellable fires, so the two can be told apart after. */
  GCancellable *cancellable;
  GCancellable *outer;
  gulong outer_id;
  GSource *bound;
  guint bound_ms;
  gboolean timed_out;
} Exchange;

static void
exchange_free (Exchange *exchange)
{
  if (exchange->outer_id != 0)
    g_cancellable_disconnect (exchange->outer, exchange->outer_id);
  g_clear_object (&exchange->outer);
  if (exchange->bound != NULL)
    g_source_destroy (exchange->bound);
  g_clear_pointer (&exchange->bound, g_source_unref);
  g_clear_object (&exchange->cancellable);
  g_clear_object (&exchange->session);
  g_free (exchange);
}

static gboolean
bound_passed (gpointer user_data)
{
  Exchange *exchange = user_data;

  exchange->timed_out = TRUE;
  g_cancellable_cancel (exchange->cancellable);
  return G_SOURCE_REMOVE;
}

/* May run in whichever thread cancels the caller's cancellable. */
static void
outer_cancelled (GCancellable *outer, gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
}

static void
exchanged_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Exchange *exchange = g_task_get_task_data (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = NULL;
  guint status = soup_message_get_status (msg);

  if (exchange->bound != NULL)
    g_source_destroy (exchange->bound);
  if (reply == NULL)
    {
      if (exchange->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _ ("The hub did not answer within %u ms"),
                                 exchange->bound_ms);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* An empty body (a proxy's 502, a bare 404) is no JSON, and json-glib
   * will not be handed one. */
  if (g_bytes_get_size (reply) > 0
      && json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), (gssize) g_bytes_get_size (reply), NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    root = json_node_get_object (json_parser_get_root (parser));
  if (status != SOUP_STATUS_OK || root == NULL)
    {
      const char *words = root ? json_object_get_string_member_with_default (root, "error", "") : "";

      /* The hub's own words are for a person; the bare status only when
       * it gave none. */
      if (*words != '\0')
        g_task_return_new_error (task, PV_ERROR, PV_ERROR_PERMISSION, "%s", words);
      else
        g_task_return_new_error (task, PV_ERROR, PV_ERROR_PERMISSION, _ ("The hub answered %u"), status);
      return;
    }
  g_task_return_pointer (task, json_parser_steal_root (parser), (GDestroyNotify) json_node_unref);
}

/* Sends @msg on @session (NULL: a new one) and waits at most @bound_ms
 * (0: no bound of ours); the reply's JSON object on 200, else an error
 * carrying the server's own words. */
static void
exchange_async (SoupSession *session, SoupMessage *msg, guint bound_ms, GCancellable *cancellable,
                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Exchange *exchange = g_new0 (Exchange, 1);

  g_task_set_source_tag (task, exchange_async);
  exchange->session = session ? g_object_ref (session) : pv_api_session_new ();
  exchange->cancellable = g_cancellable_new ();
  exchange->bound_ms = bound_ms;
  g_task_set_task_data (task, exchange, (GDestroyNotify) exchange_free);
  if (cancellable != NULL)
    {
      exchange->outer = g_object_ref (cancellable);
      exchange->outer_id = g_cancellable_connect (cancellable, G_CALLBACK (outer_cancelled),
                                                  g_object_ref (exchange->cancellable), g_object_unref);
    }
  if (bound_ms > 0)
    {
      exchange->bound = g_timeout_source_new (bound_ms);
      g_source_set_callback (exchange->bound, bound_passed, exchange, NULL);
      g_source_attach (exchange->bound, g_task_get_context (task));
    }
  /* The task goes with the request and comes back in exchanged_cb. */
  soup_session_send_and_read_async (exchange->session, msg, G_PRIORITY_DEFAULT, exchange->cancellable,
                                    exchanged_cb, task);
}

static JsonNode *
exchange_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Calls */

void
pv_api_call_async (PvStore *store, SoupSession *session, const char *hub_url, const char *path, JsonBuilder *body,
                   guint bound_ms, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autofree char *url = NULL, *token = NULL, *header = NULL;
  g_autoptr (GUri) base = NULL, uri = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  GError *error = NULL;
  guint8 pin[PV_FINGERPRINT_SIZE];

  g_return_if_fail (store != NULL && path != NULL);

  url = hub_url ? g_strdup (hub_url) : pv_store_dup_meta_string (store, PV_META_HUB_URL);
  if (url == NULL)
    {
      g_task_report_new_error (NULL, callback, user_data, pv_api_call_async, PV_ERROR, PV_ERROR_NOT_FOUND, "%s",
                               _ ("No hub known: pair this device first"));
      return;
    }
  if (!(base = g_uri_parse (url, G_URI_FLAGS_NONE, &error))
      || !(uri = g_uri_parse_relative (base, path, G_URI_FLAGS_NONE, &error))
      || !(token = pv_token_new (store, pv_store_now (store), url, &error)))
    {
      g_task_report_error (NULL, callback, user_data, pv_api_call_async, error);
      return;
    }
  /* A POST is not marked SOUP_MESSAGE_IDEMPOTENT, although a kept
   * connection would save a TLS handshake per scan: libsoup may send such
   * a message again when the kept connection fails under it, and the hub
   * would see one admission (or one request for a sign-in code) twice. */
  msg = soup_message_new_from_uri (body ? "POST" : "GET", uri);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = pv_json_builder_to_bytes (body);
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  header = g_strconcat ("Bearer ", token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", header);
  pv_sync_stamp_date (msg);
  if (pv_sync_get_pinned (store, pin))
    pv_tls_pin_certificate (msg, pin);
  exchange_async (session, msg, bound_ms, cancellable, callback, user_data);
}

JsonNode *
pv_api_call_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return exchange_finish (result, error);
}

void
pv_api_admit_async (PvStore *store, SoupSession *session, const char *hub_url, const char *code, const char *gate,
                    gboolean is_exit, gboolean manual, guint bound_ms, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "gate");
  json_builder_add_string_value (builder, gate);
  json_builder_set_member_name (builder, "exit");
  json_builder_add_boolean_value (builder, is_exit);
  /* Only when set: a hub from before manual records reads what it knows. */
  if (manual)
    {
      json_builder_set_member_name (builder, "manual");
      json_builder_add_boolean_value (builder, TRUE);
    }
  json_builder_end_object (builder);
  pv_api_call_async (store, session, hub_url, "/api/v1/admit", builder, bound_ms, cancellable, callback,
                     user_data);
}

JsonNode *
pv_api_admit_finish (GAsyncResult *result, GError **error)
{
  return pv_api_call_finish (result, error);
}

void
pv_api_ticket_delivery_async (PvStore *store, SoupSession *session, const char *hub_url, guint16 issuer,
                              guint32 serial, guint bound_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autofree char *text = pv_ticket_format_serial (issuer, serial);
  g_autofree char *path = g_strdup_printf ("/api/v1/tickets/delivery?serial=%s", text);

  pv_api_call_async (store, session, hub_url, path, NULL, bound_ms, cancellable, callback, user_data);
}

JsonNode *
pv_api_ticket_delivery_finish (GAsyncResult *result, GError **error)
{
  return pv_api_call_finish (result, error);
}

/* Pairing */

typedef struct
{
  char *db_path;
  PvPairingCode code;
  guint8 public_key[PV_PUBLIC_KEY_SIZE];
  guint8 secret_key[PV_SECRET_KEY_SIZE];
  guint8 event_key[PV_PUBLIC_KEY_SIZE];
  guint16 device;
  char *role;
  /* The file at @db_path is this pairing's own from the moment
   * pv_devices_join made it: a failure after that removes it. */
  gboolean joined;
  PvStore *store;
  PvStoreWatch *watch;
  PvSyncClient *hub;
  JsonNode *summary;
} Pairing;

static void
pairing_free (Pairing *pairing)
{
  sodium_memzero (pairing->secret_key, sizeof pairing->secret_key);
  pv_pairing_code_clear (&pairing->code);
  g_clear_object (&pairing->hub);
  g_clear_object (&pairing->watch);
  g_clear_object (&pairing->store);
  g_clear_pointer (&pairing->summary, json_node_unref);
  g_free (pairing->role);
  g_free (pairing->db_path);
  g_free (pairing);
}

/* Closes and removes the half-made replica, if there is one, then fails. */
static void
pair_fail (GTask *task, GError *error)
{
  Pairing *pairing = g_task_get_task_data (task);

  g_clear_object (&pairing->hub);
  g_clear_object (&pairing->watch);
  g_clear_object (&pairing->store);
  if (pairing->joined)
    {
      static const char *const suffixes[] = { "", "-wal", "-shm" };

      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *file = g_strconcat (pairing->db_path, suffixes[i], NULL);
          g_unlink (file);
        }
      pairing->joined = FALSE;
    }
  g_task_return_error (task, error);
}

static void
first_round_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Pairing *pairing = g_task_get_task_data (task);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *gate = NULL;
  const PvDeviceInfo *device;
  GError *error = NULL;
  PvEvent *event;

  if (!pv_sync_client_round_finish (PV_SYNC_CLIENT (source), result, NULL, &error)
      || !(event = pv_store_get_event (pairing->store, &error)))
    {
      pair_fail (task, error);
      return;
    }
  device = pv_store_lookup_device (pairing->store, pairing->device);
  if (memcmp (pv_event_get_public_key (event), pairing->event_key, PV_PUBLIC_KEY_SIZE) != 0 || device == NULL
      || memcmp (device->public_key, pairing->public_key, PV_PUBLIC_KEY_SIZE) != 0)
    {
      pair_fail (task, g_error_new_literal (PV_ERROR, PV_ERROR_SIGNATURE,
                                            _ ("The ledger from the hub is not the event it paired this device with")));
      return;
    }

  /* The gate the invitation named, as this event spells it; one the event
   * has since lost leaves the station to ask on its first open. */
  if (pairing->code.gate != NULL && !pv_devices_set_gate (pairing->store, pairing->code.gate, &error))
    {
      g_message ("The pairing code's gate is not used: %s", error->message);
      g_clear_error (&error);
    }
  gate = pv_devices_dup_gate (pairing->store);

  g_clear_object (&pairing->hub);
  g_clear_object (&pairing->watch);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "device");
  json_builder_add_int_value (builder, pairing->device);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, pairing->role);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, pv_event_get_name (event));
  json_builder_set_member_name (builder, "hub");
  json_builder_add_string_value (builder, pairing->code.url);
  if (gate != NULL)
    {
      json_builder_set_member_name (builder, "gate");
      json_builder_add_string_value (builder, gate);
    }
  json_builder_set_member_name (builder, "records");
  json_builder_add_int_value (builder, (gint64) pv_ledger_count (pairing->store));
  json_builder_end_object (builder);
  pairing->summary = json_builder_get_root (builder);
  g_task_return_pointer (task, g_steal_pointer (&pairing->store), g_object_unref);
}

/* The hub enrolled the device: make its replica and fetch the ledger. */
static void
paired_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Pairing *pairing = g_task_get_task_data (task);
  g_autoptr (JsonNode) answer = NULL;
  g_autofree guint8 *event_key = NULL;
  GError *error = NULL;
  GCancellable *cancellable;
  JsonObject *reply;
  const char *event_key_text;
  gsize event_key_len = 0;
  gint64 device;
  guint64 event_id = 0;
  gboolean joined;

  if (!(answer = exchange_finish (result, &error)))
    {
      pair_fail (task, error);
      return;
    }
  reply = json_node_get_object (answer);
  device = json_object_get_int_member_with_default (reply, "device", 0);
  if ((event_key_text = json_object_get_string_member_with_default (reply, "event_public_key", NULL)))
    event_key = g_base64_decode (event_key_text, &event_key_len);
  if (device < 1 || device > G_MAXUINT16 || event_key_len != PV_PUBLIC_KEY_SIZE
      || !g_ascii_string_to_unsigned (json_object_get_string_member_with_default (reply, "event", ""), 16, 1,
                                      G_MAXUINT32, &event_id, NULL))
    {
      pair_fail (task, g_error_new_literal (PV_ERROR, PV_ERROR_MALFORMED,
                                            _ ("The hub’s answer to pairing makes no sense")));
      return;
    }
  pairing->device = (guint16) device;
  memcpy (pairing->event_key, event_key, PV_PUBLIC_KEY_SIZE);
  pairing->role = g_strdup (json_object_get_string_member_with_default (reply, "role", ""));

  joined = pv_devices_join (pairing->db_path, (guint32) event_id, pairing->device, pairing->secret_key, &error);
  /* The key is in the replica now (or nowhere): no copy stays in memory. */
  sodium_memzero (pairing->secret_key, sizeof pairing->secret_key);
  pairing->joined = joined;
  if (!joined || !(pairing->store = pv_store_open_existing (pairing->db_path, &error))
      || !pv_store_set_meta_string (pairing->store, PV_META_HUB_URL, pairing->code.url, &error))
    {
      pair_fail (task, error);
      return;
    }
  if (pairing->code.pinned)
    {
      char fingerprint_hex[PV_FINGERPRINT_HEX_SIZE + 1];

      sodium_bin2hex (fingerprint_hex, sizeof fingerprint_hex, pairing->code.fingerprint,
                      sizeof pairing->code.fingerprint);
      if (!pv_store_set_meta_string (pairing->store, "hub-fingerprint", fingerprint_hex, &error))
        {
          pair_fail (task, error);
          return;
        }
    }

  /* The ledger, this device's certificate in it, comes in the first round;
   * it must be the event the hub vouched for. The client pins the
   * fingerprint just remembered. */
  pairing->watch = pv_store_watch_new (pairing->store, 0);
  if (!(pairing->hub = pv_sync_client_new (pairing->watch, pairing->code.url, &error)))
    {
      pair_fail (task, error);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  pv_sync_client_round_async (pairing->hub, cancellable, first_round_cb, g_steal_pointer (&task));
}

void
pv_pair_async (const char *db_path, const char *pairing_code, GCancellable *cancellable,
               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GUri) base = NULL, uri = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *secret_text = NULL, *key_text = NULL;
  Pairing *pairing;
  GError *error = NULL;

  g_return_if_fail (db_path != NULL && pairing_code != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pv_pair_async);
  /* Cancelled too late, a pairing that went through is still reported:
   * the hub spent the invitation on it and the replica is whole. */
  g_task_set_check_cancellable (task, FALSE);
  pairing = g_new0 (Pairing, 1);
  pairing->db_path = g_strdup (db_path);
  g_task_set_task_data (task, pairing, (GDestroyNotify) pairing_free);
  if (g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_task_return_new_error (task, PV_ERROR, PV_ERROR_EXISTS, _ ("%s exists already; a paired device gets a new file"),
                               db_path);
      return;
    }
  if (!pv_pairing_code_parse (pairing_code, &pairing->code, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* The device's key never leaves it: the hub certifies the public half. */
  pv_keypair_generate (pairing->public_key, pairing->secret_key);
  secret_text = g_base64_encode (pairing->code.secret, sizeof pairing->code.secret);
  key_text = g_base64_encode (pairing->public_key, sizeof pairing->public_key);
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "secret");
  json_builder_add_string_value (builder, secret_text);
  json_builder_set_member_name (builder, "public_key");
  json_builder_add_string_value (builder, key_text);
  json_builder_end_object (builder);
  body = pv_json_builder_to_bytes (builder);
  if (!(base = g_uri_parse (pairing->code.url, G_URI_FLAGS_NONE, &error))
      || !(uri = g_uri_parse_relative (base, "/api/v1/pair", G_URI_FLAGS_NONE, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  msg = soup_message_new_from_uri ("POST", uri);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  if (pairing->code.pinned)
    pv_tls_pin_certificate (msg, pairing->code.fingerprint);
  exchange_async (NULL, msg, PAIR_BOUND_MS, cancellable, paired_cb, g_steal_pointer (&task));
}

PvStore *
pv_pair_finish (GAsyncResult *result, JsonNode **out_summary, GError **error)
{
  Pairing *pairing;
  PvStore *store;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pv_pair_async, NULL);

  pairing = g_task_get_task_data (G_TASK (result));
  if (!(store = g_task_propagate_pointer (G_TASK (result), error)))
    return NULL;
  if (out_summary != NULL)
    *out_summary = json_node_ref (pairing->summary);
  return store;
}

/* What the hub sends by */

/* Meta values: the channels joined by ",", "" for none, "?" (or no
 * value) for not known. */
static const char *const channel_keys[] = {
  [PV_API_SENDS_TICKETS] = "hub-ticket-channels",
  [PV_API_SENDS_CODES] = "hub-code-channels",
};

static char *
channels_value (JsonObject *channels, const char *member)
{
  JsonArray *list = pv_json_member_array (channels, member);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_auto (GStrv) joined = NULL;

  if (list == NULL)
    return g_strdup ("?");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      const char *name = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                           ? json_node_get_string (node)
                           : NULL;

      /* A channel this program cannot ask for is no use to offer. */
      if (pv_delivery_channel_is_known (name))
        g_strv_builder_add (names, name);
    }
  joined = g_strv_builder_end (names);
  return g_strjoinv (",", joined);
}

gboolean
pv_api_channels_remember (PvStore *store, JsonObject *answer)
{
  JsonObject *channels = pv_json_member_object (answer, "channels");
  gboolean changed = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (channel_keys); i++)
    {
      g_autofree char *value = channels ? channels_value (channels, i == PV_API_SENDS_TICKETS ? "tickets" : "codes")
                                        : g_strdup ("?");
      g_autofree char *old = pv_store_dup_meta_string (store, channel_keys[i]);
      g_autoptr (GError) error = NULL;

      if (g_strcmp0 (old, value) == 0 || (old == NULL && g_str_equal (value, "?")))
        continue;
      if (!pv_store_set_meta_string (store, channel_keys[i], value, &error))
        {
          g_message ("Cannot remember what the hub sends by: %s", error->message);
          continue;
        }
      changed = TRUE;
    }
  return changed;
}

GStrv
pv_api_channels_lookup (PvStore *store, PvApiSends what)
{
  g_autofree char *value = pv_store_dup_meta_string (store, channel_keys[what]);

  if (value == NULL || g_str_equal (value, "?"))
    return NULL;
  if (*value == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (value, ",", -1);
}

gboolean
pv_api_channels_offer (const char *const *channels, const char *channel, gboolean unknown)
{
  return channels == NULL ? unknown : g_strv_contains (channels, channel);
}
