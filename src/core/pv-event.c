/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-event.c: the event configuration object, its GVariant form (the body of
 * an event-config ledger record) and the calendar arithmetic in the event's
 * own time zone, so a gate whose system clock is set to UTC still knows that
 * 09:55 in Delhi is before opening. */
#include "config.h"

#include "pv-event.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

#include "pv-error.h"

struct _PvEvent
{
  GObject parent_instance;

  guint32 id;
  char *name;
  char *venue;
  char *timezone;
  GTimeZone *tz;
  GDate start;
  guint n_days;
  guint capacity;
  guint16 *open_min;  /* n_days */
  guint16 *close_min; /* n_days */
  GPtrArray *gates;   /* char*, NULL-terminated for get_gates() */
  GPtrArray *categories;
  guint8 public_key[PV_PUBLIC_KEY_SIZE];
};

G_DEFINE_FINAL_TYPE (PvEvent, pv_event, G_TYPE_OBJECT)

static const char *const validity_names[] = {
  [PV_VALIDITY_CHOSEN_DAY] = "chosen-day",
  [PV_VALIDITY_ANY_ONE_DAY] = "any-one-day",
  [PV_VALIDITY_EVERY_DAY] = "every-day",
};

const char *
pv_validity_to_string (PvValidity validity)
{
  g_return_val_if_fail (validity <= PV_VALIDITY_EVERY_DAY, NULL);
  return validity_names[validity];
}

gboolean
pv_validity_from_string (const char *text, PvValidity *out_validity, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (validity_names); i++)
    if (g_strcmp0 (text, validity_names[i]) == 0)
      {
        *out_validity = (PvValidity) i;
        return TRUE;
      }
  g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
               "Unknown validity “%s”: use chosen-day, any-one-day or every-day",
               text ? text : "");
  return FALSE;
}

PvCategory *
pv_category_new (const char *name,
                 PvValidity validity,
                 guint entries_per_day,
                 gboolean reentry,
                 const char *const *gates,
                 guint max_party)
{
  PvCategory *category = g_new0 (PvCategory, 1);

  category->name = g_strdup (name);
  category->validity = validity;
  category->entries_per_day = entries_per_day;
  category->reentry = !!reentry;
  category->gates = gates && gates[0] ? g_strdupv ((char **) gates) : NULL;
  category->max_party = MAX (max_party, 1);
  return category;
}

PvCategory *
pv_category_copy (const PvCategory *category)
{
  PvCategory *copy = pv_category_new (category->name, category->validity,
                                      category->entries_per_day,
                                      category->reentry,
                                      (const char *const *) category->gates,
                                      category->max_party);
  copy->id = category->id;
  return copy;
}

void
pv_category_free (PvCategory *category)
{
  if (category == NULL)
    return;
  g_free (category->name);
  g_strfreev (category->gates);
  g_free (category);
}

gboolean
pv_category_sold_at_desk (const PvCategory *category)
{
  /* A pass with no limit on the day's entries is for those who work the
   * event (exhibitors, staff), given out by the organiser: never sold to
   * a walk-in. */
  return category->entries_per_day != 0;
}

gboolean
pv_category_allows_gate (const PvCategory *category, const char *gate)
{
  if (category->gates == NULL)
    return TRUE;
  for (guint i = 0; category->gates[i]; i++)
    if (gate && g_ascii_strcasecmp (category->gates[i], gate) == 0)
      return TRUE;
  return FALSE;
}

static void
pv_event_finalize (GObject *object)
{
  PvEvent *self = PV_EVENT (object);

  g_free (self->name);
  g_free (self->venue);
  g_free (self->timezone);
  g_clear_pointer (&self->tz, g_time_zone_unref);
  g_free (self->open_min);
  g_free (self->close_min);
  g_clear_pointer (&self->gates, g_ptr_array_unref);
  g_clear_pointer (&self->categories, g_ptr_array_unref);

  G_OBJECT_CLASS (pv_event_parent_class)->finalize (object);
}

static void
pv_event_class_init (PvEventClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pv_event_finalize;
}

static void
pv_event_init (PvEvent *self)
{
  self->gates = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  self->categories = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_category_free);
  self->venue = g_strdup ("");
}

