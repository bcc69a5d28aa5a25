/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-doubles.c: the control room's double entries and its ticket lookup
 * in a real window under Xvfb. Two gate replicas admit one ticket while
 * they cannot see each other; once their records reach the control
 * room's file the doubles page, which said there were none, shows the
 * double by itself with both gates, times, devices and online or
 * offline, read back from its widgets. Clicking it opens the ticket in
 * the lookup page, whose history lists both scans, the second marked
 * double. */
#include "config.h"

#include <string.h>

#include "app-test.h"
#include "pv-admission.h"
#include "pv-batch.h"
#include "pv-desk-page.h"
#include "pv-doubles-page.h"

static char *tmpdir;
static char *db_path;
static AdwApplication *app;

typedef struct
{
  PvStore *admin;
  PvStore *gates[2];
  char *codes[2];
  gint64 at[2][2]; /* ticket, gate */
} World;

static PvStore *
add_gate (PvStore *admin, const char *name, const char *file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (tmpdir, file, NULL);
  PvStore *gate;

  g_assert_true (pv_devices_add (admin, PV_ROLE_GATE, name, path, NULL, &error));
  g_assert_no_error (error);
  gate = pv_store_open_existing (path, &error);
  g_assert_no_error (error);
  g_assert_true (pv_batch_merge (gate, admin, NULL, &error));
  g_assert_no_error (error);
  return gate;
}

static void
scan (PvStore *gate, const char *code, const char *name, gint64 at, gboolean offline)
{
  g_autoptr (GError) error = NULL;
  PvDecision decision;

  g_assert_true (pv_admission_scan (gate, code, name, at, FALSE, offline, &decision, &error));
  g_assert_no_error (error);
  g_assert_cmpint (decision.verdict, ==, PV_VERDICT_ADMIT);
  pv_decision_clear (&decision);
}

/* Two tickets each let in at both gates, neither gate having heard of
 * the other's scan: the first decided offline at both, the second online
 * at gate 2 first (say the hub answered it, then went away). */
static void
make_doubles (World *w)
{
  g_autoptr (GError) error = NULL;
  gint64 now = pv_store_now (w->admin);

  w->at[0][0] = now;
  w->at[0][1] = now + 4 * G_USEC_PER_SEC;
  scan (w->gates[0], w->codes[0], "Gate 1", w->at[0][0], TRUE);
  scan (w->gates[1], w->codes[0], "Gate 2", w->at[0][1], TRUE);
  w->at[1][1] = now + 10 * G_USEC_PER_SEC;
  w->at[1][0] = now + 70 * G_USEC_PER_SEC;
  scan (w->gates[1], w->codes[1], "Gate 2", w->at[1][1], FALSE);
  /* Gate 1's clock ticks past gate 2's record, so it comes later. */
  g_usleep (2000);
  scan (w->gates[0], w->codes[1], "Gate 1", w->at[1][0], TRUE);
  g_assert_true (pv_batch_merge (w->admin, w->gates[0], NULL, &error));
  g_assert_true (pv_batch_merge (w->admin, w->gates[1], NULL, &error));
  g_assert_no_error (error);
}

/* ---- reading widgets ---- */

static void
collect_labels (GtkWidget *widget, GString *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget))
    g_string_append_printf (text, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    collect_labels (child, text);
}

static char *
labels_of (GtkWidget *widget)
{
  GString *text = g_string_new (NULL);

  collect_labels (widget, text);
  return g_string_free (text, FALSE);
}

static guint
n_rows (GtkListBox *list)
{
  guint n = 0;

  while (gtk_list_box_get_row_at_index (list, (int) n) != NULL)
    n++;
  return n;
}

static char *
clock_at (PvStore *store, gint64 at)
{
  g_autoptr (GDateTime) local = pv_event_local_time (pv_store_get_event (store, NULL), at);

  return g_date_time_format (local, "%H:%M:%S");
}

