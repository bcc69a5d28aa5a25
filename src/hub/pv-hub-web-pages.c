/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-pages.c: the hub's public web pages (see pv-hub-web.h). Everything is
 * answered on the hub's one thread. Registrations that arrive together are
 * issued in one transaction and answered after its single commit, as online
 * admissions are: a crowd registering costs one fsync per group, and no
 * visitor sees a ticket that is not durable. */
#include "config.h"

#include <cairo.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-hub-config.h"
#include "pv-hub-routes.h"
#include "pv-hub-web-guards.h"
#include "pv-hub-web.h"
#include "pv-i18n.h"
#include "pv-outbox.h"
#include "pv-qr.h"
#include "pv-store.h"
#include "pv-sync-server.h"
#include "pv-ticket-code.h"
#include "pv-tickets.h"
#include "pv-visitor-codes.h"

#define GROUP "web"
#define RESOURCES "/in/pravesh/hub/"
/* The largest form: a name of 80 Devanagari letters percent-encoded is
 * under 1 KiB. */
#define MAX_FORM_BODY PV_HUB_WEB_MAX_FORM_BODY
#define FORM_LIFETIME_S PV_WEB_FORM_LIFETIME_S
#define KEY_NAME "web-key"
#define KEY_SIZE PV_WEB_KEY_SIZE
#define NONCE_SIZE 16
/* As many as a ticket keeps (see pv-tickets.h). */
#define NAME_MAX_CHARS PV_TICKET_NAME_MAX_CHARS
#define PHONE_MAX_BYTES 32
#define PNG_MODULE_PX 12
#define MAX_GROUP 256
/* Defaults of [web] limit-entries and remembered-forms. */
#define DEFAULT_LIMIT_ENTRIES 50000
#define DEFAULT_REMEMBERED_FORMS 20000
/* Defaults of the limits on new tickets (see the header for why). */
#define DEFAULT_NETWORK_TICKETS_PER_MINUTE 300
#define DEFAULT_NETWORK_TICKETS_BURST 600
#define DEFAULT_TICKETS_PER_MINUTE 30000
#define DEFAULT_TICKETS_BURST 30000
/* Wrong codes to find tickets again, per client (an IPv6 one by its /48):
 * a few are free (a typo, a code misread), then each wrong code checked
 * locks the client out twice as long as the last, from 30 s to an hour; an
 * hour without one forgets them. A try while locked out is refused
 * unchecked and counts for nothing: behind a carrier's or a venue's shared
 * address, a stranger hammering must not keep everyone locked out, nor
 * real users trying again make the wait longer. Per phone and client 3
 * are free, so with the waits one client makes at most 7 guesses in a
 * code's five minutes, short of the 10 that spend it
 * (PV_VISITOR_CODE_FAILURES): a stranger cannot spend the owner's code.
 * Per client whatever the phone, 10: guessing at many phones is slowed as
 * well. */
#define GUESSES_FREE_PER_PHONE 3
#define GUESSES_FREE 10
#define GUESS_LOCK_US (30 * G_USEC_PER_SEC)
#define GUESS_LOCK_MAX_US (G_GINT64_CONSTANT (60 * 60) * G_USEC_PER_SEC)
#define GUESS_FORGET_US (G_GINT64_CONSTANT (60 * 60) * G_USEC_PER_SEC)
#define MAX_SHOWN_TICKETS 20
#define FORM_COOKIE "pv_form"
#define LANG_COOKIE "pv_lang"

/* Content-Security-Policy: no script at all, styles and images from here,
 * forms post here, never framed. */
#define CSP                                                                                            \
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
  "base-uri 'none'"

struct _PvHubWeb
{
  const PvHubContext *hub;
  PvHubOutbox *outbox;
  guint8 key[KEY_SIZE];
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

/* A link to ticket @issuer-@serial, good for [web] ticket-link-hours: the
 * code itself never travels in a URL (logs, histories, shared
 * screenshots). */
static char *
ticket_token (PvHubWeb *self, guint16 issuer, guint32 serial)
{
  return pv_web_ticket_token (self->key, issuer, serial, g_get_real_time () / G_USEC_PER_SEC + self->link_lifetime_s);
}

static gboolean
load_key (PvHubWeb *self, GError **error)
{
  g_autoptr (GBytes) key = pv_store_get_secret (self->hub->store, KEY_NAME);

  if (key != NULL && g_bytes_get_size (key) == KEY_SIZE)
    {
      memcpy (self->key, g_bytes_get_data (key, NULL), KEY_SIZE);
      return TRUE;
    }
  /* Made once and kept: forms and links survive a restart. */
  crypto_auth_hmacsha256_keygen (self->key);
  return pv_store_set_secret (self->hub->store, KEY_NAME, self->key, KEY_SIZE, error);
}

/* ---- Requests and answers ---- */

static char *
cookie (SoupServerMessage *msg, const char *name)
{
  const char *header = soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Cookie");
  g_auto (GStrv) parts = NULL;
  gsize len = strlen (name);

  if (header == NULL)
    return NULL;
  parts = g_strsplit_set (header, ";,", 64);
  for (guint i = 0; parts[i]; i++)
    {
      const char *part = g_strstrip (parts[i]);

      if (strncmp (part, name, len) == 0 && part[len] == '=')
        return g_strdup (part + len + 1);
    }
  return NULL;
}

/* The language asked for: ?lang= (remembered), the cookie, then the
 * browser's Accept-Language in order of preference; English otherwise. */
static const char *
choose_language (Request *r, GHashTable *query)
{
  const char *asked = query ? g_hash_table_lookup (query, "lang") : NULL;
  g_autofree char *remembered = cookie (r->msg, LANG_COOKIE);
  const char *header;
  GSList *list;
  const char *found = NULL;

  for (guint l = 0; l < PV_WEB_N_LANGUAGES; l++)
    if (g_strcmp0 (asked, pv_web_languages[l]) == 0)
      {
        r->send_lang = TRUE;
        return pv_web_languages[l];
      }
  for (guint l = 0; l < PV_WEB_N_LANGUAGES; l++)
    if (g_strcmp0 (remembered, pv_web_languages[l]) == 0)
      return pv_web_languages[l];
  header = soup_message_headers_get_list (soup_server_message_get_request_headers (r->msg), "Accept-Language");
  if (header == NULL)
    return "en";
  list = soup_header_parse_quality_list (header, NULL);
  for (GSList *l = list; l && !found; l = l->next)
    for (guint i = 0; i < PV_WEB_N_LANGUAGES && !found; i++)
      if (g_ascii_strncasecmp (l->data, pv_web_languages[i], 2) == 0
          && (((char *) l->data)[2] == '\0' || ((char *) l->data)[2] == '-'))
        found = pv_web_languages[i];
  soup_header_free_list (list);
  return found ? found : "en";
}

static gboolean
is_base64url (const char *text, gsize len)
{
  if (text == NULL || strlen (text) != len)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static Request *
request_new (PvHubWeb *self, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  Request *r = g_new0 (Request, 1);
  const char *token = query ? g_hash_table_lookup (query, "t") : NULL;
  const char *other;

  r->self = self;
  r->msg = g_object_ref (msg);
  r->path = g_strdup (path);
  r->lang = choose_language (r, query);
  r->nonce = cookie (msg, FORM_COOKIE);
  if (!is_base64url (r->nonce, sodium_base64_ENCODED_LEN (NONCE_SIZE, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1))
    {
      guint8 nonce[NONCE_SIZE];

      randombytes_buf (nonce, sizeof nonce);
      g_free (r->nonce);
      r->nonce = pv_web_base64url (nonce, sizeof nonce);
      r->send_nonce = TRUE;
    }
  /* The switch leads to the same page in the other language: a ticket's
   * page keeps its link; a form's answer becomes the empty form. */
  other = pv_web_lang_index (r->lang) == 0 ? "hi" : "en";
  if (g_str_equal (path, "/ticket/view") && is_base64url (token, 40))
    r->switch_href = g_strdup_printf ("/ticket/view?t=%s&lang=%s", token, other);
  else if (g_str_equal (path, "/") || g_str_equal (path, "/register") || g_str_equal (path, "/ticket"))
    r->switch_href = g_strdup_printf ("%s?lang=%s", path, other);
  else
    r->switch_href = g_strdup_printf ("/?lang=%s", other);
  return r;
}

static void
request_free (Request *r)
{
  g_object_unref (r->msg);
  g_free (r->path);
  g_free (r->switch_href);
  g_free (r->nonce);
  g_free (r);
}

static PvWebVars *
page_vars (Request *r)
{
  return pv_web_vars_new (r->self->templates, r->lang);
}

static void
set_common_headers (Request *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (r->msg);
  const char *secure = soup_server_is_https (r->self->hub->server) ? "; Secure" : "";

  soup_message_headers_replace (headers, "Content-Security-Policy", CSP);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");
  soup_message_headers_replace (headers, "Cross-Origin-Opener-Policy", "same-origin");
  if (r->send_nonce)
    {
      g_autofree char *value = g_strdup_printf (FORM_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", r->nonce,
                                                secure);
      soup_message_headers_append (headers, "Set-Cookie", value);
    }
  if (r->send_lang)
    {
      /* Lax: a visitor arriving by a link from elsewhere keeps the choice. */
      g_autofree char *value = g_strdup_printf (LANG_COOKIE "=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax%s",
                                                r->lang, secure);
      soup_message_headers_append (headers, "Set-Cookie", value);
    }
}

static const char *
event_name (PvHubWeb *self)
{
  PvEvent *event = pv_store_get_event (self->hub->store, NULL);

  return event ? pv_event_get_name (event) : "Pravesh";
}

/* Answers @status with @content (taken) in the page's frame. */
static void
reply_page (Request *r, guint status, const char *title, PvWebMarkup *content)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autoptr (GBytes) page = NULL;
  const char *event = event_name (r->self);
  g_autofree char *full_title = g_str_equal (title, event) ? g_strdup (title) : g_strdup_printf ("%s · %s", title, event);

  pv_web_vars_text (vars, "title", full_title);
  pv_web_vars_text (vars, "event", event);
  pv_web_vars_text (vars, "lang", r->lang);
  pv_web_vars_text (vars, "switch_lang", pv_web_lang_index (r->lang) == 0 ? "hi" : "en");
  pv_web_vars_text (vars, "switch_href", r->switch_href);
  pv_web_vars_markup (vars, "content", content);
  page = pv_web_markup_free_to_bytes (pv_hub_web_fill ("layout.html", vars));
  set_common_headers (r);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Cache-Control", "no-store");
  soup_server_message_set_status (r->msg, status, NULL);
  soup_server_message_set_response (r->msg, "text/html; charset=utf-8", SOUP_MEMORY_COPY, g_bytes_get_data (page, NULL),
                                    g_bytes_get_size (page));
}

/* A page that says one thing, with a way on. */
static void
reply_message (Request *r, guint status, const char *title_key, PvWebMarkup *text, const char *href,
               const char *link_key)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *title = pv_web_say_plain (vars, title_key);

  pv_web_vars_text (vars, "heading", title);
  pv_web_vars_markup (vars, "text", text);
  pv_web_vars_text (vars, "href", href);
  pv_web_vars_markup (vars, "link", pv_web_say (vars, link_key));
  reply_page (r, status, title, pv_hub_web_fill ("message.html", vars));
}

static void
reply_said (Request *r, guint status, const char *title_key, const char *text_key, const char *href,
            const char *link_key)
{
  g_autoptr (PvWebVars) vars = page_vars (r);

  reply_message (r, status, title_key, pv_web_say (vars, text_key), href, link_key);
}

static void
reply_not_found (Request *r)
{
  reply_said (r, SOUP_STATUS_NOT_FOUND, "e404_title", "e404_text", "/", "back_home");
}

static void
reply_bad_form (Request *r)
{
  reply_said (r, SOUP_STATUS_BAD_REQUEST, "e400_title", "e400_text", r->path, "fill_again");
}

static void
reply_forbidden (Request *r)
{
  reply_said (r, SOUP_STATUS_FORBIDDEN, "e403_title", "e403_text", r->path, "fill_again");
}

/* 429, with Retry-After and, in words, how long to wait and until when. */
static void
reply_too_many (Request *r, gint64 wait_us)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *seconds_text = NULL, *wait = NULL, *until = NULL;
  gint64 seconds = MAX (1, (wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  gint64 at = g_get_real_time () + seconds * G_USEC_PER_SEC;

  seconds_text = g_strdup_printf ("%" G_GINT64_FORMAT, seconds);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Retry-After", seconds_text);
  if (seconds < 120)
    pv_web_vars_int (vars, "n", seconds);
  else
    pv_web_vars_int (vars, "n", (seconds + 59) / 60);
  wait = pv_web_say_plain (vars, seconds < 120 ? "wait_seconds" : "wait_minutes");
  /* The minute it may be tried again, rounded up, on the event's clock. */
  until = event ? pv_event_format_time (event, at + 59 * G_USEC_PER_SEC, "%H:%M") : g_strdup ("");
  pv_web_vars_text (vars, "wait", wait);
  pv_web_vars_text (vars, "time", until);
  reply_message (r, 429 /* Too Many Requests */, "e429_title", pv_web_say (vars, "e429_text"), "/", "back_home");
}

static void
reply_redirect (Request *r, const char *location)
{
  set_common_headers (r);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Cache-Control", "no-store");
  /* Relative, so it holds behind a proxy and whatever Host was sent. */
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Location", location);
  soup_server_message_set_status (r->msg, SOUP_STATUS_SEE_OTHER, NULL);
}

/* Whether @text is urlencoded as a form should be: every % starts an
 * escape of two hex digits, and none of them a NUL. libsoup's decoder cuts
 * a value at an escaped NUL ("A%00B" would be "A") and silently drops a
 * field with a broken escape: either would be read as something other
 * than what was sent. */
static gboolean
form_escapes_ok (const char *text)
{
  for (const char *p = strchr (text, '%'); p != NULL; p = strchr (p + 1, '%'))
    if (!g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]) || (p[1] == '0' && p[2] == '0'))
      return FALSE;
  return TRUE;
}

