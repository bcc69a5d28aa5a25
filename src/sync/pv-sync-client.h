/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-client.h: this replica's side of sync with one other replica (the
 * hub, or a peer gate), async only: a live session kept open and reopened
 * with backoff when the network drops, or one full round over plain HTTP
 * (push what the other lacks, pull what this one lacks, page by page). It
 * reports what a volunteer needs to see: online or not, when it last
 * succeeded, and how far the other side's clock is from ours. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "pv-pairing.h"
#include "pv-store-watch.h"

G_BEGIN_DECLS

typedef enum
{
  PV_SYNC_OFFLINE,
  PV_SYNC_CONNECTING,
  PV_SYNC_SYNCING, /* a live session is open and records are on their way */
  PV_SYNC_ONLINE,  /* a live session is open and both sides are even */
} PvSyncStatus;

const char *pv_sync_status_to_string (PvSyncStatus status);

/* Beyond this the other side's clock is said to be wrong. */
#define PV_SYNC_CLOCK_WARNING (2 * 60 * G_USEC_PER_SEC)

typedef struct
{
  guint64 pushed; /* records the other side took */
  guint64 pulled; /* records this side took */
  guint64 people;
  guint pages;
  guint refused_authors;
} PvSyncRoundStats;

#define PV_TYPE_SYNC_CLIENT (pv_sync_client_get_type ())
G_DECLARE_FINAL_TYPE (PvSyncClient, pv_sync_client, PV, SYNC_CLIENT, GObject)

/* Sets the request's Date header from this device's clock: the hub reads
 * each device's clock skew from it for the control room. */
void pv_sync_stamp_date (SoupMessage *msg);
/* The fingerprint this replica pins for its hub (meta "hub-fingerprint",
 * hex): TRUE and @out when there is one. */
gboolean pv_sync_get_pinned (PvStore *store, guint8 out[PV_FINGERPRINT_SIZE]);

/* @base_url: where the other side's endpoints are, e.g.
 * "http://10.0.0.2:8470" (the client adds /sync/v1/…). */
PvSyncClient *pv_sync_client_new (PvStoreWatch *watch, const char *base_url, GError **error);
const char *pv_sync_client_get_url (PvSyncClient *self);
/* Trusts exactly the certificate with this SHA-256 for https URLs. */
void pv_sync_client_set_pin (PvSyncClient *self, const guint8 fingerprint[PV_FINGERPRINT_SIZE]);

/* Keeps a live session open until stopped. "notify::status" tells. */
void pv_sync_client_start (PvSyncClient *self);
void pv_sync_client_stop (PvSyncClient *self);
PvSyncStatus pv_sync_client_get_status (PvSyncClient *self);
/* µs since the epoch of the last exchange that worked, 0 if none. */
gint64 pv_sync_client_get_last_success (PvSyncClient *self);
/* The other side's clock minus ours in µs, from its Date header (whole
 * seconds); 0 until known. */
gint64 pv_sync_client_get_clock_offset (PvSyncClient *self);
/* Records this replica holds that the other side lacks, as far as the
 * live session knows; -1 when there is no session. */
gint64 pv_sync_client_get_pending (PvSyncClient *self);
/* TRUE when the other side's clock is more than PV_SYNC_CLOCK_WARNING
 * away from ours: tickets and entries would carry wrong times. */
gboolean pv_sync_client_clock_is_off (PvSyncClient *self);
/* The last failure, or NULL. */
const char *pv_sync_client_get_last_error (PvSyncClient *self);

/* One full round over HTTP. */
void pv_sync_client_round_async (PvSyncClient *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean pv_sync_client_round_finish (PvSyncClient *self,
                                      GAsyncResult *result,
                                      PvSyncRoundStats *out_stats,
                                      GError **error);

/* Tells the other side (a hub) where this replica's own endpoints are. */
void pv_sync_client_advertise_async (PvSyncClient *self,
                                     const char *own_url,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
/* The peers the other side knows: a JSON object as GET /sync/v1/peers
 * gives. */
GBytes *pv_sync_client_advertise_finish (PvSyncClient *self, GAsyncResult *result, GError **error);

G_END_DECLS
