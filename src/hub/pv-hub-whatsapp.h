/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-whatsapp.h: the WhatsApp Cloud API webhook and the registration bot: a
 * conversation per wa_id kept in SQLite, ending in a signed ticket sent
 * through the outbox.
 *
 * Settings, group [whatsapp] of the hub's key file (the outbox worker reads
 * the same group for graph-url, phone-number-id and access-token):
 *   app-secret     the Meta app's secret: webhook bodies must carry its
 *                  HMAC-SHA256 in X-Hub-Signature-256. Without it the
 *                  webhook is not served at all.
 *   verify-token   what Meta's verification handshake must send as
 *                  hub.verify_token (GET /webhooks/whatsapp); without it
 *                  every handshake is refused.
 *   phone-number-id  when set, changes for another number of the same app
 *                  are ignored.
 *   categories     the ticket categories the bot offers, in order, by name
 *                  (a list: "One-day;School group"); default every
 *                  category of the event.
 *   tickets-per-hour  the tickets the bot issues to one phone in any hour
 *                  (default 10): a script cannot have it issue more, and
 *                  a visitor over it is told when to try again.
 *   sender-burst   messages one WhatsApp number has answered at once
 *                  (default 12) …
 *   sender-per-minute  … and after that, per minute (default 4; a fraction
 *                  is fine). A number over it is asked once, in its
 *                  language, to slow down, then not answered until it is
 *                  within the limit again; asked again only after a quiet
 *                  spell that fills its allowance. Its messages are still
 *                  taken and marked seen (a delivery repeated is acted on
 *                  once) but move no conversation and issue no ticket.
 *
 * POST /webhooks/whatsapp takes a signed body of at most
 * PV_HUB_WHATSAPP_MAX_BODY bytes, stores it, answers 200 once it is
 * durable and processes it after: a body Meta was answered for survives a
 * crash, and a message delivered twice is acted on once. A status report
 * that a ticket or a code failed outside the 24-hour window (error 131047)
 * has it sent again as the approved template (pv-hub-outbox.h). */
#pragma once

#include "pv-hub-outbox.h"
#include "pv-hub.h"

G_BEGIN_DECLS

#define PV_HUB_WHATSAPP_PATH "/webhooks/whatsapp"
#define PV_HUB_WHATSAPP_MAX_BODY (256 * 1024)

typedef struct _PvHubWhatsapp PvHubWhatsapp;

/* Settings from @hub->config; what it sends goes through @outbox. */
PvHubWhatsapp *pv_hub_whatsapp_new (const PvHubContext *hub, PvHubOutbox *outbox, GError **error);
/* Whether the webhook is to be served: [whatsapp] app-secret is set. */
gboolean pv_hub_whatsapp_is_serving (PvHubWhatsapp *self);
/* A request to PV_HUB_WHATSAPP_PATH, its method (GET or POST) and size
 * checked by the route table (pv-hub-routes.h): GET is Meta's verification
 * handshake, POST a webhook body, taken once its signature holds. */
void pv_hub_whatsapp_handle (PvHubWhatsapp *self, SoupServerMessage *msg, GHashTable *query);
/* Prometheus lines for /metrics: webhook bodies taken, refused (bad
 * signature) and given up on, messages and delivery reports processed,
 * messages over their sender's limit (asked to slow down, or not
 * answered). */
void pv_hub_whatsapp_write_metrics (PvHubWhatsapp *self, GString *out);
void pv_hub_whatsapp_free (PvHubWhatsapp *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvHubWhatsapp, pv_hub_whatsapp_free)

G_END_DECLS
