/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-dashboard.c: the control room's dashboard in a real window — its
 * figures and charts match the replica, a scan another program writes
 * into the file shows within a second, the venue capacity warns at 90 %
 * and alarms at 100 %, and screenshots in the light and dark styles. */
#include "app-test.h"
#include "pv-admission.h"
#include "pv-chart.h"
#include "pv-dashboard-page.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dashboard/live", test_dashboard);
  return g_test_run ();
}
