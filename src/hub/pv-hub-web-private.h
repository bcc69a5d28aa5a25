/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-private.h: what the files of the hub's web pages share, and
 * nothing outside them includes: the pages' state, a request being
 * answered, the replies and form helpers every page uses, and the pages
 * pv-hub-web.c dispatches to. pv-hub-web.c keeps the state's life, the
 * settings and the dispatch; pv-hub-web-request.c the requests and
 * answers; pv-hub-web-forms.c reading a form and showing what was wrong;
 * pv-hub-web-event.c, pv-hub-web-register.c and pv-hub-web-tickets.c the
 * pages themselves. */
#pragma once

#include "pv-event.h"
#include "pv-hub-web-guards.h"
#include "pv-hub-web-template.h"
#include "pv-hub-web.h"

G_BEGIN_DECLS

/* The longest phone number a form may carry, as typed. */
#define PV_WEB_PHONE_MAX_BYTES 32

struct _PvHubWeb
{
  const PvHubContext *hub;
  PvHubOutbox *outbox;
  guint8 key[PV_WEB_KEY_SIZE];
  PvWebTemplates *templates;
  PvWebLimit pages, posts, phones;
  PvWebLimit networks, tickets; /* new tickets: per network, and all together (one key) */
  PvWebLimit guesses, guessers; /* wrong codes: per phone and client, per client */
  gint64 link_lifetime_s;
  char **categories;      /* open to self-registration; NULL: all */
  char *whatsapp_chat;    /* "https://wa.me/919810000000?text=", or NULL */
  char *code_channel;     /* NULL: no channel can send a code to just anyone */
  GQueue pending;         /* Registration */
  GHashTable *submitted;  /* key → Submitted */
  GQueue submitted_order; /* Submitted, the oldest first */
  guint max_submitted;
  guint flush_id;
  GBytes *css;
};

typedef struct
{
  PvHubWeb *self;
  SoupServerMessage *msg;
  char *path;
  const char *lang; /* "en" or "hi" */
  char *switch_href;
  char *nonce; /* the form cookie: the browser's, or a new one sent with the answer */
  gboolean send_nonce;
  gboolean send_lang;
  gboolean deferred; /* answered later, by whoever took it */
} Request;

/* ---- Requests and answers (pv-hub-web-request.c) ---- */

/* A request to @path, in the language it asks for, with its form cookie
 * (a new one when it brought none). */
Request *pv_web_request_new (PvHubWeb *self, SoupServerMessage *msg, const char *path, GHashTable *query);
void pv_web_request_free (Request *r);
/* Values for a template, in @r's language. */
PvWebVars *pv_web_page_vars (Request *r);
/* The security headers, and the cookies @r sends. */
void pv_web_set_common_headers (Request *r);
/* The event's name, or "Pravesh" before there is an event. */
const char *pv_web_event_name (PvHubWeb *self);
/* Answers @status with @content (taken) in the page's frame. */
void pv_web_reply_page (Request *r, guint status, const char *title, PvWebMarkup *content);
/* A page that says @text_key, with a link @link_key to @href. */
void pv_web_reply_said (Request *r,
                        guint status,
                        const char *title_key,
                        const char *text_key,
                        const char *href,
                        const char *link_key);
void pv_web_reply_not_found (Request *r);
void pv_web_reply_bad_form (Request *r);
void pv_web_reply_forbidden (Request *r);
/* 429, with Retry-After and, in words, how long to wait and until when. */
void pv_web_reply_too_many (Request *r, gint64 wait_us);
/* 303 to @location, relative. */
void pv_web_reply_redirect (Request *r, const char *location);

/* ---- Forms (pv-hub-web-forms.c) ---- */

/* The posted form if it carries a good token, else NULL after answering. */
GHashTable *pv_web_read_checked_form (Request *r);
/* A field's value, its message (copied) and its state, as the form's
 * template names them after @name. */
void pv_web_field_vars (PvWebVars *vars, const char *name, const char *value, PvWebMarkup *error);
/* The errors above the form, each a link to its field. */
PvWebMarkup *pv_web_error_summary (PvWebVars *page, PvWebMarkup *const *errors, const char *const *anchors, guint n);
/* A form page's title, with the error prefix when it is @invalid. */
char *pv_web_error_title (PvWebVars *vars, const char *title_key, gboolean invalid);
/* The words @key say, with @max where they take it. */
PvWebMarkup *pv_web_say_error (Request *r, const char *key, guint max);
/* What to say beside a phone field of @phone (normalised) when the fair
 * sends nothing to its country, else NULL: said before anything is
 * written or queued. */
PvWebMarkup *pv_web_phone_country_error (Request *r, const char *phone);

/* ---- The event (pv-hub-web-event.c) ---- */

/* Event day @day, "Sat 5 Dec 2026", in @page's language. */
char *pv_web_format_day (PvWebVars *page, PvEvent *event, int day);
const char *pv_web_category_name (PvWebVars *vars, const PvCategory *category);
/* What a ticket of @category allows, one sentence each (plain text). */
GPtrArray *pv_web_category_allows (PvWebVars *page, const PvCategory *category);
/* The categories a visitor may register for here (borrowed from @event). */
GPtrArray *pv_web_open_categories (PvHubWeb *self, PvEvent *event);
/* The first day a visitor may still choose: today until it closes. */
int pv_web_first_open_day (PvHubWeb *self, PvEvent *event);
/* GET / */
void pv_web_handle_index (Request *r);

/* ---- Registering (pv-hub-web-register.c) ---- */

/* GET and POST /register; @client and @network as pv_web_client_keys ()
 * gives them. */
void pv_web_handle_register (Request *r, const char *client, const char *network);
/* Issues and answers the registrations still waiting, and forgets the
 * forms remembered: before leaving. */
void pv_web_registrations_finish (PvHubWeb *self);

/* ---- Tickets, and finding them again (pv-hub-web-tickets.c) ---- */

/* A link's token for ticket @issuer-@serial, good for [web]
 * ticket-link-hours. */
char *pv_web_ticket_link_token (PvHubWeb *self, guint16 issuer, guint32 serial);
/* GET /ticket/view and /ticket.png */
void pv_web_handle_view (Request *r, GHashTable *query);
void pv_web_handle_png (Request *r, GHashTable *query);
/* GET and POST /ticket; @guesser as pv_web_client_keys () gives it. */
void pv_web_handle_lookup (Request *r, const char *client, const char *guesser);

G_END_DECLS
