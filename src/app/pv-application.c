/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-application.c: the `pravesh` program (see the header). The command
 * line says which replica to open and may override the camera for one run;
 * without one the station reopens the file it had last. */
#include "config.h"

#include "pv-application.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>

#include "pv-demo.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-i18n.h"
#include "pv-keys.h"
#include "pv-store.h"
#include "pv-welcome.h"
#include "pv-window.h"

struct _PvApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  PvStore *store;
  GtkWindow *station;
  PvWelcome *welcome; /* first run, until a replica is open */
  PvDemo *demo;       /* with --demo: the hub it runs */
  guint sigterm_id, sigint_id;
};

G_DEFINE_FINAL_TYPE (PvApplication, pv_application, ADW_TYPE_APPLICATION)

static const GOptionEntry options[] = {
  { "db", 'd', 0, G_OPTION_ARG_FILENAME, NULL, N_ ("Open this event file or device replica"), N_ ("FILE") },
  { "camera", 'c', 0, G_OPTION_ARG_STRING, NULL,
    N_ ("Camera for this run: auto, a device, file:PATH or demo:"), N_ ("SOURCE") },
  { "role", 0, 0, G_OPTION_ARG_STRING, NULL, N_ ("Show only the pages of this role: gate, desk or admin"),
    N_ ("ROLE") },
  { "gate", 'g', 0, G_OPTION_ARG_STRING, NULL, N_ ("The gate this station stands at, kept in its event file"),
    N_ ("NAME") },
  { "kiosk", 0, 0, G_OPTION_ARG_NONE, NULL, N_ ("Start fullscreen with settings locked"), NULL },
  { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_ ("Run a demo fair on this machine: a hub on loopback, tickets, a day of entries, this station paired"),
    NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_ ("Print the version and exit"), NULL },
  G_OPTION_ENTRY_NULL
};

GSettings *
pv_application_get_settings (PvApplication *self)
{
  return self->settings;
}

GtkWindow *
pv_application_get_station (PvApplication *self)
{
  return self->station;
}

GtkWindow *
pv_application_get_welcome (PvApplication *self)
{
  return GTK_WINDOW (self->welcome);
}

/* What this replica's own device may do, narrowed by --role: an admin
 * replica can be a gate for a day, a gate replica never a desk. */
gboolean
pv_application_check_station_file (PvStore *store, GError **error)
{
  /* The app would sync with the hub it is reading the file of: offline,
   * certificate errors and every device online, all at once. */
  if (pv_devices_is_hub_file (store))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_PERMISSION,
                                _ ("This is the hub’s own file: the hub works from it, and a station cannot "
                                   "open it too. To run the control room, pair this app with the hub: on the "
                                   "hub’s computer make a code with “pravesh-ctl device invite --role admin”, "
                                   "then choose “Pair with a Hub” here.")),
           FALSE;
  return TRUE;
}

static gboolean
choose_role (PvStore *store, const char *asked, PvRole *out_role, GError **error)
{
  const PvDeviceInfo *device = pv_store_lookup_device (store, pv_store_get_device_id (store));
  PvRole role = device ? device->role : PV_ROLE_ADMIN;
  PvRole wanted;

  if (!pv_application_check_station_file (store, error))
    return FALSE;

  if (role == PV_ROLE_HUB)
    role = PV_ROLE_ADMIN;
  if (asked == NULL)
    return *out_role = role, TRUE;
  if (!pv_role_from_string (asked, &wanted, error))
    return FALSE;
  if (wanted != role && role != PV_ROLE_ADMIN)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, _ ("This device is a %s station, not a %s one"),
                        pv_role_to_string (role), pv_role_to_string (wanted)),
           FALSE;
  *out_role = wanted;
  return TRUE;
}

static int
fail (GApplicationCommandLine *command_line, GError *error)
{
  g_application_command_line_printerr (command_line, "pravesh: %s\n", error->message);
  return 1;
}