/* The form's fields, or NULL after answering 400: only a urlencoded body,
 * no NUL (raw or escaped), no broken escape, every name and value valid
 * UTF-8. Every form the pages take is read here. */
static GHashTable *
read_form (Request *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (r->msg);
  const char *type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (r->msg));
  g_autoptr (GHashTable) form = NULL;
  g_autofree char *text = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gsize size;

  text = g_strndup (g_bytes_get_data (body, &size), g_bytes_get_size (body));
  if (g_strcmp0 (type, "application/x-www-form-urlencoded") != 0 || size > MAX_FORM_BODY || strlen (text) != size
      || !form_escapes_ok (text))
    {
      reply_bad_form (r);
      return NULL;
    }
  form = soup_form_decode (text);
  g_hash_table_iter_init (&iter, form);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_utf8_validate (key, -1, NULL) || !g_utf8_validate (value, -1, NULL))
      {
        reply_bad_form (r);
        return NULL;
      }
  return g_steal_pointer (&form);
}

/* The posted form if it carries a good token, else NULL after answering. */
static GHashTable *
read_checked_form (Request *r)
{
  g_autoptr (GHashTable) form = read_form (r);

  if (form == NULL)
    return NULL;
  /* A browser without our cookie cannot have had the form from us. */
  if (r->send_nonce || !pv_web_form_token_ok (r->self->key, r->nonce, g_hash_table_lookup (form, "csrf"), g_get_real_time () / G_USEC_PER_SEC))
    {
      reply_forbidden (r);
      return NULL;
    }
  return g_steal_pointer (&form);
}

/* ---- The event ---- */

static char *
format_hour (guint minutes)
{
  return g_strdup_printf ("%02u:%02u", minutes / 60, minutes % 60);
}

/* Event day @day, "Sat 5 Dec 2026", in @vars' language. */
static char *
format_day (PvWebVars *page, PvEvent *event, int day)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new_like (page);
  g_autofree char *iso = pv_event_day_date (event, day);
  g_autofree char *weekday = NULL, *month = NULL;
  g_autoptr (GDate) date = NULL;
  int y = 0, m = 0, d = 0;

  if (sscanf (iso, "%d-%d-%d", &y, &m, &d) != 3 || !g_date_valid_dmy (d, m, y))
    return g_strdup (iso);
  date = g_date_new_dmy (d, m, y);
  weekday = g_strdup_printf ("weekday_%d", g_date_get_weekday (date));
  month = g_strdup_printf ("month_%d", m);
  pv_web_vars_text (vars, "weekday", pv_web_vars_lookup (page, weekday));
  pv_web_vars_text (vars, "month", pv_web_vars_lookup (page, month));
  pv_web_vars_int (vars, "day", d);
  pv_web_vars_int (vars, "year", y);
  return pv_web_say_plain (vars, "date_format");
}

static const char *
category_name (PvWebVars *vars, const PvCategory *category)
{
  /* The default categories' names are translated as the app shows them;
   * an event's own keep the name it gave them. */
  return pv_i18n_translate (pv_web_vars_get_lang (vars), NULL, category->name);
}

/* What a ticket of @category allows, one sentence each (plain text). */
static GPtrArray *
category_allows (PvWebVars *page, const PvCategory *category)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new_like (page);
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (lines, pv_web_say_plain (vars, category->validity == PV_VALIDITY_CHOSEN_DAY    ? "cat_chosen_day"
                                                  : category->validity == PV_VALIDITY_ANY_ONE_DAY ? "cat_any_day"
                                                                                                  : "cat_every_day"));
  pv_web_vars_int (vars, "n", category->entries_per_day);
  g_ptr_array_add (lines, pv_web_say_plain (vars, category->entries_per_day == 0   ? "cat_entries_unlimited"
                                                  : category->entries_per_day == 1 ? "cat_entries_one"
                                                                                   : "cat_entries_n"));
  if (category->entries_per_day != 0)
    g_ptr_array_add (lines, pv_web_say_plain (vars, category->reentry ? "cat_reentry" : "cat_no_reentry"));
  pv_web_vars_int (vars, "n", category->max_party);
  g_ptr_array_add (lines, pv_web_say_plain (vars, category->max_party <= 1 ? "cat_party_one" : "cat_party_n"));
  if (category->gates != NULL && category->gates[0] != NULL)
    {
      g_autofree char *gates = g_strjoinv (", ", category->gates);
      pv_web_vars_text (vars, "gates", gates);
      g_ptr_array_add (lines, pv_web_say_plain (vars, "cat_gates"));
    }
  return lines;
}

