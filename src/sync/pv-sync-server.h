/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-server.h: the sync endpoints, mountable on any SoupServer (the
 * hub's, or a headless device's, or the desktop app's):
 *
 *   GET  /sync/v1/vector  what this replica holds, as a pull request (pv-wire.h)
 *   POST /sync/v1/pull    a pull request in, the next batch out (its
 *                         "more" says whether to ask again)
 *   POST /sync/v1/push    a batch in, {"applied": n, …} out
 *   GET  /sync/v1/live    WebSocket: a live session (pv-sync-session.h)
 *   POST /sync/v1/peers   {"device": n, "url": "http://…"}: a device says
 *                         where its own endpoints are
 *   GET  /sync/v1/peers   {"peers": [{"device": n, "url": …, "seen": µs}]}
 *                         and, from a hub, what it can send to phones:
 *                         "channels": {"tickets": ["sms", …],
 *                         "codes": ["sms"]} (see set_channels below)
 *
 * Every request carries "Authorization: Bearer PVT1.…", a token its device
 * signed (pv-token.h); the device it names decides what it may receive:
 * names and phone numbers go to desks, admins and the hub only. A device
 * advertises its own address only.
 *
 * Errors are JSON too, {"error": "one sentence"}: 401 for a missing,
 * expired or revoked token, 400 for a malformed request, 403 for what the
 * device may not do, 409 for another event, 413 for a body over the limit,
 * 422 for a push of which nothing could be taken (a broken chain, a
 * signature that does not hold: the reason is the error). */
#pragma once

#include <libsoup/soup.h>

#include "pv-listener.h"
#include "pv-store-watch.h"
#include "pv-token.h"

G_BEGIN_DECLS

#define PV_TYPE_SYNC_SERVER (pv_sync_server_get_type ())
G_DECLARE_FINAL_TYPE (PvSyncServer, pv_sync_server, PV, SYNC_SERVER, GObject)

PvSyncServer *pv_sync_server_new (PvStoreWatch *watch);
/* Checks the request's bearer token (see pv-token.h) and fills @out; else
 * answers 401 with the reason and returns FALSE. Every endpoint here calls
 * it; the hub's API does too. */
gboolean pv_sync_server_authorize (PvSyncServer *self, SoupServerMessage *msg, PvTokenInfo *out);
void pv_sync_server_mount (PvSyncServer *self, SoupServer *server);
/* A URL devices reach this server at: tokens must be made out to one of
 * them (see pv-token.h). */
void pv_sync_server_add_audience (PvSyncServer *self, const char *url);
/* What this server (a hub) can send to phones, told to every device with
 * the list of peers: @tickets, the channels ("whatsapp", "sms") a ticket
 * reaches any visitor by; @codes, those a volunteer's sign-in code goes
 * by (each NULL-terminated; NULL or empty: none). A server never told (a
 * device's own, or a hub from before this) says nothing, and devices take
 * that as "not known", never as "yes". */
void pv_sync_server_set_channels (PvSyncServer *self, const char *const *tickets, const char *const *codes);
/* Live sessions open now. */
guint pv_sync_server_get_n_live (PvSyncServer *self);
/* The peers advertised to this server (written down, so they outlive a
 * restart; revoked devices left out): a JSON object as GET /sync/v1/peers
 * gives it. */
GBytes *pv_sync_server_dup_peers (PvSyncServer *self);
/* Records in this replica's ledger: kept, and counted again (by chain
 * heads, one look per author) only after the ledger changed. */
gint64 pv_sync_server_count_records (PvSyncServer *self);
/* Appends Prometheus lines: live sessions, and per device the records it
 * lacked when last heard from and the seconds since, the records it held
 * that this server lacked, and its clock's skew. */
void pv_sync_server_write_metrics (PvSyncServer *self, GString *out);

/* What this server knows of a device from its calls (written down in the
 * store's device_contacts, so it outlives a restart). */
typedef struct
{
  gint64 seen;    /* its last call, µs since the epoch */
  gint64 behind;  /* records this server holds that it lacks; -1 unknown */
  gint64 pending; /* records it holds that this server lacks (from its
                   * last vector, push or live session); -1 unknown */
  gboolean has_skew;
  gint64 skew_ms;  /* its clock minus this server's: from the Date header
                    * of its last call, else the issue time of its newest
                    * token (which clients sign by the hub's clock as far
                    * as they know it) */
  const char *url; /* where it serves sync to peers, or NULL; borrowed
                    * until the server next answers a request */
} PvDeviceContact;

/* Brings every device's counts up to this replica's ledger now (and the
 * live sessions' word): call once before looking up a list of them. */
void pv_sync_server_update_contacts (PvSyncServer *self);
/* FALSE (and @out emptied, with unknowns -1) when @device never called. */
gboolean pv_sync_server_lookup_contact (PvSyncServer *self, guint16 device, PvDeviceContact *out);

/* Guards @path of @server before any body is read: a body over @max_body
 * (0: none at all) or of unknown length is refused from its headers, and
 * one without a valid device token is refused before it is read. The hub
 * guards its own API paths with it. */
void pv_sync_server_guard (PvSyncServer *self, SoupServer *server, const char *path, gsize max_body);

/* An early handler (user data: the limit in bytes, GSIZE_TO_POINTER) that
 * answers 413 from the headers, before the body is read, when the body is
 * over the limit or of unknown length. */
void pv_sync_refuse_large_bodies (SoupServer *server,
                                  SoupServerMessage *msg,
                                  const char *path,
                                  GHashTable *query,
                                  gpointer max_bytes);

/* Sends @status with {"error": @message}. Shared with the hub's API. */
void pv_sync_reply_error (SoupServerMessage *msg, guint status, const char *message);
/* Sends 200 with @bytes as application/json. */
void pv_sync_reply_json (SoupServerMessage *msg, GBytes *bytes);

G_END_DECLS