static gboolean
parse_date (const char *text, GDate *out, GError **error)
{
  unsigned y, m, d;
  char tail;

  if (text == NULL || sscanf (text, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3
      || strlen (text) != 10 || !g_date_valid_dmy (d, m, y))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "“%s” is not a date of the form YYYY-MM-DD", text ? text : "");
      return FALSE;
    }
  g_date_clear (out, 1);
  g_date_set_dmy (out, d, m, y);
  return TRUE;
}

PvEvent *
pv_event_new (guint32 id, const char *name, const char *start, guint n_days, GError **error)
{
  g_autoptr (PvEvent) self = NULL;
  g_autofree char *clean = g_strstrip (g_strdup (name ? name : ""));
  GDate date;

  if (*clean == '\0')
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "The event needs a name");
      return NULL;
    }
  if (!parse_date (start, &date, error))
    return NULL;
  if (n_days < 1 || n_days > PV_EVENT_MAX_DAYS)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "An event lasts 1 to %d days, not %u", PV_EVENT_MAX_DAYS, n_days);
      return NULL;
    }

  self = g_object_new (PV_TYPE_EVENT, NULL);
  self->id = id;
  self->name = g_steal_pointer (&clean);
  self->start = date;
  self->n_days = n_days;
  self->open_min = g_new (guint16, n_days);
  self->close_min = g_new (guint16, n_days);
  for (guint i = 0; i < n_days; i++)
    {
      self->open_min[i] = 10 * 60;
      self->close_min[i] = 20 * 60;
    }
  if (!pv_event_set_timezone (self, PV_DEFAULT_TIMEZONE, error))
    return NULL;
  return g_steal_pointer (&self);
}

guint32
pv_event_get_id (PvEvent *self)
{
  return self->id;
}

const char *
pv_event_get_name (PvEvent *self)
{
  return self->name;
}

const char *
pv_event_get_venue (PvEvent *self)
{
  return self->venue;
}

void
pv_event_set_venue (PvEvent *self, const char *venue)
{
  g_free (self->venue);
  self->venue = g_strdup (venue ? venue : "");
}

const char *
pv_event_get_timezone (PvEvent *self)
{
  return self->timezone;
}

gboolean
pv_event_set_timezone (PvEvent *self, const char *tz, GError **error)
{
  GTimeZone *zone = tz && *tz ? g_time_zone_new_identifier (tz) : NULL;

  if (zone == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "Unknown time zone “%s” (is tzdata installed?)", tz ? tz : "");
      return FALSE;
    }
  g_clear_pointer (&self->tz, g_time_zone_unref);
  self->tz = zone;
  g_free (self->timezone);
  self->timezone = g_strdup (tz);
  return TRUE;
}

guint
pv_event_get_n_days (PvEvent *self)
{
  return self->n_days;
}

guint
pv_event_get_capacity (PvEvent *self)
{
  return self->capacity;
}

void
pv_event_set_capacity (PvEvent *self, guint capacity)
{
  self->capacity = capacity;
}

gboolean
pv_parse_clock_time (const char *text, guint *out_min, GError **error)
{
  unsigned h, m;
  char tail;

  if (text == NULL || sscanf (text, "%2u:%2u%c", &h, &m, &tail) != 2
      || strlen (text) != 5 || m > 59 || h > 24 || (h == 24 && m != 0))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "“%s” is not a time of day of the form HH:MM", text ? text : "");
      return FALSE;
    }
  *out_min = h * 60 + m;
  return TRUE;
}

gboolean
pv_event_set_hours (PvEvent *self, int day, guint open_min, guint close_min, GError **error)
{
  if (close_min > 24 * 60 || open_min >= close_min)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "Opening hours must open before they close, within one day "
                   "(%02u:%02u–%02u:%02u)",
                   open_min / 60, open_min % 60, close_min / 60, close_min % 60);
      return FALSE;
    }
  if (day >= (int) self->n_days)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "Day %d is not part of the event", day + 1);
      return FALSE;
    }
  for (guint i = 0; i < self->n_days; i++)
    if (day < 0 || (guint) day == i)
      {
        self->open_min[i] = open_min;
        self->close_min[i] = close_min;
      }
  return TRUE;
}

