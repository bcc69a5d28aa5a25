/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-event.c: the event's page (GET /, see pv-hub-web.h): when,
 * where, the hours, and what each ticket open to the public allows; and
 * the words for days and categories the other pages show too. */
#include "config.h"

#include <stdio.h>

#include "pv-hub-web-private.h"
#include "pv-i18n.h"
#include "pv-store.h"

static char *
format_hour (guint minutes)
{
  return g_strdup_printf ("%02u:%02u", minutes / 60, minutes % 60);
}

/* Event day @day, "Sat 5 Dec 2026", in @vars' language. */
char *
pv_web_format_day (PvWebVars *page, PvEvent *event, int day)
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

const char *
pv_web_category_name (PvWebVars *vars, const PvCategory *category)
{
  /* The default categories' names are translated as the app shows them;
   * an event's own keep the name it gave them. */
  return pv_i18n_translate (pv_web_vars_get_lang (vars), NULL, category->name);
}

/* What a ticket of @category allows, one sentence each (plain text). */
GPtrArray *
pv_web_category_allows (PvWebVars *page, const PvCategory *category)
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
GPtrArray *
pv_web_open_categories (PvHubWeb *self, PvEvent *event)
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
int
pv_web_first_open_day (PvHubWeb *self, PvEvent *event)
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
      g_autofree char *date = pv_web_format_day (page, event, (int) d);
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
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);

  pv_web_vars_text (vars, "text", text);
  return pv_hub_web_fill ("plain-text.html", vars);
}

void
pv_web_handle_index (Request *r)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (PvWebVars) vars = pv_web_page_vars (r);
  g_autoptr (GPtrArray) open = NULL;
  g_autofree char *first = NULL, *last = NULL;
  PvWebMarkup *facts, *categories;
  guint n;

  if (event == NULL)
    return pv_web_reply_not_found (r);
  n = pv_event_get_n_days (event);
  open = pv_web_open_categories (r->self, event);
  facts = pv_web_markup_new ();
  first = pv_web_format_day (vars, event, 0);
  last = pv_web_format_day (vars, event, (int) n - 1);
  pv_web_vars_text (vars, "first", first);
  pv_web_vars_text (vars, "last", last);
  add_fact (facts, vars, "when", n > 1 ? pv_web_say (vars, "dates_range") : text_markup (r, first));
  add_fact (facts, vars, "hours", hours_text (vars, event));
  if (pv_event_get_venue (event) && *pv_event_get_venue (event))
    add_fact (facts, vars, "where", text_markup (r, pv_event_get_venue (event)));
  pv_web_vars_markup (vars, "facts", facts);
  if (pv_web_first_open_day (r->self, event) >= (int) n || open->len == 0)
    {
      g_autoptr (PvWebVars) notice = pv_web_page_vars (r);
      pv_web_vars_markup (notice, "text", pv_web_say (notice, open->len == 0 ? "no_categories" : "closed"));
      pv_web_vars_markup (vars, "action", pv_hub_web_fill ("notice.html", notice));
    }
  else
    pv_web_vars_markup (vars, "action", pv_hub_web_fill ("action-register.html", vars));
  categories = pv_web_markup_new ();
  for (guint i = 0; i < open->len; i++)
    {
      const PvCategory *category = g_ptr_array_index (open, i);
      g_autoptr (PvWebVars) item = pv_web_page_vars (r);
      g_autoptr (GPtrArray) allows = pv_web_category_allows (vars, category);

      pv_web_vars_text (item, "name", pv_web_category_name (vars, category));
      pv_web_vars_markup (item, "allows", list_items (vars, allows));
      pv_web_markup_append (categories, pv_hub_web_fill ("category.html", item));
    }
  pv_web_vars_markup (vars, "categories", categories);
  pv_web_vars_markup (vars, "find", pv_hub_web_fill (r->self->code_channel ? "find-link.html" : "find-desk.html", vars));
  pv_web_vars_text (vars, "event", pv_event_get_name (event));
  pv_web_reply_page (r, SOUP_STATUS_OK, pv_event_get_name (event), pv_hub_web_fill ("index.html", vars));
}
