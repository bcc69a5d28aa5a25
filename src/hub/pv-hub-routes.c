/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-routes.c: the hub's route table, and the one place a request is
 * checked against it (see the header). */
#include "config.h"

#include <string.h>

#include "pv-hub-admin.h"
#include "pv-hub-private.h"
#include "pv-hub-routes.h"
#include "pv-hub-web.h"
#include "pv-hub-whatsapp.h"
#include "pv-keys.h"
#include "pv-wire.h"

/* Devices' small JSON bodies: an admission, a pairing, a sign-in. */
#define SMALL_JSON PV_HUB_MAX_SMALL_BODY
/* The largest form: a name of 80 Devanagari letters percent-encoded is
 * under 1 KiB. */
#define FORM PV_HUB_WEB_MAX_FORM_BODY
#define POST_JSON "POST a JSON object here"

const PvHubRoute pv_hub_routes[] = {
  /* Devices */
  { "POST", "/api/v1/admit", SMALL_JSON, PV_HUB_CALLER_GATE, pv_hub_handle_admit, POST_JSON, TRUE },
  { "POST", "/api/v1/pair", SMALL_JSON, PV_HUB_CALLER_PUBLIC, pv_hub_handle_pair, POST_JSON, TRUE },
  { "POST", "/api/v1/otp", SMALL_JSON, PV_HUB_CALLER_DEVICE, pv_hub_handle_otp, POST_JSON, TRUE },
  { "POST", "/api/v1/otp/verify", SMALL_JSON, PV_HUB_CALLER_DEVICE, pv_hub_handle_otp_verify, POST_JSON, TRUE },
  { "GET", "/api/v1/tickets/delivery", 0, PV_HUB_CALLER_DESK, pv_hub_handle_ticket_delivery },
  /* The control room's admin API: GETs take no body, POSTs a small one. */
  { "GET", "/api/v1/devices", 0, PV_HUB_CALLER_ADMIN, pv_hub_admin_devices },
  { "POST", "/api/v1/devices/revoke", SMALL_JSON, PV_HUB_CALLER_ADMIN, pv_hub_admin_revoke },
  { "POST", "/api/v1/invite", SMALL_JSON, PV_HUB_CALLER_ADMIN, pv_hub_admin_invite },
  { "GET, POST", "/api/v1/volunteers", SMALL_JSON, PV_HUB_CALLER_ADMIN, pv_hub_admin_volunteers },
  { "POST", "/api/v1/volunteers/deactivate", SMALL_JSON, PV_HUB_CALLER_ADMIN, pv_hub_admin_deactivate },
  { "GET", "/api/v1/volunteers/sign-ins", 0, PV_HUB_CALLER_ADMIN, pv_hub_admin_sign_ins },
  /* Monitoring, here or on a listener of its own ([hub] metrics-listen). */
  { "GET, HEAD", "/metrics", 0, PV_HUB_CALLER_PUBLIC, pv_hub_handle_metrics, "Use GET here" },
  /* WhatsApp's webhook, when [whatsapp] app-secret is set. */
  { "GET, POST", PV_HUB_WHATSAPP_PATH, PV_HUB_WHATSAPP_MAX_BODY, PV_HUB_CALLER_WEBHOOK, pv_hub_handle_webhook,
    "GET to verify, POST a webhook" },
  /* The public pages; "/" answers every path nobody else does. */
  { "GET, HEAD", "/", 0, PV_HUB_CALLER_VISITOR, pv_hub_handle_page },
  { "GET, HEAD, POST", "/register", FORM, PV_HUB_CALLER_VISITOR, pv_hub_handle_page },
  { "GET, HEAD, POST", "/ticket", FORM, PV_HUB_CALLER_VISITOR, pv_hub_handle_page },
  /* Under /ticket, whose limit it has always had. */
  { "GET, HEAD", "/ticket/view", FORM, PV_HUB_CALLER_VISITOR, pv_hub_handle_page },
  { "GET, HEAD", "/ticket.png", 0, PV_HUB_CALLER_VISITOR, pv_hub_handle_page },
  { "GET, HEAD", "/static/style.css", 0, PV_HUB_CALLER_VISITOR, pv_hub_handle_page },
};

const guint pv_hub_n_routes = G_N_ELEMENTS (pv_hub_routes);

typedef struct
{
  PvHub *hub;
  PvSyncServer *sync;
  const PvHubRoute *route;
} Mount;

const PvHubRoute *
pv_hub_routes_find (const char *path)
{
  for (guint i = 0; i < pv_hub_n_routes; i++)
    if (g_strcmp0 (pv_hub_routes[i].path, path) == 0)
      return &pv_hub_routes[i];
  return NULL;
}

