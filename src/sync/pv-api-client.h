/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-client.h: the calls a device makes to its hub besides sync — online
 * admission within a bound, the other JSON endpoints of the hub's API (the
 * volunteers' sign-in codes, the list of peers), and pairing a new device
 * followed by the first sync round that fills its replica. Async only, so a
 * program with a screen keeps answering while the hub thinks, or does not
 * answer at all; a command-line program runs a main loop around them. Each
 * call runs in the thread-default main context it was started in. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* A session for hub calls: make one per thread, use it from that thread
 * only, and pass it to every call rather than making one each time. (Its
 * GETs share a kept connection; each POST opens its own, since libsoup
 * may send a request again when a kept connection turns out closed, and an
 * admission sent twice would come back ALREADY_USED.) */
SoupSession *pv_api_session_new (void);

/* Calls @path (e.g. "/api/v1/otp") at the hub as this device: a POST of the
 * object @body built, or a GET when @body is NULL. @hub_url NULL means the
 * hub this replica remembers (meta "hub-url"; PV_ERROR_NOT_FOUND when it
 * knows none). The device's token is signed and the hub's certificate pin
 * read from @store before this returns, on the calling thread: @store is
 * not used after, and is never touched from another thread. @session NULL
 * makes a session for this one call. Past @bound_ms (0: no bound but the
 * session's own timeout) the call ends with G_IO_ERROR_TIMED_OUT; through
 * @cancellable with G_IO_ERROR_CANCELLED. */
void pv_api_call_async (PvStore *store,
                        SoupSession *session,
                        const char *hub_url,
                        const char *path,
                        JsonBuilder *body,
                        guint bound_ms,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data);
/* The hub's answer, a JSON object, on 200. Any other status is
 * PV_ERROR_PERMISSION with the hub's own words ("A volunteer with the
 * phone … is there already"), or "The hub answered 403" when it gave
 * none; a network failure is the network's GError. */
JsonNode *pv_api_call_finish (GAsyncResult *result, GError **error);

/* Asks the hub to decide on the ticket @code scanned at @gate (an exit scan
 * when @is_exit; typed in by hand, no code read, when @manual): POST
 * /api/v1/admit as pv_api_call_async() does it. A gate
 * does not keep a visitor waiting on a slow network: when @bound_ms passes
 * (G_IO_ERROR_TIMED_OUT), or on any other error, it decides from its own
 * replica. */
void pv_api_admit_async (PvStore *store,
                         SoupSession *session,
                         const char *hub_url,
                         const char *code,
                         const char *gate,
                         gboolean is_exit,
                         gboolean manual,
                         guint bound_ms,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
/* The hub's verdict object: { "verdict": "ADMIT", … }. */
JsonNode *pv_api_admit_finish (GAsyncResult *result, GError **error);

/* Asks the hub where its outbox has got with sending ticket
 * @issuer-@serial (GET /api/v1/tickets/delivery, as pv_api_call_async ()
 * does it): a desk's replica never hears it by sync, since only the hub's
 * outbox moves a delivery request on. */
void pv_api_ticket_delivery_async (PvStore *store,
                                   SoupSession *session,
                                   const char *hub_url,
                                   guint16 issuer,
                                   guint32 serial,
                                   guint bound_ms,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
/* The hub's answer: { "serial": "3-000145", "messages": [ { "channel":
 * "whatsapp", "state": "waiting" | "sent" | "delivered" | "read" |
 * "failed" | "held", "at": µs, "reason": a word (failed and held only, see
 * pv_outbox_failure_kind ()) }, … ] }, oldest first; PV_ERROR_PERMISSION
 * "The hub holds no such ticket" when it has none. */
JsonNode *pv_api_ticket_delivery_finish (GAsyncResult *result, GError **error);

/* Pairs a new device with the hub named in @pairing_code ("PVPAIR:…", as
 * the hub's invitation shows it) and makes its replica in the new file
 * @db_path (PV_ERROR_EXISTS when there is a file already): the device's key
 * pair is made here and only its public half sent, the hub's URL and
 * certificate fingerprint are remembered, and the first sync round brings
 * the ledger, which must be the event the hub vouched for and hold this
 * device's certificate. On any failure the half-made file is removed. */
void pv_pair_async (const char *db_path,
                    const char *pairing_code,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data);
/* The new replica, open; @out_summary (optional) gets an object saying
 * what was paired: { "device": 7, "role": "gate", "event": "Book Fair",
 * "hub": "https://…", "gate": "Gate 2" (when the code named one; the
 * replica keeps it, see pv_devices_dup_gate()), "records": 312 }. */
PvStore *pv_pair_finish (GAsyncResult *result, JsonNode **out_summary, GError **error);

/* What the hub can send to phones, as its peer list says it (see
 * pv-sync-server.h), remembered in the replica so a station that is
 * offline, or just started, knows as much as it last heard. */
typedef enum
{
  PV_API_SENDS_TICKETS, /* a ticket, to any visitor */
  PV_API_SENDS_CODES,   /* a volunteer's sign-in code */
} PvApiSends;

/* Remembers the "channels" of @answer, a hub's peer list (none there: a
 * hub from before it told, so not known). TRUE when that changed what
 * @store knew; a store that cannot be written is logged and keeps what it
 * had. */
gboolean pv_api_channels_remember (PvStore *store, JsonObject *answer);
/* The channels ("whatsapp", "sms") the hub sends @what by, possibly none;
 * NULL when this replica does not know (it never heard, or the hub did
 * not say). */
GStrv pv_api_channels_lookup (PvStore *store, PvApiSends what);
/* Whether @channels (from pv_api_channels_lookup (), NULL for not known)
 * names @channel; @unknown when they are not known. */
gboolean pv_api_channels_offer (const char *const *channels, const char *channel, gboolean unknown);

G_END_DECLS