/* Opens the station window on @store (taken). */
static void
open_station (PvApplication *self, PvStore *store, PvRole role, const char *camera, gboolean kiosk)
{
  PvWindow *window;

  self->store = store;
  window = pv_window_new (GTK_APPLICATION (self), self->store, self->settings, role, camera);
  self->station = GTK_WINDOW (window);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &self->station);
  if (self->demo != NULL)
    pv_window_set_demo_codes (window, pv_demo_get_codes (self->demo));
  if (kiosk || g_settings_get_boolean (self->settings, "kiosk"))
    g_action_group_change_action_state (G_ACTION_GROUP (window), "kiosk", g_variant_new_boolean (TRUE));
  gtk_window_present (GTK_WINDOW (window));
}

typedef struct
{
  PvRole role;
  gboolean kiosk;
  char *camera;
  char *gate; /* --gate, for the replica once there is one */
} DemoStart;

/* --gate given with --demo or before pairing: the new replica's gate, or
 * said why not (the station then asks, or keeps the one it was paired for). */
static void
apply_gate (PvStore *store, const char *gate)
{
  g_autoptr (GError) error = NULL;

  if (gate != NULL && !pv_devices_set_gate (store, gate, &error))
    g_printerr ("pravesh: %s\n", error->message);
}

static void
welcome_opened_cb (PvWelcome *welcome, PvStore *store, DemoStart *start)
{
  PvApplication *self = PV_APPLICATION (gtk_window_get_application (GTK_WINDOW (welcome)));
  g_autoptr (GError) error = NULL;
  PvRole role;

  if (!choose_role (store, NULL, &role, &error))
    {
      g_message ("%s", error->message);
      return;
    }
  apply_gate (store, start->gate);
  open_station (self, g_object_ref (store), role, start->camera, start->kiosk);
  gtk_window_destroy (GTK_WINDOW (welcome));
}

static void
demo_start_free (gpointer data, GClosure *closure)
{
  DemoStart *start = data;

  g_free (start->camera);
  g_free (start->gate);
  g_free (start);
}

static void
open_welcome (PvApplication *self, const char *camera, const char *gate, gboolean kiosk)
{
  DemoStart *start = g_new0 (DemoStart, 1);

  start->camera = g_strdup (camera);
  start->gate = g_strdup (gate);
  start->kiosk = kiosk;
  self->welcome = pv_welcome_new (GTK_APPLICATION (self), self->settings, camera);
  g_object_add_weak_pointer (G_OBJECT (self->welcome), (gpointer *) &self->welcome);
  g_signal_connect_data (self->welcome, "opened", G_CALLBACK (welcome_opened_cb), start, demo_start_free, 0);
  gtk_window_present (GTK_WINDOW (self->welcome));
}

static void
demo_started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DemoStart *start = user_data;
  PvApplication *self = PV_APPLICATION (g_application_get_default ());
  g_autoptr (GError) error = NULL;
  PvStore *store = pv_demo_start_finish (PV_DEMO (source), result, &error);

  if (store == NULL)
    {
      g_printerr ("pravesh: the demo did not start: %s\n", error->message);
      g_application_quit (G_APPLICATION (self));
    }
  else
    {
      apply_gate (store, start->gate);
      open_station (self, store, start->role, start->camera ? start->camera : "demo:", start->kiosk);
    }
  g_application_release (G_APPLICATION (self));
  g_free (start->camera);
  g_free (start->gate);
  g_free (start);
}

