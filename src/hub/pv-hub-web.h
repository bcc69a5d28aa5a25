/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web.h: the hub's public web pages: the event, self-registration ending
 * in a signed ticket, and finding a ticket again by phone and code.
 *
 *   GET  /                  the event: when, where, hours, what each ticket allows
 *   GET  /register          the form: name, phone, ticket, day, party size
 *   POST /register          checked; a ticket issued (channel "web"), then
 *                           303 to its page, or the form again with messages
 *   GET  /ticket/view?t=T   a ticket's page: QR code (inline SVG), serial,
 *                           category, day; PNG download; "get it on WhatsApp"
 *                           (a revoked ticket: the notice, no code)
 *   GET  /ticket.png?t=T    the QR code as a PNG to keep (410 once revoked)
 *   GET  /ticket            finding tickets again: the phone number...
 *   POST /ticket            ...a one-time code sent to it (pv-visitor-codes.h),
 *                           then the code: the phone's tickets; when no
 *                           channel can send the code, a page that says
 *                           the desk finds tickets again
 *   GET  /static/style.css  the style sheet
 *
 * T is an opaque token the hub signs (HMAC-SHA256 with a key kept in the
 * store's secrets) naming one ticket until it expires; a ticket's code never
 * appears in a URL. Every page is in English or Hindi, by the browser's
 * Accept-Language or the switch on the page (remembered in a cookie); forms
 * carry a token bound to a cookie (CSRF) and work without JavaScript. A
 * form is read whole or refused (400): a NUL, raw or escaped as %00, or a
 * broken escape would otherwise cut or drop a field unseen.
 * Requests are limited per client address and per phone number by token
 * buckets, answered 429 with Retry-After and a page that says when to try
 * again; new tickets (not pages, nor a form sent again, which gets its
 * ticket) also per network and for everyone. A phone the outbox would send
 * nothing to ([outbox] countries, pv-hub-outbox.h) is refused beside the
 * field, at registration and at finding tickets again, before anything is
 * written or queued; a code is not even asked for when today's budget for
 * it is spent. Wrong codes count against the code sent (never the phone:
 * pv-visitor-codes.h) and against the client (an IPv6 one by its /48),
 * per phone and in all: 3 per phone and 10 in all are free, then each
 * locks the client out twice as long as the last, from 30 seconds to an
 * hour (forgotten after a quiet hour), so a stranger guessing is slowed
 * while the owner elsewhere gets in. A try while locked out is refused
 * unchecked and counts for nothing, so one guesser behind a shared
 * address (a carrier's, the venue's Wi-Fi) does not keep the others
 * locked out for ever. Phone numbers and names never
 * reach the log. A name is checked against what a ticket keeps
 * (PV_TICKET_NAME_MAX_BYTES) as well as its 66 letters, so a long name in
 * Hindi is told at the form, not refused at the issue.
 *
 * Settings, group [web] of the hub's key file (defaults in brackets):
 *   requests-per-minute  [600]  pages and files, per client address (an IPv6
 *   requests-burst       [200]  client by its /64)
 *   posts-per-minute     [60]   form submissions (register, find), per
 *   posts-burst          [30]   client address
 *   phone-per-hour       [10]   tickets registered, per phone number
 *   phone-burst          [10]
 *   network-tickets-per-minute [300]  new tickets per network: an IPv4
 *   network-tickets-burst      [600]  /24, an IPv6 /48. Mobile carriers put
 *                               thousands of phones behind one address (CGNAT)
 *                               and spread a city's phones over few /24s, and
 *                               a crowd at the gates may share a few more: 5 a
 *                               second from one network, 600 at once, carries
 *                               a carrier's share of a rush, yet one network
 *                               takes at most a hundredth of the global limit
 *   tickets-per-minute   [30000] new tickets, everyone together: 500 a
 *   tickets-burst        [30000] second, above the several hundred a second
 *                               a newspaper's mention brings (the rehearsal
 *                               carries them), a minute's worth at once; still
 *                               a bound on what reaches every gate (each
 *                               ticket goes to every gate; without one, one
 *                               address made 86,000 a day)
 *   ticket-link-hours    [24]   how long a ticket page's link (and its PNG) works
 *   limit-entries        [50000] addresses (and phones) each limit keeps
 *                               count of; beyond, the least recently seen
 *                               is forgotten first, never everyone's at once
 *   remembered-forms     [20000] forms answered that the same form sent
 *                               again (a second tap) gets its ticket from,
 *                               for the two hours a form works, the oldest
 *                               forgotten first beyond this
 *   categories           [none] the categories open to self-registration, by
 *                               name, separated by ";"; until it is set the
 *                               pages say tickets are had at the desk
 *   code-channel         [sms]  how the code to find tickets again is sent:
 *                               sms, or whatsapp (which reaches a visitor
 *                               who has not written to the number only by
 *                               an approved template, [whatsapp]
 *                               code-template); when the one chosen cannot
 *                               reach such a visitor the other is used if
 *                               it can, and if neither can, finding tickets
 *                               again is not offered (said once in the log)
 *   whatsapp-number      [none] the fair's WhatsApp number: a ticket's page
 *                               links a chat with it (wa.me) with the word
 *                               "ticket" typed in, which the bot answers
 *                               with the tickets registered with the phone
 *                               that sent it. Offered when the bot can answer
 *                               ([whatsapp] app-secret, phone-number-id,
 *                               access-token). The hub sends no ticket to a
 *                               number the form named: anyone could have
 *                               typed it; a number that writes proves itself,
 *                               and the answer costs nothing in WhatsApp's
 *                               24-hour window.
 *
 * Pages are made by the template engine (pv-hub-web-template.h), which
 * HTML-escapes every value it is given as text; forms, links and the limits
 * above are kept by the guards (pv-hub-web-guards.h). */
#pragma once

#include "pv-hub-outbox.h"
#include "pv-hub-routes.h"
#include "pv-hub-web-template.h"
#include "pv-hub.h"

G_BEGIN_DECLS

typedef struct _PvHubWeb PvHubWeb;

/* The largest form a page takes. */
#define PV_HUB_WEB_MAX_FORM_BODY (8 * 1024)

/* Settings from @hub->config; what it sends goes through @outbox. */
PvHubWeb *pv_hub_web_new (const PvHubContext *hub, PvHubOutbox *outbox, GError **error);
void pv_hub_web_free (PvHubWeb *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvHubWeb, pv_hub_web_free)

/* Answers a visitor at @path: within the client's page limit, else 429 in
 * a page; @route is the path's row of the route table (pv-hub-routes.h),
 * NULL for a path nobody serves (404, in a page), and its methods the
 * ones taken (405, in a page). */
void pv_hub_web_handle (PvHubWeb *self,
                        SoupServerMessage *msg,
                        const char *path,
                        GHashTable *query,
                        const PvHubRoute *route);

G_END_DECLS
