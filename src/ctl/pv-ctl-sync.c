/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-sync.c: sync (one round with the hub, or a headless device that
 * stays connected, serves its own endpoints to peers and relays records
 * both ways), and online admission with its offline fallback. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sodium.h>
#include <string.h>

#include "pv-ctl.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-ledger.h"
#include "pv-pairing.h"
#include "pv-store-watch.h"
#include "pv-sync-client.h"
#include "pv-sync-server.h"
#include "pv-token.h"
#include "pv-wire.h"

#define PEER_REFRESH_S 5

/* --hub: remembered in the store for the next run (pairing sets it too). */
static char *
hub_url (PvStore *store, const char *given, GError **error)
{
  if (given != NULL)
    {
      g_autoptr (GUri) uri = g_uri_parse (given, G_URI_FLAGS_NONE, error);

      if (uri == NULL)
        return NULL;
      if (!pv_store_set_meta_string (store, "hub-url", given, error))
        return NULL;
      return g_strdup (given);
    }
  return pv_store_dup_meta_string (store, "hub-url");
}

typedef struct
{
  GMainLoop *loop;
  gboolean ok;
  PvSyncRoundStats stats;
  GError *error;
} Once;

static void
round_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Once *once = user_data;

  once->ok = pv_sync_client_round_finish (PV_SYNC_CLIENT (source), result, &once->stats, &once->error);
  g_main_loop_quit (once->loop);
}

typedef struct
{
  PvStoreWatch *watch;
  PvSyncClient *hub;
  GHashTable *peers; /* url → PvSyncClient */
  char *own_url;
  GMainLoop *loop;
} Daemon;

static void
add_peer (Daemon *d, const char *url)
{
  g_autoptr (GError) error = NULL;
  PvSyncClient *client;

  if (g_hash_table_contains (d->peers, url) || g_strcmp0 (url, d->own_url) == 0)
    return;
  if (!(client = pv_sync_client_new (d->watch, url, &error)))
    {
      g_printerr ("pravesh-ctl: peer %s: %s\n", url, error->message);
      return;
    }
  g_print ("peer %s\n", url);
  pv_sync_client_start (client);
  g_hash_table_insert (d->peers, g_strdup (url), client);
}

static void
advertised_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Daemon *d = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) peers = pv_sync_client_advertise_finish (PV_SYNC_CLIENT (source), result, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *list;
  guint16 self = pv_store_get_device_id (pv_store_watch_get_store (d->watch));

  if (peers == NULL
      || !json_parser_load_from_data (parser, g_bytes_get_data (peers, NULL), (gssize) g_bytes_get_size (peers), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  list = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "peers");
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *peer = json_array_get_object_element (list, i);
      const char *url = peer ? json_object_get_string_member_with_default (peer, "url", NULL) : NULL;

      if (url != NULL && json_object_get_int_member_with_default (peer, "device", 0) != self)
        add_peer (d, url);
    }
}

static gboolean
advertise (gpointer user_data)
{
  Daemon *d = user_data;

  if (d->hub != NULL)
    pv_sync_client_advertise_async (d->hub, d->own_url, NULL, advertised_cb, d);
  return G_SOURCE_CONTINUE;
}

static void
warn_if_clock_off (PvSyncClient *hub)
{
  if (pv_sync_client_clock_is_off (hub))
    g_printerr (_ ("pravesh-ctl: warning: this device’s clock is %lld s off the hub’s; set it right\n"),
                (long long) (-pv_sync_client_get_clock_offset (hub) / G_USEC_PER_SEC));
}