/* The categories a visitor may register for here (borrowed from @event). */
static GPtrArray *
open_categories (PvHubWeb *self, PvEvent *event)
{
  GPtrArray *open = g_ptr_array_new ();

  /* None unless the settings name them: an event's categories include
   * passes (exhibitors, staff) the public must not be able to give
   * themselves. */
  if (self->categories != NULL)
    for (guint i = 0; self->categories[i]; i++)
      {
        const PvCategory *category = pv_event_find_category (event, self->categories[i]);
        if (category)
          g_ptr_array_add (open, (gpointer) category);
      }
  return open;
}

/* The first day a visitor may still choose: today until it closes. */
static int
first_open_day (PvHubWeb *self, PvEvent *event)
{
  gint64 now = pv_store_now (self->hub->store);
  int today = pv_event_day_at (event, now), n = (int) pv_event_get_n_days (event);
  guint open, close;

  if (today < 0)
    return 0;
  if (today >= n)
    return n;
  pv_event_get_hours (event, today, &open, &close);
  return now < pv_event_time_of (event, today, close) ? today : today + 1;
}

static PvWebMarkup *
list_items (PvWebVars *page, GPtrArray *lines)
{
  PvWebMarkup *items = pv_web_markup_new ();

  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr (PvWebVars) vars = pv_web_vars_new_like (page);

      pv_web_vars_text (vars, "text", g_ptr_array_index (lines, i));
      pv_web_markup_append (items, pv_hub_web_fill ("list-item.html", vars));
    }
  return items;
}

static void
add_fact (PvWebMarkup *facts, PvWebVars *page, const char *label_key, PvWebMarkup *value)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new_like (page);

  pv_web_vars_markup (vars, "label", pv_web_say (vars, label_key));
  pv_web_vars_markup (vars, "value", value);
  pv_web_markup_append (facts, pv_hub_web_fill ("fact.html", vars));
}

static PvWebMarkup *
hours_text (PvWebVars *page, PvEvent *event)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new_like (page);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  guint n = pv_event_get_n_days (event), open0, close0;
  gboolean same = TRUE;

  pv_event_get_hours (event, 0, &open0, &close0);
  for (guint d = 1; d < n; d++)
    {
      guint open, close;
      pv_event_get_hours (event, d, &open, &close);
      same = same && open == open0 && close == close0;
    }
  if (same)
    {
      g_autofree char *open = format_hour (open0), *close = format_hour (close0);
      pv_web_vars_text (vars, "open", open);
      pv_web_vars_text (vars, "close", close);
      return pv_web_say (vars, "hours_every_day");
    }
  for (guint d = 0; d < n; d++)
    {
      g_autofree char *date = format_day (page, event, (int) d);
      g_autofree char *open_text = NULL, *close_text = NULL;
      guint open, close;

      pv_event_get_hours (event, d, &open, &close);
      open_text = format_hour (open);
      close_text = format_hour (close);
      pv_web_vars_text (vars, "date", date);
      pv_web_vars_text (vars, "open", open_text);
      pv_web_vars_text (vars, "close", close_text);
      g_ptr_array_add (lines, pv_web_say_plain (vars, "hours_day"));
    }
  pv_web_vars_markup (vars, "items", list_items (page, lines));
  return pv_hub_web_fill ("plain-list.html", vars);
}

/* @text, escaped, where markup is expected. */
static PvWebMarkup *
text_markup (Request *r, const char *text)
{
  g_autoptr (PvWebVars) vars = page_vars (r);

  pv_web_vars_text (vars, "text", text);
  return pv_hub_web_fill ("plain-text.html", vars);
}

static void
handle_index (Request *r)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autoptr (GPtrArray) open = NULL;
  g_autofree char *first = NULL, *last = NULL;
  PvWebMarkup *facts, *categories;
  guint n;

  if (event == NULL)
    return reply_not_found (r);
  n = pv_event_get_n_days (event);
  open = open_categories (r->self, event);
  facts = pv_web_markup_new ();
  first = format_day (vars, event, 0);
  last = format_day (vars, event, (int) n - 1);
  pv_web_vars_text (vars, "first", first);
  pv_web_vars_text (vars, "last", last);
  add_fact (facts, vars, "when", n > 1 ? pv_web_say (vars, "dates_range") : text_markup (r, first));
  add_fact (facts, vars, "hours", hours_text (vars, event));
  if (pv_event_get_venue (event) && *pv_event_get_venue (event))
    add_fact (facts, vars, "where", text_markup (r, pv_event_get_venue (event)));
  pv_web_vars_markup (vars, "facts", facts);
  if (first_open_day (r->self, event) >= (int) n || open->len == 0)
    {
      g_autoptr (PvWebVars) notice = page_vars (r);
      pv_web_vars_markup (notice, "text", pv_web_say (notice, open->len == 0 ? "no_categories" : "closed"));
      pv_web_vars_markup (vars, "action", pv_hub_web_fill ("notice.html", notice));
    }
  else
    pv_web_vars_markup (vars, "action", pv_hub_web_fill ("action-register.html", vars));
  categories = pv_web_markup_new ();
  for (guint i = 0; i < open->len; i++)
    {
      const PvCategory *category = g_ptr_array_index (open, i);
      g_autoptr (PvWebVars) item = page_vars (r);
      g_autoptr (GPtrArray) allows = category_allows (vars, category);

      pv_web_vars_text (item, "name", category_name (vars, category));
      pv_web_vars_markup (item, "allows", list_items (vars, allows));
      pv_web_markup_append (categories, pv_hub_web_fill ("category.html", item));
    }
  pv_web_vars_markup (vars, "categories", categories);
  pv_web_vars_markup (vars, "find", pv_hub_web_fill (r->self->code_channel ? "find-link.html" : "find-desk.html", vars));
  pv_web_vars_text (vars, "event", pv_event_get_name (event));
  reply_page (r, SOUP_STATUS_OK, pv_event_get_name (event), pv_hub_web_fill ("index.html", vars));
}

/* ---- Registering ---- */

typedef enum
{
  FIELD_NAME,
  FIELD_PHONE,
  FIELD_CATEGORY,
  FIELD_DAY,
  FIELD_PARTY,
  N_FIELDS
} Field;

static const char *const field_names[N_FIELDS] = { "name", "phone", "category", "day", "party" };

typedef struct
{
  const char *value[N_FIELDS]; /* as sent, borrowed from the form */
  PvWebMarkup *error[N_FIELDS];
  gboolean invalid;
  /* When it is valid: */
  char *name;
  char *phone;
  const PvCategory *category; /* borrowed from the event */
  int day;
  guint party;
} RegisterForm;

static void
register_form_clear (RegisterForm *form)
{
  for (guint f = 0; f < N_FIELDS; f++)
    pv_web_markup_free (form->error[f]);
  g_free (form->name);
  g_free (form->phone);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RegisterForm, register_form_clear)

static void
field_error (RegisterForm *form, Field field, PvWebMarkup *message)
{
  if (form->error[field] != NULL)
    return pv_web_markup_free (message);
  form->error[field] = message;
  form->invalid = TRUE;
}

static void
field_vars (PvWebVars *vars, const char *name, const char *value, PvWebMarkup *error)
{
  g_autofree char *error_name = g_strconcat (name, "_error", NULL);
  g_autofree char *invalid_name = g_strconcat (name, "_invalid", NULL);
  g_autofree char *state_name = g_strconcat (name, "_state", NULL);

  if (value != NULL)
    pv_web_vars_text (vars, name, value);
  pv_web_vars_markup (vars, error_name, error ? pv_web_markup_copy (error) : NULL);
  pv_web_vars_text (vars, invalid_name, error ? "true" : "false");
  pv_web_vars_text (vars, state_name, error ? " invalid" : "");
}

/* The errors above the form, each a link to its field. */
static PvWebMarkup *
error_summary (PvWebVars *page, PvWebMarkup *const *errors, const char *const *anchors, guint n)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new_like (page);
  PvWebMarkup *items = pv_web_markup_new ();
  gboolean any = FALSE;

  for (guint i = 0; i < n; i++)
    if (errors[i] != NULL)
      {
        g_autoptr (PvWebVars) item = pv_web_vars_new_like (page);

        pv_web_vars_text (item, "field", anchors[i]);
        pv_web_vars_markup (item, "message", pv_web_markup_copy (errors[i]));
        pv_web_markup_append (items, pv_hub_web_fill ("error-link.html", item));
        any = TRUE;
      }
  if (!any)
    {
      pv_web_markup_free (items);
      return pv_web_markup_new ();
    }
  pv_web_vars_markup (vars, "items", items);
  return pv_hub_web_fill ("errors.html", vars);
}

