/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-tickets.c: a ticket's page and its PNG (GET /ticket/view and
 * /ticket.png, by a signed link), and finding tickets again by phone and a
 * one-time code (GET and POST /ticket); see pv-hub-web.h. */
#include "config.h"

#include <cairo.h>
#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-hub-web-private.h"
#include "pv-outbox.h"
#include "pv-qr.h"
#include "pv-store.h"
#include "pv-tickets.h"
#include "pv-visitor-codes.h"

#define PNG_MODULE_PX 12
#define MAX_SHOWN_TICKETS 20

/* ---- Tickets ---- */

/* A link to ticket @issuer-@serial, good for [web] ticket-link-hours: the
 * code itself never travels in a URL (logs, histories, shared
 * screenshots). */
char *
pv_web_ticket_link_token (PvHubWeb *self, guint16 issuer, guint32 serial)
{
  return pv_web_ticket_token (self->key, issuer, serial, g_get_real_time () / G_USEC_PER_SEC + self->link_lifetime_s);
}

static char *
ticket_valid_text (PvWebVars *vars, PvEvent *event, const PvTicketInfo *info, const PvCategory *category)
{
  if (info->day != PV_TICKET_DAY_NONE)
    return pv_web_format_day (vars, event, info->day);
  return g_strdup (pv_web_vars_lookup (vars,
                                       category && category->validity == PV_VALIDITY_ANY_ONE_DAY ? "valid_any_day"
                                                                                                 : "valid_every_day"));
}

static PvWebMarkup *
ticket_card (Request *r, const PvTicketInfo *info, const char *token)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  const PvCategory *category = pv_event_get_category (event, info->category);
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autofree char *valid = ticket_valid_text (vars, event, info, category);

  pv_web_vars_text (vars, "serial", info->serial_text);
  pv_web_vars_text (vars, "category", category ? pv_web_category_name (vars, category) : "?");
  pv_web_vars_text (vars, "valid", valid);
  pv_web_vars_int (vars, "party", info->party);
  pv_web_vars_text (vars, "name", info->name && *info->name ? info->name : "—");
  if (info->revoked)
    {
      /* No code to show, save or send: the gates refuse it. */
      g_autoptr (PvWebVars) notice = pv_web_page_vars (r);
      pv_web_vars_markup (notice, "text", pv_web_say (notice, "revoked"));
      pv_web_vars_markup (vars, "status", pv_hub_web_fill ("notice.html", notice));
      pv_web_vars_markup (vars, "qr", NULL);
      pv_web_vars_markup (vars, "download", NULL);
      pv_web_vars_markup (vars, "whatsapp", NULL);
      return pv_hub_web_fill ("ticket-card.html", vars);
    }
  {
    g_autoptr (PvWebVars) figure = pv_web_page_vars (r);
    g_autoptr (PvWebVars) download = pv_web_page_vars (r);
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
      g_autoptr (PvWebVars) link = pv_web_page_vars (r);
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
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autofree char *heading = g_strdup (pv_web_templates_lookup (r->self->templates, r->lang, count > 1 ? "tickets_title" : "ticket_title"));

  pv_web_vars_text (vars, "heading", heading);
  if (count == 0)
    {
      g_autoptr (PvWebVars) notice = pv_web_page_vars (r);
      pv_web_vars_markup (notice, "text", pv_web_say (notice, "no_tickets"));
      pv_web_vars_markup (vars, "notice", pv_hub_web_fill ("notice.html", notice));
    }
  else
    pv_web_vars_markup (vars, "notice", NULL);
  pv_web_vars_markup (vars, "cards", cards);
  pv_web_reply_page (r, SOUP_STATUS_OK, heading, pv_hub_web_fill ("ticket.html", vars));
}

