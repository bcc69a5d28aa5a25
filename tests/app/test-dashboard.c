/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-dashboard.c: the control room's dashboard in a real window — its
 * figures and charts match the replica, a scan another program writes
 * into the file shows within a second, the venue capacity warns at 90 %
 * and alarms at 100 %, and screenshots in the light and dark styles. */
#include "app-test.h"
#include "pv-admission.h"
#include "pv-chart.h"
#include "pv-dashboard-page.h"
#include "pv-export-page.h"
#include "pv-store-private.h"

#define ADMITTED 12

typedef struct
{
  char *db;
  char *spare; /* a ticket the other program admits */
  int stage;
  guint refreshes;
  gint64 written;
  char *entered;
} Dashboard;

static gboolean
has_label (PvChart *chart, PvChartLabelRole role, const char *text)
{
  GPtrArray *labels = pv_chart_get_labels (chart);

  for (guint i = 0; labels && i < labels->len; i++)
    {
      PvChartLabel *label = labels->pdata[i];
      if (label->role == role && g_str_equal (label->text, text))
        return TRUE;
    }
  return FALSE;
}

/* The first spin button under @widget set for the setting @key. */
static GtkSpinButton *
find_spin (GtkWidget *widget, const char *key)
{
  if (GTK_IS_SPIN_BUTTON (widget) && g_strcmp0 (g_object_get_data (G_OBJECT (widget), "key"), key) == 0)
    return GTK_SPIN_BUTTON (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkSpinButton *found = find_spin (child, key);
      if (found)
        return found;
    }
  return NULL;
}

static GtkWindow *
find_preferences (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      if (ADW_IS_PREFERENCES_WINDOW (toplevel))
        return toplevel;
    }
  return NULL;
}

static void
admit_elsewhere (Dashboard *dashboard)
{
  const char *args[] = { "--db", dashboard->db, "admit", "--offline", "--gate", "Gate 3", dashboard->spare, NULL };

  g_assert_true (app_test_ctl_run (args, NULL));
}

