/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-register.c: registering on the web (GET and POST /register,
 * see pv-hub-web.h): the form, its checks, and the ticket it ends in.
 * Registrations that arrive together are issued in one transaction and
 * answered after its single commit, as online admissions are: a crowd
 * registering costs one fsync per group, and no visitor sees a ticket that
 * is not durable. */
#include "config.h"

#include <string.h>

#include "pv-hub-web-private.h"
#include "pv-store.h"
#include "pv-tickets.h"

#define FORM_LIFETIME_S PV_WEB_FORM_LIFETIME_S
/* As many as a ticket keeps (see pv-tickets.h). */
#define NAME_MAX_CHARS PV_TICKET_NAME_MAX_CHARS
#define MAX_GROUP 256

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
reply_closed (Request *r, gboolean no_categories)
{
  pv_web_reply_said (r, SOUP_STATUS_OK, "register_title", no_categories ? "no_categories" : "closed", "/", "back_home");
}

static void
reply_register_form (Request *r, RegisterForm *form, guint status)
{
  static const char *const anchors[N_FIELDS] = { "name", "phone", "category", "day", "party" };
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autoptr (GPtrArray) open = NULL;
  g_autofree char *token = NULL, *title = NULL;
  PvWebMarkup *choices, *days;
  guint party_max = 1;
  int first, n;

  if (event == NULL)
    return pv_web_reply_not_found (r);
  open = pv_web_open_categories (r->self, event);
  first = pv_web_first_open_day (r->self, event);
  n = (int) pv_event_get_n_days (event);
  if (first >= n || open->len == 0)
    return reply_closed (r, open->len == 0);

  token = pv_web_form_token (r->self->key, r->nonce, g_get_real_time () / G_USEC_PER_SEC);
  pv_web_vars_text (vars, "csrf", token);
  pv_web_field_vars (vars, "name", form->value[FIELD_NAME] ? form->value[FIELD_NAME] : "", form->error[FIELD_NAME]);
  pv_web_field_vars (vars, "phone", form->value[FIELD_PHONE] ? form->value[FIELD_PHONE] : "", form->error[FIELD_PHONE]);
  pv_web_field_vars (vars, "category", NULL, form->error[FIELD_CATEGORY]);
  pv_web_field_vars (vars, "day", NULL, form->error[FIELD_DAY]);
  pv_web_field_vars (vars, "party", form->value[FIELD_PARTY] ? form->value[FIELD_PARTY] : "1", form->error[FIELD_PARTY]);

  choices = pv_web_markup_new ();
  for (guint i = 0; i < open->len; i++)
    {
      const PvCategory *category = g_ptr_array_index (open, i);
      g_autoptr (PvWebVars) item = pv_web_page_vars (r);
      g_autoptr (GPtrArray) allows = pv_web_category_allows (vars, category);
      g_autofree char *id = g_strdup_printf ("%u", category->id);
      g_autofree char *sentence = NULL;

      g_ptr_array_add (allows, NULL);
      sentence = g_strjoinv (" · ", (char **) allows->pdata);
      pv_web_vars_text (item, "id", id);
      pv_web_vars_text (item, "name", pv_web_category_name (vars, category));
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
      g_autoptr (PvWebVars) option = pv_web_page_vars (r);
      g_autofree char *iso = pv_event_day_date (event, d);
      g_autofree char *label = pv_web_format_day (vars, event, d);

      pv_web_vars_text (option, "value", iso);
      pv_web_vars_text (option, "label", label);
      pv_web_vars_text (option, "selected", g_strcmp0 (form->value[FIELD_DAY], iso) == 0 ? "selected" : "");
      pv_web_markup_append (days, pv_hub_web_fill ("day-option.html", option));
    }
  pv_web_vars_markup (vars, "days", days);
  pv_web_vars_markup (vars, "summary", pv_web_error_summary (vars, form->error, anchors, N_FIELDS));
  title = pv_web_error_title (vars, "register_title", form->invalid);
  pv_web_reply_page (r, status, title, pv_hub_web_fill ("register.html", vars));
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
/* Checks the fields into @form; the messages say what to change. */
static void
check_register_form (Request *r, GHashTable *fields, RegisterForm *form)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (GPtrArray) open = pv_web_open_categories (r->self, event);
  g_autofree char *trimmed = NULL, *phone = NULL;
  PvWebMarkup *country;
  guint id = 0, party = 0;
  int first = pv_web_first_open_day (r->self, event);

  for (guint f = 0; f < N_FIELDS; f++)
    form->value[f] = g_hash_table_lookup (fields, field_names[f]);

  trimmed = g_strstrip (g_strdup (form->value[FIELD_NAME] ? form->value[FIELD_NAME] : ""));
  form->name = g_utf8_normalize (trimmed, -1, G_NORMALIZE_NFC);
  if (*form->name == '\0')
    field_error (form, FIELD_NAME, pv_web_say_error (r, "err_name_missing", 0));
  else if (g_utf8_strlen (form->name, -1) > NAME_MAX_CHARS)
    field_error (form, FIELD_NAME, pv_web_say_error (r, "err_name_long", 0));
  /* What a ticket keeps is counted in bytes too: 51 emoji (4 bytes
   * each) are more than it takes, and would otherwise fail only at the
   * issue. */
  else if (strlen (form->name) > PV_TICKET_NAME_MAX_BYTES)
    field_error (form, FIELD_NAME, pv_web_say_error (r, "err_name_bytes", 0));
  else if (!name_chars_ok (form->name))
    field_error (form, FIELD_NAME, pv_web_say_error (r, "err_name_chars", 0));

  phone = g_strstrip (g_strdup (form->value[FIELD_PHONE] ? form->value[FIELD_PHONE] : ""));
  if (*phone == '\0')
    field_error (form, FIELD_PHONE, pv_web_say_error (r, "err_phone_missing", 0));
  else if (strlen (form->value[FIELD_PHONE]) > PV_WEB_PHONE_MAX_BYTES
           || (form->phone = pv_normalize_phone (form->value[FIELD_PHONE], NULL)) == NULL)
    field_error (form, FIELD_PHONE, pv_web_say_error (r, "err_phone", 0));
  /* A ticket is sent to, and found again by, its phone: a number the fair
   * sends nothing to is no use, and a door to messages it pays for. */
  else if ((country = pv_web_phone_country_error (r, form->phone)) != NULL)
    field_error (form, FIELD_PHONE, country);

  if (parse_small_number (form->value[FIELD_CATEGORY], 3, &id))
    for (guint i = 0; i < open->len && !form->category; i++)
      if (((const PvCategory *) g_ptr_array_index (open, i))->id == id)
        form->category = g_ptr_array_index (open, i);
  if (form->category == NULL)
    field_error (form, FIELD_CATEGORY, pv_web_say_error (r, "err_category", 0));

  form->day = -1;
  if (form->category && form->category->validity == PV_VALIDITY_CHOSEN_DAY)
    {
      const char *day = form->value[FIELD_DAY];

      if (day == NULL || *day == '\0')
        field_error (form, FIELD_DAY, pv_web_say_error (r, "err_day_missing", 0));
      else if (strlen (day) != 10 || !pv_event_parse_day (event, day, &form->day, NULL) || form->day < first)
        field_error (form, FIELD_DAY, pv_web_say_error (r, "err_day", 0));
    }

  /* A personal ticket admits one, whatever a hidden field still says. */
  if (form->category && form->category->max_party <= 1)
    party = 1;
  else if (!parse_small_number (form->value[FIELD_PARTY], 4, &party) || party < 1
           || party > (form->category ? form->category->max_party : PV_MAX_PARTY))
    field_error (form, FIELD_PARTY,
                 pv_web_say_error (r, "err_party", form->category ? form->category->max_party : PV_MAX_PARTY));
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
  pv_web_request_free (reg->request);
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
  g_autofree char *token = pv_web_ticket_link_token (r->self, issuer, serial);
  g_autofree char *location = g_strdup_printf ("/ticket/view?t=%s", token);

  pv_web_reply_redirect (r, location);
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
      pv_web_reply_said (reg->request, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/register",
                         "fill_again");
      for (guint i = 0; i < reg->repeats->len; i++)
        pv_web_reply_said (g_ptr_array_index (reg->repeats, i), SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text",
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

void
pv_web_handle_register (Request *r, const char *client, const char *network)
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
    return pv_web_reply_too_many (r, wait);
  if ((fields = pv_web_read_checked_form (r)) == NULL)
    return;
  if (pv_store_get_event (self->hub->store, NULL) == NULL)
    return pv_web_reply_not_found (r);
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
    return pv_web_reply_too_many (r, wait);

  forget_old_submissions (self);
  reg = g_new0 (Registration, 1);
  reg->request = r;
  reg->repeats = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_web_request_free);
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

void
pv_web_registrations_finish (PvHubWeb *self)
{
  /* Registrations read are issued and answered before leaving. */
  while (!g_queue_is_empty (&self->pending))
    flush_registrations (self);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  while (self->submitted_order.head != NULL)
    submitted_remove (self, self->submitted_order.head->data);
  g_clear_pointer (&self->submitted, g_hash_table_unref);
}