/* A headless device says on stderr how it stands with the hub. */
static void
on_hub_status (PvSyncClient *hub, GParamSpec *pspec, gpointer user_data)
{
  const char *error = pv_sync_client_get_last_error (hub);
  PvSyncStatus status = pv_sync_client_get_status (hub);

  g_printerr (_ ("pravesh-ctl: hub %s%s%s\n"), pv_sync_status_to_string (status),
              status == PV_SYNC_OFFLINE && error ? ": " : "", status == PV_SYNC_OFFLINE && error ? error : "");
  if (status == PV_SYNC_ONLINE)
    warn_if_clock_off (hub);
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
pv_ctl_sync (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *listen = NULL, *hub_given = NULL, *url = NULL;
  g_auto (GStrv) peers = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (PvStoreWatch) watch = NULL;
  g_autoptr (PvSyncClient) hub = NULL;
  gboolean once = FALSE;
  int status;
  GOptionEntry entries[] = {
    { "once", 0, 0, G_OPTION_ARG_NONE, &once, N_ ("One full round with the hub, then exit"), NULL },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      N_ ("Serve sync to peers here (default 127.0.0.1:0, any free port)"), N_ ("ADDR:PORT") },
    { "hub", 0, 0, G_OPTION_ARG_STRING, &hub_given, N_ ("The hub’s URL (remembered in the store)"), N_ ("URL") },
    { "peer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &peers, N_ ("Also sync with this peer (repeatable)"), N_ ("URL") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error))
    return pv_ctl_fail (error);
  url = hub_url (store, hub_given, &error);
  if (error != NULL)
    return pv_ctl_fail (error);
  watch = pv_store_watch_new (store, once ? 0 : 20);
  if (url != NULL && !(hub = pv_sync_client_new (watch, url, &error)))
    return pv_ctl_fail (error);

  if (once)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      Once state = { g_main_loop_new (NULL, FALSE), FALSE, { 0 }, NULL };

      if (hub == NULL)
        return pv_ctl_error (_ ("No hub to sync with: give --hub URL"));
      pv_sync_client_round_async (hub, NULL, round_cb, &state);
      g_main_loop_run (state.loop);
      g_main_loop_unref (state.loop);
      if (!state.ok)
        return pv_ctl_fail (state.error);
      json_builder_begin_object (builder);
      pv_ctl_json_add_string (builder, "hub", url);
      pv_ctl_json_add_int (builder, "pushed", (gint64) state.stats.pushed);
      pv_ctl_json_add_int (builder, "pulled", (gint64) state.stats.pulled);
      pv_ctl_json_add_int (builder, "people", (gint64) state.stats.people);
      pv_ctl_json_add_int (builder, "pages", state.stats.pages);
      pv_ctl_json_add_int (builder, "refused_authors", state.stats.refused_authors);
      pv_ctl_json_add_int (builder, "clock_offset_ms", pv_sync_client_get_clock_offset (hub) / 1000);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
      warn_if_clock_off (hub);
      return PV_CTL_EXIT_OK;
    }

  {
    g_autoptr (SoupServer) server = soup_server_new ("server-header", "pravesh/" PACKAGE_VERSION " ", NULL);
    g_autoptr (PvSyncServer) endpoints = pv_sync_server_new (watch);
    Daemon d = { watch, hub, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref), NULL,
                 g_main_loop_new (NULL, FALSE) };
    guint advertise_id = 0;

    pv_sync_server_mount (endpoints, server);
    if (!pv_sync_listen (server, listen ? listen : "127.0.0.1:0", &d.own_url, &error))
      {
        g_hash_table_unref (d.peers);
        g_main_loop_unref (d.loop);
        return pv_ctl_fail (error);
      }
    pv_sync_server_add_audience (endpoints, d.own_url);
    /* The first line a supervisor (or a test) reads: where peers connect. */
    g_print ("listening %s\n", d.own_url);
    if (hub != NULL)
      {
        g_signal_connect (hub, "notify::status", G_CALLBACK (on_hub_status), NULL);
        pv_sync_client_start (hub);
        advertise (&d);
        advertise_id = g_timeout_add_seconds (PEER_REFRESH_S, advertise, &d);
      }
    for (guint i = 0; peers != NULL && peers[i] != NULL; i++)
      add_peer (&d, peers[i]);
    g_unix_signal_add (SIGTERM, on_signal, d.loop);
    g_unix_signal_add (SIGINT, on_signal, d.loop);
    g_main_loop_run (d.loop);

    g_clear_handle_id (&advertise_id, g_source_remove);
    if (hub != NULL)
      pv_sync_client_stop (hub);
    g_hash_table_unref (d.peers);
    soup_server_disconnect (server);
    /* Let the closed connections' last callbacks run and free them. */
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_main_loop_unref (d.loop);
    g_free (d.own_url);
  }
  return PV_CTL_EXIT_OK;
}