static int
pv_application_command_line (GApplication *application, GApplicationCommandLine *command_line)
{
  PvApplication *self = PV_APPLICATION (application);
  GVariantDict *options_dict = g_application_command_line_get_options_dict (command_line);
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL, *camera = NULL, *role_text = NULL, *gate = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean kiosk = g_variant_dict_contains (options_dict, "kiosk");
  PvRole role = PV_ROLE_ADMIN;

  /* A second `pravesh` while one runs shows the running station. */
  if (self->station != NULL || self->demo != NULL || self->welcome != NULL)
    {
      if (self->station != NULL || self->welcome != NULL)
        gtk_window_present (self->station ? self->station : GTK_WINDOW (self->welcome));
      return 0;
    }
  g_variant_dict_lookup (options_dict, "db", "^ay", &db);
  g_variant_dict_lookup (options_dict, "camera", "s", &camera);
  g_variant_dict_lookup (options_dict, "role", "s", &role_text);
  g_variant_dict_lookup (options_dict, "gate", "s", &gate);

  if (g_variant_dict_contains (options_dict, "demo"))
    {
      DemoStart *start;

      if (role_text != NULL && (!pv_role_from_string (role_text, &role, &error) || role == PV_ROLE_HUB))
        {
          if (error == NULL)
            g_set_error_literal (&error, PV_ERROR, PV_ERROR_INVALID, _ ("A station is a gate, a desk or an admin"));
          return fail (command_line, error);
        }
      if (!(self->demo = pv_demo_new (&error)))
        return fail (command_line, error);
      start = g_new0 (DemoStart, 1);
      start->role = role;
      start->kiosk = kiosk;
      start->camera = g_steal_pointer (&camera);
      start->gate = g_steal_pointer (&gate);
      /* Kept alive while the hub starts and the station pairs. */
      g_application_hold (application);
      pv_demo_start_async (self->demo, role, NULL, demo_started_cb, start);
      return 0;
    }

  if (db == NULL)
    db = g_settings_get_string (self->settings, "database");
  /* First run, or the file it had is gone: pair or open one. */
  if (*db == '\0' || (!g_variant_dict_contains (options_dict, "db") && !g_file_test (db, G_FILE_TEST_EXISTS)))
    {
      open_welcome (self, camera, gate, kiosk);
      return 0;
    }
  /* The gate is the replica's own: a station keeps it with its file. */
  if (!(store = pv_store_open_existing (db, &error)) || pv_store_get_event (store, &error) == NULL
      || !choose_role (store, role_text, &role, &error) || (gate != NULL && !pv_devices_set_gate (store, gate, &error)))
    return fail (command_line, error);
  /* Remembered only once it opened: a typo must not lose the real file. */
  g_settings_set_string (self->settings, "database", pv_store_get_path (store));
  open_station (self, g_steal_pointer (&store), role, camera, kiosk);
  return 0;
}

static int
pv_application_handle_local_options (GApplication *application, GVariantDict *options_dict)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (g_variant_dict_contains (options_dict, "version"))
    {
      g_print ("pravesh %s\n", PACKAGE_VERSION);
      return 0;
    }
  /* Said in words here, where the command line can still end: without its
   * schema GSettings would abort the station at start. */
  schema = source ? g_settings_schema_source_lookup (source, PV_APPLICATION_ID, TRUE) : NULL;
  if (schema == NULL)
    {
      /* Translators: %s is the settings schema's id, in.pravesh.Pravesh. */
      g_printerr (_ ("pravesh: Pravesh is not installed completely: its settings (%s) are missing. Install it "
                     "again, or set GSETTINGS_SCHEMA_DIR to the folder of its compiled schema.\n"),
                  PV_APPLICATION_ID);
      return 1;
    }
  return -1;
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  PvApplication *self = user_data;
  GtkWidget *about = adw_about_window_new ();

  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), _ ("Pravesh"));
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), PV_APPLICATION_ID);
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), PACKAGE_VERSION);
  adw_about_window_set_comments (ADW_ABOUT_WINDOW (about),
                                 _ ("Registration desks and gates for large events, online or off"));
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  adw_about_window_set_developer_name (ADW_ABOUT_WINDOW (about), _ ("The Pravesh developers"));
  gtk_window_set_transient_for (GTK_WINDOW (about), self->station);
  gtk_window_present (GTK_WINDOW (about));
}

/* Ctrl+Q closes the station as its close button does: through the kiosk
 * PIN when the station is locked. */
