/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-sync.c: sync (one round with the hub, or a headless device that
 * stays connected, serves its own endpoints to peers and relays records
 * both ways), and the other commands that talk to the hub — token, pair,
 * peers, signin — through the sync library's calls (pv-hub-call.h), the
 * same code the desktop program runs. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "pv-ctl.h"
#include "pv-hub-call.h"
#include "pv-store-watch.h"
#include "pv-sync-client.h"
#include "pv-sync-server.h"
#include "pv-token.h"

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
      g_autoptr (GAsyncResult) result = NULL;
      PvSyncRoundStats stats = { 0 };

      if (hub == NULL)
        return pv_ctl_error (_ ("No hub to sync with: give --hub URL"));
      pv_sync_client_round_async (hub, NULL, pv_ctl_got_result, &result);
      if (!pv_sync_client_round_finish (hub, pv_ctl_wait (&result), &stats, &error))
        return pv_ctl_fail (error);
      json_builder_begin_object (builder);
      pv_ctl_json_add_string (builder, "hub", url);
      pv_ctl_json_add_int (builder, "pushed", (gint64) stats.pushed);
      pv_ctl_json_add_int (builder, "pulled", (gint64) stats.pulled);
      pv_ctl_json_add_int (builder, "people", (gint64) stats.people);
      pv_ctl_json_add_int (builder, "pages", stats.pages);
      pv_ctl_json_add_int (builder, "refused_authors", stats.refused_authors);
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
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonNode) summary = NULL;
  int status;
  GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (ctl->db_path == NULL)
    return pv_ctl_usage_error (ctl, _ ("Name the new device’s replica with --db FILE"));
  pv_pair_async (ctl->db_path, argv[1], NULL, pv_ctl_got_result, &result);
  if (!(store = pv_pair_finish (pv_ctl_wait (&result), &summary, &error)))
    return pv_ctl_fail (error);
  pv_ctl_print_json (summary, TRUE);
  return PV_CTL_EXIT_OK;
}

/* ---- peers ---- */

int
pv_ctl_peers (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  int status;
  GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error))
    return pv_ctl_fail (error);
  pv_hub_call_async (store, NULL, NULL, "/sync/v1/peers", NULL, 10000, NULL, pv_ctl_got_result, &result);
  if (!(answer = pv_hub_call_finish (pv_ctl_wait (&result), &error)))
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
  g_autoptr (GAsyncResult) result = NULL;
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
  pv_hub_call_async (store, NULL, NULL, code ? "/api/v1/otp/verify" : "/api/v1/otp", builder, 10000, NULL,
                     pv_ctl_got_result, &result);
  if (!(answer = pv_hub_call_finish (pv_ctl_wait (&result), &error)))
    return pv_ctl_fail (error);
  pv_ctl_print_json (answer, TRUE);
  return PV_CTL_EXIT_OK;
}