char *
pv_ctl_hub_url (PvStore *store, const char *given, GError **error)
{
  return hub_url (store, given, error);
}

typedef struct
{
  GMainLoop *loop;
  GBytes *reply;
  guint status;
  GError *error;
} Exchange;

static void
exchange_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Exchange *exchange = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  exchange->reply = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &exchange->error);
  exchange->status = soup_message_get_status (msg);
  g_main_loop_quit (exchange->loop);
}

static gboolean
exchange_timeout (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

/* Sends @msg and waits at most @bound_ms; the reply's JSON object on 200,
 * else an error carrying the server's own words (G_IO_ERROR_TIMED_OUT when
 * the bound passed). */
static JsonNode *
exchange_json (SoupMessage *msg, guint bound_ms, GError **error)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options ("user-agent", "pravesh-ctl/1", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GBytes) reply = NULL;
  Exchange exchange = { g_main_loop_new (NULL, FALSE), NULL, 0, NULL };
  JsonObject *root = NULL;
  guint timeout_id = g_timeout_add (bound_ms, exchange_timeout, cancellable);

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, cancellable, exchange_cb, &exchange);
  g_main_loop_run (exchange.loop);
  g_main_loop_unref (exchange.loop);
  if (!g_cancellable_is_cancelled (cancellable))
    g_source_remove (timeout_id);
  if ((reply = exchange.reply) == NULL)
    {
      if (g_error_matches (exchange.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&exchange.error);
          return g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _ ("The hub did not answer within %u ms"),
                              bound_ms),
                 NULL;
        }
      g_propagate_error (error, exchange.error);
      return NULL;
    }
  if (json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), (gssize) g_bytes_get_size (reply), NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    root = json_node_get_object (json_parser_get_root (parser));
  if (exchange.status != SOUP_STATUS_OK || root == NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, _ ("The hub answered %u: %s"), exchange.status,
                        root ? json_object_get_string_member_with_default (root, "error", "") : ""),
           NULL;
  return json_node_copy (json_parser_get_root (parser));
}

/* Calls @path at the hub (@hub_url, or the one this replica remembers) as
 * this device — a POST of @body_builder's object, or a GET when it is NULL
 * — waiting at most @bound_ms; the answer's object. */
static JsonNode *
hub_request (PvStore *store, const char *hub_url, const char *path, JsonBuilder *body_builder, guint bound_ms,
             GError **error)
{
  g_autofree char *url = g_strdup (hub_url), *token = NULL, *header = NULL;
  g_autoptr (GUri) base = NULL, uri = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  guint8 pin[32];

  if (url == NULL && !(url = pv_ctl_hub_url (store, NULL, error)))
    {
      if (error && !*error)
        g_set_error_literal (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("No hub known: pair this device first"));
      return NULL;
    }
  if (!(base = g_uri_parse (url, G_URI_FLAGS_NONE, error))
      || !(uri = g_uri_parse_relative (base, path, G_URI_FLAGS_NONE, error))
      || !(token = pv_token_new (store, pv_store_now (store), url, error)))
    return NULL;
  msg = soup_message_new_from_uri (body_builder ? "POST" : "GET", uri);
  if (body_builder)
    {
      g_autoptr (GBytes) body = pv_json_builder_to_bytes (body_builder);
      soup_message_set_request_body_from_bytes (msg, "application/json", body);
    }
  header = g_strconcat ("Bearer ", token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", header);
  if (pv_sync_get_pinned (store, pin))
    pv_sync_pin_certificate (msg, pin);
  return exchange_json (msg, bound_ms, error);
}

JsonNode *
pv_ctl_admit_online (PvStore *store, const char *url, const char *code, const char *gate, gboolean is_exit,
                     guint bound_ms, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  pv_ctl_json_add_string (builder, "code", code);
  pv_ctl_json_add_string (builder, "gate", gate);
  pv_ctl_json_add_bool (builder, "exit", is_exit);
  json_builder_end_object (builder);
  /* A gate does not keep a visitor waiting on a slow network: past the
   * bound it decides by itself. */
  return hub_request (store, url, "/api/v1/admit", builder, bound_ms, error);
}

/* ---- token ---- */

int
pv_ctl_token (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *at_text = NULL, *token = NULL, *audience = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  PvEvent *event;
  gint64 at = 0;
  int status;
  GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at_text, N_ ("Sign as of this time, ISO 8601 (default now)"),
      N_ ("TIME") },
    { "for", 0, 0, G_OPTION_ARG_STRING, &audience,
      N_ ("The server it is for, as its URL (default: this device’s hub)"), N_ ("URL") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || (at_text && !pv_ctl_parse_at (event, at_text, &at, &error)))
    return pv_ctl_fail (error);
  if (audience == NULL && !(audience = pv_store_dup_meta_string (store, "hub-url")))
    return pv_ctl_error (_ ("Whom is the token for? Give --for URL (this device knows no hub)"));
  if (!(token = pv_token_new (store, at_text ? at : pv_store_now (store), audience, &error)))
    return pv_ctl_fail (error);
  g_print ("%s\n", token);
  return PV_CTL_EXIT_OK;
}

