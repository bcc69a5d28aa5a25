/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-export.c: the control room's exports in a real window under Xvfb.
 * 100,000 entries are exported to CSV on a worker while the window keeps
 * drawing and a timer on its main loop keeps firing; the progress bar
 * moves; Python's csv module reads the file back with the same count and
 * the same fields as the database. An export cancelled midway, or one
 * into a folder that is not there, leaves no file and says so. The
 * volunteers, which only the hub keeps, say in words that the hub is out
 * of reach; their CSV is written from the hub's JSON answer, and a
 * garbled answer writes nothing. */
#include "config.h"

#include <string.h>

#include "app-test.h"
#include "pv-admission.h"
#include "pv-export-page.h"
#include "pv-store-private.h"

/* Under AddressSanitizer every scan costs ten times as much: a smaller
 * replica keeps the test within its time, and proves the same. */
#if defined(__SANITIZE_ADDRESS__)
#define N_ENTRIES 20000
#else
#define N_ENTRIES 100000
#endif
#define SCAN_BATCH 5000

static char *tmpdir;
static char *db_path;
static AdwApplication *app;

/* ---- the replica ---- */

static void
fill_replica (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = app_test_create_event (db_path);
  g_autoptr (GPtrArray) issued = NULL;
  g_autoptr (GTimer) timer = g_timer_new ();
  PvIssueRequest request = { .category = "Season pass", .day = -1, .count = N_ENTRIES, .channel = "import" };
  gint64 at = pv_store_now (store);

  issued = pv_tickets_issue (store, &request, &error);
  g_assert_no_error (error);
  g_test_message ("%u tickets issued in %.1f s", issued->len, g_timer_elapsed (timer, NULL));
  /* Each admitted once, at one of the three gates, in transactions of a
   * few thousand as a busy gate's would be. */
  for (guint k0 = 0; k0 < issued->len; k0 += SCAN_BATCH)
    {
      g_assert_true (pv_store_begin (store, TRUE, &error));
      for (guint k = k0; k < MIN (k0 + SCAN_BATCH, issued->len); k++)
        {
          const PvIssuedTicket *ticket = g_ptr_array_index (issued, k);
          g_autofree char *gate = g_strdup_printf ("Gate %u", k % 3 + 1);
          PvDecision decision;

          g_assert_true (pv_admission_scan (store, ticket->code, gate, at + k, FALSE, k % 2 == 0, &decision, &error));
          g_assert_cmpint (decision.verdict, ==, PV_VERDICT_ADMIT);
          pv_decision_clear (&decision);
        }
      g_assert_true (pv_store_commit (store, &error));
    }
  g_test_message ("%u entries recorded in %.1f s", issued->len, g_timer_elapsed (timer, NULL));
}

/* ---- a window on the main loop ---- */

typedef struct
{
  GtkWindow *window;
  PvExportPage *page;
  GtkProgressBar *progress;
  /* the main loop's pulse while exporting */
  guint ticks;
  guint ticks_midway; /* while the bar stood between empty and full */
  gint64 last_tick;
  gint64 longest_gap;
  /* what the progress bar showed */
  GArray *fractions;
  gboolean cancel_at_first;
  gboolean screenshot_taken;
} Run;

static gboolean
tick_cb (gpointer user_data)
{
  Run *run = user_data;
  gint64 now = g_get_monotonic_time ();

  if (run->last_tick != 0)
    run->longest_gap = MAX (run->longest_gap, now - run->last_tick);
  run->last_tick = now;
  run->ticks++;
  if (run->fractions->len > 0)
    {
      double shown = g_array_index (run->fractions, double, run->fractions->len - 1);
      run->ticks_midway += shown > 0 && shown < 1;
    }
  /* Once the bar has moved and the window has drawn it. */
  if (!run->screenshot_taken && run->fractions->len > 0
      && g_array_index (run->fractions, double, run->fractions->len - 1) > 0)
    {
      g_autofree char *shot = app_test_screenshot (GTK_WIDGET (run->window), "export-running");
      run->screenshot_taken = shot != NULL;
    }
  return G_SOURCE_CONTINUE;
}