static char *
error_title (PvWebVars *vars, const char *title_key, gboolean invalid)
{
  const char *title = pv_web_vars_lookup (vars, title_key);

  return invalid ? g_strdup_printf ("%s: %s", pv_web_vars_lookup (vars, "error_prefix"), title)
                 : g_strdup (title);
}

static void
reply_closed (Request *r, gboolean no_categories)
{
  reply_said (r, SOUP_STATUS_OK, "register_title", no_categories ? "no_categories" : "closed", "/", "back_home");
}

static void
reply_register_form (Request *r, RegisterForm *form, guint status)
{
  static const char *const anchors[N_FIELDS] = { "name", "phone", "category", "day", "party" };
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autoptr (GPtrArray) open = NULL;
  g_autofree char *token = NULL, *title = NULL;
  PvWebMarkup *choices, *days;
  guint party_max = 1;
  int first, n;

  if (event == NULL)
    return reply_not_found (r);
  open = open_categories (r->self, event);
  first = first_open_day (r->self, event);
  n = (int) pv_event_get_n_days (event);
  if (first >= n || open->len == 0)
    return reply_closed (r, open->len == 0);

  token = pv_web_form_token (r->self->key, r->nonce, g_get_real_time () / G_USEC_PER_SEC);
  pv_web_vars_text (vars, "csrf", token);
  field_vars (vars, "name", form->value[FIELD_NAME] ? form->value[FIELD_NAME] : "", form->error[FIELD_NAME]);
  field_vars (vars, "phone", form->value[FIELD_PHONE] ? form->value[FIELD_PHONE] : "", form->error[FIELD_PHONE]);
  field_vars (vars, "category", NULL, form->error[FIELD_CATEGORY]);
  field_vars (vars, "day", NULL, form->error[FIELD_DAY]);
  field_vars (vars, "party", form->value[FIELD_PARTY] ? form->value[FIELD_PARTY] : "1", form->error[FIELD_PARTY]);

  choices = pv_web_markup_new ();
  for (guint i = 0; i < open->len; i++)
    {
      const PvCategory *category = g_ptr_array_index (open, i);
      g_autoptr (PvWebVars) item = page_vars (r);
      g_autoptr (GPtrArray) allows = category_allows (vars, category);
      g_autofree char *id = g_strdup_printf ("%u", category->id);
      g_autofree char *sentence = NULL;

      g_ptr_array_add (allows, NULL);
      sentence = g_strjoinv (" · ", (char **) allows->pdata);
      pv_web_vars_text (item, "id", id);
      pv_web_vars_text (item, "name", category_name (vars, category));
      pv_web_vars_text (item, "allows", sentence);
      pv_web_vars_text (item, "needs_day", category->validity == PV_VALIDITY_CHOSEN_DAY ? "yes" : "no");
      pv_web_vars_text (item, "party", category->max_party > 1 ? "many" : "one");
      pv_web_vars_text (item, "checked",
                        g_strcmp0 (form->value[FIELD_CATEGORY], id) == 0 || open->len == 1 ? "checked" : "");
      pv_web_markup_append (choices, pv_hub_web_fill ("category-choice.html", item));
      party_max = MAX (party_max, category->max_party);
    }
  pv_web_vars_markup (vars, "categories", choices);
  pv_web_vars_int (vars, "party_max", form->category ? form->category->max_party : party_max);

  days = pv_web_markup_new ();
  for (int d = first; d < n; d++)
    {
      g_autoptr (PvWebVars) option = page_vars (r);
      g_autofree char *iso = pv_event_day_date (event, d);
      g_autofree char *label = format_day (vars, event, d);

      pv_web_vars_text (option, "value", iso);
      pv_web_vars_text (option, "label", label);
      pv_web_vars_text (option, "selected", g_strcmp0 (form->value[FIELD_DAY], iso) == 0 ? "selected" : "");
      pv_web_markup_append (days, pv_hub_web_fill ("day-option.html", option));
    }
  pv_web_vars_markup (vars, "days", days);
  pv_web_vars_markup (vars, "summary", error_summary (vars, form->error, anchors, N_FIELDS));
  title = error_title (vars, "register_title", form->invalid);
  reply_page (r, status, title, pv_hub_web_fill ("register.html", vars));
}

/* A name as people write them: letters of any script, spaces,
 * punctuation; no control or invisible formatting characters (which could
 * disguise it on a desk's screen), except the joiners Indian scripts
 * need. */