/* Without allocating: every admission passes here. */
gboolean
pv_hub_route_allows (const PvHubRoute *route, const char *method)
{
  size_t n = method ? strlen (method) : 0;

  if (n == 0)
    return FALSE;
  for (const char *p = route->methods; (p = strstr (p, method)) != NULL; p += n)
    if ((p == route->methods || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
      return TRUE;
  return FALSE;
}

gboolean
pv_hub_caller_is_device (PvHubCaller caller)
{
  return caller >= PV_HUB_CALLER_DEVICE && caller < PV_HUB_N_CALLERS;
}

gboolean
pv_hub_caller_allows (PvHubCaller caller, PvRole role)
{
  switch (caller)
    {
    case PV_HUB_CALLER_GATE:
      return role == PV_ROLE_GATE || role == PV_ROLE_ADMIN || role == PV_ROLE_HUB;
    case PV_HUB_CALLER_DESK:
      return role == PV_ROLE_DESK || role == PV_ROLE_ADMIN || role == PV_ROLE_HUB;
    case PV_HUB_CALLER_ADMIN:
      return role == PV_ROLE_ADMIN || role == PV_ROLE_HUB;
    case PV_HUB_CALLER_DEVICE:
    case PV_HUB_CALLER_PUBLIC:
    case PV_HUB_CALLER_VISITOR:
    case PV_HUB_CALLER_WEBHOOK:
      return TRUE;
    case PV_HUB_N_CALLERS:
    default:
      return FALSE;
    }
}

/* Why a device of @role may not call a route for @caller. */
static char *
caller_refusal (PvHubCaller caller, PvRole role)
{
  switch (caller)
    {
    case PV_HUB_CALLER_GATE:
      return g_strdup ("Only gates admit visitors");
    case PV_HUB_CALLER_DESK:
      return g_strdup ("Only desks and admin devices follow a ticket's sending");
    default:
      return g_strdup_printf ("Only an admin device may do this; this is a %s device", pv_role_to_string (role));
    }
}

static const char *
not_found_words (const PvHubRoute *route)
{
  if (g_str_has_prefix (route->path, "/api/"))
    return "There is no such API path";
  if (route->caller == PV_HUB_CALLER_WEBHOOK)
    return "Not found";
  return "There is no such path";
}

/* Path, method, caller, then the handler: FALSE at the first refusal,
 * once answered. Visitors are refused by the pages, in a page, after their
 * own limit: the handler gets them all, with the route of the path if
 * there is one. */
static void
dispatch (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Mount *mount = user_data;
  const PvHubRoute *route = mount->route;
  const char *method = soup_server_message_get_method (msg);
  PvHubCall call = { .msg = msg, .path = path, .query = query, .route = route };

  mount->hub->route_hits[route - pv_hub_routes]++;
  if (route->caller == PV_HUB_CALLER_VISITOR)
    {
      call.route = pv_hub_routes_find (path);
      if (call.route != NULL && call.route->caller != PV_HUB_CALLER_VISITOR)
        call.route = NULL;
      return route->handler (mount->hub, &call);
    }
  if (!route->prefix && g_strcmp0 (path, route->path) != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, not_found_words (route));
  if (!pv_hub_route_allows (route, method))
    {
      g_autofree char *words = NULL;

      if (route->method_words != NULL)
        return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, route->method_words);
      words = g_strdup_printf ("Use %s here", route->methods);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", route->methods);
      return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, words);
    }
  if (pv_hub_caller_is_device (route->caller))
    {
      if (!pv_sync_server_authorize (mount->sync, msg, &call.who))
        return;
      if (!pv_hub_caller_allows (route->caller, call.who.role))
        {
          g_autofree char *words = caller_refusal (route->caller, call.who.role);

          return pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, words);
        }
    }
  route->handler (mount->hub, &call);
}

void
pv_hub_routes_mount (SoupServer *server, PvHub *hub, PvSyncServer *sync, PvHubRouteFilter want, gboolean catch_all)
{
  for (guint i = 0; i < pv_hub_n_routes; i++)
    {
      const PvHubRoute *route = &pv_hub_routes[i];
      const char *path = catch_all ? NULL : route->path;
      Mount *mount;

      if (want != NULL && !want (hub, route))
        continue;
      mount = g_new0 (Mount, 1);
      mount->hub = hub;
      mount->sync = sync;
      mount->route = route;
      /* The body's size is checked before it is read; a device's token
       * too, before a body worth reading is taken in. */
      if (pv_hub_caller_is_device (route->caller))
        pv_sync_server_guard (sync, server, path, route->max_body);
      else
        soup_server_add_early_handler (server, path, pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (route->max_body),
                                       NULL);
      soup_server_add_handler (server, path, dispatch, mount, g_free);
    }
}

guint64
pv_hub_routes_get_hits (PvHub *hub, const PvHubRoute *route)
{
  return hub->route_hits[route - pv_hub_routes];
}
