/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-forms.c: what the pages' forms (registering, finding tickets
 * again) share (see pv-hub-web-private.h): reading a posted form whole or
 * refusing it, checking its CSRF token, and showing beside each field, and
 * above the form, what to change. */
#include "config.h"

#include <string.h>

#include "pv-hub-web-private.h"

/* The largest form: a name of 80 Devanagari letters percent-encoded is
 * under 1 KiB. */
#define MAX_FORM_BODY PV_HUB_WEB_MAX_FORM_BODY

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
      pv_web_reply_bad_form (r);
      return NULL;
    }
  form = soup_form_decode (text);
  g_hash_table_iter_init (&iter, form);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_utf8_validate (key, -1, NULL) || !g_utf8_validate (value, -1, NULL))
      {
        pv_web_reply_bad_form (r);
        return NULL;
      }
  return g_steal_pointer (&form);
}

/* The posted form if it carries a good token, else NULL after answering. */
GHashTable *
pv_web_read_checked_form (Request *r)
{
  g_autoptr (GHashTable) form = read_form (r);

  if (form == NULL)
    return NULL;
  /* A browser without our cookie cannot have had the form from us. */
  if (r->send_nonce || !pv_web_form_token_ok (r->self->key, r->nonce, g_hash_table_lookup (form, "csrf"), g_get_real_time () / G_USEC_PER_SEC))
    {
      pv_web_reply_forbidden (r);
      return NULL;
    }
  return g_steal_pointer (&form);
}
void
pv_web_field_vars (PvWebVars *vars, const char *name, const char *value, PvWebMarkup *error)
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
PvWebMarkup *
pv_web_error_summary (PvWebVars *page, PvWebMarkup *const *errors, const char *const *anchors, guint n)
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

char *
pv_web_error_title (PvWebVars *vars, const char *title_key, gboolean invalid)
{
  const char *title = pv_web_vars_lookup (vars, title_key);

  return invalid ? g_strdup_printf ("%s: %s", pv_web_vars_lookup (vars, "error_prefix"), title)
                 : g_strdup (title);
}
PvWebMarkup *
pv_web_say_error (Request *r, const char *key, guint max)
{
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);

  pv_web_vars_int (vars, "max", max);
  return pv_web_say (vars, key);
}

/* What to say beside a phone field of @phone (normalised) when the fair
 * sends nothing to its country, else NULL: said before anything is
 * written or queued. */
PvWebMarkup *
pv_web_phone_country_error (Request *r, const char *phone)
{
  g_autoptr (PvWebVars) vars = NULL;

  if (pv_hub_outbox_sends_to (r->self->outbox, phone))
    return NULL;
  vars = pv_web_page_vars (r);
  pv_web_vars_text (vars, "countries", pv_hub_outbox_get_countries (r->self->outbox));
  return pv_web_say (vars, "err_phone_country");
}