void
pv_event_get_hours (PvEvent *self, guint day, guint *open_min, guint *close_min)
{
  g_return_if_fail (day < self->n_days);
  if (open_min)
    *open_min = self->open_min[day];
  if (close_min)
    *close_min = self->close_min[day];
}

const guint8 *
pv_event_get_public_key (PvEvent *self)
{
  return self->public_key;
}

void
pv_event_set_public_key (PvEvent *self, const guint8 key[PV_PUBLIC_KEY_SIZE])
{
  memcpy (self->public_key, key, PV_PUBLIC_KEY_SIZE);
}

const char *const *
pv_event_get_gates (PvEvent *self)
{
  return (const char *const *) self->gates->pdata;
}

const char *
pv_event_find_gate (PvEvent *self, const char *name)
{
  for (guint i = 0; name && i < self->gates->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->gates, i), name) == 0)
      return g_ptr_array_index (self->gates, i);
  return NULL;
}

gboolean
pv_event_add_gate (PvEvent *self, const char *name, GError **error)
{
  g_autofree char *clean = g_strstrip (g_strdup (name ? name : ""));

  if (*clean == '\0' || strlen (clean) > PV_GATE_NAME_MAX_BYTES || !g_utf8_validate (clean, -1, NULL))
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                           "A gate needs a name of 1 to " G_STRINGIFY (PV_GATE_NAME_MAX_BYTES) " characters");
      return FALSE;
    }
  if (pv_event_find_gate (self, clean))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_EXISTS, "There is already a gate “%s”", clean);
      return FALSE;
    }
  g_ptr_array_add (self->gates, g_steal_pointer (&clean));
  return TRUE;
}

gboolean
pv_event_add_category (PvEvent *self, PvCategory *category, GError **error)
{
  g_autoptr (PvCategory) owned = category;
  guint next_id = 1;

  g_strstrip (owned->name);
  if (*owned->name == '\0' || strlen (owned->name) > 64 || !g_utf8_validate (owned->name, -1, NULL))
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                           "A category needs a name of 1 to 64 characters");
      return FALSE;
    }
  if (pv_event_find_category (self, owned->name))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_EXISTS,
                   "There is already a category “%s”", owned->name);
      return FALSE;
    }
  if (owned->max_party < 1 || owned->max_party > PV_MAX_PARTY)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "A party has 1 to %d people, not %u", PV_MAX_PARTY, owned->max_party);
      return FALSE;
    }
  for (guint i = 0; owned->gates && owned->gates[i]; i++)
    if (!pv_event_find_gate (self, owned->gates[i]))
      {
        g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                     "Category “%s” names gate “%s”, which the event does not have",
                     owned->name, owned->gates[i]);
        return FALSE;
      }
  if (self->categories->len >= PV_EVENT_MAX_CATEGORIES)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "An event has at most %d categories", PV_EVENT_MAX_CATEGORIES);
      return FALSE;
    }
  for (guint i = 0; i < self->categories->len; i++)
    {
      const PvCategory *c = g_ptr_array_index (self->categories, i);
      next_id = MAX (next_id, (guint) c->id + 1);
    }
  owned->id = (guint8) next_id;
  g_ptr_array_add (self->categories, g_steal_pointer (&owned));
  return TRUE;
}

GPtrArray *
pv_event_get_categories (PvEvent *self)
{
  return self->categories;
}

const PvCategory *
pv_event_get_category (PvEvent *self, guint8 id)
{
  for (guint i = 0; i < self->categories->len; i++)
    {
      const PvCategory *c = g_ptr_array_index (self->categories, i);
      if (c->id == id)
        return c;
    }
  return NULL;
}

const PvCategory *
pv_event_find_category (PvEvent *self, const char *name)
{
  for (guint i = 0; name && i < self->categories->len; i++)
    {
      const PvCategory *c = g_ptr_array_index (self->categories, i);
      if (g_utf8_collate (c->name, name) == 0 || g_ascii_strcasecmp (c->name, name) == 0)
        return c;
    }
  return NULL;
}