static void
reply_link_expired (Request *r)
{
  if (r->self->code_channel == NULL)
    return pv_web_reply_said (r, SOUP_STATUS_NOT_FOUND, "lookup_title", "link_expired_desk", "/", "back_home");
  pv_web_reply_said (r, SOUP_STATUS_NOT_FOUND, "lookup_title", "link_expired", "/ticket", "lookup_title");
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
      pv_web_reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/", "back_home");
      return FALSE;
    }
  if (!info->known || info->code == NULL)
    return pv_ticket_info_clear (info), reply_link_expired (r), FALSE;
  return TRUE;
}

void
pv_web_handle_view (Request *r, GHashTable *query)
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

void
pv_web_handle_png (Request *r, GHashTable *query)
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
    return pv_web_reply_said (r, SOUP_STATUS_GONE, "revoked_title", "revoked", "/", "back_home");
  if ((surface = pv_qr_render (info.code, PNG_MODULE_PX, &error)) == NULL)
    {
      g_warning ("No QR code for ticket %s: %s", info.serial_text, error->message);
      return pv_web_reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/", "back_home");
    }
  png = g_byte_array_new ();
  cairo_surface_write_to_png_stream (surface, write_png_cb, png);
  cairo_surface_destroy (surface);
  pv_web_set_common_headers (r);
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
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autofree char *csrf = pv_web_form_token (r->self->key, r->nonce, g_get_real_time () / G_USEC_PER_SEC);
  g_autofree char *title = pv_web_error_title (vars, "lookup_title", error != NULL);

  pv_web_vars_text (vars, "csrf", csrf);
  pv_web_field_vars (vars, "phone", phone ? phone : "", error);
  pv_web_vars_markup (vars, "summary", pv_web_error_summary (vars, &error, anchors, 1));
  pv_web_reply_page (r, status, title, pv_hub_web_fill ("lookup.html", vars));
}

