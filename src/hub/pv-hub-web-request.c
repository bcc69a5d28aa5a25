/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-request.c: a request to the web pages and the ways it is
 * answered (see pv-hub-web-private.h): the language it asks for, its form
 * cookie, the headers every answer carries, the page's frame, and the
 * answers that say one thing (not found, refused, too many, try again). */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "pv-hub-web-private.h"
#include "pv-store.h"

#define NONCE_SIZE 16
#define FORM_COOKIE "pv_form"
#define LANG_COOKIE "pv_lang"

/* Content-Security-Policy: no script at all, styles and images from here,
 * forms post here, never framed. */
#define CSP                                                                                            \
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
  "base-uri 'none'"

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

Request *
pv_web_request_new (PvHubWeb *self, SoupServerMessage *msg, const char *path, GHashTable *query)
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

void
pv_web_request_free (Request *r)
{
  g_object_unref (r->msg);
  g_free (r->path);
  g_free (r->switch_href);
  g_free (r->nonce);
  g_free (r);
}

PvWebVars *
pv_web_page_vars (Request *r)
{
  return pv_web_vars_new (r->self->templates, r->lang);
}

void
pv_web_set_common_headers (Request *r)
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

const char *
pv_web_event_name (PvHubWeb *self)
{
  PvEvent *event = pv_store_get_event (self->hub->store, NULL);

  return event ? pv_event_get_name (event) : "Pravesh";
}

/* Answers @status with @content (taken) in the page's frame. */
void
pv_web_reply_page (Request *r, guint status, const char *title, PvWebMarkup *content)
{
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autoptr (GBytes) page = NULL;
  const char *event = pv_web_event_name (r->self);
  g_autofree char *full_title = g_str_equal (title, event) ? g_strdup (title) : g_strdup_printf ("%s · %s", title, event);

  pv_web_vars_text (vars, "title", full_title);
  pv_web_vars_text (vars, "event", event);
  pv_web_vars_text (vars, "lang", r->lang);
  pv_web_vars_text (vars, "switch_lang", pv_web_lang_index (r->lang) == 0 ? "hi" : "en");
  pv_web_vars_text (vars, "switch_href", r->switch_href);
  pv_web_vars_markup (vars, "content", content);
  page = pv_web_markup_free_to_bytes (pv_hub_web_fill ("layout.html", vars));
  pv_web_set_common_headers (r);
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
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autofree char *title = pv_web_say_plain (vars, title_key);

  pv_web_vars_text (vars, "heading", title);
  pv_web_vars_markup (vars, "text", text);
  pv_web_vars_text (vars, "href", href);
  pv_web_vars_markup (vars, "link", pv_web_say (vars, link_key));
  pv_web_reply_page (r, status, title, pv_hub_web_fill ("message.html", vars));
}

void
pv_web_reply_said (Request *r, guint status, const char *title_key, const char *text_key, const char *href,
                   const char *link_key)
{
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);

  reply_message (r, status, title_key, pv_web_say (vars, text_key), href, link_key);
}

void
pv_web_reply_not_found (Request *r)
{
  pv_web_reply_said (r, SOUP_STATUS_NOT_FOUND, "e404_title", "e404_text", "/", "back_home");
}

void
pv_web_reply_bad_form (Request *r)
{
  pv_web_reply_said (r, SOUP_STATUS_BAD_REQUEST, "e400_title", "e400_text", r->path, "fill_again");
}

void
pv_web_reply_forbidden (Request *r)
{
  pv_web_reply_said (r, SOUP_STATUS_FORBIDDEN, "e403_title", "e403_text", r->path, "fill_again");
}

/* 429, with Retry-After and, in words, how long to wait and until when. */
void
pv_web_reply_too_many (Request *r, gint64 wait_us)
{
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
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

void
pv_web_reply_redirect (Request *r, const char *location)
{
  pv_web_set_common_headers (r);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Cache-Control", "no-store");
  /* Relative, so it holds behind a proxy and whatever Host was sent. */
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Location", location);
  soup_server_message_set_status (r->msg, SOUP_STATUS_SEE_OTHER, NULL);
}
