/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-node.c: a device taking part in sync (see the header). The hub
 * is asked for the peer list every few seconds; each answer also tells the
 * hub where this node listens. */

#include "pv-sync-node.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "pv-api-client.h"
#include "pv-store.h"
#include "pv-sync-server.h"

#define PEER_REFRESH_S 5

struct _PvSyncNode
{
  GObject parent_instance;

  PvStoreWatch *watch;
  PvSyncClient *hub;
  GHashTable *peers; /* url → PvSyncClient */
  SoupServer *server;
  PvSyncServer *endpoints;
  char *own_url;
  guint advertise_id;
  GCancellable *cancellable; /* the advertising in flight */
};

G_DEFINE_FINAL_TYPE (PvSyncNode, pv_sync_node, G_TYPE_OBJECT)

enum
{
  SIGNAL_PEER_ADDED,
  SIGNAL_PEERS_CHANGED,
  SIGNAL_HUB_STATUS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
peer_status_cb (PvSyncClient *client, GParamSpec *pspec, PvSyncNode *self)
{
  g_signal_emit (self, signals[SIGNAL_PEERS_CHANGED], 0);
}

void
pv_sync_node_add_peer (PvSyncNode *self, const char *url)
{
  g_autoptr (GError) error = NULL;
  PvSyncClient *client;

  g_return_if_fail (PV_IS_SYNC_NODE (self));
  if (g_hash_table_contains (self->peers, url) || g_strcmp0 (url, self->own_url) == 0)
    return;
  if (!(client = pv_sync_client_new (self->watch, url, &error)))
    {
      g_message ("Peer %s: %s", url, error->message);
      return;
    }
  g_signal_connect_object (client, "notify::status", G_CALLBACK (peer_status_cb), self, 0);
  pv_sync_client_start (client);
  g_hash_table_insert (self->peers, g_strdup (url), client);
  g_signal_emit (self, signals[SIGNAL_PEER_ADDED], 0, url);
}

static void
advertised_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvSyncNode) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) peers = pv_sync_client_advertise_finish (PV_SYNC_CLIENT (source), result, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *list;
  guint16 own = pv_store_get_device_id (pv_store_watch_get_store (self->watch));

  if (peers == NULL || self->advertise_id == 0
      || !json_parser_load_from_data (parser, g_bytes_get_data (peers, NULL), (gssize) g_bytes_get_size (peers), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  /* The hub says with its peers what it can send to phones: the desk's
   * and sign-in's words follow it. */
  if (pv_api_channels_remember (pv_store_watch_get_store (self->watch),
                                json_node_get_object (json_parser_get_root (parser))))
    pv_store_watch_notify (self->watch);
  list = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "peers");
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *peer = json_array_get_object_element (list, i);
      const char *url = peer ? json_object_get_string_member_with_default (peer, "url", NULL) : NULL;

      if (url != NULL && json_object_get_int_member_with_default (peer, "device", 0) != own)
        pv_sync_node_add_peer (self, url);
    }
}

static gboolean
advertise_cb (gpointer user_data)
{
  PvSyncNode *self = user_data;

  pv_sync_client_advertise_async (self->hub, self->own_url, self->cancellable, advertised_cb, g_object_ref (self));
  return G_SOURCE_CONTINUE;
}

static void
hub_status_cb (PvSyncClient *hub, GParamSpec *pspec, PvSyncNode *self)
{
  g_signal_emit (self, signals[SIGNAL_HUB_STATUS], 0);
}

gboolean
pv_sync_node_start (PvSyncNode *self, const char *listen, GError **error)
{
  g_return_val_if_fail (PV_IS_SYNC_NODE (self), FALSE);
  g_return_val_if_fail (self->server == NULL, FALSE);

  self->server = soup_server_new ("server-header", "pravesh", NULL);
  self->endpoints = pv_sync_server_new (self->watch);
  pv_sync_server_mount (self->endpoints, self->server);
  if (!pv_listen (self->server, listen, NULL, &self->own_url, error))
    {
      g_clear_object (&self->endpoints);
      g_clear_object (&self->server);
      return FALSE;
    }
  pv_sync_server_add_audience (self->endpoints, self->own_url);
  if (self->hub != NULL)
    {
      g_signal_connect_object (self->hub, "notify::status", G_CALLBACK (hub_status_cb), self, 0);
      pv_sync_client_start (self->hub);
      self->advertise_id = g_timeout_add_seconds (PEER_REFRESH_S, advertise_cb, self);
      advertise_cb (self);
    }
  return TRUE;
}

void
pv_sync_node_stop (PvSyncNode *self)
{
  g_return_if_fail (PV_IS_SYNC_NODE (self));

  g_clear_handle_id (&self->advertise_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->hub != NULL)
    pv_sync_client_stop (self->hub);
  g_hash_table_remove_all (self->peers);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->endpoints);
  g_clear_object (&self->server);
}

PvSyncClient *
pv_sync_node_get_hub (PvSyncNode *self)
{
  return self->hub;
}

const char *
pv_sync_node_get_url (PvSyncNode *self)
{
  return self->own_url;
}

guint
pv_sync_node_get_n_peers (PvSyncNode *self)
{
  return g_hash_table_size (self->peers);
}

guint
pv_sync_node_get_n_peers_online (PvSyncNode *self)
{
  GHashTableIter iter;
  gpointer client;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &client))
    n += pv_sync_client_get_status (client) >= PV_SYNC_SYNCING;
  return n;
}

static void
stop_client (gpointer client)
{
  pv_sync_client_stop (client);
  g_object_unref (client);
}

static void
pv_sync_node_dispose (GObject *object)
{
  PvSyncNode *self = PV_SYNC_NODE (object);

  if (self->peers != NULL)
    pv_sync_node_stop (self);
  g_clear_object (&self->hub);
  g_clear_object (&self->watch);
  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (pv_sync_node_parent_class)->dispose (object);
}

static void
pv_sync_node_finalize (GObject *object)
{
  g_free (PV_SYNC_NODE (object)->own_url);
  G_OBJECT_CLASS (pv_sync_node_parent_class)->finalize (object);
}

static void
pv_sync_node_class_init (PvSyncNodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pv_sync_node_dispose;
  object_class->finalize = pv_sync_node_finalize;
  signals[SIGNAL_PEER_ADDED] = g_signal_new ("peer-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                             NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_PEERS_CHANGED] = g_signal_new ("peers-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_HUB_STATUS] = g_signal_new ("hub-status", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                             NULL, NULL, G_TYPE_NONE, 0);
}

static void
pv_sync_node_init (PvSyncNode *self)
{
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stop_client);
  self->cancellable = g_cancellable_new ();
}

PvSyncNode *
pv_sync_node_new (PvStoreWatch *watch, const char *hub_url, GError **error)
{
  g_autoptr (PvSyncNode) self = g_object_new (PV_TYPE_SYNC_NODE, NULL);

  self->watch = g_object_ref (watch);
  if (hub_url != NULL && !(self->hub = pv_sync_client_new (watch, hub_url, error)))
    return NULL;
  return g_steal_pointer (&self);
}