static void
fraction_changed_cb (GtkProgressBar *progress, GParamSpec *pspec, Run *run)
{
  double fraction = gtk_progress_bar_get_fraction (progress);

  g_array_append_val (run->fractions, fraction);
  if (fraction > 0 && run->cancel_at_first)
    {
      run->cancel_at_first = FALSE;
      pv_export_page_cancel (run->page, PV_EXPORT_KIND_ENTRIES);
    }
}

static void
run_open (Run *run)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_store_open_existing (db_path, &error);
  g_autoptr (PvStoreWatch) watch = NULL;
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");

  g_assert_no_error (error);
  watch = pv_store_watch_new (store, 250);
  run->window = GTK_WINDOW (adw_application_window_new (GTK_APPLICATION (app)));
  gtk_window_set_default_size (run->window, 1000, 640);
  run->page = PV_EXPORT_PAGE (pv_export_page_new (store, watch, settings));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (run->window), GTK_WIDGET (run->page));
  gtk_window_present (run->window);
  run->fractions = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
run_close (Run *run)
{
  gtk_window_destroy (run->window);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_array_unref (run->fractions);
}

/* Runs the main loop until the export of @kind is over, or a minute. */
static void
wait_export (Run *run, PvExportKind kind)
{
  gint64 deadline = g_get_monotonic_time () + APP_TEST_TIMEOUT_S * G_USEC_PER_SEC;
  guint tick = g_timeout_add (10, tick_cb, run);

  run->ticks = 0;
  run->ticks_midway = 0;
  run->last_tick = 0;
  run->longest_gap = 0;
  while (pv_export_page_is_busy (run->page, kind))
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
  g_source_remove (tick);
}

static const char *
subtitle_of (Run *run, PvExportKind kind)
{
  return adw_action_row_get_subtitle (pv_export_page_get_row (run->page, kind));
}

/* The files in the temporary folder besides the replica, as "a b c". */
static char *
list_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (!g_str_has_prefix (name, "fair.db"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* Whether a visible label under @widget reads @text. */
static gboolean
has_label (GtkWidget *widget, const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_is_visible (widget) && g_str_equal (gtk_label_get_text (GTK_LABEL (widget)), text))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    if (has_label (child, text))
      return TRUE;
  return FALSE;
}

/* ---- reading a CSV back, with Python ---- */

/* Runs Python's csv module over @path: the number of data rows, then the
 * cells of the rows at @indices, joined by "|", one line each. */
static char *
python_csv (const char *path, const char *indices)
{
  static const char script[] = "import csv, sys\n"
                               "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
                               "    rows = list(csv.reader(f))\n"
                               "header, data = rows[0], rows[1:]\n"
                               "print(len(data))\n"
                               "print('|'.join(header))\n"
                               "for i in sys.argv[2].split(','):\n"
                               "    print('|'.join(data[int(i)]))\n";
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "python3", "-c", script, path, indices, NULL };
  char *out = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status,
                               &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

/* Row @index of the scans in the export's order, as the CSV would say it
 * (time left out: it is checked by the core's tests). */
static char *
scan_as_csv (PvStore *store, guint index)
{
  g_autoptr (GError) error = NULL;
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT gate, is_exit, issuer, serial, party, device_id, offline, is_double "
                                         "FROM scans ORDER BY hlc, device_id, seq LIMIT 1 OFFSET ?1",
                                         &error);
  g_autofree char *serial = NULL;
  char *text;

  g_assert_no_error (error);
  sqlite3_bind_int (stmt, 1, (int) index);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  serial = pv_ticket_format_serial ((guint16) sqlite3_column_int (stmt, 2), (guint32) sqlite3_column_int64 (stmt, 3));
  text = g_strdup_printf ("%s|%s|%s|Season pass|%d|%d|%s|%s", sqlite3_column_text (stmt, 0),
                          sqlite3_column_int (stmt, 1) ? "exit" : "entry", serial, sqlite3_column_int (stmt, 4),
                          sqlite3_column_int (stmt, 5), sqlite3_column_int (stmt, 6) ? "offline" : "online",
                          sqlite3_column_int (stmt, 7) ? "double" : "");
  sqlite3_reset (stmt);
  return text;
}