/* Turns the main loop until @done says so, or a minute passes. */
static void
wait_for (gboolean (*done) (gpointer), gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + APP_TEST_TIMEOUT_S * G_USEC_PER_SEC;

  while (!done (data))
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

typedef struct
{
  GtkWindow *window;
  GtkStack *stack;
  PvDoublesPage *doubles;
  PvDeskPage *desk;
  guint activated_issuer, activated_serial;
} Room;

static gboolean
has_doubles (gpointer data)
{
  Room *room = data;

  return n_rows (pv_doubles_page_get_list (room->doubles)) == 2;
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

static gboolean
has_results (gpointer data)
{
  Room *room = data;

  return n_rows (pv_desk_page_get_results (room->desk)) == 1;
}

static gboolean
has_code (gpointer data)
{
  Room *room = data;

  return pv_desk_page_get_code (room->desk) != NULL;
}

/* As the window will do: a double clicked opens its ticket. */
static void
ticket_activated_cb (PvDoublesPage *page, guint issuer, guint serial, Room *room)
{
  room->activated_issuer = issuer;
  room->activated_serial = serial;
  gtk_stack_set_visible_child (room->stack, GTK_WIDGET (room->desk));
  g_assert_true (pv_desk_page_show_ticket (room->desk, (guint16) issuer, serial));
}

static void
test_control_room (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  g_autoptr (PvStore) store = NULL;
  g_autoptr (PvStoreWatch) watch = NULL;
  g_autofree char *text = NULL;
  g_autofree char *first_clock = NULL, *double_clock = NULL, *expect = NULL;
  World w = { 0 };
  Room room = { 0 };
  PvTicket ticket;
  GtkListBoxRow *row;

  w.admin = pv_store_open_existing (db_path, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("Visitor %u", i + 1);
      w.codes[i] = app_test_issue (w.admin, "One-day", app_test_today (w.admin), 1, name);
    }
  w.gates[0] = add_gate (w.admin, "Gate 1 PC", "gate-1.db");
  w.gates[1] = add_gate (w.admin, "Gate 2 laptop", "gate-2.db");

  /* The control room's window, on its own handle of the file. */
  store = pv_store_open_existing (db_path, &error);
  g_assert_no_error (error);
  watch = pv_store_watch_new (store, 250);
  room.window = GTK_WINDOW (adw_application_window_new (GTK_APPLICATION (app)));
  gtk_window_set_default_size (room.window, 1100, 760);
  room.stack = GTK_STACK (gtk_stack_new ());
  room.doubles = PV_DOUBLES_PAGE (pv_doubles_page_new (store, watch, settings));
  room.desk = PV_DESK_PAGE (pv_desk_page_new_lookup (store, watch, settings));
  gtk_stack_add_child (room.stack, GTK_WIDGET (room.doubles));
  gtk_stack_add_child (room.stack, GTK_WIDGET (room.desk));
  g_signal_connect (room.doubles, "ticket-activated", G_CALLBACK (ticket_activated_cb), &room);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (room.window), GTK_WIDGET (room.stack));
  gtk_window_present (room.window);
  wait_for (is_mapped, room.doubles);
  app_test_settle ();

  /* None yet: said so, calmly. */
  g_assert_cmpuint (n_rows (pv_doubles_page_get_list (room.doubles)), ==, 0);
  text = labels_of (GTK_WIDGET (room.doubles));
  g_assert_nonnull (strstr (text, "No Double Entries"));
  g_clear_pointer (&text, g_free);
  app_test_screenshot_when_drawn (GTK_WIDGET (room.window), "doubles-none");

  /* The gates' records arrive in the file: the page follows by itself. */
  make_doubles (&w);
  wait_for (has_doubles, &room);
  app_test_settle ();
  app_test_screenshot_when_drawn (GTK_WIDGET (room.window), "doubles");

  /* Newest first: the second ticket, let in online at gate 2, then
   * offline at gate 1 a minute later. */
  row = gtk_list_box_get_row_at_index (pv_doubles_page_get_list (room.doubles), 0);
  text = labels_of (GTK_WIDGET (row));
  g_test_message ("row 0:\n%s", text);
  g_assert_true (pv_ticket_parse (w.codes[1], -1, &ticket, NULL));
  g_assert_true (g_str_has_prefix (text, "1-000002\nOne-day · Visitor 2\nDay 1 · "));
  first_clock = clock_at (w.admin, w.at[1][1]);
  double_clock = clock_at (w.admin, w.at[1][0]);
  expect = g_strdup_printf ("Let in first\nGate 2 · %s\nOnline: the hub agreed\nDevice “Gate 2 laptop”\n"
                            "Let in again: the double\nGate 1 · %s\n1 min later\nOffline: decided without the hub\n"
                            "Device “Gate 1 PC”\n",
                            first_clock, double_clock);
  g_assert_nonnull (strstr (text, expect));
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&first_clock, g_free);
  g_clear_pointer (&double_clock, g_free);
  g_clear_pointer (&expect, g_free);

  row = gtk_list_box_get_row_at_index (pv_doubles_page_get_list (room.doubles), 1);
  text = labels_of (GTK_WIDGET (row));
  first_clock = clock_at (w.admin, w.at[0][0]);
  double_clock = clock_at (w.admin, w.at[0][1]);
  expect = g_strdup_printf ("Let in first\nGate 1 · %s\nOffline: decided without the hub\nDevice “Gate 1 PC”\n"
                            "Let in again: the double\nGate 2 · %s\n4 s later\nOffline: decided without the hub\n"
                            "Device “Gate 2 laptop”\n",
                            first_clock, double_clock);
  g_assert_nonnull (strstr (text, expect));
  g_clear_pointer (&text, g_free);
  /* The offline ones in amber. */
  {
    g_autoptr (GString) amber = g_string_new (NULL);
    guint n_amber = 0;

    for (GtkWidget *w1 = gtk_widget_get_first_child (GTK_WIDGET (row)); w1; w1 = gtk_widget_get_next_sibling (w1))
      for (GtkWidget *w2 = gtk_widget_get_first_child (w1); w2; w2 = gtk_widget_get_next_sibling (w2))
        for (GtkWidget *w3 = gtk_widget_get_first_child (w2); w3; w3 = gtk_widget_get_next_sibling (w3))
          for (GtkWidget *w4 = gtk_widget_get_first_child (w3); w4; w4 = gtk_widget_get_next_sibling (w4))
            if (GTK_IS_LABEL (w4) && gtk_widget_has_css_class (w4, "warning"))
              n_amber++;
    g_assert_cmpuint (n_amber, ==, 2);
  }

  /* Clicked: the window opens the ticket in the lookup page, where both
   * scans are in its history. */
  g_signal_emit_by_name (row, "activate");
  g_assert_true (pv_ticket_parse (w.codes[0], -1, &ticket, NULL));
  g_assert_cmpuint (room.activated_issuer, ==, ticket.issuer);
  g_assert_cmpuint (room.activated_serial, ==, ticket.serial);
  g_assert_cmpstr (pv_desk_page_get_code (room.desk), ==, w.codes[0]);
  wait_for (is_mapped, room.desk);
  {
    GtkListBox *history = pv_desk_page_get_history (room.desk);
    AdwActionRow *scan_row;

    g_assert_cmpuint (n_rows (history), ==, 2);
    scan_row = ADW_ACTION_ROW (gtk_list_box_get_row_at_index (history, 0));
    g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (scan_row)), ==, "Entry · Gate 1");
    g_assert_nonnull (strstr (adw_action_row_get_subtitle (scan_row), "Device “Gate 1 PC”"));
    text = labels_of (GTK_WIDGET (scan_row));
    g_assert_nonnull (strstr (text, "Offline"));
    g_assert_null (strstr (text, "Double entry"));
    g_clear_pointer (&text, g_free);
    scan_row = ADW_ACTION_ROW (gtk_list_box_get_row_at_index (history, 1));
    g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (scan_row)), ==, "Entry · Gate 2");
    g_assert_nonnull (strstr (adw_action_row_get_subtitle (scan_row), double_clock));
    g_assert_nonnull (strstr (adw_action_row_get_subtitle (scan_row), "Device “Gate 2 laptop”"));
    text = labels_of (GTK_WIDGET (scan_row));
    g_assert_nonnull (strstr (text, "Double entry"));
    g_clear_pointer (&text, g_free);
  }
  app_test_settle ();
  app_test_screenshot_when_drawn (GTK_WIDGET (room.window), "lookup-history");

  /* Found by what a visitor says, as at the desk. */
  pv_desk_page_focus_search (room.desk);
  {
    GtkWidget *search = gtk_window_get_focus (room.window);

    g_assert_true (GTK_IS_EDITABLE (search));
    gtk_editable_set_text (GTK_EDITABLE (search), "Visitor 2");
  }
  wait_for (has_results, &room);
  g_signal_emit_by_name (gtk_list_box_get_row_at_index (pv_desk_page_get_results (room.desk), 0), "activate");
  wait_for (has_code, &room);
  g_assert_cmpstr (pv_desk_page_get_code (room.desk), ==, w.codes[1]);
  g_assert_cmpuint (n_rows (pv_desk_page_get_history (room.desk)), ==, 2);
  app_test_settle ();
  app_test_screenshot_when_drawn (GTK_WIDGET (room.window), "lookup-found");

  gtk_window_destroy (room.window);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < 2; i++)
    {
      g_assert_finalize_object (w.gates[i]);
      g_free (w.codes[i]);
    }
  g_clear_object (&w.admin);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  int status;

  gtk_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("pravesh-test-doubles-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmpdir, "fair.db", NULL);
  store = app_test_create_event (db_path);
  g_clear_object (&store);

  /* Registered, not run: its start-up loads the style sheet, and the
   * test turns its main context itself. */
  app = adw_application_new ("in.pravesh.Pravesh.TestDoubles", G_APPLICATION_NON_UNIQUE);
  g_application_set_resource_base_path (G_APPLICATION (app), "/in/pravesh/Pravesh");
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/doubles/control-room", test_control_room);
  status = g_test_run ();
  /* Registered, the application is the process's default one and stays
   * referenced as such. */
  g_object_unref (app);
  return status;
}