static gboolean
dashboard_step (AppRun *run, PvWindow *window, gpointer data)
{
  Dashboard *dashboard = data;
  PvDashboardPage *page;
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  g_autofree char *shot = NULL;

  if (window == NULL)
    return FALSE;
  page = PV_DASHBOARD_PAGE (pv_window_get_page (window, "dashboard"));
  g_assert_nonnull (page);
  if (pv_dashboard_page_get_n_refreshes (page) == 0)
    return FALSE;

  switch (dashboard->stage)
    {
    case 0:
      {
        PvChart *gates = pv_dashboard_page_get_chart (page, PV_DASHBOARD_CHART_GATES);
        PvChart *quarters = pv_dashboard_page_get_chart (page, PV_DASHBOARD_CHART_QUARTERS);

        /* The control room opens on its dashboard, figures from the file. */
        g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (page)));
        g_assert_cmpstr (pv_dashboard_page_get_figure (page, PV_DASHBOARD_ENTERED), ==, "12");
        g_assert_cmpstr (pv_dashboard_page_get_figure (page, PV_DASHBOARD_INSIDE), ==, "12");
        g_assert_cmpstr (pv_dashboard_page_get_figure (page, PV_DASHBOARD_REGISTERED), ==, "13");
        g_assert_cmpstr (pv_dashboard_page_get_figure (page, PV_DASHBOARD_DOUBLES), ==, "0");
        g_assert_cmpstr (pv_dashboard_page_get_inside_level (page), ==, "normal");
        /* Drawn: the charts' own layout says what is on them. */
        if (!has_label (gates, PV_CHART_LABEL_X_AXIS, "Gate 1"))
          return FALSE;
        g_assert_true (has_label (gates, PV_CHART_LABEL_X_AXIS, "Gate 2"));
        g_assert_true (has_label (gates, PV_CHART_LABEL_NOTE, "6/min"));
        g_assert_true (has_label (quarters, PV_CHART_LABEL_X_AXIS, "12:00"));
        g_assert_true (has_label (quarters, PV_CHART_LABEL_LEGEND, "Today"));
        shot = app_test_screenshot (GTK_WIDGET (window), "dashboard-light");
        if (shot == NULL)
          return FALSE;

        /* Another program admits one more into the same file. */
        dashboard->entered = g_strdup (pv_dashboard_page_get_figure (page, PV_DASHBOARD_ENTERED));
        admit_elsewhere (dashboard);
        dashboard->written = g_get_monotonic_time ();
        dashboard->stage = 1;
        return FALSE;
      }
    case 1:
      if (g_str_equal (pv_dashboard_page_get_figure (page, PV_DASHBOARD_ENTERED), dashboard->entered))
        return FALSE;
      /* The issue's bound for a record reaching the screen. */
      g_assert_cmpint (g_get_monotonic_time () - dashboard->written, <, G_USEC_PER_SEC);
      g_assert_cmpstr (pv_dashboard_page_get_figure (page, PV_DASHBOARD_ENTERED), ==, "13");
      g_assert_cmpstr (pv_dashboard_page_get_figure (page, PV_DASHBOARD_INSIDE), ==, "13");
      g_assert_true (has_label (pv_dashboard_page_get_chart (page, PV_DASHBOARD_CHART_GATES), PV_CHART_LABEL_X_AXIS,
                                "Gate 3"));
      /* 13 of 14: over 90 %, a warning. The capacity is set as the
       * control room sets it, in the preferences. */
      gtk_widget_activate_action (GTK_WIDGET (window), "win.preferences", NULL);
      {
        GtkWindow *preferences = find_preferences ();
        GtkSpinButton *spin = preferences ? find_spin (GTK_WIDGET (preferences), "venue-capacity") : NULL;

        g_assert_nonnull (spin);
        gtk_spin_button_set_value (spin, 14);
        gtk_window_destroy (preferences);
      }
      g_assert_cmpuint (g_settings_get_uint (settings, "venue-capacity"), ==, 14);
      dashboard->refreshes = pv_dashboard_page_get_n_refreshes (page);
      dashboard->stage = 2;
      return FALSE;
    case 2:
      if (pv_dashboard_page_get_n_refreshes (page) == dashboard->refreshes)
        return FALSE;
      g_assert_cmpstr (pv_dashboard_page_get_inside_level (page), ==, "warning");
      g_assert_nonnull (strstr (pv_dashboard_page_get_detail (page, PV_DASHBOARD_INSIDE), "of 14"));
      g_settings_set_uint (settings, "venue-capacity", 13);
      dashboard->refreshes = pv_dashboard_page_get_n_refreshes (page);
      dashboard->stage = 3;
      return FALSE;
    case 3:
      if (pv_dashboard_page_get_n_refreshes (page) == dashboard->refreshes)
        return FALSE;
      g_assert_cmpstr (pv_dashboard_page_get_inside_level (page), ==, "alarm");
      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
      dashboard->stage = 4;
      return FALSE;
    default:
      /* A few ticks for the dark style to be drawn. */
      if (++dashboard->stage < 8)
        return FALSE;
      shot = app_test_screenshot (GTK_WIDGET (window), "dashboard-dark");
      if (shot == NULL)
        return FALSE;
      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
      g_settings_reset (settings, "venue-capacity");
      return TRUE;
    }
}

static void
test_dashboard (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-dashboard-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "event.db", NULL);
  g_autoptr (PvStore) store = app_test_create_event (db_path);
  const char *gates[] = { "Gate 1", "Gate 2" };
  Dashboard dashboard = { .db = db_path };
  g_autoptr (GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  gint64 now;

  /* The tickets first: issuing is slow under the sanitizers on a busy
   * machine, and the scans must still be in the last minute when the
   * dashboard counts them. */
  for (guint i = 0; i < ADMITTED; i++)
    g_ptr_array_add (codes, app_test_issue (store, "One-day", app_test_today (store), 1, NULL));
  now = pv_store_now (store);
  /* Twelve people in through two gates in the last minute. */
  for (guint i = 0; i < ADMITTED; i++)
    {
      g_autoptr (GError) error = NULL;
      PvDecision decision = { 0 };

      g_assert_true (pv_admission_scan (store, g_ptr_array_index (codes, i), gates[i % 2],
                                        now - (i + 1) * G_USEC_PER_SEC, FALSE, FALSE, &decision, &error));
      g_assert_no_error (error);
      pv_decision_clear (&decision);
    }
  dashboard.spare = app_test_issue (store, "One-day", app_test_today (store), 1, NULL);
  g_clear_object (&store);

  {
    const char *args[] = { "--db", db_path, "--role", "admin", "--camera", "none", NULL };
    g_assert_cmpint (app_test_run (args, dashboard_step, &dashboard), ==, 0);
  }
  g_free (dashboard.spare);
  g_free (dashboard.entered);
}

/* ---- figures that reconcile ---- */

typedef struct
{
  gint64 now; /* the store's clock while the ledger is written */
  int stage;
  char *dashboard_all; /* "N entries since the start" as the dashboard says it */
} Reconcile;

static gint64
reconcile_clock (gpointer user_data)
{
  return ((Reconcile *) user_data)->now;
}