static void
reply_code_form (Request *r, const char *phone, PvWebMarkup *taken_error, guint status)
{
  static const char *const anchors[] = { "code" };
  g_autoptr (PvWebMarkup) error = taken_error;
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autofree char *csrf = pv_web_form_token (r->self->key, r->nonce, g_get_real_time () / G_USEC_PER_SEC);
  g_autofree char *title = pv_web_error_title (vars, "lookup_title", error != NULL);

  pv_web_vars_text (vars, "csrf", csrf);
  pv_web_vars_text (vars, "phone", phone);
  pv_web_vars_markup (vars, "sent", pv_web_say (vars, "code_sent"));
  pv_web_field_vars (vars, "code", NULL, error);
  pv_web_vars_markup (vars, "summary", pv_web_error_summary (vars, &error, anchors, 1));
  pv_web_reply_page (r, status, title, pv_hub_web_fill ("lookup-code.html", vars));
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

  if (phone == NULL || strlen (phone) > PV_WEB_PHONE_MAX_BYTES || !(normal = pv_normalize_phone (phone, NULL)))
    return reply_lookup_form (r, phone, pv_web_say_error (r, phone && *phone ? "err_phone" : "err_phone_missing", 0),
                              SOUP_STATUS_UNPROCESSABLE_ENTITY);
  /* The code is a paid message: refused here, nothing counted or queued,
   * when the worker would refuse it (pv-hub-outbox.h). */
  if ((refusal = pv_web_phone_country_error (r, normal)) != NULL)
    return reply_lookup_form (r, phone, refusal, SOUP_STATUS_UNPROCESSABLE_ENTITY);
  if (pv_hub_outbox_reach (self->outbox, normal) == PV_HUB_OUTBOX_OVER_BUDGET)
    return reply_lookup_form (r, phone, pv_web_say_error (r, "err_code_budget", 0), SOUP_STATUS_SERVICE_UNAVAILABLE);
  if (!pv_store_begin (store, TRUE, &error) || !pv_visitor_code_request (store, normal, code, &retry_at, &error))
    {
      if (g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION))
        return pv_web_reply_too_many (r, MAX (retry_at - pv_store_now (store), G_USEC_PER_SEC));
      g_warning ("Cannot make a visitor's code: %s", error->message);
      return pv_web_reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
    }
  if (code[0] != '\0')
    {
      g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
      g_autofree char *body = NULL;
      gboolean queued;

      pv_web_vars_text (vars, "event", pv_web_event_name (self));
      pv_web_vars_text (vars, "code", code);
      body = pv_web_say_plain (vars, "code_message");
      queued = pv_outbox_enqueue_code (store, self->code_channel, normal, body, code, NULL, &error);
      sodium_memzero (code, sizeof code);
      sodium_memzero (body, strlen (body));
      if (!queued)
        {
          pv_store_rollback (store);
          g_warning ("Cannot queue a visitor's code: %s", error->message);
          return pv_web_reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
        }
    }
  if (!pv_store_commit (store, &error))
    {
      g_warning ("Cannot make a visitor's code: %s", error->message);
      return pv_web_reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
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

  if (phone == NULL || strlen (phone) > PV_WEB_PHONE_MAX_BYTES || !(normal = pv_normalize_phone (phone, NULL)))
    return pv_web_reply_bad_form (r);
  pair = g_strconcat (normal, " ", guesser, NULL);
  wait = MAX (pv_web_guess_wait (&self->guesses, pair, now), pv_web_guess_wait (&self->guessers, guesser, now));
  if (wait > 0)
    return pv_web_reply_too_many (r, wait);
  if (!pv_visitor_code_verify (store, normal, typed, &retry_at, &error))
    {
      if (retry_at > 0)
        return pv_web_reply_too_many (r, MAX (retry_at - pv_store_now (store), G_USEC_PER_SEC));
      if (!g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION))
        g_warning ("Cannot check a visitor's code: %s", error->message);
      else
        {
          pv_web_guess_strike (&self->guesses, pair, now);
          pv_web_guess_strike (&self->guessers, guesser, now);
        }
      return reply_code_form (r, normal, pv_web_say_error (r, "err_code", 0), SOUP_STATUS_UNPROCESSABLE_ENTITY);
    }
  pv_web_guess_forgive (&self->guesses, pair);
  if (!(found = pv_tickets_search (store, normal, MAX_SHOWN_TICKETS * 2, &error)))
    {
      g_warning ("Cannot look up a visitor's tickets: %s", error->message);
      return pv_web_reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
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
      token = pv_web_ticket_link_token (self, info->issuer, info->serial);
      pv_web_markup_append (cards, ticket_card (r, info, token));
      count++;
    }
  reply_tickets (r, cards, count);
}

void
pv_web_handle_lookup (Request *r, const char *client, const char *guesser)
{
  g_autoptr (GHashTable) fields = NULL;
  const char *step;
  gint64 wait;

  /* Nothing can send a visitor the code: the desk finds tickets again. */
  if (r->self->code_channel == NULL)
    return pv_web_reply_said (r, SOUP_STATUS_OK, "lookup_title", "lookup_desk", "/", "back_home");
  if (!g_str_equal (soup_server_message_get_method (r->msg), "POST"))
    return reply_lookup_form (r, NULL, NULL, SOUP_STATUS_OK);
  if (!pv_web_limit_take (&r->self->posts, client, g_get_monotonic_time (), &wait))
    return pv_web_reply_too_many (r, wait);
  if ((fields = pv_web_read_checked_form (r)) == NULL)
    return;
  step = g_hash_table_lookup (fields, "step");
  if (g_strcmp0 (step, "code") == 0)
    lookup_request_code (r, g_hash_table_lookup (fields, "phone"));
  else if (g_strcmp0 (step, "verify") == 0)
    lookup_verify_code (r, guesser, g_hash_table_lookup (fields, "phone"), g_hash_table_lookup (fields, "code"));
  else
    pv_web_reply_bad_form (r);
}
