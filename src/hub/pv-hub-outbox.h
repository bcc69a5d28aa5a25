/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-outbox.h: the hub's outbox worker: every message (WhatsApp, SMS) is a row in the
 * hub's SQLite first (src/channels/pv-outbox.h), sent with retries, backoff and the channel's
 * throughput limits, its status kept for the control room. It also turns the desks'
 * "send this ticket" requests, which arrive by sync, into messages.
 *
 * Settings (the hub's key file):
 *
 *   [whatsapp]                 the WhatsApp Cloud API; the channel works when
 *                              both phone-number-id and access-token are set
 *   graph-url = https://graph.facebook.com/v21.0
 *   phone-number-id = …        the sending number's id
 *   access-token = …           sent as "Authorization: Bearer …"
 *   messages-per-second = 80   the number's throughput
 *   ticket-template = …        outside the 24-hour customer-service window a
 *   template-language = en     ticket goes as this approved template: an
 *                              IMAGE header (the QR) and one body variable
 *                              {{1}}, the serial; without one it fails
 *   code-template = …          and a one-time code as this approved
 *                              authentication template: the code in its
 *                              body's {{1}} and its copy-code button
 *     Outside the window means: the bot knows the visitor has not written
 *     for 24 hours (or never); WhatsApp refused the free-form message
 *     (error 131047), at once or later by a status report; or, with the
 *     webhook off and so nothing known, always when there is a template.
 *     Error 131056 (too many messages to one person) delays that message
 *     alone; the other rate limits pause the channel.
 *
 *   [sms]                      a generic HTTP gateway; works when url-template is set
 *   url-template = https://gw.example/send?to={to}&text={text}
 *   method = GET               or POST
 *   auth-header = Authorization: Bearer …
 *   body-template = to={to}&text={text}   POST only (JSON: {"to": "{to}", "text": "{text}"})
 *   content-type = application/x-www-form-urlencoded
 *   from = …                   the sender id, for {from}
 *   messages-per-second = 10
 *     Placeholders: {to} (+919876543210), {to-digits} (919876543210),
 *     {text}, {from}; each value is URL-encoded in the URL and in a form
 *     body, JSON-escaped in a body whose content type names JSON. A 2xx
 *     answer is sent; its JSON "id" (or "message_id", "messageId", "sid")
 *     is kept.
 *
 *   [outbox]
 *   poll-seconds = 5           look at the queue at least this often
 *   max-attempts = 8           failures before a message is given up
 *   base-backoff-ms = 2000     the first retry's wait; it doubles each time
 *   max-backoff-ms = 600000
 *   concurrency = 16           requests in flight at once
 *   timeout-seconds = 30       for one request
 *   countries = +91            the calling codes (or longer prefixes) paid
 *                              messages go to, separated by ";" or ","; *
 *                              alone: anywhere. A paid message to another
 *                              number fails, its reason kept
 *   daily-limit = 20000        paid messages in one day, all numbers
 *                              together; beyond it they are held
 *   prefix-daily-limit = …     paid messages in one day to one destination
 *                              prefix (its calling code, or the longest
 *                              prefix-limits entry it starts with); default
 *                              the daily-limit
 *   prefix-limits = …          prefixes with a day's budget of their own,
 *                              like "+977=200; +9190=500"
 *     Paid means every SMS and every WhatsApp template; a free-form
 *     WhatsApp message answers someone who wrote within the day, costs
 *     nothing and reaches only a number that proved itself by writing,
 *     so it goes anywhere and counts against nothing. A day is the
 *     event's date in its own time zone; what it spent is kept in the
 *     store (a restart forgets nothing). Every attempt counts, a retry
 *     too, as a provider may charge for each. A held message goes only when
 *     an admin retries it (pravesh-ctl outbox --retry); the log says once
 *     a day, not once a message, that a budget is spent or a country
 *     refused. The web pages ask pv_hub_outbox_reach () before they queue
 *     anything; the worker asks again before every paid send, whoever
 *     queued it (the web, the bot, a desk's request, a volunteer's code).
 *     A volunteer's sign-in code (PvOutboxMessage.sign_in) counts but is
 *     never held, so the fair's people sign in whatever the public spent;
 *     the mark is the message's, not the phone's: a visitor's code or a
 *     ticket sent to a volunteer's phone is held like any.
 *
 * A channel that is not configured leaves its messages queued. Phones are
 * never logged whole. */
#pragma once

#include "pv-hub.h"
#include "pv-outbox.h"

G_BEGIN_DECLS

typedef struct _PvHubOutbox PvHubOutbox;

/* Starts the worker on @hub's outbox with the settings in @hub->config.
 * PV_ERROR_INVALID for settings that cannot work. */
PvHubOutbox *pv_hub_outbox_new (const PvHubContext *hub, GError **error);
/* Something was queued: look now rather than at the next poll. */
void pv_hub_outbox_kick (PvHubOutbox *self);
void pv_hub_outbox_free (PvHubOutbox *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvHubOutbox, pv_hub_outbox_free)

/* Whether @channel ("whatsapp", "sms") has the settings to send. */
gboolean pv_hub_outbox_is_configured (PvHubOutbox *self, const char *channel);

/* Whether @channel can deliver a message of @kind to a phone that never
 * wrote to us (a visitor at the web page or a desk): SMS whenever it is
 * configured; WhatsApp only by an approved template, so a ticket with
 * ticket-template, a code with code-template, a text never. What the
 * pages offer depends on it: nothing is offered that cannot arrive. */
gboolean pv_hub_outbox_can_reach_anyone (PvHubOutbox *self, const char *channel, PvOutboxKind kind);

/* WhatsApp reported, by a status webhook, that the message it knows as
 * @provider_id failed outside the visitor's 24-hour window (error 131047)
 * after taking it. When it is a ticket or a code with a template
 * configured and it has not gone as the template yet, it is queued again
 * to go as the template (*@out_requeued) and sent soon; otherwise nothing
 * changes (the caller records the failure). FALSE only when the store
 * fails. */
gboolean pv_hub_outbox_resend_by_template (PvHubOutbox *self,
                                           const char *provider_id,
                                           const char *reason,
                                           gboolean *out_requeued,
                                           GError **error);

typedef enum
{
  PV_HUB_OUTBOX_SENDS,       /* a paid message to it would go now */
  PV_HUB_OUTBOX_NOT_ALLOWED, /* its country is not among [outbox] countries */
  PV_HUB_OUTBOX_OVER_BUDGET, /* today's budget for it, or for all, is spent */
} PvHubOutboxReach;

/* Whether a paid message (an SMS, a WhatsApp template) to @phone (a
 * normalised phone) would go now, as the worker will judge it: for a page
 * to say so beside the field before anything is queued. Reads no store
 * but once a day. A NULL @self sends anywhere. */
PvHubOutboxReach pv_hub_outbox_reach (PvHubOutbox *self, const char *phone);

/* Whether @phone (normalised) is in a country the fair sends paid
 * messages to ([outbox] countries): the reach's first half, without the
 * budgets, for a form that only takes a number. */
gboolean pv_hub_outbox_sends_to (PvHubOutbox *self, const char *phone);

/* [outbox] countries as people read them ("+91, +977"), or "any". */
const char *pv_hub_outbox_get_countries (PvHubOutbox *self);

/* Returns TRUE when the 24-hour customer-service window with @recipient
 * (a normalised phone) is known to be closed: its last message to us is
 * older than 24 hours, or it never wrote. FALSE when open or unknown. */
typedef gboolean (*PvHubOutboxWindowFunc) (const char *recipient, gpointer user_data);

/* The WhatsApp bot tells the outbox what it knows of conversations, so a
 * ticket outside the window goes the template route at once rather than
 * after the API refused it (which also works). */
void pv_hub_outbox_set_window_func (PvHubOutbox *self, PvHubOutboxWindowFunc func, gpointer user_data);

/* Prometheus lines for /metrics: messages by status (kept counts, no
 * scan), today's paid messages and budgets per destination prefix, and
 * what the worker did since it started. */
void pv_hub_outbox_write_metrics (PvHubOutbox *self, GString *out);

G_END_DECLS
