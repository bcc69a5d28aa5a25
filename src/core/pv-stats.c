/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-stats.c: reads the counters the state module keeps up to date, so a
 * dashboard refresh costs a handful of index lookups at any ledger size. */
#include "pv-stats.h"

#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-state.h"
#include "pv-store-private.h"
#include "pv-ticket-code.h"

void
pv_count_free (PvCount *count)
{
  if (count == NULL)
    return;
  g_free (count->key);
  g_free (count);
}

gint64
pv_stats_counter (PvStore *store, const char *name, const char *key)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT value FROM counters WHERE name = ?1 AND key = ?2",
                                         NULL);
  gint64 value = 0;

  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

/* Counters of @name whose key starts with @prefix, the prefix cut off. */
static GPtrArray *
counters_with_prefix (PvStore *store, const char *name, const char *prefix, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT key, value FROM counters "
                                         "WHERE name = ?1 AND key >= ?2 AND key < ?2 || x'ff' "
                                         "AND value != 0 ORDER BY key",
                                         error);
  g_autoptr (GPtrArray) counts = NULL;
  gsize skip = strlen (prefix);
  int rc;

  if (stmt == NULL)
    return NULL;
  counts = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_count_free);
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, prefix, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvCount *count = g_new0 (PvCount, 1);
      count->key = g_strdup ((const char *) sqlite3_column_text (stmt, 0) + skip);
      count->value = sqlite3_column_int64 (stmt, 1);
      g_ptr_array_add (counts, count);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read counters"), NULL;
  return g_steal_pointer (&counts);
}

static gint64
sum (GPtrArray *counts)
{
  gint64 total = 0;

  for (guint i = 0; i < counts->len; i++)
    total += ((PvCount *) g_ptr_array_index (counts, i))->value;
  return total;
}

/* Categories are counted by id, which tickets carry; show names. A key
 * may go on after the id ("3|web"). */
static void
name_categories (PvEvent *event, GPtrArray *counts)
{
  for (guint i = 0; i < counts->len; i++)
    {
      PvCount *count = g_ptr_array_index (counts, i);
      char *rest = NULL;
      guint64 id = g_ascii_strtoull (count->key, &rest, 10);
      const PvCategory *category = id <= G_MAXUINT8 ? pv_event_get_category (event, (guint8) id) : NULL;

      if (category)
        {
          char *named = g_strconcat (category->name, rest, NULL);
          g_free (count->key);
          count->key = named;
        }
    }
}

/* One counter for @date, or the sum of all its keys when @date is NULL;
 * -1 on error. */
static gint64
counter_for (PvStore *store, const char *name, const char *date, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 value = 0;
  int rc;

  if (date != NULL)
    return pv_stats_counter (store, name, date);
  if (!(stmt = pv_store_prepare (store, "SELECT coalesce(sum(value), 0) FROM counters WHERE name = ?1", error)))
    return -1;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    return pv_store_fail (store, error, "Cannot read counters"), -1;
  return value;
}

gboolean
pv_stats_totals (PvStore *store, const char *date, PvTotals *out, GError **error)
{
  memset (out, 0, sizeof *out);
  return !(!pv_state_count_again_if_stale (store, error)
           || (out->tickets = counter_for (store, date ? "registrations.day" : "registrations.channel", date, error)) < 0
           || (out->visitors = counter_for (store, "visitors.day", date, error)) < 0
           || (out->entries = counter_for (store, "entries.day", date, error)) < 0
           || (out->exits = counter_for (store, "exits.day", date, error)) < 0);
}

gint64
pv_stats_count_scans (PvStore *store, GError **error)
{
  /* The export's own count of the rows it writes. */
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT count(*) FROM scans", error);
  gint64 n = -1;
  int rc;

  if (stmt == NULL)
    return -1;
  if ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    return pv_store_fail (store, error, "Cannot read scans"), -1;
  return n;
}

gboolean
pv_stats_load (PvStore *store, gint64 now, PvStats *out, GError **error)
{
  PvEvent *event;
  g_autofree char *hour_prefix = NULL, *gate_prefix = NULL, *yesterday_prefix = NULL;
  g_autoptr (GPtrArray) doubles = NULL;
  g_autoptr (GDateTime) local = NULL;
  g_autoptr (GDateTime) before = NULL;

  memset (out, 0, sizeof *out);
  /* Counting again writes, which drops the cached event: read it after. */
  if (!pv_state_count_again_if_stale (store, error) || !(event = pv_store_get_event (store, error)))
    return FALSE;
  out->day = pv_event_day_at (event, now);
  out->today = pv_event_day_date (event, out->day);
  /* The calendar day before, which may be before the event began. */
  if (!(local = pv_event_local_time (event, now)))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "The time is out of range"), FALSE;
  before = g_date_time_add_days (local, -1);
  out->yesterday = g_date_time_format (before, "%F");
  yesterday_prefix = g_strconcat (out->yesterday, "T", NULL);
  out->capacity = pv_event_get_capacity (event);
  hour_prefix = g_strconcat (out->today, "T", NULL);
  gate_prefix = g_strconcat (out->today, "|", NULL);

  if (!(out->by_channel = counters_with_prefix (store, "registrations.channel", "", error))
      || !(out->by_category = counters_with_prefix (store, "registrations.category", "", error))
      || !(out->entries_by_day = counters_with_prefix (store, "entries.day", "", error))
      || !(out->entries_by_hour = counters_with_prefix (store, "entries.hour", hour_prefix, error))
      || !(out->entries_by_quarter = counters_with_prefix (store, "entries.quarter", hour_prefix, error))
      || !(out->entries_by_gate = counters_with_prefix (store, "entries.gate", gate_prefix, error))
      || !(out->entries_yesterday_by_quarter = counters_with_prefix (store, "entries.quarter", yesterday_prefix, error))
      || !(out->inside_by_quarter = counters_with_prefix (store, "inside.quarter", hour_prefix, error))
      || !(out->registrations_mix = counters_with_prefix (store, "registrations.mix", "", error))
      || !(doubles = counters_with_prefix (store, "doubles.day", "", error)))
    {
      pv_stats_clear (out);
      return FALSE;
    }
  name_categories (event, out->by_category);
  name_categories (event, out->registrations_mix);

  {
    PvTotals today, all;

    if (!pv_stats_totals (store, out->today, &today, error) || !pv_stats_totals (store, NULL, &all, error))
      {
        pv_stats_clear (out);
        return FALSE;
      }
    out->registered_total = all.tickets;
    out->registered_today = today.tickets;
    out->entered_today = today.visitors;
    out->entries_today = today.entries;
    out->exited_today = today.exits;
    out->entries_total = all.entries;
    out->exits_total = all.exits;
  }
  out->inside_now = MAX (0, pv_stats_counter (store, "inside.day", out->today));
  out->scans_today = pv_stats_counter (store, "scans.day", out->today);
  out->doubles_total = sum (doubles);
  out->doubles_today = pv_stats_counter (store, "doubles.day", out->today);
  return TRUE;
}

