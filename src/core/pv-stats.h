/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-stats.h: figures for the control room, read from the incremental
 * counters (never a scan of the ledger), and the list of double entries. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

typedef struct
{
  char *key;
  gint64 value;
} PvCount;

void pv_count_free (PvCount *count);

typedef struct
{
  char *today; /* local date of @now, "YYYY-MM-DD" */
  char *yesterday;
  int day;                 /* event day index of @now */
  gint64 registered_total; /* tickets */
  gint64 registered_today;
  gint64 entered_today; /* people who came in today, each once */
  gint64 entries_today; /* people through the entry gates, re-entries too */
  gint64 exited_today;
  gint64 entries_total; /* people through the entry gates, every day */
  gint64 exits_total;
  gint64 inside_now;
  gint64 scans_today; /* entry scans */
  gint64 doubles_total;
  gint64 doubles_today;
  guint capacity;
  GPtrArray *by_channel;                   /* PvCount: tickets per channel */
  GPtrArray *by_category;                  /* PvCount: tickets per category name */
  GPtrArray *entries_by_day;               /* PvCount: people per date */
  GPtrArray *entries_by_hour;              /* PvCount: today, "HH" */
  GPtrArray *entries_by_quarter;           /* PvCount: today, "HH:MM" */
  GPtrArray *entries_by_gate;              /* PvCount: today, gate name */
  GPtrArray *entries_yesterday_by_quarter; /* PvCount: "HH:MM" */
  GPtrArray *inside_by_quarter;            /* PvCount: today, "HH:MM", people in less people out */
  GPtrArray *registrations_mix;            /* PvCount: "category name|channel" */
} PvStats;

/* The totals the control room shows in more than one place, read one
 * way so they always agree. People, not scans: a group's ticket counts
 * its party. */
typedef struct
{
  gint64 tickets;  /* issued (on @date: issued that day) */
  gint64 visitors; /* people who came in, each once a day */
  gint64 entries;  /* people through the entry gates, re-entries too */
  gint64 exits;    /* people out through the exit gates */
} PvTotals;

/* Totals for the local date @date ("YYYY-MM-DD"), or for every day when
 * @date is NULL. Counters only: a handful of index reads. */
gboolean pv_stats_totals (PvStore *store, const char *date, PvTotals *out, GError **error);

/* Every scan on record, entries and exits, voided ones too: the rows of
 * the entries export. Counts an index, so not for every refresh; -1 on
 * error. */
gint64 pv_stats_count_scans (PvStore *store, GError **error);

gboolean pv_stats_load (PvStore *store, gint64 now, PvStats *out, GError **error);
void pv_stats_clear (PvStats *stats);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PvStats, pv_stats_clear)

/* People who came in through each entry gate in the @window µs up to
 * @now (element-type PvCount, gate name → people), busiest first. */
GPtrArray *pv_stats_gate_rates (PvStore *store, gint64 now, gint64 window, GError **error);

/* One counter, 0 when absent. */
gint64 pv_stats_counter (PvStore *store, const char *name, const char *key);

typedef struct
{
  char *serial;
  int day;
  /* the refused-in-hindsight entry */
  guint16 device_id;
  guint64 seq;
  gint64 at;
  char *gate;
  gboolean offline;
  /* the entry that won (earlier in canonical order), 0 when none */
  guint16 first_device_id;
  gint64 first_at;
  char *first_gate;
  gboolean first_offline;
} PvDoubleEntry;

void pv_double_entry_free (PvDoubleEntry *entry);
/* Every double entry, oldest first (element-type PvDoubleEntry). */
GPtrArray *pv_stats_list_doubles (PvStore *store, GError **error);

G_END_DECLS