/* ---- the tests ---- */

static void
test_entries (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "pravesh-entries.csv", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *out = NULL, *files = NULL;
  g_autoptr (PvStore) store = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *indices = g_strdup_printf ("0,1,12345,%u", N_ENTRIES - 1);
  guint index[] = { 0, 1, 12345, N_ENTRIES - 1 };
  guint moving = 0;
  Run run = { 0 };

  run_open (&run);
  app_test_settle ();
  run.progress = pv_export_page_get_progress (run.page, PV_EXPORT_KIND_ENTRIES);
  g_signal_connect (run.progress, "notify::fraction", G_CALLBACK (fraction_changed_cb), &run);
  /* The row says what the file holds, and how many rows it will have. */
  g_assert_true (g_str_has_prefix (subtitle_of (&run, PV_EXPORT_KIND_ENTRIES), "Time, gate, entry or exit"));
  {
    g_autofree char *count = g_strdup_printf ("%u rows", N_ENTRIES);
    g_assert_true (has_label (GTK_WIDGET (pv_export_page_get_row (run.page, PV_EXPORT_KIND_ENTRIES)), count));
  }

  pv_export_page_export_to (run.page, PV_EXPORT_KIND_ENTRIES, file);
  g_assert_true (pv_export_page_is_busy (run.page, PV_EXPORT_KIND_ENTRIES));
  g_assert_true (gtk_widget_is_visible (GTK_WIDGET (run.progress)));
  wait_export (&run, PV_EXPORT_KIND_ENTRIES);
  g_test_message ("%u main-loop ticks during the export (%u with the bar midway), longest gap %.0f ms, "
                  "%u progress updates",
                  run.ticks, run.ticks_midway, run.longest_gap / 1000.0, run.fractions->len);

  /* The window went on: its timer fired all along, also while the bar
   * stood midway, and the bar moved forward, never back. How long the
   * longest pause was is said above, not asserted: a busy machine
   * stretches it. */
  g_assert_cmpuint (run.ticks, >=, 5);
  g_assert_cmpuint (run.ticks_midway, >=, 1);
  for (guint i = 0; i < run.fractions->len; i++)
    {
      double f = g_array_index (run.fractions, double, i);
      if (f > 0 && f < 1)
        moving++;
      if (i > 0)
        g_assert_cmpfloat (f, >=, g_array_index (run.fractions, double, i - 1));
    }
  g_assert_cmpuint (moving, >=, 1);
  g_assert_true (run.screenshot_taken);

  /* Done, and said where. */
  g_assert_false (gtk_widget_is_visible (GTK_WIDGET (run.progress)));
  g_test_message ("%s", subtitle_of (&run, PV_EXPORT_KIND_ENTRIES));
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_ENTRIES), "Saved"));
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_ENTRIES), path));
  app_test_settle ();
  app_test_screenshot_when_drawn (GTK_WIDGET (run.window), "export-done");

  /* Read back by another program: every entry, the same fields. */
  out = python_csv (path, indices);
  lines = g_strsplit (g_strchomp (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2 + G_N_ELEMENTS (index));
  g_assert_cmpuint (g_ascii_strtoull (lines[0], NULL, 10), ==, N_ENTRIES);
  g_assert_cmpstr (lines[1], ==, "time|gate|direction|serial|category|party|device|decided|double");
  store = pv_store_open_existing (db_path, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (index); i++)
    {
      g_autofree char *expected = scan_as_csv (store, index[i]);
      const char *got = strchr (lines[2 + i], '|'); /* past the time */

      g_assert_nonnull (got);
      g_assert_cmpstr (got + 1, ==, expected);
    }
  /* Nothing else beside it: the temporary file became the export. */
  files = list_dir (tmpdir);
  g_assert_cmpstr (files, ==, "pravesh-entries.csv");
  run_close (&run);
}