static gboolean
name_chars_ok (const char *name)
{
  for (const char *p = name; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (c);

      if (type == G_UNICODE_CONTROL || type == G_UNICODE_SURROGATE || type == G_UNICODE_UNASSIGNED
          || type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR
          || (type == G_UNICODE_FORMAT && c != 0x200C && c != 0x200D))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_small_number (const char *text, guint max_digits, guint *out)
{
  gsize len = text ? strlen (text) : 0;

  if (len == 0 || len > max_digits)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  *out = (guint) g_ascii_strtoull (text, NULL, 10);
  return TRUE;
}

static PvWebMarkup *
say_error (Request *r, const char *key, guint max)
{
  g_autoptr (PvWebVars) vars = page_vars (r);

  pv_web_vars_int (vars, "max", max);
  return pv_web_say (vars, key);
}

/* What to say beside a phone field of @phone (normalised) when the fair
 * sends nothing to its country, else NULL: said before anything is
 * written or queued. */
static PvWebMarkup *
phone_country_error (Request *r, const char *phone)
{
  g_autoptr (PvWebVars) vars = NULL;

  if (pv_hub_outbox_sends_to (r->self->outbox, phone))
    return NULL;
  vars = page_vars (r);
  pv_web_vars_text (vars, "countries", pv_hub_outbox_get_countries (r->self->outbox));
  return pv_web_say (vars, "err_phone_country");
}

/* Checks the fields into @form; the messages say what to change. */
static void
check_register_form (Request *r, GHashTable *fields, RegisterForm *form)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (GPtrArray) open = open_categories (r->self, event);
  g_autofree char *trimmed = NULL, *phone = NULL;
  PvWebMarkup *country;
  guint id = 0, party = 0;
  int first = first_open_day (r->self, event);

  for (guint f = 0; f < N_FIELDS; f++)
    form->value[f] = g_hash_table_lookup (fields, field_names[f]);

  trimmed = g_strstrip (g_strdup (form->value[FIELD_NAME] ? form->value[FIELD_NAME] : ""));
  form->name = g_utf8_normalize (trimmed, -1, G_NORMALIZE_NFC);
  if (*form->name == '\0')
    field_error (form, FIELD_NAME, say_error (r, "err_name_missing", 0));
  else if (g_utf8_strlen (form->name, -1) > NAME_MAX_CHARS)
    field_error (form, FIELD_NAME, say_error (r, "err_name_long", 0));
  /* What a ticket keeps is counted in bytes too: 51 emoji (4 bytes
   * each) are more than it takes, and would otherwise fail only at the
   * issue. */
  else if (strlen (form->name) > PV_TICKET_NAME_MAX_BYTES)
    field_error (form, FIELD_NAME, say_error (r, "err_name_bytes", 0));
  else if (!name_chars_ok (form->name))
    field_error (form, FIELD_NAME, say_error (r, "err_name_chars", 0));

  phone = g_strstrip (g_strdup (form->value[FIELD_PHONE] ? form->value[FIELD_PHONE] : ""));
  if (*phone == '\0')
    field_error (form, FIELD_PHONE, say_error (r, "err_phone_missing", 0));
  else if (strlen (form->value[FIELD_PHONE]) > PHONE_MAX_BYTES
           || (form->phone = pv_normalize_phone (form->value[FIELD_PHONE], NULL)) == NULL)
    field_error (form, FIELD_PHONE, say_error (r, "err_phone", 0));
  /* A ticket is sent to, and found again by, its phone: a number the fair
   * sends nothing to is no use, and a door to messages it pays for. */
  else if ((country = phone_country_error (r, form->phone)) != NULL)
    field_error (form, FIELD_PHONE, country);

  if (parse_small_number (form->value[FIELD_CATEGORY], 3, &id))
    for (guint i = 0; i < open->len && !form->category; i++)
      if (((const PvCategory *) g_ptr_array_index (open, i))->id == id)
        form->category = g_ptr_array_index (open, i);
  if (form->category == NULL)
    field_error (form, FIELD_CATEGORY, say_error (r, "err_category", 0));

  form->day = -1;
  if (form->category && form->category->validity == PV_VALIDITY_CHOSEN_DAY)
    {
      const char *day = form->value[FIELD_DAY];

      if (day == NULL || *day == '\0')
        field_error (form, FIELD_DAY, say_error (r, "err_day_missing", 0));
      else if (strlen (day) != 10 || !pv_event_parse_day (event, day, &form->day, NULL) || form->day < first)
        field_error (form, FIELD_DAY, say_error (r, "err_day", 0));
    }

  /* A personal ticket admits one, whatever a hidden field still says. */
  if (form->category && form->category->max_party <= 1)
    party = 1;
  else if (!parse_small_number (form->value[FIELD_PARTY], 4, &party) || party < 1
           || party > (form->category ? form->category->max_party : PV_MAX_PARTY))
    field_error (form, FIELD_PARTY,
                 say_error (r, "err_party", form->category ? form->category->max_party : PV_MAX_PARTY));
  form->party = party;
}

typedef struct
{
  Request *request;
  GPtrArray *repeats; /* Request: the same form sent again meanwhile */
  char *key;          /* in PvHubWeb's submitted */
  char *name;
  char *phone;
  char *category;
  int day;
  guint party;
  GPtrArray *issued;
  GError *error;
} Registration;

/* A form sent before, by its token and fields: a second tap on a slow
 * network, or the browser sending it again, gets the first one's ticket,
 * not a second ticket. Kept in the order they came, and forgotten from the
 * oldest: once their form's token has expired, or when there are more
 * than [web] remembered-forms. */
typedef struct
{
  Registration *pending; /* until it is answered */
  guint16 issuer;
  guint32 serial;
  gint64 at;  /* monotonic µs */
  char *key;  /* owned; the table's key too */
  GList link; /* in PvHubWeb's submitted_order */
} Submitted;

static Submitted *
submitted_add (PvHubWeb *self, char *key)
{
  Submitted *submitted = g_new0 (Submitted, 1);

  submitted->key = key;
  submitted->at = g_get_monotonic_time ();
  submitted->link.data = submitted;
  g_hash_table_insert (self->submitted, submitted->key, submitted);
  g_queue_push_tail_link (&self->submitted_order, &submitted->link);
  return submitted;
}

static void
submitted_remove (PvHubWeb *self, Submitted *submitted)
{
  g_hash_table_remove (self->submitted, submitted->key);
  g_queue_unlink (&self->submitted_order, &submitted->link);
  g_free (submitted->key);
  g_free (submitted);
}

/* Makes room for one more, from the oldest; the work is what is forgotten.
 * One still being issued is kept (its answer finds it), whatever its age:
 * it is answered within a turn of the main loop. */
static void
forget_old_submissions (PvHubWeb *self)
{
  gint64 now = g_get_monotonic_time ();
  GList *l = self->submitted_order.head;

  while (l != NULL)
    {
      Submitted *submitted = l->data;
      GList *next = l->next;

      /* A form's token is no good after its lifetime anyway. */
      if (now - submitted->at <= (gint64) FORM_LIFETIME_S * G_USEC_PER_SEC
          && self->submitted_order.length < self->max_submitted)
        break;
      if (submitted->pending == NULL)
        submitted_remove (self, submitted);
      l = next;
    }
}

static void
registration_free (Registration *reg)
{
  request_free (reg->request);
  g_ptr_array_unref (reg->repeats);
  g_free (reg->key);
  g_free (reg->name);
  g_free (reg->phone);
  g_free (reg->category);
  g_clear_pointer (&reg->issued, g_ptr_array_unref);
  g_clear_error (&reg->error);
  g_free (reg);
}

static GPtrArray *
issue (PvStore *store, Registration *reg, GError **error)
{
  PvIssueRequest request = {
    .category = reg->category,
    .day = reg->day,
    .party = reg->party,
    .name = reg->name,
    .phone = reg->phone,
    .channel = "web",
  };

  return pv_tickets_issue (store, &request, error);
}

static void
reply_to_ticket (Request *r, guint16 issuer, guint32 serial)
{
  g_autofree char *token = ticket_token (r->self, issuer, serial);
  g_autofree char *location = g_strdup_printf ("/ticket/view?t=%s", token);

  reply_redirect (r, location);
}

static void
answer_registration (PvHubWeb *self, Registration *reg)
{
  Submitted *submitted = g_hash_table_lookup (self->submitted, reg->key);

  if (reg->issued != NULL && reg->issued->len == 1)
    {
      PvIssuedTicket *ticket = g_ptr_array_index (reg->issued, 0);

      g_info ("Web registration: ticket %s (%s)", ticket->serial, reg->category);
      submitted->pending = NULL;
      submitted->issuer = ticket->ticket.issuer;
      submitted->serial = ticket->ticket.serial;
      reply_to_ticket (reg->request, ticket->ticket.issuer, ticket->ticket.serial);
      for (guint i = 0; i < reg->repeats->len; i++)
        reply_to_ticket (g_ptr_array_index (reg->repeats, i), ticket->ticket.issuer, ticket->ticket.serial);
    }
  else
    {
      /* Nothing was written. The reason is the store's (or a change of
       * the event since the form was checked), never the visitor's; the
       * same form may be sent again. */
      g_warning ("Web registration failed: %s", reg->error ? reg->error->message : "no ticket");
      submitted_remove (self, submitted);
      reply_said (reg->request, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/register",
                  "fill_again");
      for (guint i = 0; i < reg->repeats->len; i++)
        reply_said (g_ptr_array_index (reg->repeats, i), SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text",
                    "/register", "fill_again");
    }
  soup_server_message_unpause (reg->request->msg);
  for (guint i = 0; i < reg->repeats->len; i++)
    soup_server_message_unpause (((Request *) g_ptr_array_index (reg->repeats, i))->msg);
}

/* Issues every waiting registration in one transaction and commits once;
 * if the group fails, each is tried alone so one bad request costs nobody
 * else their ticket. */
static gboolean
flush_registrations (gpointer user_data)
{
  PvHubWeb *self = user_data;
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  GQueue group = G_QUEUE_INIT;
  gboolean ok, any = FALSE;

  self->flush_id = 0;
  for (guint n = 0; n < MAX_GROUP && !g_queue_is_empty (&self->pending); n++)
    g_queue_push_tail (&group, g_queue_pop_head (&self->pending));
  if (!g_queue_is_empty (&self->pending))
    self->flush_id = g_idle_add_full (G_PRIORITY_HIGH, flush_registrations, self, NULL);

  ok = pv_store_begin (store, TRUE, &error);
  for (GList *l = group.head; ok && l; l = l->next)
    {
      Registration *reg = l->data;
      ok = (reg->issued = issue (store, reg, &error)) != NULL;
    }
  ok = ok && pv_store_commit (store, &error);
  if (!ok)
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      for (GList *l = group.head; l; l = l->next)
        {
          Registration *reg = l->data;
          g_clear_pointer (&reg->issued, g_ptr_array_unref);
          reg->issued = issue (store, reg, &reg->error);
          any = any || reg->issued != NULL;
        }
    }
  if (ok || any)
    pv_store_watch_notify (self->hub->watch);
  for (GList *l = group.head; l; l = l->next)
    {
      answer_registration (self, l->data);
      registration_free (l->data);
    }
  g_queue_clear (&group);
  return G_SOURCE_REMOVE;
}

static void
handle_register (Request *r, const char *client, const char *network)
{
  PvHubWeb *self = r->self;
  g_autoptr (GHashTable) fields = NULL;
  g_auto (RegisterForm) form = { 0 };
  g_autofree char *key = NULL;
  Submitted *submitted;
  Registration *reg;
  gint64 wait;

  if (!g_str_equal (soup_server_message_get_method (r->msg), "POST"))
    return reply_register_form (r, &form, SOUP_STATUS_OK);
  if (!pv_web_limit_take (&self->posts, client, g_get_monotonic_time (), &wait))
    return reply_too_many (r, wait);
  if ((fields = read_checked_form (r)) == NULL)
    return;
  if (pv_store_get_event (self->hub->store, NULL) == NULL)
    return reply_not_found (r);
  check_register_form (r, fields, &form);
  if (form.invalid)
    return reply_register_form (r, &form, SOUP_STATUS_UNPROCESSABLE_ENTITY);
  /* The token alone is not the key: two tabs opened in the same second
   * share one; the same token with the same fields is the same form. */
  key = g_strdup_printf ("%s\n%s\n%s\n%u\n%d\n%u", (const char *) g_hash_table_lookup (fields, "csrf"), form.name,
                         form.phone, form.category->id, form.day, form.party);
  if ((submitted = g_hash_table_lookup (self->submitted, key)) != NULL && submitted->pending)
    {
      r->deferred = TRUE;
      soup_server_message_pause (r->msg);
      g_ptr_array_add (submitted->pending->repeats, r);
      return;
    }
  if (submitted != NULL)
    return reply_to_ticket (r, submitted->issuer, submitted->serial);
  /* Only a new ticket counts here — not pages, nor the same form again —,
   * per phone, per network and for everyone: each is replicated to every
   * gate, so many addresses (or one with many) must not be able to make
   * them without end. */
  if (!pv_web_limits_take ((PvWebLimit *const[]){ &self->phones, &self->networks, &self->tickets },
                           (const char *const[]){ form.phone, network, "all" }, 3,
                           g_get_monotonic_time (), &wait))
    return reply_too_many (r, wait);

  forget_old_submissions (self);
  reg = g_new0 (Registration, 1);
  reg->request = r;
  reg->repeats = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  reg->key = g_strdup (key);
  submitted = submitted_add (self, g_steal_pointer (&key));
  submitted->pending = reg;
  r->deferred = TRUE;
  reg->name = g_steal_pointer (&form.name);
  reg->phone = g_steal_pointer (&form.phone);
  reg->category = g_strdup (form.category->name);
  reg->day = form.day;
  reg->party = form.party;
  soup_server_message_pause (r->msg);
  g_queue_push_tail (&self->pending, reg);
  /* Runs first in the loop's next turn, once the requests read in this
   * one have queued: they share one commit, and no flood of other
   * requests holds a visitor's ticket back. */
  if (self->flush_id == 0)
    self->flush_id = g_idle_add_full (G_PRIORITY_HIGH, flush_registrations, self, NULL);
}