/* The figure before @words in @text ("12,345 entries since the start"),
 * grouping dropped; -1 when absent. */
static gint64
figure_before (const char *text, const char *words)
{
  const char *end = strstr (text, words), *start;
  g_autoptr (GString) digits = g_string_new (NULL);

  if (end == NULL)
    return -1;
  for (start = end; start > text && (g_ascii_isdigit (start[-1]) || start[-1] == ',' || start[-1] == ' '); start--)
    ;
  for (const char *p = start; p < end; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (digits, *p);
  return digits->len ? g_ascii_strtoll (digits->str, NULL, 10) : -1;
}

static gint64
ledger_int (PvStore *store, const char *sql)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, sql, NULL);
  gint64 value;

  g_assert_nonnull (stmt);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

static const char *
export_row_count (PvExportPage *page)
{
  AdwActionRow *row = pv_export_page_get_row (page, PV_EXPORT_KIND_ENTRIES);

  /* The count is the row's figure, a numeric label beside its button. */
  for (GtkWidget *w = gtk_widget_get_first_child (GTK_WIDGET (row)); w;)
    {
      if (GTK_IS_LABEL (w) && gtk_widget_has_css_class (w, "numeric") && gtk_widget_get_visible (w))
        return gtk_label_get_text (GTK_LABEL (w));
      if (gtk_widget_get_first_child (w))
        w = gtk_widget_get_first_child (w);
      else
        {
          while (w && !gtk_widget_get_next_sibling (w) && w != GTK_WIDGET (row))
            w = gtk_widget_get_parent (w);
          w = w && w != GTK_WIDGET (row) ? gtk_widget_get_next_sibling (w) : NULL;
        }
    }
  return NULL;
}

static gboolean
reconcile_step (AppRun *run, PvWindow *window, gpointer data)
{
  Reconcile *t = data;
  PvDashboardPage *dashboard;
  PvExportPage *export;

  if (window == NULL)
    return FALSE;
  dashboard = PV_DASHBOARD_PAGE (pv_window_get_page (window, "dashboard"));
  export = PV_EXPORT_PAGE (pv_window_get_page (window, "export"));
  switch (t->stage)
    {
    case 0:
      if (pv_dashboard_page_get_n_refreshes (dashboard) == 0)
        return FALSE;
      {
        g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), "reconcile-dashboard");
        if (shot == NULL)
          return FALSE;
      }
      t->dashboard_all = g_strdup (pv_dashboard_page_get_detail (dashboard, PV_DASHBOARD_ENTERED));
      pv_window_show_page (window, "export");
      t->stage = 1;
      return FALSE;
    default:
      {
        const char *people = adw_action_row_get_subtitle (pv_export_page_get_row (export, PV_EXPORT_KIND_ENTRIES));
        const char *rows = export_row_count (export);
        g_autoptr (PvStore) store = NULL;
        g_autoptr (GError) error = NULL;
        const char *db = g_getenv ("PV_TEST_RECONCILE_DB");
        gint64 ledger_entries, ledger_today, ledger_once, ledger_rows;

        if (rows == NULL || !gtk_widget_get_mapped (GTK_WIDGET (export)))
          return FALSE;
        store = pv_store_open_existing (db, &error);
        g_assert_no_error (error);
        ledger_entries = ledger_int (store, "SELECT sum(party) FROM scans WHERE is_exit = 0 AND is_void = 0");
        ledger_rows = ledger_int (store, "SELECT count(*) FROM scans");
        ledger_today = ledger_int (store, "SELECT sum(party) FROM scans WHERE is_exit = 0 AND is_void = 0 "
                                          "AND day = (SELECT max(day) FROM scans)");
        ledger_once = ledger_int (store, "SELECT sum(counted_party) FROM scans WHERE is_void = 0 "
                                         "AND day = (SELECT max(day) FROM scans)");
        g_test_message ("dashboard: %s · %s", pv_dashboard_page_get_figure (dashboard, PV_DASHBOARD_ENTERED),
                        t->dashboard_all);
        g_test_message ("export: %s · %s", rows, people);
        /* The store has what the figures must tell apart. */
        g_assert_cmpint (ledger_int (store, "SELECT count(DISTINCT day) FROM scans"), ==, 3);
        g_assert_cmpint (ledger_int (store, "SELECT count(*) FROM scans WHERE is_exit = 1"), >, 0);
        g_assert_cmpint (ledger_today, >, ledger_once);
        g_assert_cmpint (ledger_rows, <, ledger_entries);
        /* One figure, one number, in both places and in the ledger. */
        g_assert_cmpint (figure_before (t->dashboard_all, " entries since the start"), ==, ledger_entries);
        g_assert_cmpint (figure_before (people, " entries since the start"), ==, ledger_entries);
        g_assert_cmpint (figure_before (t->dashboard_all, " entries today"), ==, ledger_today);
        g_assert_cmpint (g_ascii_strtoll (pv_dashboard_page_get_figure (dashboard, PV_DASHBOARD_ENTERED), NULL, 10), ==,
                         ledger_once);
        g_assert_true (g_str_has_prefix (t->dashboard_all, "people today, each counted once"));
        /* The file's rows are scans, said as rows. */
        g_assert_cmpint (figure_before (rows, " rows"), ==, ledger_rows);
        {
          g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), "reconcile-export");
          return shot != NULL;
        }
      }
    }
}

