/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-node.h: a device taking part in sync — a live connection to its
 * hub, its own endpoints served for peers, its address advertised through
 * the hub, and a live connection to every peer the hub names or the
 * operator adds, so records relay both ways even with the hub gone. What
 * `pravesh-ctl sync` runs headless and the desktop app runs behind its
 * window. */
#pragma once

#include <glib-object.h>

#include "pv-store-watch.h"
#include "pv-sync-client.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_SYNC_NODE (pv_sync_node_get_type ())
G_DECLARE_FINAL_TYPE (PvSyncNode, pv_sync_node, PV, SYNC_NODE, GObject)

/* A node for @watch's replica talking to the hub at @hub_url (NULL: no
 * hub, peers only). */
PvSyncNode *pv_sync_node_new (PvStoreWatch *watch, const char *hub_url, GError **error);
/* Serves the endpoints on @listen ("ADDR:PORT"; port 0 for any free one),
 * starts the hub connection and the advertising. */
gboolean pv_sync_node_start (PvSyncNode *self, const char *listen, GError **error);
/* Ends every connection and stops serving. */
void pv_sync_node_stop (PvSyncNode *self);

/* Also syncs with the peer at @url (its own address and known ones are
 * ignored). */
void pv_sync_node_add_peer (PvSyncNode *self, const char *url);

/* The hub's client (NULL without a hub): its status, pending count, last
 * success and clock offset are the node's standing with the hub. */
PvSyncClient *pv_sync_node_get_hub (PvSyncNode *self);
/* Where peers reach this node, once started. */
const char *pv_sync_node_get_url (PvSyncNode *self);
/* Peers known, and those with a live session open now. */
guint pv_sync_node_get_n_peers (PvSyncNode *self);
guint pv_sync_node_get_n_peers_online (PvSyncNode *self);

/* Signals: "peer-added" (const char *url); "hub-status" when the hub's
 * client changes status; "peers-changed" when a peer's does. */

G_END_DECLS
