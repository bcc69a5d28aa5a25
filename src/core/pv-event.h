/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-event.h: the event configuration — name, venue, time zone, consecutive
 * days with opening hours, named gates and ticket categories — and the
 * calendar arithmetic (which event day is it, is it open) every admission
 * decision needs. It travels in the ledger as one GVariant. */
#pragma once

#include <glib-object.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_DEFAULT_TIMEZONE "Asia/Kolkata"
#define PV_EVENT_MAX_DAYS 60
#define PV_EVENT_MAX_CATEGORIES 200
#define PV_MAX_PARTY 1000
/* A gate's name, in bytes (UTF-8) and without the NUL: scans, pairing codes
 * and the walk's last gate hold at most this. */
#define PV_GATE_NAME_MAX_BYTES 64

typedef enum
{
  PV_VALIDITY_CHOSEN_DAY,  /* the ticket names its day */
  PV_VALIDITY_ANY_ONE_DAY, /* the first entry fixes the day */
  PV_VALIDITY_EVERY_DAY,
} PvValidity;

const char *pv_validity_to_string (PvValidity validity);
gboolean pv_validity_from_string (const char *text,
                                  PvValidity *out_validity,
                                  GError **error);

struct _PvCategory
{
  guint8 id;
  char *name;
  PvValidity validity;
  guint entries_per_day; /* 0 = unlimited */
  gboolean reentry;      /* an exit scan gives back the day's entry */
  char **gates;          /* NULL = every gate */
  guint max_party;       /* 1 for personal tickets */
};

PvCategory *pv_category_new (const char *name,
                             PvValidity validity,
                             guint entries_per_day,
                             gboolean reentry,
                             const char *const *gates,
                             guint max_party);
PvCategory *pv_category_copy (const PvCategory *category);
void pv_category_free (PvCategory *category);
gboolean pv_category_allows_gate (const PvCategory *category, const char *gate);
/* Whether a desk offers @category to walk-ins. */
gboolean pv_category_sold_at_desk (const PvCategory *category);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvCategory, pv_category_free)

#define PV_TYPE_EVENT (pv_event_get_type ())
G_DECLARE_FINAL_TYPE (PvEvent, pv_event, PV, EVENT, GObject)

/* @start is "YYYY-MM-DD"; hours default to 10:00–20:00, time zone to
 * PV_DEFAULT_TIMEZONE, no gates, no categories. */
PvEvent *pv_event_new (guint32 id,
                       const char *name,
                       const char *start,
                       guint n_days,
                       GError **error);

guint32 pv_event_get_id (PvEvent *self);
const char *pv_event_get_name (PvEvent *self);
const char *pv_event_get_venue (PvEvent *self);
void pv_event_set_venue (PvEvent *self, const char *venue);
const char *pv_event_get_timezone (PvEvent *self);
gboolean pv_event_set_timezone (PvEvent *self, const char *tz, GError **error);
guint pv_event_get_n_days (PvEvent *self);
guint pv_event_get_capacity (PvEvent *self);
void pv_event_set_capacity (PvEvent *self, guint capacity);

/* Minutes after local midnight; @day < 0 sets every day. close > open,
 * close ≤ 24 h. */
gboolean pv_event_set_hours (PvEvent *self,
                             int day,
                             guint open_min,
                             guint close_min,
                             GError **error);
void pv_event_get_hours (PvEvent *self, guint day, guint *open_min, guint *close_min);
/* "HH:MM" → minutes; "24:00" allowed for close. */
gboolean pv_parse_clock_time (const char *text, guint *out_min, GError **error);

const guint8 *pv_event_get_public_key (PvEvent *self);
void pv_event_set_public_key (PvEvent *self, const guint8 key[PV_PUBLIC_KEY_SIZE]);

/* Gate names are unique, case-insensitively, and non-empty. */
const char *const *pv_event_get_gates (PvEvent *self);
gboolean pv_event_add_gate (PvEvent *self, const char *name, GError **error);
/* The gate's canonical spelling, or NULL when the event has no such gate. */
const char *pv_event_find_gate (PvEvent *self, const char *name);

/* Takes ownership; assigns the next free id. Names unique, case-insensitive. */
gboolean pv_event_add_category (PvEvent *self, PvCategory *category, GError **error);
GPtrArray *pv_event_get_categories (PvEvent *self); /* element-type PvCategory */
const PvCategory *pv_event_get_category (PvEvent *self, guint8 id);
const PvCategory *pv_event_find_category (PvEvent *self, const char *name);
/* One-day, season pass, school group, exhibitor. */
void pv_event_add_default_categories (PvEvent *self);

/* Calendar arithmetic in the event's time zone. */
GDateTime *pv_event_local_time (PvEvent *self, gint64 at_us);
/* @at_us in the event's zone by g_date_time_format's @format, or "?" when
 * out of range. */
char *pv_event_format_time (PvEvent *self, gint64 at_us, const char *format);
/* Event day index of @at_us: negative before the first day, ≥ n_days after. */
int pv_event_day_at (PvEvent *self, gint64 at_us);
/* TRUE when @at_us lies within the opening hours of its day. */
gboolean pv_event_is_open_at (PvEvent *self, gint64 at_us);
/* "YYYY-MM-DD" of event day @day (may lie outside the event). */
char *pv_event_day_date (PvEvent *self, int day);
/* Parses "YYYY-MM-DD" into a day index within the event, else PV_ERROR_INVALID. */
gboolean pv_event_parse_day (PvEvent *self, const char *date, int *out_day, GError **error);
/* µs time of local @minute on event day @day. */
gint64 pv_event_time_of (PvEvent *self, int day, guint minute);

/* A deep copy, to edit and append as a new configuration record. */
PvEvent *pv_event_copy (PvEvent *self);

/* A floating a{sv}. */
GVariant *pv_event_to_variant (PvEvent *self);
PvEvent *pv_event_new_from_variant (GVariant *variant, GError **error);

G_END_DECLS