/* Entries, re-entries and exits over three days, a group among them. */
static void
test_reconcile (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pv-reconcile-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "event.db", NULL);
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier ("Asia/Kolkata");
  g_autoptr (GDateTime) local_now = g_date_time_new_now (tz);
  g_autoptr (GDateTime) first = g_date_time_add_days (local_now, -2);
  g_autofree char *start = g_date_time_format (first, "%F");
  g_autoptr (PvEvent) event = pv_event_new (0x5eed0003u, "Test Book Fair", start, 9, &error);
  g_autoptr (PvStore) store = NULL;
  Reconcile t = { 0 };
  gint64 now = g_get_real_time ();
  g_autoptr (GPtrArray) passes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *group = NULL;

  g_assert_no_error (error);
  g_assert_true (pv_event_set_timezone (event, "Asia/Kolkata", &error));
  g_assert_true (pv_event_set_hours (event, -1, 0, 24 * 60, &error));
  g_assert_true (pv_event_add_gate (event, "Gate 1", &error));
  g_assert_true (pv_event_add_gate (event, "Gate 2", &error));
  pv_event_add_default_categories (event);
  store = pv_store_open (db, &error);
  g_assert_no_error (error);
  /* Written as it happened: the devices and tickets before the first day. */
  t.now = now - 3 * G_TIME_SPAN_DAY;
  pv_store_set_clock (store, reconcile_clock, &t);
  g_assert_true (pv_devices_create_event (store, event, "Control room", &error));
  for (guint i = 0; i < 6; i++)
    g_ptr_array_add (passes, app_test_issue (store, "Season pass", -1, 1, NULL));
  /* Today's school group: thirty people, one row. */
  group = app_test_issue (store, "School group", 2, 30, NULL);

  for (int day = 0; day < 3; day++)
    {
      gint64 base = now - (2 - day) * G_TIME_SPAN_DAY - 10 * G_TIME_SPAN_MINUTE;
      struct
      {
        guint pass;
        gboolean is_exit;
      } scans[] = { { 0, FALSE }, { 1, FALSE }, { 2, FALSE }, { 3, FALSE }, { 0, TRUE }, { 0, FALSE }, { 1, TRUE }, { 4, FALSE }, { 1, FALSE }, { 5, FALSE }, { 2, TRUE } };

      for (guint i = 0; i < G_N_ELEMENTS (scans) - (guint) day; i++)
        {
          PvDecision decision = { 0 };

          t.now = base + i * G_TIME_SPAN_SECOND;
          g_assert_true (pv_admission_scan (store, passes->pdata[scans[i].pass], i % 2 ? "Gate 2" : "Gate 1", t.now,
                                            scans[i].is_exit, FALSE, &decision, &error));
          g_assert_no_error (error);
          g_assert_cmpint (decision.verdict, ==, scans[i].is_exit ? PV_VERDICT_EXIT : PV_VERDICT_ADMIT);
          pv_decision_clear (&decision);
        }
      if (day == 2)
        {
          PvDecision decision = { 0 };

          t.now = base + G_TIME_SPAN_MINUTE;
          g_assert_true (pv_admission_scan (store, group, "Gate 1", t.now, FALSE, FALSE, &decision, &error));
          g_assert_cmpint (decision.verdict, ==, PV_VERDICT_ADMIT);
          pv_decision_clear (&decision);
        }
    }
  g_clear_object (&store);

  {
    const char *args[] = { "--db", db, "--role", "admin", "--camera", "none", NULL };
    g_setenv ("PV_TEST_RECONCILE_DB", db, TRUE);
    g_assert_cmpint (app_test_run (args, reconcile_step, &t), ==, 0);
  }
  g_free (t.dashboard_all);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dashboard/live", test_dashboard);
  g_test_add_func ("/dashboard/reconcile", test_reconcile);
  return g_test_run ();
}
