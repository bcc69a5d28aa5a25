/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-private.h: the hub's state, shared by the files of the hub library
 * that serve its routes (pv-hub.c, pv-hub-admin.c, pv-hub-routes.c), and
 * the handlers pv-hub.c gives the route table. Nothing outside src/hub
 * and its tests includes it. */
#pragma once

#include <json-glib/json-glib.h>

#include "pv-admission.h"
#include "pv-hub-outbox.h"
#include "pv-hub-routes.h"
#include "pv-hub-web.h"
#include "pv-hub-whatsapp.h"
#include "pv-hub.h"
#include "pv-pairing.h"
#include "pv-sync-server.h"

G_BEGIN_DECLS

/* The largest JSON body a device sends the hub's own API. */
#define PV_HUB_MAX_SMALL_BODY 4096

struct _PvHub
{
  PvStore *store;
  PvStoreWatch *watch;
  PvSyncServer *sync;
  SoupServer *server;
  SoupServer *metrics_server; /* [hub] metrics-listen, or NULL */
  GMainLoop *loop;
  GQueue pending; /* Admission* waiting for the next group commit */
  guint flush_id;
  /* /metrics */
  guint64 *route_hits; /* per row of pv_hub_routes */
  guint64 verdicts[PV_VERDICT_NOT_INSIDE + 1];
  guint64 groups;
  GHashTable *pair_attempts; /* remote address → attempts this minute */
  gint64 pair_minute;
  GHashTable *lookups; /* device → delivery look-ups this minute */
  gint64 lookup_minute;
  guint64 sign_ins;
  /* What invitations carry: the address devices reach the hub by, and the
   * fingerprint of its certificate when it serves HTTPS. */
  char *url;
  char *listen_url; /* the address listened on */
  gboolean pinned;
  guint8 fingerprint[PV_FINGERPRINT_SIZE];
  /* the public channels */
  GKeyFile *config; /* never NULL */
  PvHubContext context;
  PvHubOutbox *outbox;
  PvHubWhatsapp *whatsapp;
  PvHubWeb *web;
};

/* The JSON object of a small POST, or NULL after answering 400 with
 * @expected. */
JsonObject *pv_hub_small_json_body (SoupServerMessage *msg, JsonParser *parser, const char *expected);

/* The routes pv-hub.c serves (see pv-hub-routes.c for their paths). */
void pv_hub_handle_admit (PvHub *hub, PvHubCall *call);
void pv_hub_handle_pair (PvHub *hub, PvHubCall *call);
void pv_hub_handle_otp (PvHub *hub, PvHubCall *call);
void pv_hub_handle_otp_verify (PvHub *hub, PvHubCall *call);
void pv_hub_handle_ticket_delivery (PvHub *hub, PvHubCall *call);
void pv_hub_handle_metrics (PvHub *hub, PvHubCall *call);
void pv_hub_handle_webhook (PvHub *hub, PvHubCall *call);
void pv_hub_handle_page (PvHub *hub, PvHubCall *call);

G_END_DECLS