/* ---- pair ---- */

int
pv_ctl_pair (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (PvStoreWatch) watch = NULL;
  g_autoptr (PvSyncClient) hub = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL, out = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GUri) base = NULL, uri = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *secret_text = NULL, *key_text = NULL, *fingerprint_hex = NULL;
  g_autofree guint8 *event_key = NULL;
  guint8 pk[PV_PUBLIC_KEY_SIZE], sk[PV_SECRET_KEY_SIZE];
  PvPairingCode code = { 0 };
  JsonObject *reply;
  PvEvent *event;
  gsize event_key_len = 0;
  gint64 device;
  guint64 event_id = 0;
  int status;
  Once round = { NULL, FALSE, { 0 }, NULL };
  GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (ctl->db_path == NULL)
    return pv_ctl_usage_error (ctl, _ ("Name the new device’s replica with --db FILE"));
  if (g_file_test (ctl->db_path, G_FILE_TEST_EXISTS))
    return pv_ctl_error (_ ("%s exists already; a paired device gets a new file"), ctl->db_path);
  if (!pv_pairing_code_parse (argv[1], &code, &error))
    return pv_ctl_fail (error);

  /* The device's key never leaves it: the hub certifies the public half. */
  pv_keypair_generate (pk, sk);
  secret_text = g_base64_encode (code.secret, sizeof code.secret);
  key_text = g_base64_encode (pk, sizeof pk);
  json_builder_begin_object (builder);
  pv_ctl_json_add_string (builder, "secret", secret_text);
  pv_ctl_json_add_string (builder, "public_key", key_text);
  json_builder_end_object (builder);
  body = pv_json_builder_to_bytes (builder);
  base = g_uri_parse (code.url, G_URI_FLAGS_NONE, NULL);
  uri = g_uri_parse_relative (base, "/api/v1/pair", G_URI_FLAGS_NONE, NULL);
  msg = soup_message_new_from_uri ("POST", uri);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  if (code.pinned)
    pv_sync_pin_certificate (msg, code.fingerprint);
  answer = exchange_json (msg, 30000, &error);
  if (answer == NULL)
    goto fail;
  reply = json_node_get_object (answer);
  device = json_object_get_int_member_with_default (reply, "device", 0);
  if (json_object_get_string_member_with_default (reply, "event_public_key", NULL))
    event_key = g_base64_decode (json_object_get_string_member (reply, "event_public_key"), &event_key_len);
  if (device < 1 || device > G_MAXUINT16 || event_key_len != PV_PUBLIC_KEY_SIZE
      || !g_ascii_string_to_unsigned (json_object_get_string_member_with_default (reply, "event", ""), 16, 1,
                                      G_MAXUINT32, &event_id, NULL))
    {
      g_set_error_literal (&error, PV_ERROR, PV_ERROR_MALFORMED, _ ("The hub’s answer to pairing makes no sense"));
      goto fail;
    }
  if (!pv_devices_join (ctl->db_path, (guint32) event_id, (guint16) device, sk, &error)
      || !(store = pv_store_open_existing (ctl->db_path, &error))
      || !pv_store_set_meta_string (store, "hub-url", code.url, &error))
    goto fail;
  if (code.pinned)
    {
      fingerprint_hex = g_malloc (PV_FINGERPRINT_HEX_SIZE + 1);
      sodium_bin2hex (fingerprint_hex, PV_FINGERPRINT_HEX_SIZE + 1, code.fingerprint, sizeof code.fingerprint);
      if (!pv_store_set_meta_string (store, "hub-fingerprint", fingerprint_hex, &error))
        goto fail;
    }

  /* The ledger, this device's certificate in it, comes in the first round;
   * it must be the event the hub vouched for. */
  watch = pv_store_watch_new (store, 0);
  if (!(hub = pv_sync_client_new (watch, code.url, &error)))
    goto fail;
  round.loop = g_main_loop_new (NULL, FALSE);
  pv_sync_client_round_async (hub, NULL, round_cb, &round);
  g_main_loop_run (round.loop);
  g_main_loop_unref (round.loop);
  if (!round.ok)
    {
      g_propagate_error (&error, round.error);
      goto fail;
    }
  if (!(event = pv_store_get_event (store, &error)))
    goto fail;
  if (memcmp (pv_event_get_public_key (event), event_key, PV_PUBLIC_KEY_SIZE) != 0
      || pv_store_lookup_device (store, (guint16) device) == NULL
      || memcmp (pv_store_lookup_device (store, (guint16) device)->public_key, pk, sizeof pk) != 0)
    {
      g_set_error_literal (&error, PV_ERROR, PV_ERROR_SIGNATURE,
                           _ ("The ledger from the hub is not the event it paired this device with"));
      goto fail;
    }
  sodium_memzero (sk, sizeof sk);
  pv_pairing_code_clear (&code);

  g_clear_object (&builder);
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  pv_ctl_json_add_int (builder, "device", device);
  pv_ctl_json_add_string (builder, "role", json_object_get_string_member_with_default (reply, "role", ""));
  pv_ctl_json_add_string (builder, "event", pv_event_get_name (event));
  pv_ctl_json_add_string (builder, "hub", pv_sync_client_get_url (hub));
  pv_ctl_json_add_int (builder, "records", (gint64) pv_ledger_count (store));
  json_builder_end_object (builder);
  out = json_builder_get_root (builder);
  pv_ctl_print_json (out, TRUE);
  return PV_CTL_EXIT_OK;