/* ---- Tickets ---- */

static char *
ticket_valid_text (PvWebVars *vars, PvEvent *event, const PvTicketInfo *info, const PvCategory *category)
{
  if (info->day != PV_TICKET_DAY_NONE)
    return format_day (vars, event, info->day);
  return g_strdup (pv_web_vars_lookup (vars,
                                       category && category->validity == PV_VALIDITY_ANY_ONE_DAY ? "valid_any_day"
                                                                                                 : "valid_every_day"));
}

static PvWebMarkup *
ticket_card (Request *r, const PvTicketInfo *info, const char *token)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  const PvCategory *category = pv_event_get_category (event, info->category);
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *valid = ticket_valid_text (vars, event, info, category);

  pv_web_vars_text (vars, "serial", info->serial_text);
  pv_web_vars_text (vars, "category", category ? category_name (vars, category) : "?");
  pv_web_vars_text (vars, "valid", valid);
  pv_web_vars_int (vars, "party", info->party);
  pv_web_vars_text (vars, "name", info->name && *info->name ? info->name : "—");
  if (info->revoked)
    {
      /* No code to show, save or send: the gates refuse it. */
      g_autoptr (PvWebVars) notice = page_vars (r);
      pv_web_vars_markup (notice, "text", pv_web_say (notice, "revoked"));
      pv_web_vars_markup (vars, "status", pv_hub_web_fill ("notice.html", notice));
      pv_web_vars_markup (vars, "qr", NULL);
      pv_web_vars_markup (vars, "download", NULL);
      pv_web_vars_markup (vars, "whatsapp", NULL);
      return pv_hub_web_fill ("ticket-card.html", vars);
    }
  {
    g_autoptr (PvWebVars) figure = page_vars (r);
    g_autoptr (PvWebVars) download = page_vars (r);
    g_autoptr (GError) error = NULL;
    g_autofree char *label = NULL;
    PvWebMarkup *qr = pv_web_markup_qr (info->code, &error);

    if (qr == NULL)
      g_warning ("No QR code for ticket %s: %s", info->serial_text, error->message);
    pv_web_vars_text (figure, "serial", info->serial_text);
    label = pv_web_say_plain (figure, "qr_label");
    pv_web_vars_text (figure, "qr_label", label);
    pv_web_vars_markup (figure, "qr", qr);
    pv_web_vars_markup (vars, "qr", pv_hub_web_fill ("ticket-qr.html", figure));
    pv_web_vars_text (download, "serial", info->serial_text);
    pv_web_vars_text (download, "token", token);
    pv_web_vars_markup (vars, "download", pv_hub_web_fill ("ticket-download.html", download));
  }
  pv_web_vars_markup (vars, "status", NULL);
  /* Not sent from here to the number the form named, which anyone could
   * have typed: the visitor writes to the fair's number from the phone
   * the ticket was issued to, and the bot answers with it (its "ticket"
   * word, prefilled in the chat), so nothing goes to a number that did
   * not ask, and the answer costs nothing inside WhatsApp's window. */
  if (r->self->whatsapp_chat != NULL && info->phone != NULL)
    {
      g_autoptr (PvWebVars) link = page_vars (r);
      g_autofree char *word = g_uri_escape_string (pv_web_templates_lookup (r->self->templates, r->lang, "whatsapp_word"), NULL, FALSE);
      g_autofree char *href = g_strconcat (r->self->whatsapp_chat, word, NULL);

      pv_web_vars_text (link, "href", href);
      pv_web_vars_markup (vars, "whatsapp", pv_hub_web_fill ("whatsapp-link.html", link));
    }
  else
    pv_web_vars_markup (vars, "whatsapp", NULL);
  return pv_hub_web_fill ("ticket-card.html", vars);
}

static void
reply_tickets (Request *r, PvWebMarkup *cards, guint count)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *heading = g_strdup (pv_web_templates_lookup (r->self->templates, r->lang, count > 1 ? "tickets_title" : "ticket_title"));

  pv_web_vars_text (vars, "heading", heading);
  if (count == 0)
    {
      g_autoptr (PvWebVars) notice = page_vars (r);
      pv_web_vars_markup (notice, "text", pv_web_say (notice, "no_tickets"));
      pv_web_vars_markup (vars, "notice", pv_hub_web_fill ("notice.html", notice));
    }
  else
    pv_web_vars_markup (vars, "notice", NULL);
  pv_web_vars_markup (vars, "cards", cards);
  reply_page (r, SOUP_STATUS_OK, heading, pv_hub_web_fill ("ticket.html", vars));
}

static void
reply_link_expired (Request *r)
{
  if (r->self->code_channel == NULL)
    return reply_said (r, SOUP_STATUS_NOT_FOUND, "lookup_title", "link_expired_desk", "/", "back_home");
  reply_said (r, SOUP_STATUS_NOT_FOUND, "lookup_title", "link_expired", "/ticket", "lookup_title");
}

/* The ticket a link names, or FALSE after answering. */
static gboolean
ticket_from_token (Request *r, const char *token, PvTicketInfo *info)
{
  g_autoptr (GError) error = NULL;
  guint16 issuer;
  guint32 serial;

  memset (info, 0, sizeof *info);
  if (!pv_web_ticket_token_parse (r->self->key, token, g_get_real_time () / G_USEC_PER_SEC, &issuer, &serial))
    return reply_link_expired (r), FALSE;
  if (!pv_tickets_lookup (r->self->hub->store, issuer, serial, info, &error))
    {
      g_warning ("Cannot look up a ticket: %s", error->message);
      reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/", "back_home");
      return FALSE;
    }
  if (!info->known || info->code == NULL)
    return pv_ticket_info_clear (info), reply_link_expired (r), FALSE;
  return TRUE;
}

static void
handle_view (Request *r, GHashTable *query)
{
  const char *token = query ? g_hash_table_lookup (query, "t") : NULL;
  g_auto (PvTicketInfo) info = { 0 };

  if (!ticket_from_token (r, token, &info))
    return;
  reply_tickets (r, ticket_card (r, &info, token), 1);
}

static cairo_status_t
write_png_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static void
handle_png (Request *r, GHashTable *query)
{
  g_auto (PvTicketInfo) info = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) png = NULL;
  g_autofree char *disposition = NULL;
  cairo_surface_t *surface;

  if (!ticket_from_token (r, query ? g_hash_table_lookup (query, "t") : NULL, &info))
    return;
  /* A link made before the ticket was revoked gives no code to keep. */
  if (info.revoked)
    return reply_said (r, SOUP_STATUS_GONE, "revoked_title", "revoked", "/", "back_home");
  if ((surface = pv_qr_render (info.code, PNG_MODULE_PX, &error)) == NULL)
    {
      g_warning ("No QR code for ticket %s: %s", info.serial_text, error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/", "back_home");
    }
  png = g_byte_array_new ();
  cairo_surface_write_to_png_stream (surface, write_png_cb, png);
  cairo_surface_destroy (surface);
  set_common_headers (r);
  disposition = g_strdup_printf ("attachment; filename=\"ticket-%s.png\"", info.serial_text);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Content-Disposition", disposition);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Cache-Control", "no-store");
  soup_server_message_set_status (r->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (r->msg, "image/png", SOUP_MEMORY_COPY, (const char *) png->data, png->len);
}

/* ---- Finding tickets again ---- */

/* The forms take the error (or NULL) they show. */

static void
reply_lookup_form (Request *r, const char *phone, PvWebMarkup *taken_error, guint status)
{
  static const char *const anchors[] = { "phone" };
  g_autoptr (PvWebMarkup) error = taken_error;
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *csrf = pv_web_form_token (r->self->key, r->nonce, g_get_real_time () / G_USEC_PER_SEC);
  g_autofree char *title = error_title (vars, "lookup_title", error != NULL);

  pv_web_vars_text (vars, "csrf", csrf);
  field_vars (vars, "phone", phone ? phone : "", error);
  pv_web_vars_markup (vars, "summary", error_summary (vars, &error, anchors, 1));
  reply_page (r, status, title, pv_hub_web_fill ("lookup.html", vars));
}