void
pv_event_add_default_categories (PvEvent *self)
{
  /* What a book fair sells: a ticket for one named day (leave and come back
   * the same day), a season pass, free group entry for school classes (one
   * scan lets the whole class in, once), and exhibitors who come and go.
   * Stored in English, the names are shown translated (pv_category_get_label ()). */
  PvCategory *defaults[] = {
    pv_category_new (N_ ("One-day"), PV_VALIDITY_CHOSEN_DAY, 1, TRUE, NULL, 1),
    pv_category_new (N_ ("Season pass"), PV_VALIDITY_EVERY_DAY, 1, TRUE, NULL, 1),
    pv_category_new (N_ ("School group"), PV_VALIDITY_CHOSEN_DAY, 1, FALSE, NULL, 200),
    pv_category_new (N_ ("Exhibitor"), PV_VALIDITY_EVERY_DAY, 0, TRUE, NULL, 1),
  };

  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    {
      g_autoptr (GError) error = NULL;
      if (!pv_event_add_category (self, defaults[i], &error))
        g_debug ("Default category skipped: %s", error->message);
    }
}

GDateTime *
pv_event_local_time (PvEvent *self, gint64 at_us)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (at_us / G_USEC_PER_SEC);

  if (utc == NULL)
    return NULL;
  return g_date_time_to_timezone (utc, self->tz);
}

char *
pv_event_format_time (PvEvent *self, gint64 at_us, const char *format)
{
  g_autoptr (GDateTime) local = pv_event_local_time (self, at_us);
  char *text = local ? g_date_time_format (local, format) : NULL;

  return text ? text : g_strdup ("?");
}

int
pv_event_day_at (PvEvent *self, gint64 at_us)
{
  g_autoptr (GDateTime) local = pv_event_local_time (self, at_us);
  GDate date;

  if (local == NULL)
    return at_us < 0 ? G_MININT / 2 : G_MAXINT / 2;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, g_date_time_get_day_of_month (local),
                  g_date_time_get_month (local), g_date_time_get_year (local));
  return (int) g_date_get_julian (&date) - (int) g_date_get_julian (&self->start);
}

gboolean
pv_event_is_open_at (PvEvent *self, gint64 at_us)
{
  g_autoptr (GDateTime) local = pv_event_local_time (self, at_us);
  int day = pv_event_day_at (self, at_us);
  guint minute;

  if (local == NULL || day < 0 || day >= (int) self->n_days)
    return FALSE;
  minute = g_date_time_get_hour (local) * 60 + g_date_time_get_minute (local);
  return minute >= self->open_min[day] && minute < self->close_min[day];
}

static void
day_to_date (PvEvent *self, int day, GDate *out)
{
  *out = self->start;
  if (day >= 0)
    g_date_add_days (out, day);
  else
    g_date_subtract_days (out, -day);
}

char *
pv_event_day_date (PvEvent *self, int day)
{
  GDate date;

  day_to_date (self, day, &date);
  return g_strdup_printf ("%04u-%02u-%02u", g_date_get_year (&date),
                          g_date_get_month (&date), g_date_get_day (&date));
}

gboolean
pv_event_parse_day (PvEvent *self, const char *text, int *out_day, GError **error)
{
  GDate date;
  int day;

  if (!parse_date (text, &date, error))
    return FALSE;
  day = (int) g_date_get_julian (&date) - (int) g_date_get_julian (&self->start);
  if (day < 0 || day >= (int) self->n_days)
    {
      g_autofree char *first = pv_event_day_date (self, 0);
      g_autofree char *last = pv_event_day_date (self, self->n_days - 1);
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "%s is not a day of the event (%s to %s)", text, first, last);
      return FALSE;
    }
  *out_day = day;
  return TRUE;
}

gint64
pv_event_time_of (PvEvent *self, int day, guint minute)
{
  g_autoptr (GDateTime) local = NULL;
  GDate date;

  day_to_date (self, day + (int) (minute / (24 * 60)), &date);
  minute %= 24 * 60;
  local = g_date_time_new (self->tz, g_date_get_year (&date), g_date_get_month (&date),
                           g_date_get_day (&date), minute / 60, minute % 60, 0);
  return g_date_time_to_unix (local) * G_USEC_PER_SEC;
}

