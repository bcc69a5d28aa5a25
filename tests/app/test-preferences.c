/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-preferences.c: the checks the preferences window makes before it
 * writes a setting — addresses, peers, where to serve, the kiosk PIN —
 * so a typo never becomes a station's configuration; and, in a real
 * window under Xvfb, the address to serve other stations on typed through
 * the X server and taken (it was checked as a hub URL and refused). */
#include "config.h"

#include "app-test.h"
#include "pv-listener.h"
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
  /* Until the address is taken or refused, however long a busy machine
   * takes to deliver the keys (app_test_run's deadline bounds it). */
  serve->taken = g_settings_get_string (settings, "listen");
  serve->marked = gtk_widget_has_css_class (GTK_WIDGET (row), "error");
  if (run->ticks <= serve->typed_at + 3 || (g_strcmp0 (serve->taken, serve->typed) != 0 && !serve->marked))
    {
      g_clear_pointer (&serve->taken, g_free);
      return FALSE;
    }
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

/* The preferences window, opened as Ctrl+comma does. */
static GtkWindow *
open_preferences (PvWindow *window)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWindow *preferences = NULL;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.preferences", NULL);
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      if (ADW_IS_PREFERENCES_WINDOW (toplevel))
        preferences = toplevel;
    }
  g_assert_nonnull (preferences);
  return preferences;
}

/* The row titled @title in @widget's tree. */
static GtkWidget *
find_titled (GtkWidget *widget, const char *title)
{
  if (ADW_IS_PREFERENCES_ROW (widget)
      && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_titled (child, title);
      if (found)
        return found;
    }
  return NULL;
}

/* The first widget of @type in @widget's tree. */
static GtkWidget *
find_type (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_type (child, type);
      if (found)
        return found;
    }
  return NULL;
}

/* Runs xdotool once per NULL-separated run of @keys (ended by two NULLs). */
static void
type_steps (GtkWindow *window, const char *const *keys)
{
  for (const char *const *k = keys; *k != NULL;)
    {
      app_test_xdotool (window, k);
      while (*k != NULL)
        k++;
      k++;
    }
}

/* Keys typed into the row titled @title (its field, or the row itself),
 * and what is on screen afterwards. */
typedef struct
{
  const char *title;
  const char *const *keys;
  const char *key; /* the setting the keys change, if they do */
  GtkWindow *preferences;
  GVariant *before; /* its value when the window opened */
  guint opened_at;
  gboolean stayed_open; /* the window, after the keys */
  gboolean marked;      /* the row, marked as an error */
} Typed;

static gboolean
typed_step (AppRun *run, PvWindow *window, gpointer data)
{
  Typed *typed = data;
  GtkWidget *row;

  if (run->ticks < 3)
    return FALSE;
  if (typed->opened_at == 0)
    {
      g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");

      if (typed->key != NULL)
        typed->before = g_settings_get_value (settings, typed->key);
      typed->preferences = open_preferences (window);
      /* Closed, it is gone: the pointer then goes NULL. */
      g_object_add_weak_pointer (G_OBJECT (typed->preferences), (gpointer *) &typed->preferences);
      typed->opened_at = run->ticks;
      return FALSE;
    }
  if (typed->opened_at + 3 == run->ticks)
    {
      GtkWidget *field;

      g_assert_nonnull (typed->preferences);
      row = find_titled (GTK_WIDGET (typed->preferences), typed->title);
      g_assert_nonnull (row);
      field = find_type (row, GTK_TYPE_SPIN_BUTTON);
      gtk_widget_grab_focus (field ? field : row);
      type_steps (typed->preferences, typed->keys);
      return FALSE;
    }
  /* Until the keys have done something: the window closed, the row
   * marked, or the setting changed (app_test_run's deadline bounds the
   * wait, however busy the machine). */
  if (run->ticks <= typed->opened_at + 3)
    return FALSE;
  if (typed->preferences != NULL
      && !gtk_widget_has_css_class (find_titled (GTK_WIDGET (typed->preferences), typed->title), "error"))
    {
      g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
      g_autoptr (GVariant) now = typed->key ? g_settings_get_value (settings, typed->key) : NULL;

      if (now == NULL || g_variant_equal (now, typed->before))
        return FALSE;
    }
  g_clear_pointer (&typed->before, g_variant_unref);
  typed->stayed_open = typed->preferences != NULL && gtk_widget_get_mapped (GTK_WIDGET (typed->preferences));
  if (typed->preferences != NULL)
    {
      row = find_titled (GTK_WIDGET (typed->preferences), typed->title);
      typed->marked = gtk_widget_has_css_class (row, "error");
      g_object_remove_weak_pointer (G_OBJECT (typed->preferences), (gpointer *) &typed->preferences);
      gtk_window_destroy (typed->preferences);
    }
  return TRUE;
}

/* A number typed into a field and the window closed at once with Escape,
 * before the field has taken it: the setting is what was typed. A number
 * out of range is refused in words, the window stays open, the setting
 * stays; it is never capped without a word. */