static void
test_tickets (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "pravesh-tickets.csv", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  Run run = { 0 };

  run_open (&run);
  pv_export_page_export_to (run.page, PV_EXPORT_KIND_TICKETS, file);
  wait_export (&run, PV_EXPORT_KIND_TICKETS);
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_TICKETS), "Saved"));
  out = python_csv (path, "0");
  lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_ascii_strtoull (lines[0], NULL, 10), ==, N_ENTRIES);
  g_assert_cmpstr (lines[1], ==, "serial|category|day|party|channel|issued_at|revoked|name|phone|code");
  g_assert_true (g_str_has_prefix (lines[2], "1-000001|Season pass||1|import|"));
  g_unlink (path);
  run_close (&run);
}

/* Cancelled once it is under way: the file that was there stays as it
 * was, and no temporary file is left. */
static void
test_cancel (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "pravesh-entries.csv", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *contents = NULL, *files = NULL;
  Run run = { 0 };

  g_assert_true (g_file_set_contents (path, "an export from this morning\r\n", -1, NULL));
  run_open (&run);
  run.progress = pv_export_page_get_progress (run.page, PV_EXPORT_KIND_ENTRIES);
  g_signal_connect (run.progress, "notify::fraction", G_CALLBACK (fraction_changed_cb), &run);
  run.cancel_at_first = TRUE;
  run.screenshot_taken = TRUE;
  pv_export_page_export_to (run.page, PV_EXPORT_KIND_ENTRIES, file);
  wait_export (&run, PV_EXPORT_KIND_ENTRIES);
  g_assert_false (run.cancel_at_first);
  g_test_message ("%s", subtitle_of (&run, PV_EXPORT_KIND_ENTRIES));
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_ENTRIES), "cancelled"));
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "an export from this morning\r\n");
  files = list_dir (tmpdir);
  g_assert_cmpstr (files, ==, "pravesh-entries.csv");
  run_close (&run);
}

/* Into a folder that is not there: said in words, nothing made. */
static void
test_no_folder (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "gone", "pravesh-tickets.csv", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *files = NULL;
  Run run = { 0 };

  run_open (&run);
  pv_export_page_export_to (run.page, PV_EXPORT_KIND_TICKETS, file);
  wait_export (&run, PV_EXPORT_KIND_TICKETS);
  g_test_message ("%s", subtitle_of (&run, PV_EXPORT_KIND_TICKETS));
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_TICKETS), "Not saved: The folder "));
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_TICKETS), "/gone is not there"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (pv_export_page_get_row (run.page, PV_EXPORT_KIND_TICKETS))));
  files = list_dir (tmpdir);
  g_assert_cmpstr (files, ==, "pravesh-entries.csv");
  run_close (&run);
}

/* The volunteers live on the hub: with none reachable the row says so,
 * and writes nothing. */
