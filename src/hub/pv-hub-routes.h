/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-routes.h: every path the hub serves, in one table: its methods,
 * the largest body it takes, who may call it and the handler. The table
 * is mounted on the server by one function, and one dispatcher checks a
 * request against its row before the handler sees it: the body's size
 * (before it is read), the path, the method and the caller, each refused
 * in the same words wherever it happens. Handlers do only their work. */
#pragma once

#include <libsoup/soup.h>

#include "pv-sync-server.h"
#include "pv-token.h"

G_BEGIN_DECLS

/* Who may call a route. The device classes need a device's token (401
 * without a good one) of a role the class allows (403 otherwise). */
typedef enum
{
  PV_HUB_CALLER_PUBLIC,  /* anyone: pairing (its attempts limited), /metrics */
  PV_HUB_CALLER_VISITOR, /* anyone, in a browser: within the client's page
                          * limit, refused in a page (pv-hub-web.h) */
  PV_HUB_CALLER_WEBHOOK, /* Meta: a body signed with the app secret, or the
                          * verify token, checked by the bot that holds
                          * them (pv-hub-whatsapp.h) */
  PV_HUB_CALLER_DEVICE,  /* any paired device */
  PV_HUB_CALLER_GATE,    /* a gate, an admin device or the hub */
  PV_HUB_CALLER_DESK,    /* a desk, an admin device or the hub */
  PV_HUB_CALLER_ADMIN,   /* an admin device or the hub */
  PV_HUB_N_CALLERS
} PvHubCaller;

typedef struct _PvHub PvHub;
typedef struct _PvHubRoute PvHubRoute;

/* A request that passed its route's checks. */
typedef struct
{
  SoupServerMessage *msg;
  const char *path;
  GHashTable *query;
  const PvHubRoute *route; /* visitors only: NULL for a path no route has */
  PvTokenInfo who;         /* device classes only */
} PvHubCall;

typedef void (*PvHubHandler) (PvHub *hub, PvHubCall *call);

struct _PvHubRoute
{
  const char *methods; /* "POST", "GET, POST"; "GET" takes HEAD only where listed */
  const char *path;
  gsize max_body; /* bytes; larger bodies are refused unread (413) */
  PvHubCaller caller;
  PvHubHandler handler;
  /* The words a wrong method is refused with, and no Allow header; NULL:
   * "Use METHODS here", with Allow. */
  const char *method_words;
  /* Also serves the paths under it, as these always have. */
  gboolean prefix;
};

/* The table, and how many rows it has. */
extern const PvHubRoute pv_hub_routes[];
extern const guint pv_hub_n_routes;

/* The route of @path exactly, or NULL. */
const PvHubRoute *pv_hub_routes_find (const char *path);
/* Whether @route takes @method. */
gboolean pv_hub_route_allows (const PvHubRoute *route, const char *method);
/* Whether @caller needs a device's token, and whether @role is one it
 * lets in. */
gboolean pv_hub_caller_is_device (PvHubCaller caller);
gboolean pv_hub_caller_allows (PvHubCaller caller, PvRole role);

/* Mounts the routes @want says yes to on @server, each on its own path, or
 * (with @catch_all) the one route on every path, for a server of its own;
 * @hub is handed to the handlers, @sync checks devices' tokens. */
typedef gboolean (*PvHubRouteFilter) (PvHub *hub, const PvHubRoute *route);
void pv_hub_routes_mount (SoupServer *server,
                          PvHub *hub,
                          PvSyncServer *sync,
                          PvHubRouteFilter want,
                          gboolean catch_all);

/* Requests that reached each route (as listed in the table), counted on
 * arrival, refused or not. */
guint64 pv_hub_routes_get_hits (PvHub *hub, const PvHubRoute *route);

G_END_DECLS
