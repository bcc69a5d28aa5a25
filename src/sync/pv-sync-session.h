/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-session.h: one live exchange of records with another replica over
 * a WebSocket, the same on both ends (whoever connected). Each side first
 * says what it holds (a pull request, see pv-wire.h); from then on each
 * sends the other a batch of what it lacks whenever its own ledger grows,
 * so an admission at one gate reaches the others in milliseconds. A side
 * that could not use a batch whole says again what it holds. Requests are
 * text (JSON); batches are binary messages in pv-wire's binary framing (a
 * text message holding a JSON batch is understood too).
 *
 * Flow control: a side acknowledges each batch it applied with an empty
 * batch (data batches are never empty; a peer from before this applies it
 * as the nothing it is). A sender keeps at most about four pages of
 * unacknowledged batches in flight and collects nothing more until an
 * acknowledgement makes room — nor while the connection's own output is
 * full, whatever the acknowledgements say — so a peer that reads slowly is
 * sent at its own pace and one that stops reading costs a bounded amount
 * of memory. A session in which nothing sent is acknowledged, nothing is
 * read, or nothing at all is heard (pings are answered by the other side's
 * WebSocket layer itself) for the stall timeout (60 s, or
 * $PRAVESH_LIVE_STALL_TIMEOUT seconds) is closed with the reason;
 * the device catches up when it connects again, from what it holds by
 * then. A peer that never acknowledges is closed that way too. */
#pragma once

#include <libsoup/soup.h>

#include "pv-batch.h"
#include "pv-store-watch.h"
#include "pv-wire.h"

G_BEGIN_DECLS

#define PV_TYPE_SYNC_SESSION (pv_sync_session_get_type ())
G_DECLARE_FINAL_TYPE (PvSyncSession, pv_sync_session, PV, SYNC_SESSION, GObject)

/* The largest message either side accepts: a batch in the binary framing;
 * JSON (requests, or batches from others) is held to less, as its parser
 * builds a tree several times the size of the text. */
#define PV_SYNC_MAX_MESSAGE (64 * 1024 * 1024)
#define PV_SYNC_MAX_JSON (8 * 1024 * 1024)

/* Takes over @connection (open). @authorized: on the serving side, the
 * device the other side's token proved (its requests must name it), 0 on
 * the connecting side, which proved itself but knows the other side only
 * by its word — it sends names and phone numbers only when @to_hub, the
 * other side being the hub this device was paired with. The token opens
 * a session; the serving side keeps it only while the device stays in good
 * standing (a revocation, or its certificate running out, ends it). Signals:
 * "applied" (const PvMergeStats *) after each batch received, "closed"
 * once. */
PvSyncSession *pv_sync_session_new (PvStoreWatch *watch,
                                    SoupWebsocketConnection *connection,
                                    guint16 authorized,
                                    gboolean to_hub);
/* The device the other side said it is (0 until it said). */
guint16 pv_sync_session_get_peer_device (PvSyncSession *self);
/* Records the other side holds, as far as this side knows (what it said,
 * plus what was sent since); -1 before it said. */
gint64 pv_sync_session_get_peer_held (PvSyncSession *self);
/* Records sent and received so far. */
guint64 pv_sync_session_get_sent (PvSyncSession *self);
guint64 pv_sync_session_get_received (PvSyncSession *self);
void pv_sync_session_close (PvSyncSession *self);

/* Shared with the HTTP endpoints and the client: what this replica asks
 * for (its vector, people it lacks), with @overlay set over the vector. */
PvPullRequest *pv_sync_make_request (PvStore *store, GHashTable *overlay, GError **error);
/* Whether device @peer's replica may receive names and phone numbers:
 * desks, admins and the hub, never gates or devices this replica does not
 * know. */
gboolean pv_sync_peer_gets_people (PvStore *store, guint16 peer);
/* What @request asks of @store: the next batch. Names and phone numbers
 * come only when @proven (the asker's device is known for sure, not just
 * claimed) and that device may hold them. */
PvBatch *pv_sync_collect_for (PvStore *store, const PvPullRequest *request, gboolean proven, GError **error);
/* Moves @vector up to the records in @batch (the other side holds them). */
void pv_sync_vector_advance (GHashTable *vector, const PvBatch *batch);
G_END_DECLS