fail:
  sodium_memzero (sk, sizeof sk);
  pv_pairing_code_clear (&code);
  g_clear_object (&hub);
  g_clear_object (&watch);
  if (store != NULL)
    {
      static const char *const suffixes[] = { "", "-wal", "-shm" };

      g_clear_object (&store);
      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *file = g_strconcat (ctl->db_path, suffixes[i], NULL);
          g_unlink (file);
        }
    }
  return pv_ctl_fail (error);
}

/* ---- peers ---- */

int
pv_ctl_peers (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonNode) answer = NULL;
  int status;
  GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error)
      || !(answer = hub_request (store, NULL, "/sync/v1/peers", NULL, 10000, &error)))
    return pv_ctl_fail (error);
  pv_ctl_print_json (answer, TRUE);
  return PV_CTL_EXIT_OK;
}

/* ---- signin ---- */

int
pv_ctl_signin (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *phone = NULL, *code = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  int status;
  GOptionEntry entries[] = {
    { "phone", 0, 0, G_OPTION_ARG_STRING, &phone, N_ ("The volunteer’s phone (required)"), N_ ("PHONE") },
    { "code", 0, 0, G_OPTION_ARG_STRING, &code, N_ ("The code sent to it; without, a code is asked for"),
      N_ ("CODE") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!phone)
    return pv_ctl_usage_error (ctl, _ ("--phone is required"));
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error))
    return pv_ctl_fail (error);
  json_builder_begin_object (builder);
  pv_ctl_json_add_string (builder, "phone", phone);
  if (code)
    pv_ctl_json_add_string (builder, "code", code);
  json_builder_end_object (builder);
  if (!(answer = hub_request (store, NULL, code ? "/api/v1/otp/verify" : "/api/v1/otp", builder, 10000, &error)))
    return pv_ctl_fail (error);
  pv_ctl_print_json (answer, TRUE);
  return PV_CTL_EXIT_OK;
}
