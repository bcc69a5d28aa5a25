/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-sync.c: sync (one round with the hub, or a headless device that
 * stays connected, serves its own endpoints to peers and relays records
 * both ways), and online admission with its offline fallback. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "pv-ctl.h"
#include "pv-error.h"
#include "pv-store-watch.h"
#include "pv-sync-client.h"
#include "pv-sync-server.h"
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
    return pv_ctl_fail (g_steal_pointer (&error));
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
      if (ABS (pv_sync_client_get_clock_offset (hub)) > PV_SYNC_CLOCK_WARNING)
        g_printerr (_ ("pravesh-ctl: warning: this device’s clock is %" G_GINT64_FORMAT
                       " s off the hub’s; set it right\n"),
                    -pv_sync_client_get_clock_offset (hub) / G_USEC_PER_SEC);
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
    /* The first line a supervisor (or a test) reads: where peers connect. */
    g_print ("listening %s\n", d.own_url);
    if (hub != NULL)
      {
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
} Online;

static void
online_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Online *online = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  online->reply = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &online->error);
  online->status = soup_message_get_status (msg);
  g_main_loop_quit (online->loop);
}

static gboolean
online_timeout (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

JsonNode *
pv_ctl_admit_online (const char *url, const char *code, const char *gate, gboolean is_exit, guint bound_ms,
                     GError **error)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options ("user-agent", "pravesh-ctl/1", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GUri) base = g_uri_parse (url, G_URI_FLAGS_NONE, error);
  g_autoptr (GUri) uri = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GBytes) reply = NULL, body = NULL;
  Online online = { g_main_loop_new (NULL, FALSE), NULL, 0, NULL };
  guint timeout_id;

  if (base == NULL)
    return NULL;
  uri = g_uri_parse_relative (base, "/api/v1/admit", G_URI_FLAGS_NONE, error);
  if (uri == NULL)
    return NULL;
  json_builder_begin_object (builder);
  pv_ctl_json_add_string (builder, "code", code);
  pv_ctl_json_add_string (builder, "gate", gate);
  pv_ctl_json_add_bool (builder, "exit", is_exit);
  json_builder_end_object (builder);
  body = pv_json_builder_to_bytes (builder);
  msg = soup_message_new_from_uri ("POST", uri);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  /* A gate does not keep a visitor waiting on a slow network: past the
   * bound it decides by itself. */
  timeout_id = g_timeout_add (bound_ms, online_timeout, cancellable);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, cancellable, online_cb, &online);
  g_main_loop_run (online.loop);
  g_main_loop_unref (online.loop);
  if (!g_cancellable_is_cancelled (cancellable))
    g_source_remove (timeout_id);
  reply = online.reply;
  if (reply == NULL)
    {
      if (g_error_matches (online.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&online.error);
          return g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _ ("The hub did not answer within %u ms"),
                              bound_ms),
                 NULL;
        }
      g_propagate_error (error, online.error);
      return NULL;
    }
  if (online.status != SOUP_STATUS_OK
      || !json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), (gssize) g_bytes_get_size (reply), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_set_error (error, PV_ERROR, PV_ERROR_STORE, _ ("The hub answered %u"), online.status), NULL;
  return json_node_copy (json_parser_get_root (parser));
}
