/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web.c: the hub's public web pages (see pv-hub-web.h): their state's
 * life, their settings, and the dispatch of a request to its page. The
 * requests and answers, the forms and the pages themselves are in the
 * other pv-hub-web-*.c files, which share pv-hub-web-private.h. Everything
 * is answered on the hub's one thread. */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-hub-config.h"
#include "pv-hub-routes.h"
#include "pv-hub-web-private.h"
#include "pv-outbox.h"
#include "pv-store.h"
#include "pv-sync-server.h"
#include "pv-tickets.h"

#define GROUP "web"
#define RESOURCES "/in/pravesh/hub/"
#define KEY_NAME "web-key"
#define KEY_SIZE PV_WEB_KEY_SIZE
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

/* ---- Dispatch ---- */

static void
reply_css (Request *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (r->msg);

  pv_web_set_common_headers (r);
  soup_message_headers_replace (headers, "Cache-Control", "public, max-age=3600");
  soup_server_message_set_status (r->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (r->msg, "text/css; charset=utf-8", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (r->self->css, NULL), g_bytes_get_size (r->self->css));
}

static void
reply_wrong_method (Request *r, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Allow", allow);
  pv_web_reply_said (r, SOUP_STATUS_METHOD_NOT_ALLOWED, "e400_title", "e405_text", "/", "back_home");
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
  r = pv_web_request_new (self, msg, path, query);
  pv_web_client_keys (msg, &client, &network, &guesser);
  if (!pv_web_limit_take (&self->pages, client, g_get_monotonic_time (), &wait))
    pv_web_reply_too_many (r, wait);
  else if (route == NULL)
    pv_web_reply_not_found (r);
  else if (!pv_hub_route_allows (route, soup_server_message_get_method (msg)))
    reply_wrong_method (r, route->methods);
  else if (g_str_equal (path, "/static/style.css"))
    reply_css (r);
  else if (g_str_equal (path, "/"))
    pv_web_handle_index (r);
  else if (g_str_equal (path, "/register"))
    pv_web_handle_register (r, client, network);
  else if (g_str_equal (path, "/ticket"))
    pv_web_handle_lookup (r, client, guesser);
  else if (g_str_equal (path, "/ticket/view"))
    pv_web_handle_view (r, query);
  else if (g_str_equal (path, "/ticket.png"))
    pv_web_handle_png (r, query);
  else
    pv_web_reply_not_found (r);
  if (!r->deferred)
    pv_web_request_free (r);
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
  pv_web_registrations_finish (self);
  g_clear_pointer (&self->templates, pv_web_templates_free);
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