static GVariant *
category_to_variant (const PvCategory *c)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_byte (c->id));
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (c->name));
  g_variant_builder_add (&b, "{sv}", "validity",
                         g_variant_new_string (pv_validity_to_string (c->validity)));
  g_variant_builder_add (&b, "{sv}", "entries-per-day", g_variant_new_uint32 (c->entries_per_day));
  g_variant_builder_add (&b, "{sv}", "reentry", g_variant_new_boolean (c->reentry));
  g_variant_builder_add (&b, "{sv}", "gates",
                         g_variant_new_strv ((const char *const *) c->gates, c->gates ? -1 : 0));
  g_variant_builder_add (&b, "{sv}", "max-party", g_variant_new_uint32 (c->max_party));
  return g_variant_builder_end (&b);
}

GVariant *
pv_event_to_variant (PvEvent *self)
{
  GVariantBuilder b, hours, cats;
  g_autofree char *start = pv_event_day_date (self, 0);

  g_variant_builder_init (&hours, G_VARIANT_TYPE ("a(qq)"));
  for (guint i = 0; i < self->n_days; i++)
    g_variant_builder_add (&hours, "(qq)", self->open_min[i], self->close_min[i]);
  g_variant_builder_init (&cats, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < self->categories->len; i++)
    g_variant_builder_add_value (&cats, category_to_variant (g_ptr_array_index (self->categories, i)));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_uint32 (self->id));
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (self->name));
  g_variant_builder_add (&b, "{sv}", "venue", g_variant_new_string (self->venue));
  g_variant_builder_add (&b, "{sv}", "timezone", g_variant_new_string (self->timezone));
  g_variant_builder_add (&b, "{sv}", "start", g_variant_new_string (start));
  g_variant_builder_add (&b, "{sv}", "days", g_variant_new_uint32 (self->n_days));
  g_variant_builder_add (&b, "{sv}", "hours", g_variant_builder_end (&hours));
  g_variant_builder_add (&b, "{sv}", "capacity", g_variant_new_uint32 (self->capacity));
  g_variant_builder_add (&b, "{sv}", "gates",
                         g_variant_new_strv (pv_event_get_gates (self), -1));
  g_variant_builder_add (&b, "{sv}", "categories", g_variant_builder_end (&cats));
  g_variant_builder_add (&b, "{sv}", "public-key",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, self->public_key,
                                                    PV_PUBLIC_KEY_SIZE, 1));
  return g_variant_builder_end (&b);
}

/* Looks up @key of @type in a vardict, with an error naming what is missing. */
static GVariant *
require (GVariant *dict, const char *what, const char *key, const char *type, GError **error)
{
  GVariant *value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE (type));

  if (value == NULL)
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                 "%s lacks “%s” of type %s", what, key, type);
  return value;
}

static PvCategory *
category_from_variant (GVariant *dict, GError **error)
{
  g_autoptr (GVariant) id = NULL, name = NULL, validity = NULL, entries = NULL;
  g_autoptr (GVariant) reentry = NULL, gates = NULL, party = NULL;
  g_autofree const char **gate_names = NULL;
  PvValidity v;
  PvCategory *category;

  if (!(id = require (dict, "A category", "id", "y", error))
      || !(name = require (dict, "A category", "name", "s", error))
      || !(validity = require (dict, "A category", "validity", "s", error))
      || !(entries = require (dict, "A category", "entries-per-day", "u", error))
      || !(reentry = require (dict, "A category", "reentry", "b", error))
      || !(gates = require (dict, "A category", "gates", "as", error))
      || !(party = require (dict, "A category", "max-party", "u", error)))
    return NULL;
  if (!pv_validity_from_string (g_variant_get_string (validity, NULL), &v, error))
    return NULL;
  gate_names = g_variant_get_strv (gates, NULL);
  category = pv_category_new (g_variant_get_string (name, NULL), v,
                              g_variant_get_uint32 (entries),
                              g_variant_get_boolean (reentry),
                              gate_names, g_variant_get_uint32 (party));
  category->id = g_variant_get_byte (id);
  return category;
}

