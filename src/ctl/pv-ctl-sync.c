/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-sync.c: sync (one round with the hub, or a headless device that
 * stays connected, serves its own endpoints to peers and relays records
 * both ways), and the other commands that talk to the hub — token, pair,
 * peers, signin — through the sync library's calls (pv-api-client.h), the
 * same code the desktop program runs. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "pv-api-client.h"
#include "pv-ctl.h"
#include "pv-store-watch.h"
#include "pv-sync-client.h"
#include "pv-sync-node.h"
#include "pv-sync-server.h"
#include "pv-token.h"

/* --hub: remembered in the store for the next run (pairing sets it too). */
static char *
hub_url (PvStore *store, const char *given, GError **error)
{
  if (given != NULL)
    {
      g_autoptr (GUri) uri = g_uri_parse (given, G_URI_FLAGS_NONE, error);

      if (uri == NULL)
        return NULL;
      if (!pv_store_set_meta_string (store, PV_META_HUB_URL, given, error))
        return NULL;
      return g_strdup (given);
    }
  return pv_store_dup_meta_string (store, PV_META_HUB_URL);
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
on_hub_status (PvSyncNode *node, gpointer user_data)
{
  PvSyncClient *hub = pv_sync_node_get_hub (node);
  const char *error = pv_sync_client_get_last_error (hub);
  PvSyncStatus status = pv_sync_client_get_status (hub);

  g_printerr (_ ("pravesh-ctl: hub %s%s%s\n"), pv_sync_status_to_string (status),
              status == PV_SYNC_OFFLINE && error ? ": " : "", status == PV_SYNC_OFFLINE && error ? error : "");
  if (status == PV_SYNC_ONLINE)
    warn_if_clock_off (hub);
}

static void
on_peer_added (PvSyncNode *node, const char *url, gpointer user_data)
{
  g_print ("peer %s\n", url);
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
  if (once)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      PvSyncRoundStats stats = { 0 };

      if (url == NULL)
        return pv_ctl_error (_ ("No hub to sync with: give --hub URL"));
      if (!(hub = pv_sync_client_new (watch, url, &error)))
        return pv_ctl_fail (error);
      pv_sync_client_round_async (hub, NULL, pv_ctl_got_result, &result);
      if (!pv_sync_client_round_finish (hub, pv_ctl_wait (&result), &stats, &error))
        return pv_ctl_fail (error);
      json_builder_begin_object (builder);
      pv_json_add_string (builder, "hub", url);
      pv_json_add_int (builder, "pushed", (gint64) stats.pushed);
      pv_json_add_int (builder, "pulled", (gint64) stats.pulled);
      pv_json_add_int (builder, "people", (gint64) stats.people);
      pv_json_add_int (builder, "pages", stats.pages);
      pv_json_add_int (builder, "refused_authors", stats.refused_authors);
      pv_json_add_int (builder, "clock_offset_ms", pv_sync_client_get_clock_offset (hub) / 1000);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
      warn_if_clock_off (hub);
      return PV_CTL_EXIT_OK;
    }

  {
    g_autoptr (PvSyncNode) node = pv_sync_node_new (watch, url, &error);
    g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);

    if (node == NULL)
      return pv_ctl_fail (error);
    g_signal_connect (node, "peer-added", G_CALLBACK (on_peer_added), NULL);
    g_signal_connect (node, "hub-status", G_CALLBACK (on_hub_status), NULL);
    if (!pv_sync_node_start (node, listen ? listen : "127.0.0.1:0", &error))
      return pv_ctl_fail (error);
    /* The first line a supervisor (or a test) reads: where peers connect. */
    g_print ("listening %s\n", pv_sync_node_get_url (node));
    for (guint i = 0; peers != NULL && peers[i] != NULL; i++)
      pv_sync_node_add_peer (node, peers[i]);
    g_unix_signal_add (SIGTERM, on_signal, loop);
    g_unix_signal_add (SIGINT, on_signal, loop);
    g_main_loop_run (loop);

    pv_sync_node_stop (node);
    /* Let the closed connections' last callbacks run and free them. */
    while (g_main_context_iteration (NULL, FALSE))
      ;
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
  if (audience == NULL && !(audience = pv_store_dup_meta_string (store, PV_META_HUB_URL)))
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
  pv_api_call_async (store, NULL, NULL, "/sync/v1/peers", NULL, 10000, NULL, pv_ctl_got_result, &result);
  if (!(answer = pv_api_call_finish (pv_ctl_wait (&result), &error)))
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
  pv_json_add_string (builder, "phone", phone);
  if (code)
    pv_json_add_string (builder, "code", code);
  json_builder_end_object (builder);
  pv_api_call_async (store, NULL, NULL, code ? "/api/v1/otp/verify" : "/api/v1/otp", builder, 10000, NULL,
                     pv_ctl_got_result, &result);
  if (!(answer = pv_api_call_finish (pv_ctl_wait (&result), &error)))
    return pv_ctl_fail (error);
  pv_ctl_print_json (answer, TRUE);
  return PV_CTL_EXIT_OK;
}