static void
test_number_typed (void)
{
  const char *args[] = { "--db", db_path, "--role", "gate", NULL };
  const char *const capacity_keys[] = { "key", "ctrl+a", NULL,                 /* */
                                        "type", "--delay", "20", "2500", NULL, /* */
                                        "key", "Escape", NULL,                 /* close */
                                        NULL };
  const char *const over_keys[] = { "key", "ctrl+a", NULL,                     /* */
                                    "type", "--delay", "20", "99999999", NULL, /* */
                                    "key", "Escape", NULL,                     /* */
                                    NULL };
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  Typed capacity = { .title = "Venue capacity", .keys = capacity_keys };
  Typed over = { .title = "Venue capacity", .keys = over_keys };

  g_settings_reset (settings, "venue-capacity");
  g_assert_cmpint (app_test_run (args, typed_step, &capacity), ==, 0);
  g_assert_false (capacity.stayed_open);
  g_assert_cmpuint (g_settings_get_uint (settings, "venue-capacity"), ==, 2500);

  g_assert_cmpint (app_test_run (args, typed_step, &over), ==, 0);
  g_assert_true (over.stayed_open);
  g_assert_true (over.marked);
  g_assert_cmpuint (g_settings_get_uint (settings, "venue-capacity"), ==, 2500);
  g_settings_reset (settings, "venue-capacity");
}

/* The desk's printer paper, chosen from the list with the keyboard. */
static void
test_paper (void)
{
  const char *args[] = { "--db", db_path, "--role", "desk", NULL };
  const char *const keys[] = { "key", "space", NULL,  /* open the list */
                               "key", "Down", NULL,   /* */
                               "key", "Return", NULL, /* */
                               NULL };
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  Typed paper = { .title = "Ticket paper", .keys = keys, .key = "print-paper" };
  g_autofree char *chosen = NULL;

  g_settings_reset (settings, "print-paper");
  g_assert_cmpint (app_test_run (args, typed_step, &paper), ==, 0);
  chosen = g_settings_get_string (settings, "print-paper");
  g_assert_cmpstr (chosen, ==, "receipt-80mm");
  g_settings_reset (settings, "print-paper");
}

/* What the list beside "Serve other stations on" offers, "|"-separated. */
static char *
offered_addresses (GtkWidget *row)
{
  GtkWidget *menu = find_type (row, GTK_TYPE_MENU_BUTTON);
  GtkPopover *popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (menu));
  GtkWidget *box = gtk_popover_get_child (popover);
  GString *offered = g_string_new (NULL);

  for (GtkWidget *b = gtk_widget_get_first_child (box); b; b = gtk_widget_get_next_sibling (b))
    g_string_append_printf (offered, "%s%s", offered->len ? "|" : "", gtk_button_get_label (GTK_BUTTON (b)));
  return g_string_free (offered, FALSE);
}

typedef struct
{
  GtkWindow *preferences;
  guint opened_at;
  char *offered;
} Pick;

static gboolean
pick_step (AppRun *run, PvWindow *window, gpointer data)
{
  Pick *pick = data;
  GtkWidget *row;

  if (run->ticks < 3)
    return FALSE;
  if (pick->opened_at == 0)
    {
      pick->preferences = open_preferences (window);
      pick->opened_at = run->ticks;
      return FALSE;
    }
  row = GTK_WIDGET (find_row (GTK_WIDGET (pick->preferences), "listen"));
  g_assert_nonnull (row);
  if (pick->opened_at + 3 == run->ticks)
    {
      const char *const keys[] = { "key", "space", NULL,  /* open the list */
                                   "key", "Return", NULL, /* its first: all networks */
                                   NULL };

      pick->offered = offered_addresses (row);
      gtk_widget_grab_focus (find_type (row, GTK_TYPE_MENU_BUTTON));
      type_steps (pick->preferences, keys);
      return FALSE;
    }
  /* Until the pick is taken (app_test_run's deadline bounds the wait). */
  {
    g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
    g_autofree char *listen = g_settings_get_string (settings, "listen");

    if (g_str_equal (listen, "127.0.0.1:9100"))
      return FALSE;
  }
  gtk_window_destroy (pick->preferences);
  return TRUE;
}

/* Beside "Serve other stations on", this machine's own addresses to pick
 * from (and all of them, 0.0.0.0), each one the field takes; picked with
 * the keyboard, with the port the field had. */
static void
test_pick_address (void)
{
  const char *args[] = { "--db", db_path, "--role", "gate", NULL };
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  g_auto (GStrv) own = pv_listen_local_addresses ();
  g_auto (GStrv) offered = NULL;
  g_autofree char *joined = NULL, *taken = NULL;
  Pick pick = { 0 };

  g_settings_set_string (settings, "listen", "127.0.0.1:9100");
  g_assert_cmpint (app_test_run (args, pick_step, &pick), ==, 0);
  offered = g_strsplit (pick.offered, "|", -1);
  g_assert_cmpstr (offered[0], ==, "All of this computer’s networks (0.0.0.0)");
  joined = g_strjoinv ("|", own);
  g_assert_cmpstr (pick.offered + strlen (offered[0]) + (own[0] ? 1 : 0), ==, joined);
  for (guint i = 0; own[i] != NULL; i++)
    {
      g_autofree char *with_port = strchr (own[i], ':') ? g_strdup_printf ("[%s]:8471", own[i])
                                                        : g_strdup_printf ("%s:8471", own[i]);
      g_assert_false (g_str_has_prefix (own[i], "127."));
      g_assert_cmpstr (own[i], !=, "::1");
      g_assert_null (pv_preferences_check_listen (with_port));
    }
  taken = g_settings_get_string (settings, "listen");
  g_assert_cmpstr (taken, ==, "0.0.0.0:9100");
  g_settings_reset (settings, "listen");
  g_free (pick.offered);
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
  g_test_add_func ("/preferences/number-typed", test_number_typed);
  g_test_add_func ("/preferences/paper", test_paper);
  g_test_add_func ("/preferences/pick-address", test_pick_address);
  return g_test_run ();
}