static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  PvApplication *self = user_data;

  if (self->station != NULL)
    gtk_window_close (self->station);
  else
    g_application_quit (G_APPLICATION (self));
}

/* SIGTERM or Ctrl+C: close as if the window were closed, so a demo's hub
 * is stopped and its folder removed. */
static gboolean
terminated_cb (gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
  return G_SOURCE_CONTINUE;
}

static void
pv_application_startup (GApplication *application)
{
  static const GActionEntry actions[] = {
    { "about", about_activated, NULL, NULL, NULL },
    { "quit", quit_activated, NULL, NULL, NULL },
  };
  static const char *const quit_accels[] = { "<Control>q", NULL };
  static const char *const preferences_accels[] = { "<Control>comma", NULL };
  static const char *const kiosk_accels[] = { "F11", NULL };

  G_APPLICATION_CLASS (pv_application_parent_class)->startup (application);
  /* Here, not at construction: --help and --version work without the
   * schema installed. */
  PV_APPLICATION (application)->settings = g_settings_new (PV_APPLICATION_ID);
  g_action_map_add_action_entries (G_ACTION_MAP (application), actions, G_N_ELEMENTS (actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit", quit_accels);
  PV_APPLICATION (application)->sigterm_id = g_unix_signal_add (SIGTERM, terminated_cb, application);
  PV_APPLICATION (application)->sigint_id = g_unix_signal_add (SIGINT, terminated_cb, application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "win.preferences", preferences_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "win.kiosk", kiosk_accels);
}

static void
pv_application_shutdown (GApplication *application)
{
  PvApplication *self = PV_APPLICATION (application);
  GList *windows;

  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  g_clear_handle_id (&self->sigint_id, g_source_remove);
  /* Quit (SIGTERM, Ctrl+C) leaves windows open; the station's replica is
   * closed with them, and only then may a demo remove its folder. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (windows->data);
  g_clear_object (&self->store);
  g_clear_object (&self->demo);
  G_APPLICATION_CLASS (pv_application_parent_class)->shutdown (application);
}

static void
pv_application_dispose (GObject *object)
{
  PvApplication *self = PV_APPLICATION (object);

  g_clear_object (&self->store);
  /* After the station's replica: the demo removes its folder. */
  g_clear_object (&self->demo);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (pv_application_parent_class)->dispose (object);
}

static void
pv_application_class_init (PvApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = pv_application_dispose;
  app_class->command_line = pv_application_command_line;
  app_class->handle_local_options = pv_application_handle_local_options;
  app_class->startup = pv_application_startup;
  app_class->shutdown = pv_application_shutdown;
  /* Before the first window, and before GTK starts: the locale is ours to
   * set (pv_i18n_init () may pick C.UTF-8 for LANGUAGE to be honoured),
   * and tests that run the application in-process get the same words. */
  pv_i18n_init ();
  gtk_disable_setlocale ();
}

static void
pv_application_init (PvApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _ ("The gate, desk and control-room station of Pravesh."));
}

void
pv_application_choose_renderer (void)
{
  /* Gates are often mini-PCs without a GPU, where GTK's GL falls back to
   * Mesa's software rasteriser: on the gate page that tripled the time
   * from a frame to the verdict on screen, and the memory (see the
   * README's benchmarks). The pages are flat colour, large text and one
   * camera picture, which cairo draws in a few milliseconds. */
  if (g_getenv ("GSK_RENDERER") == NULL && g_getenv ("GDK_DEBUG") == NULL)
    {
      g_setenv ("GDK_DEBUG", "gl-disable", TRUE);
      g_setenv ("GSK_RENDERER", "cairo", TRUE);
    }
}

PvApplication *
pv_application_new (void)
{
  return g_object_new (PV_TYPE_APPLICATION, "application-id", PV_APPLICATION_ID, "flags",
                       G_APPLICATION_HANDLES_COMMAND_LINE, "resource-base-path", "/in/pravesh/Pravesh", NULL);
}
