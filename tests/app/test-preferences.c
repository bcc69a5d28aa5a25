/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-preferences.c: the checks the preferences window makes before it
 * writes a setting — addresses, peers, where to serve, the kiosk PIN —
 * so a typo never becomes a station's configuration; and, in a real
 * window under Xvfb, the address to serve other stations on typed through
 * the X server and taken (it was checked as a hub URL and refused). */
#include "config.h"

#include "app-test.h"
#include "pv-preferences.h"

static char *db_path;

static void
test_url (void)
{
  g_assert_null (pv_preferences_check_url (""));
  g_assert_null (pv_preferences_check_url ("https://hub.example:8443"));
  g_assert_null (pv_preferences_check_url ("http://192.168.1.2:8470/"));
  g_assert_nonnull (pv_preferences_check_url ("hub.example"));
  g_assert_nonnull (pv_preferences_check_url ("ftp://hub.example/"));
  g_assert_nonnull (pv_preferences_check_url ("http://"));
  g_assert_nonnull (pv_preferences_check_url ("https:// spaced"));
}

static void
test_peers (void)
{
  g_assert_null (pv_preferences_check_peers (""));
  g_assert_null (pv_preferences_check_peers ("http://10.0.0.2:8471, http://10.0.0.3:8471"));
  g_assert_nonnull (pv_preferences_check_peers ("http://10.0.0.2:8471, 10.0.0.3"));
}

static void
test_listen (void)
{
  g_assert_null (pv_preferences_check_listen ("127.0.0.1:0"));
  g_assert_null (pv_preferences_check_listen ("192.168.1.20:8471"));
  g_assert_null (pv_preferences_check_listen ("0.0.0.0:8471"));
  g_assert_null (pv_preferences_check_listen ("[::]:8471"));
  g_assert_nonnull (pv_preferences_check_listen ("192.168.1.20"));
  g_assert_nonnull (pv_preferences_check_listen (":x"));
  /* The station's server takes an address, not a name or a URL. */
  g_assert_nonnull (pv_preferences_check_listen ("gate.local:8471"));
  g_assert_nonnull (pv_preferences_check_listen ("http://0.0.0.0:8471"));
  g_assert_nonnull (pv_preferences_check_listen ("0.0.0.0:70000"));
}

/* The entry row of setting @key in @widget's tree. */
static AdwEntryRow *
find_row (GtkWidget *widget, const char *key)
{
  if (ADW_IS_ENTRY_ROW (widget) && g_strcmp0 (g_object_get_data (G_OBJECT (widget), "key"), key) == 0)
    return ADW_ENTRY_ROW (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      AdwEntryRow *found = find_row (child, key);
      if (found)
        return found;
    }
  return NULL;
}

typedef struct
{
  const char *typed; /* into "Serve other stations on", then Enter */
  GtkWindow *preferences;
  guint typed_at;
  char *taken;     /* the setting afterwards */
  gboolean marked; /* the row marked as an error */
} Serve;

static gboolean
serve_step (AppRun *run, PvWindow *window, gpointer data)
{
  Serve *serve = data;
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  AdwEntryRow *row;

  if (run->ticks < 3)
    return FALSE;
  if (serve->preferences == NULL)
    {
      GListModel *toplevels = gtk_window_get_toplevels ();

      gtk_widget_activate_action (GTK_WIDGET (window), "win.preferences", NULL);
      for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
        {
          g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
          if (ADW_IS_PREFERENCES_WINDOW (toplevel))
            serve->preferences = toplevel;
        }
      g_assert_nonnull (serve->preferences);
      serve->typed_at = run->ticks;
      return FALSE;
    }
  row = find_row (GTK_WIDGET (serve->preferences), "listen");
  g_assert_nonnull (row);
  if (serve->typed_at + 3 == run->ticks)
    {
      const char *const keys[] = { "key", "ctrl+a", "BackSpace", NULL };
      const char *const type[] = { "type", "--delay", "20", serve->typed, NULL };
      const char *const enter[] = { "key", "Return", NULL };

      /* As a volunteer does: into the field, its old text away, the
       * address typed, Enter to apply it. */
      gtk_widget_grab_focus (GTK_WIDGET (row));
      app_test_xdotool (serve->preferences, keys);
      app_test_xdotool (serve->preferences, type);
      app_test_xdotool (serve->preferences, enter);
      return FALSE;
    }
  if (run->ticks < serve->typed_at + 10)
    return FALSE;
  serve->taken = g_settings_get_string (settings, "listen");
  serve->marked = gtk_widget_has_css_class (GTK_WIDGET (row), "error");
  gtk_window_destroy (serve->preferences);
  return TRUE;
}

static void
test_serve_address (void)
{
  const char *args[] = { "--db", db_path, "--role", "gate", NULL };
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  Serve all = { .typed = "0.0.0.0:8471" }, wrong = { .typed = "gate.local" };

  g_assert_cmpint (app_test_run (args, serve_step, &all), ==, 0);
  g_assert_cmpstr (all.taken, ==, "0.0.0.0:8471");
  g_assert_false (all.marked);
  /* Not an address: refused, marked, and the setting kept. */
  g_assert_cmpint (app_test_run (args, serve_step, &wrong), ==, 0);
  g_assert_cmpstr (wrong.taken, ==, "0.0.0.0:8471");
  g_assert_true (wrong.marked);
  g_free (all.taken);
  g_free (wrong.taken);
}

static void
test_pin (void)
{
  g_assert_null (pv_preferences_check_pin (""));
  g_assert_null (pv_preferences_check_pin ("2468"));
  g_assert_null (pv_preferences_check_pin ("12345678"));
  g_assert_nonnull (pv_preferences_check_pin ("123"));
  g_assert_nonnull (pv_preferences_check_pin ("123456789"));
  g_assert_nonnull (pv_preferences_check_pin ("12a4"));
  g_assert_nonnull (pv_preferences_check_pin ("१२३४")); /* Devanagari digits: not on every keypad */
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autofree char *tmpdir = NULL;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("pravesh-test-preferences-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmpdir, "fair.db", NULL);
  store = app_test_create_event (db_path);
  g_clear_object (&store);
  g_test_add_func ("/preferences/url", test_url);
  g_test_add_func ("/preferences/peers", test_peers);
  g_test_add_func ("/preferences/listen", test_listen);
  g_test_add_func ("/preferences/pin", test_pin);
  g_test_add_func ("/preferences/serve-address", test_serve_address);
  return g_test_run ();
}