static void
test_volunteers_offline (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "pravesh-volunteers.csv", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  Run run = { 0 };

  {
    g_autoptr (PvStore) store = pv_store_open_existing (db_path, &error);
    g_assert_no_error (error);
    /* Port 9 (discard) on this machine: nothing listens there. */
    g_assert_true (pv_store_set_meta_string (store, "hub-url", "https://127.0.0.1:9/", &error));
  }
  run_open (&run);
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_VOLUNTEERS), "fetched from the hub"));
  pv_export_page_export_to (run.page, PV_EXPORT_KIND_VOLUNTEERS, file);
  wait_export (&run, PV_EXPORT_KIND_VOLUNTEERS);
  g_test_message ("%s", subtitle_of (&run, PV_EXPORT_KIND_VOLUNTEERS));
  g_assert_nonnull (strstr (subtitle_of (&run, PV_EXPORT_KIND_VOLUNTEERS), "The hub is out of reach"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  app_test_settle ();
  app_test_screenshot_when_drawn (GTK_WIDGET (run.window), "export-volunteers-offline");
  run_close (&run);
}

/* The hub's answer, as CSV; a garbled one writes nothing at all. */
static void
test_volunteers_csv (void)
{
  static const char answer[] = "{\"volunteers\": ["
                               "{\"id\": 1, \"name\": \"Asha, \\\"Didi\\\"\", \"phone\": \"+919876543210\", "
                               "\"role\": \"desk\", \"active\": true, \"added_at\": 1795000000000000, "
                               "\"last_sign_in\": {\"at\": 1795003600000000, \"device\": 3, "
                               "\"device_name\": \"Desk 1\"}},"
                               "{\"id\": 2, \"name\": \"=cmd\", \"phone\": null, \"role\": \"gate\", "
                               "\"active\": false, \"added_at\": 1795000000000000, \"last_sign_in\": null}]}";
  static const char *const garbled[] = {
    "[]",
    "{\"volunteers\": {}}",
    "{\"volunteers\": [{\"id\": \"1\", \"name\": \"A\", \"role\": \"desk\"}]}",
    "{\"volunteers\": [{\"id\": 1, \"role\": \"desk\"}]}",
    "{\"volunteers\": [{\"id\": 1, \"name\": \"A\", \"role\": \"desk\", \"last_sign_in\": 5}]}",
    "{\"volunteers\": [{\"id\": 1, \"name\": \"A\", \"role\": \"desk\"}, 7]}",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_store_open_existing (db_path, &error);
  g_autoptr (JsonNode) node = json_from_string (answer, &error);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autofree char *csv = NULL;
  guint64 rows = 0;

  g_assert_no_error (error);
  g_assert_true (pv_export_volunteers_csv (node, pv_store_get_event (store, NULL), out, &rows, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rows, ==, 2);
  g_assert_true (g_output_stream_write_all (out, "", 1, NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  csv = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
  /* Times in the event's zone (Asia/Kolkata); a name that looks like a
   * formula defused, and a phone's + too, as in every export. */
  g_assert_cmpstr (csv, ==,
                   "id,name,phone,role,active,added_at,last_sign_in,last_sign_in_device\r\n"
                   "1,\"Asha, \"\"Didi\"\"\",'+919876543210,desk,yes,2026-11-18T16:36:40+05:30,"
                   "2026-11-18T17:36:40+05:30,Desk 1\r\n"
                   "2,'=cmd,,gate,no,2026-11-18T16:36:40+05:30,,\r\n");

  for (guint i = 0; i < G_N_ELEMENTS (garbled); i++)
    {
      g_autoptr (JsonNode) bad = json_from_string (garbled[i], NULL);
      g_autoptr (GOutputStream) nowhere = g_memory_output_stream_new_resizable ();

      g_assert_nonnull (bad);
      g_assert_false (pv_export_volunteers_csv (bad, pv_store_get_event (store, NULL), nowhere, NULL, NULL, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
      g_test_message ("%s: %s", garbled[i], error->message);
      g_clear_error (&error);
      g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (nowhere)), ==, 0);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  gtk_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("pravesh-test-export-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmpdir, "fair.db", NULL);
  fill_replica ();

  /* Registered, not run: its start-up loads the style sheet, and the
   * tests turn its main context themselves. */
  app = adw_application_new ("in.pravesh.Pravesh.TestExport", G_APPLICATION_NON_UNIQUE);
  g_application_set_resource_base_path (G_APPLICATION (app), "/in/pravesh/Pravesh");
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/export/entries", test_entries);
  g_test_add_func ("/export/tickets", test_tickets);
  g_test_add_func ("/export/cancel", test_cancel);
  g_test_add_func ("/export/no-folder", test_no_folder);
  g_test_add_func ("/export/volunteers-offline", test_volunteers_offline);
  g_test_add_func ("/export/volunteers-csv", test_volunteers_csv);
  status = g_test_run ();

  /* A hundred thousand tickets take room: nothing is left behind. */
  {
    g_autoptr (GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (tmpdir, name, NULL);
        g_unlink (path);
      }
    g_rmdir (tmpdir);
  }
  /* Registered, the application is the process's default one and stays
   * referenced as such. */
  g_object_unref (app);
  return status;
}
