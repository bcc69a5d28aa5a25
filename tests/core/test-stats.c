/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-stats.c: the control-room figures follow every scan, and the CSV
 * exports hold every ticket and scan with formula-looking names defused. */
#include <gio/gio.h>

#include "pv-export.h"
#include "test-util.h"

static gint64
count_of (GPtrArray *counts, const char *key)
{
  for (guint i = 0; i < counts->len; i++)
    {
      PvCount *count = counts->pdata[i];
      if (g_str_equal (count->key, key))
        return count->value;
    }
  return 0;
}

static void
test_counters (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-stats-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  gint64 clock;
  g_autoptr (PvStore) admin = test_create_event (dir, &clock);
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  PvStats stats;

  a = test_issue (admin, "One-day", 2, 1);
  b = test_issue (admin, "School group", 2, 35);
  {
    PvIssueRequest web = { .category = "Season pass", .day = -1, .channel = "web" };
    g_autoptr (GPtrArray) issued = pv_tickets_issue (admin, &web, &error);
    c = g_strdup (((PvIssuedTicket *) issued->pdata[0])->code);
  }

  test_scan (admin, a, "Gate 1", test_time (admin, 2, 10, 5), FALSE);
  test_scan (admin, b, "Gate 2", test_time (admin, 2, 10, 20), FALSE);
  test_scan (admin, c, "Gate 2", test_time (admin, 2, 11, 50), FALSE);
  test_scan (admin, a, "Gate 3", test_time (admin, 2, 12, 0), TRUE);
  test_scan (admin, a, "Gate 3", test_time (admin, 2, 12, 1), FALSE); /* re-entry */
  test_scan (admin, a, "Gate 3", test_time (admin, 2, 12, 2), FALSE); /* refused */
  test_scan (admin, c, "Gate 1", test_time (admin, 3, 10, 0), FALSE);

  g_assert_true (pv_stats_load (admin, test_time (admin, 2, 13, 0), &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (stats.today, ==, "2026-12-07");
  g_assert_cmpint (stats.day, ==, 2);
  g_assert_cmpint (stats.registered_total, ==, 3);
  g_assert_cmpint (stats.entered_today, ==, 1 + 35 + 1);
  g_assert_cmpint (stats.entries_today, ==, 1 + 35 + 1 + 1);
  g_assert_cmpint (stats.exited_today, ==, 1);
  g_assert_cmpint (stats.inside_now, ==, 37);
  g_assert_cmpint (stats.scans_today, ==, 4);
  g_assert_cmpint (stats.doubles_total, ==, 0);
  g_assert_cmpint (count_of (stats.by_channel, "desk"), ==, 2);
  g_assert_cmpint (count_of (stats.by_channel, "web"), ==, 1);
  g_assert_cmpint (count_of (stats.by_category, "School group"), ==, 1);
  g_assert_cmpint (count_of (stats.entries_by_gate, "Gate 2"), ==, 36);
  g_assert_cmpint (count_of (stats.entries_by_gate, "Gate 3"), ==, 1);
  g_assert_cmpint (count_of (stats.entries_by_hour, "10"), ==, 36);
  g_assert_cmpint (count_of (stats.entries_by_quarter, "10:15"), ==, 35);
  g_assert_cmpint (count_of (stats.entries_by_quarter, "11:45"), ==, 1);
  g_assert_cmpint (count_of (stats.entries_by_day, "2026-12-08"), ==, 1);
  g_assert_cmpint (count_of (stats.registrations_mix, "One-day|desk"), ==, 1);
  g_assert_cmpint (count_of (stats.registrations_mix, "Season pass|web"), ==, 1);
  /* Inside over the day: 36 came in 10:00–10:30, one at 11:45, one went
   * out and came back at 12:00 (and one was refused, which is no scan). */
  g_assert_cmpint (count_of (stats.inside_by_quarter, "10:00"), ==, 1);
  g_assert_cmpint (count_of (stats.inside_by_quarter, "10:15"), ==, 35);
  g_assert_cmpint (count_of (stats.inside_by_quarter, "11:45"), ==, 1);
  g_assert_cmpint (count_of (stats.inside_by_quarter, "12:00"), ==, 0);
  g_assert_cmpstr (stats.yesterday, ==, "2026-12-06");
  pv_stats_clear (&stats);

  /* Day 3 compares with day 2, and its first minutes' rates per gate. */
  g_assert_true (pv_stats_load (admin, test_time (admin, 3, 10, 0), &stats, &error));
  g_assert_cmpint (count_of (stats.entries_yesterday_by_quarter, "10:15"), ==, 35);
  g_assert_cmpint (count_of (stats.entries_by_quarter, "10:00"), ==, 1);
  pv_stats_clear (&stats);
  {
    g_autoptr (GPtrArray) rates = pv_stats_gate_rates (admin, test_time (admin, 2, 12, 2), G_TIME_SPAN_MINUTE * 3, &error);
    g_assert_no_error (error);
    /* The exit does not count, nor the refused scan. */
    g_assert_cmpuint (rates->len, ==, 1);
    g_assert_cmpint (count_of (rates, "Gate 3"), ==, 1);
    g_ptr_array_unref (rates);
    rates = pv_stats_gate_rates (admin, test_time (admin, 2, 10, 21), G_TIME_SPAN_MINUTE * 30, &error);
    g_assert_cmpint (count_of (rates, "Gate 2"), ==, 35);
    g_assert_cmpint (count_of (rates, "Gate 1"), ==, 1);
    g_assert_cmpstr (((PvCount *) rates->pdata[0])->key, ==, "Gate 2");
  }

  /* A replica from before the dashboard's counters: marked stale by the
   * migration, counted again on first read, to the same figures. */
  {
    PvStats again;

    g_assert_true (pv_store_exec (admin,
                                  "DELETE FROM counters WHERE name IN ('inside.quarter', 'registrations.mix');"
                                  "INSERT OR REPLACE INTO meta (key, value) VALUES ('counters-stale', 1)",
                                  &error));
    g_assert_true (pv_stats_load (admin, test_time (admin, 2, 13, 0), &again, &error));
    g_assert_no_error (error);
    g_assert_cmpint (count_of (again.inside_by_quarter, "10:15"), ==, 35);
    g_assert_cmpint (count_of (again.registrations_mix, "School group|desk"), ==, 1);
    g_assert_cmpint (again.inside_now, ==, 37);
    g_assert_cmpint (pv_store_get_meta_int (admin, "counters-stale", 0), ==, 0);
    pv_stats_clear (&again);
  }

  g_assert_finalize_object (g_steal_pointer (&admin));
  test_rmdir (dir);
}

static GPtrArray *
read_csv (const char *text)
{
  /* Enough RFC 4180 to count rows and read cells back. */
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *cell = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = text; *p; p++)
    {
      if (quoted)
        {
          if (*p == '"' && p[1] == '"')
            g_string_append_c (cell, *p++);
          else if (*p == '"')
            quoted = FALSE;
          else
            g_string_append_c (cell, *p);
        }
      else if (*p == '"')
        quoted = TRUE;
      else if (*p == ',')
        g_ptr_array_add (row, g_string_free (g_steal_pointer (&cell), FALSE)), cell = g_string_new (NULL);
      else if (*p == '\r' && p[1] == '\n')
        {
          p++;
          g_ptr_array_add (row, g_string_free (g_steal_pointer (&cell), FALSE));
          cell = g_string_new (NULL);
          g_ptr_array_add (rows, row);
          row = g_ptr_array_new_with_free_func (g_free);
        }
      else
        g_string_append_c (cell, *p);
    }
  g_assert_cmpuint (cell->len, ==, 0);
  g_string_free (cell, TRUE);
  g_ptr_array_unref (row);
  return rows;
}

static void
test_export (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-export-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  gint64 clock;
  g_autoptr (PvStore) admin = test_create_event (dir, &clock);
  g_autoptr (GOutputStream) tickets = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) entries = g_memory_output_stream_new_resizable ();
  PvIssueRequest evil = { .category = "Season pass", .day = -1, .count = 3, .name = "=HYPERLINK(\"http://x\",\"click\")", .phone = "9876543210" };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (admin, &evil, &error);
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *text = NULL;
  guint64 n = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < issued->len; i++)
    test_scan (admin, ((PvIssuedTicket *) issued->pdata[i])->code, "Gate 1",
               test_time (admin, 0, 10, (guint) i), FALSE);

  g_assert_true (pv_export_tickets (admin, tickets, &n, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 3);
  g_assert_true (g_output_stream_write_all (tickets, "", 1, NULL, NULL, NULL));
  text = g_strdup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (tickets)));
  rows = read_csv (text);
  g_assert_cmpuint (rows->len, ==, 4);
  g_assert_cmpstr (((GPtrArray *) rows->pdata[0])->pdata[0], ==, "serial");
  g_assert_cmpstr (((GPtrArray *) rows->pdata[1])->pdata[0], ==, "1-000001");
  g_assert_cmpstr (((GPtrArray *) rows->pdata[1])->pdata[7], ==, "'=HYPERLINK(\"http://x\",\"click\")");
  g_assert_cmpstr (((GPtrArray *) rows->pdata[1])->pdata[8], ==, "'+919876543210");

  g_assert_true (pv_export_entries (admin, entries, &n, NULL, &error));
  g_assert_cmpuint (n, ==, 3);

  g_assert_finalize_object (g_steal_pointer (&admin));
  test_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stats/counters", test_counters);
  g_test_add_func ("/stats/export", test_export);
  return g_test_run ();
}