PvEvent *
pv_event_new_from_variant (GVariant *variant, GError **error)
{
  g_autoptr (GVariant) id = NULL, name = NULL, venue = NULL, tz = NULL, start = NULL;
  g_autoptr (GVariant) days = NULL, hours = NULL, capacity = NULL, gates = NULL;
  g_autoptr (GVariant) cats = NULL, key = NULL;
  g_autoptr (PvEvent) self = NULL;
  const char *what = "The event configuration";
  GVariantIter iter;
  GVariant *child;
  guint16 open, close;
  gsize n;

  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                           "The event configuration is not a dictionary");
      return NULL;
    }
  if (!(id = require (variant, what, "id", "u", error))
      || !(name = require (variant, what, "name", "s", error))
      || !(venue = require (variant, what, "venue", "s", error))
      || !(tz = require (variant, what, "timezone", "s", error))
      || !(start = require (variant, what, "start", "s", error))
      || !(days = require (variant, what, "days", "u", error))
      || !(hours = require (variant, what, "hours", "a(qq)", error))
      || !(capacity = require (variant, what, "capacity", "u", error))
      || !(gates = require (variant, what, "gates", "as", error))
      || !(cats = require (variant, what, "categories", "aa{sv}", error))
      || !(key = require (variant, what, "public-key", "ay", error)))
    return NULL;

  self = pv_event_new (g_variant_get_uint32 (id), g_variant_get_string (name, NULL),
                       g_variant_get_string (start, NULL), g_variant_get_uint32 (days), error);
  if (self == NULL)
    return NULL;
  pv_event_set_venue (self, g_variant_get_string (venue, NULL));
  pv_event_set_capacity (self, g_variant_get_uint32 (capacity));
  if (!pv_event_set_timezone (self, g_variant_get_string (tz, NULL), error))
    return NULL;
  if (g_variant_n_children (hours) != self->n_days)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "The event has %u days but opening hours for %zu",
                   self->n_days, g_variant_n_children (hours));
      return NULL;
    }
  g_variant_iter_init (&iter, hours);
  for (int day = 0; g_variant_iter_next (&iter, "(qq)", &open, &close); day++)
    if (!pv_event_set_hours (self, day, open, close, error))
      return NULL;

  g_variant_iter_init (&iter, gates);
  while ((child = g_variant_iter_next_value (&iter)))
    {
      gboolean ok = pv_event_add_gate (self, g_variant_get_string (child, NULL), error);
      g_variant_unref (child);
      if (!ok)
        return NULL;
    }

  g_variant_iter_init (&iter, cats);
  while ((child = g_variant_iter_next_value (&iter)))
    {
      PvCategory *category = category_from_variant (child, error);
      guint8 wanted;

      g_variant_unref (child);
      if (category == NULL)
        return NULL;
      wanted = category->id;
      if (wanted == 0 || pv_event_get_category (self, wanted))
        {
          g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                       "Category id %u is zero or repeated", wanted);
          pv_category_free (category);
          return NULL;
        }
      if (!pv_event_add_category (self, category, error))
        return NULL;
      /* Ids are part of every ticket already signed: keep them as sent. */
      ((PvCategory *) g_ptr_array_index (self->categories, self->categories->len - 1))->id = wanted;
    }

  if (g_variant_get_fixed_array (key, &n, 1) && n == PV_PUBLIC_KEY_SIZE)
    pv_event_set_public_key (self, g_variant_get_fixed_array (key, &n, 1));
  else
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "The event public key has %zu bytes, not %d", n, PV_PUBLIC_KEY_SIZE);
      return NULL;
    }
  return g_steal_pointer (&self);
}

PvEvent *
pv_event_copy (PvEvent *self)
{
  g_autoptr (GVariant) variant = g_variant_ref_sink (pv_event_to_variant (self));
  g_autoptr (GError) error = NULL;
  PvEvent *copy = pv_event_new_from_variant (variant, &error);

  /* Our own serialisation always reads back. */
  g_assert_no_error (error);
  return copy;
}