void
pv_stats_clear (PvStats *stats)
{
  g_free (stats->today);
  g_free (stats->yesterday);
  g_clear_pointer (&stats->by_channel, g_ptr_array_unref);
  g_clear_pointer (&stats->by_category, g_ptr_array_unref);
  g_clear_pointer (&stats->entries_by_day, g_ptr_array_unref);
  g_clear_pointer (&stats->entries_by_hour, g_ptr_array_unref);
  g_clear_pointer (&stats->entries_by_quarter, g_ptr_array_unref);
  g_clear_pointer (&stats->entries_by_gate, g_ptr_array_unref);
  g_clear_pointer (&stats->entries_yesterday_by_quarter, g_ptr_array_unref);
  g_clear_pointer (&stats->inside_by_quarter, g_ptr_array_unref);
  g_clear_pointer (&stats->registrations_mix, g_ptr_array_unref);
  memset (stats, 0, sizeof *stats);
}

GPtrArray *
pv_stats_gate_rates (PvStore *store, gint64 now, gint64 window, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT gate, sum(party) AS people FROM scans "
                                         "WHERE at > ?1 AND at <= ?2 AND is_exit = 0 AND is_void = 0 "
                                         "GROUP BY gate ORDER BY people DESC, gate",
                                         error);
  g_autoptr (GPtrArray) rates = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  rates = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_count_free);
  sqlite3_bind_int64 (stmt, 1, now - window);
  sqlite3_bind_int64 (stmt, 2, now);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvCount *count = g_new0 (PvCount, 1);
      count->key = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      count->value = sqlite3_column_int64 (stmt, 1);
      g_ptr_array_add (rates, count);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read scans"), NULL;
  return g_steal_pointer (&rates);
}

void
pv_double_entry_free (PvDoubleEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->serial);
  g_free (entry->gate);
  g_free (entry->first_gate);
  g_free (entry);
}

/* The winner is the latest accepted entry before the double in canonical
 * order: the one the double would have been refused because of. */
static gboolean
find_winner (PvStore *store, sqlite3_stmt *double_row, PvDoubleEntry *entry, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT device_id, at, gate, offline FROM scans "
                                         "WHERE issuer = ?1 AND serial = ?2 AND is_exit = 0 "
                                         "  AND is_double = 0 AND is_void = 0 "
                                         "  AND (hlc, device_id, seq) < (?3, ?4, ?5) "
                                         "ORDER BY hlc DESC, device_id DESC, seq DESC LIMIT 1",
                                         error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  for (int i = 0; i < 5; i++)
    sqlite3_bind_value (stmt, i + 1, sqlite3_column_value (double_row, i));
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      entry->first_device_id = (guint16) sqlite3_column_int (stmt, 0);
      entry->first_at = sqlite3_column_int64 (stmt, 1);
      entry->first_gate = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      entry->first_offline = sqlite3_column_int (stmt, 3);
    }
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || pv_store_fail (store, error, "Cannot read scans");
}

GPtrArray *
pv_stats_list_doubles (PvStore *store, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT issuer, serial, hlc, device_id, seq, day, at, gate, "
                                         "       offline "
                                         "FROM scans WHERE is_double = 1 ORDER BY hlc, device_id, seq",
                                         error);
  g_autoptr (GPtrArray) doubles = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  doubles = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_double_entry_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvDoubleEntry *entry = g_new0 (PvDoubleEntry, 1);

      g_ptr_array_add (doubles, entry);
      entry->serial = pv_ticket_format_serial ((guint16) sqlite3_column_int (stmt, 0),
                                               (guint32) sqlite3_column_int64 (stmt, 1));
      entry->device_id = (guint16) sqlite3_column_int (stmt, 3);
      entry->seq = (guint64) sqlite3_column_int64 (stmt, 4);
      entry->day = sqlite3_column_int (stmt, 5);
      entry->at = sqlite3_column_int64 (stmt, 6);
      entry->gate = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
      entry->offline = sqlite3_column_int (stmt, 8);
      if (!find_winner (store, stmt, entry, error))
        {
          sqlite3_reset (stmt);
          return NULL;
        }
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read double entries"), NULL;
  return g_steal_pointer (&doubles);
}