static void
reply_code_form (Request *r, const char *phone, PvWebMarkup *taken_error, guint status)
{
  static const char *const anchors[] = { "code" };
  g_autoptr (PvWebMarkup) error = taken_error;
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *csrf = pv_web_form_token (r->self->key, r->nonce, g_get_real_time () / G_USEC_PER_SEC);
  g_autofree char *title = error_title (vars, "lookup_title", error != NULL);

  pv_web_vars_text (vars, "csrf", csrf);
  pv_web_vars_text (vars, "phone", phone);
  pv_web_vars_markup (vars, "sent", pv_web_say (vars, "code_sent"));
  field_vars (vars, "code", NULL, error);
  pv_web_vars_markup (vars, "summary", error_summary (vars, &error, anchors, 1));
  reply_page (r, status, title, pv_hub_web_fill ("lookup-code.html", vars));
}

/* The phone asks for a code: made and queued in one transaction, or, for
 * a phone with no tickets, nothing, with the same answer. */
static void
lookup_request_code (Request *r, const char *phone)
{
  PvHubWeb *self = r->self;
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  g_autofree char *normal = NULL;
  char code[PV_VISITOR_CODE_DIGITS + 1];
  PvWebMarkup *refusal;
  gint64 retry_at = 0;

  if (phone == NULL || strlen (phone) > PHONE_MAX_BYTES || !(normal = pv_normalize_phone (phone, NULL)))
    return reply_lookup_form (r, phone, say_error (r, phone && *phone ? "err_phone" : "err_phone_missing", 0),
                              SOUP_STATUS_UNPROCESSABLE_ENTITY);
  /* The code is a paid message: refused here, nothing counted or queued,
   * when the worker would refuse it (pv-hub-outbox.h). */
  if ((refusal = phone_country_error (r, normal)) != NULL)
    return reply_lookup_form (r, phone, refusal, SOUP_STATUS_UNPROCESSABLE_ENTITY);
  if (pv_hub_outbox_reach (self->outbox, normal) == PV_HUB_OUTBOX_OVER_BUDGET)
    return reply_lookup_form (r, phone, say_error (r, "err_code_budget", 0), SOUP_STATUS_SERVICE_UNAVAILABLE);
  if (!pv_store_begin (store, TRUE, &error) || !pv_visitor_code_request (store, normal, code, &retry_at, &error))
    {
      if (g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION))
        return reply_too_many (r, MAX (retry_at - pv_store_now (store), G_USEC_PER_SEC));
      g_warning ("Cannot make a visitor's code: %s", error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
    }
  if (code[0] != '\0')
    {
      g_autoptr (PvWebVars) vars = page_vars (r);
      g_autofree char *body = NULL;
      gboolean queued;

      pv_web_vars_text (vars, "event", event_name (self));
      pv_web_vars_text (vars, "code", code);
      body = pv_web_say_plain (vars, "code_message");
      queued = pv_outbox_enqueue_code (store, self->code_channel, normal, body, code, NULL, &error);
      sodium_memzero (code, sizeof code);
      sodium_memzero (body, strlen (body));
      if (!queued)
        {
          pv_store_rollback (store);
          g_warning ("Cannot queue a visitor's code: %s", error->message);
          return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
        }
    }
  if (!pv_store_commit (store, &error))
    {
      g_warning ("Cannot make a visitor's code: %s", error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
    }
  if (self->outbox)
    pv_hub_outbox_kick (self->outbox);
  reply_code_form (r, normal, NULL, SOUP_STATUS_OK);
}

/* The code typed for a phone by @guesser (pv_web_client_keys ()). Wrong ones
 * count against the code sent (pv-visitor-codes.h) and against the
 * guesser, for this phone and for any: one that guesses is locked out for
 * longer and longer, while the phone's owner, elsewhere, is not touched.
 * While locked out nothing is checked, and nothing counted. */
static void
lookup_verify_code (Request *r, const char *guesser, const char *phone, const char *code)
{
  PvHubWeb *self = r->self;
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = NULL;
  g_autofree char *normal = NULL, *typed = g_strstrip (g_strdup (code ? code : "")), *pair = NULL;
  gint64 now = g_get_monotonic_time (), retry_at = 0, wait;
  PvWebMarkup *cards;
  guint count = 0;

  if (phone == NULL || strlen (phone) > PHONE_MAX_BYTES || !(normal = pv_normalize_phone (phone, NULL)))
    return reply_bad_form (r);
  pair = g_strconcat (normal, " ", guesser, NULL);
  wait = MAX (pv_web_guess_wait (&self->guesses, pair, now), pv_web_guess_wait (&self->guessers, guesser, now));
  if (wait > 0)
    return reply_too_many (r, wait);
  if (!pv_visitor_code_verify (store, normal, typed, &retry_at, &error))
    {
      if (retry_at > 0)
        return reply_too_many (r, MAX (retry_at - pv_store_now (store), G_USEC_PER_SEC));
      if (!g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION))
        g_warning ("Cannot check a visitor's code: %s", error->message);
      else
        {
          pv_web_guess_strike (&self->guesses, pair, now);
          pv_web_guess_strike (&self->guessers, guesser, now);
        }
      return reply_code_form (r, normal, say_error (r, "err_code", 0), SOUP_STATUS_UNPROCESSABLE_ENTITY);
    }
  pv_web_guess_forgive (&self->guesses, pair);
  if (!(found = pv_tickets_search (store, normal, MAX_SHOWN_TICKETS * 2, &error)))
    {
      g_warning ("Cannot look up a visitor's tickets: %s", error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
    }
  cards = pv_web_markup_new ();
  for (guint i = 0; i < found->len && count < MAX_SHOWN_TICKETS; i++)
    {
      PvTicketInfo *info = g_ptr_array_index (found, i);
      g_autofree char *token = NULL;

      /* The search pools readings (a name may contain the digits): only
       * the tickets issued to this very phone. */
      if (!info->known || info->code == NULL || g_strcmp0 (info->phone, normal) != 0)
        continue;
      token = ticket_token (self, info->issuer, info->serial);
      pv_web_markup_append (cards, ticket_card (r, info, token));
      count++;
    }
  reply_tickets (r, cards, count);
}

static void
handle_lookup (Request *r, const char *client, const char *guesser)
{
  g_autoptr (GHashTable) fields = NULL;
  const char *step;
  gint64 wait;

  /* Nothing can send a visitor the code: the desk finds tickets again. */
  if (r->self->code_channel == NULL)
    return reply_said (r, SOUP_STATUS_OK, "lookup_title", "lookup_desk", "/", "back_home");
  if (!g_str_equal (soup_server_message_get_method (r->msg), "POST"))
    return reply_lookup_form (r, NULL, NULL, SOUP_STATUS_OK);
  if (!pv_web_limit_take (&r->self->posts, client, g_get_monotonic_time (), &wait))
    return reply_too_many (r, wait);
  if ((fields = read_checked_form (r)) == NULL)
    return;
  step = g_hash_table_lookup (fields, "step");
  if (g_strcmp0 (step, "code") == 0)
    lookup_request_code (r, g_hash_table_lookup (fields, "phone"));
  else if (g_strcmp0 (step, "verify") == 0)
    lookup_verify_code (r, guesser, g_hash_table_lookup (fields, "phone"), g_hash_table_lookup (fields, "code"));
  else
    reply_bad_form (r);
}

/* ---- Dispatch ---- */

static void
reply_css (Request *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (r->msg);

  set_common_headers (r);
  soup_message_headers_replace (headers, "Cache-Control", "public, max-age=3600");
  soup_server_message_set_status (r->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (r->msg, "text/css; charset=utf-8", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (r->self->css, NULL), g_bytes_get_size (r->self->css));
}

static void
reply_wrong_method (Request *r, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Allow", allow);
  reply_said (r, SOUP_STATUS_METHOD_NOT_ALLOWED, "e400_title", "e405_text", "/", "back_home");
}

void
pv_hub_web_handle (PvHubWeb *self,
                   SoupServerMessage *msg,
                   const char *path,
                   GHashTable *query,
                   const PvHubRoute *route)
{
  g_autofree char *client = NULL, *network = NULL, *guesser = NULL;
  Request *r;
  gint64 wait;

  /* The machines' paths answer machines. */
  if (g_str_has_prefix (path, "/api/") || g_str_has_prefix (path, "/sync/") || g_str_has_prefix (path, "/webhooks/"))
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such endpoint");
  pv_store_refresh (self->hub->store);
  r = request_new (self, msg, path, query);
  pv_web_client_keys (msg, &client, &network, &guesser);
  if (!pv_web_limit_take (&self->pages, client, g_get_monotonic_time (), &wait))
    reply_too_many (r, wait);
  else if (route == NULL)
    reply_not_found (r);
  else if (!pv_hub_route_allows (route, soup_server_message_get_method (msg)))
    reply_wrong_method (r, route->methods);
  else if (g_str_equal (path, "/static/style.css"))
    reply_css (r);
  else if (g_str_equal (path, "/"))
    handle_index (r);
  else if (g_str_equal (path, "/register"))
    handle_register (r, client, network);
  else if (g_str_equal (path, "/ticket"))
    handle_lookup (r, client, guesser);
  else if (g_str_equal (path, "/ticket/view"))
    handle_view (r, query);
  else if (g_str_equal (path, "/ticket.png"))
    handle_png (r, query);
  else
    reply_not_found (r);
  if (!r->deferred)
    request_free (r);
}

/* ---- Settings ---- */

static gboolean
setting_number (GKeyFile *config, const char *key, gint64 fallback, gint64 max, gint64 *out, GError **error)
{
  guint value;

  if (!pv_hub_config_uint (config, GROUP, key, (guint) fallback, 1, (guint) max, &value, error))
    return FALSE;
  *out = value;
  return TRUE;
}

/* The channel codes to find tickets again go by: @wanted if it can reach
 * a visitor who never wrote to us, else the other one if that can; NULL
 * when neither can (the pages then send visitors to the desk). */
static char *
choose_code_channel (PvHubWeb *self, const char *wanted)
{
  const char *order[] = { wanted ? wanted : PV_DELIVERY_SMS,
                          g_strcmp0 (wanted, PV_DELIVERY_WHATSAPP) == 0 ? PV_DELIVERY_SMS : PV_DELIVERY_WHATSAPP };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (pv_hub_outbox_can_reach_anyone (self->outbox, order[i], PV_OUTBOX_CODE))
      {
        if (wanted != NULL && i > 0)
          g_message ("[" GROUP "] code-channel = %s cannot reach a visitor who never wrote to us; codes to find "
                     "tickets again go by %s",
                     wanted, order[i]);
        return g_strdup (order[i]);
      }
  /* A visitor who registered on this page has not written to the WhatsApp
   * number: outside that 24-hour window WhatsApp takes only approved
   * templates. */
  g_message ("Finding tickets again on the web is off: no channel can send a visitor a code ([sms] url-template, "
             "or [whatsapp] code-template); the pages send visitors to the desk");
  return NULL;
}

/* [web] whatsapp-number: the fair's WhatsApp number, which a ticket's
 * page links a chat with; offered only when the bot is there to answer. */
static gboolean
read_whatsapp_number (PvHubWeb *self, GError **error)
{
  g_autofree char *number = pv_hub_config_string (self->hub->config, GROUP, "whatsapp-number", NULL);
  g_autofree char *normal = number ? pv_normalize_phone (number, NULL) : NULL;
  g_autofree char *secret = pv_hub_config_string (self->hub->config, "whatsapp", "app-secret", NULL);

  if (number == NULL)
    return TRUE;
  if (normal == NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "[" GROUP "] whatsapp-number = %s: not a phone number (the fair's WhatsApp number, like "
                        "+91 98100 00000)",
                        number),
           FALSE;
  if (secret == NULL || !pv_hub_outbox_is_configured (self->outbox, PV_DELIVERY_WHATSAPP))
    {
      g_message ("[" GROUP "] whatsapp-number is set, but the WhatsApp bot cannot answer (it needs [whatsapp] "
                 "app-secret, phone-number-id and access-token): ticket pages do not offer it");
      return TRUE;
    }
  /* wa.me takes the number as digits, and a text to start the chat with. */
  self->whatsapp_chat = g_strdup_printf ("https://wa.me/%s?text=", normal + 1);
  return TRUE;
}

static gboolean
read_settings (PvHubWeb *self, GError **error)
{
  GKeyFile *config = self->hub->config;
  g_autofree char *wanted = NULL;
  gint64 pages, pages_burst, posts, posts_burst, phones, phones_burst, hours, entries, forms;
  gint64 network_tickets, network_burst, tickets, tickets_burst;

  if (!setting_number (config, "requests-per-minute", 600, 1000000, &pages, error)
      || !setting_number (config, "requests-burst", 200, 1000000, &pages_burst, error)
      || !setting_number (config, "posts-per-minute", 60, 1000000, &posts, error)
      || !setting_number (config, "posts-burst", 30, 1000000, &posts_burst, error)
      || !setting_number (config, "phone-per-hour", 10, 1000000, &phones, error)
      || !setting_number (config, "phone-burst", 10, 1000000, &phones_burst, error)
      || !setting_number (config, "ticket-link-hours", 24, 24 * 366, &hours, error)
      || !setting_number (config, "limit-entries", DEFAULT_LIMIT_ENTRIES, 10000000, &entries, error)
      || !setting_number (config, "remembered-forms", DEFAULT_REMEMBERED_FORMS, 10000000, &forms, error)
      || !setting_number (config, "network-tickets-per-minute", DEFAULT_NETWORK_TICKETS_PER_MINUTE, 1000000,
                          &network_tickets, error)
      || !setting_number (config, "network-tickets-burst", DEFAULT_NETWORK_TICKETS_BURST, 1000000, &network_burst,
                          error)
      || !setting_number (config, "tickets-per-minute", DEFAULT_TICKETS_PER_MINUTE, 1000000, &tickets, error)
      || !setting_number (config, "tickets-burst", DEFAULT_TICKETS_BURST, 1000000, &tickets_burst, error))
    return FALSE;
  pv_web_limit_init (&self->pages, (double) pages, (double) pages_burst, (guint) entries);
  pv_web_limit_init (&self->posts, (double) posts, (double) posts_burst, (guint) entries);
  pv_web_limit_init (&self->phones, (double) phones / 60.0, (double) phones_burst, (guint) entries);
  pv_web_limit_init (&self->networks, (double) network_tickets, (double) network_burst, (guint) entries);
  pv_web_limit_init (&self->tickets, (double) tickets, (double) tickets_burst, 1);
  pv_web_limit_init_guesses (&self->guesses, GUESSES_FREE_PER_PHONE, GUESS_LOCK_US, GUESS_LOCK_MAX_US, GUESS_FORGET_US,
                             (guint) entries);
  pv_web_limit_init_guesses (&self->guessers, GUESSES_FREE, GUESS_LOCK_US, GUESS_LOCK_MAX_US, GUESS_FORGET_US,
                             (guint) entries);
  self->link_lifetime_s = hours * 3600;
  self->max_submitted = (guint) forms;
  if (!read_whatsapp_number (self, error))
    return FALSE;

  if (g_key_file_has_key (config, GROUP, "categories", NULL))
    {
      PvEvent *event = pv_store_get_event (self->hub->store, NULL);

      if (!(self->categories = g_key_file_get_string_list (config, GROUP, "categories", NULL, error)))
        return g_prefix_error (error, "[" GROUP "] categories: "), FALSE;
      for (guint i = 0; self->categories[i]; i++)
        if (!pv_event_find_category (event, g_strstrip (self->categories[i])))
          return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                              "[" GROUP "] categories: the event has no category “%s”", self->categories[i]),
                 FALSE;
    }
  wanted = pv_hub_config_string (config, GROUP, "code-channel", NULL);
  if (wanted != NULL && !g_str_equal (wanted, PV_DELIVERY_SMS) && !g_str_equal (wanted, PV_DELIVERY_WHATSAPP))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[" GROUP "] code-channel: “sms” or “whatsapp”"), FALSE;
  self->code_channel = choose_code_channel (self, wanted);
  return TRUE;
}

PvHubWeb *
pv_hub_web_new (const PvHubContext *hub, PvHubOutbox *outbox, GError **error)
{
  g_autoptr (PvHubWeb) self = g_new0 (PvHubWeb, 1);

  self->hub = hub;
  self->outbox = outbox;
  g_queue_init (&self->pending);
  self->submitted = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->submitted_order);
  if (!(self->templates = pv_web_templates_new (error)) || !read_settings (self, error) || !load_key (self, error)
      || !(self->css = g_resources_lookup_data (RESOURCES "style.css", G_RESOURCE_LOOKUP_FLAGS_NONE, error)))
    return NULL;

  g_message ("Web registration at %s%s", hub->url,
             self->whatsapp_chat ? " (ticket pages lead to a WhatsApp chat that sends the ticket)" : "");
  return g_steal_pointer (&self);
}

void
pv_hub_web_free (PvHubWeb *self)
{
  if (self == NULL)
    return;
  /* Registrations read are issued and answered before leaving. */
  while (!g_queue_is_empty (&self->pending))
    flush_registrations (self);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_clear_pointer (&self->templates, pv_web_templates_free);
  while (self->submitted_order.head != NULL)
    submitted_remove (self, self->submitted_order.head->data);
  g_clear_pointer (&self->submitted, g_hash_table_unref);
  pv_web_limit_clear (&self->pages);
  pv_web_limit_clear (&self->posts);
  pv_web_limit_clear (&self->phones);
  pv_web_limit_clear (&self->networks);
  pv_web_limit_clear (&self->tickets);
  pv_web_limit_clear (&self->guesses);
  pv_web_limit_clear (&self->guessers);
  g_clear_pointer (&self->css, g_bytes_unref);
  g_strfreev (self->categories);
  g_free (self->whatsapp_chat);
  g_free (self->code_channel);
  sodium_memzero (self->key, sizeof self->key);
  g_free (self);
}
