/* SPDX-License-Identifier: GPL-3.0-or-later */
/* app-test.h: what the UI tests share — an event that runs today round the
 * clock (the app reads the real clock), running the real application with
 * a command line while a callback watches its widgets, typing through the
 * X server (XTest, and xdotool for a person's pace), and saving what the window shows as a PNG. */
#pragma once

#include <X11/XKBlib.h>
#include <X11/extensions/XTest.h>
#include <adwaita.h>
#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>

#include "pv-application.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-stats.h"
#include "pv-store.h"
#include "pv-tickets.h"
#include "pv-window.h"

/* A bound on a run, not a measure of it: under the sanitizers on a busy
 * machine the demo (a hub, a day of entries, a pairing) takes over a
 * minute. */
#ifdef __SANITIZE_ADDRESS__
#define APP_TEST_TIMEOUT_S 240
#else
#define APP_TEST_TIMEOUT_S 60
#endif

/* A nine-day fair that began today in Asia/Kolkata, open all day, so the
 * app's real clock is always inside it. */
static inline PvStore *
app_test_create_event (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier ("Asia/Kolkata");
  g_autoptr (GDateTime) now = g_date_time_new_now (tz);
  g_autofree char *today = g_date_time_format (now, "%F");
  g_autoptr (PvEvent) event = pv_event_new (0x5eed0002u, "Test Book Fair", today, 9, &error);
  g_autoptr (PvStore) store = NULL;

  g_assert_no_error (error);
  g_assert_true (pv_event_set_timezone (event, "Asia/Kolkata", &error));
  g_assert_true (pv_event_set_hours (event, -1, 0, 24 * 60, &error));
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *gate = g_strdup_printf ("Gate %u", i + 1);
      g_assert_true (pv_event_add_gate (event, gate, &error));
    }
  pv_event_add_default_categories (event);
  store = pv_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pv_devices_create_event (store, event, "Control room", &error));
  g_assert_no_error (error);
  return g_steal_pointer (&store);
}

static inline char *
app_test_issue (PvStore *store, const char *category, int day, guint party, const char *name)
{
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = category, .day = day, .party = party, .name = name };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);

  g_assert_no_error (error);
  return g_strdup (((PvIssuedTicket *) g_ptr_array_index (issued, 0))->code);
}

/* Today's event day (0 on the first day). */
static inline int
app_test_today (PvStore *store)
{
  return pv_event_day_at (pv_store_get_event (store, NULL), pv_store_now (store));
}

typedef struct _AppRun AppRun;
/* Called every 50 ms while a window of the app is on screen (@window NULL
 * while only the first-run window is, see run->welcome); returns TRUE
 * when done. */
typedef gboolean (*AppRunStep) (AppRun *run, PvWindow *window, gpointer data);

struct _AppRun
{
  PvApplication *app;
  AppRunStep step;
  gpointer data;
  gint64 deadline;
  gboolean done;
  gboolean timed_out;
  guint ticks;        /* steps called while a window is on screen */
  GtkWindow *welcome; /* the first-run window, while it is open */
};

static inline gboolean
app_run_tick_cb (gpointer user_data)
{
  AppRun *run = user_data;
  GtkWindow *window = pv_application_get_station (run->app);
  GtkWindow *welcome = pv_application_get_welcome (run->app);

  if (g_get_monotonic_time () > run->deadline)
    {
      run->timed_out = TRUE;
      g_application_quit (G_APPLICATION (run->app));
      return G_SOURCE_REMOVE;
    }
  run->welcome = welcome != NULL && gtk_widget_get_mapped (GTK_WIDGET (welcome)) ? welcome : NULL;
  if (window != NULL && !gtk_widget_get_mapped (GTK_WIDGET (window)))
    window = NULL;
  if (window == NULL && run->welcome == NULL)
    return G_SOURCE_CONTINUE;
  run->ticks++;
  if (run->step (run, window ? PV_WINDOW (window) : NULL, run->data))
    {
      /* As a person would: closing the last window ends the app. */
      run->done = TRUE;
      gtk_window_destroy (window ? window : welcome);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Runs `pravesh ARGV…` (NULL-terminated) in this process until @step says
 * it is done; returns the exit status. */
static inline int
app_test_run (const char *const *args, AppRunStep step, gpointer data)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  AppRun run = { 0 };
  guint tick;
  int status;

  g_ptr_array_add (argv, (char *) "pravesh");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  run.app = pv_application_new ();
  run.step = step;
  run.data = data;
  run.deadline = g_get_monotonic_time () + APP_TEST_TIMEOUT_S * G_USEC_PER_SEC;
  tick = g_timeout_add (50, app_run_tick_cb, &run);
  status = g_application_run (G_APPLICATION (run.app), (int) argv->len - 1, (char **) argv->pdata);
  if (!run.done && !run.timed_out)
    g_source_remove (tick);
  g_assert_false (run.timed_out);
  for (GList *l; (l = gtk_application_get_windows (GTK_APPLICATION (run.app))) != NULL;)
    gtk_window_destroy (l->data);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (run.app);
  return status;
}

/* Runs xdotool with @args (NULL-terminated) against @window, focused first. */
static inline void
app_test_xdotool (GtkWindow *window, const char *const *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  g_autofree char *xid = g_strdup_printf ("%lu", (unsigned long) gdk_x11_surface_get_xid (surface));
  int status = 0;

  g_ptr_array_add (argv, (char *) "xdotool");
  g_ptr_array_add (argv, (char *) "windowfocus");
  g_ptr_array_add (argv, (char *) "--sync");
  g_ptr_array_add (argv, xid);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                               &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* Types @text and Enter into @window through the X server in one burst,
 * as a USB scanner does: XTest key events for every character, sent in
 * one go so the server stamps them milliseconds apart however loaded the
 * machine is (the keys' own times tell the wedge it was a scanner). */
static inline void
app_test_type (GtkWindow *window, const char *text)
{
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));
  Display *x = gdk_x11_display_get_xdisplay (display);
  Window xid = gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (window)));
  KeyCode shift = XKeysymToKeycode (x, XK_Shift_L);

  XSetInputFocus (x, xid, RevertToParent, CurrentTime);
  for (const char *p = text;; p++)
    {
      KeySym sym = *p == '\0' ? XK_Return : *p == ' ' ? XK_space
                                                      : (KeySym) (guchar) *p;
      KeyCode code = XKeysymToKeycode (x, sym);
      /* The keysym on the key's first level, or on its shifted one. */
      gboolean shifted = XkbKeycodeToKeysym (x, code, 0, 0) != sym;

      g_assert_cmpuint (code, !=, 0);
      if (shifted)
        XTestFakeKeyEvent (x, shift, True, CurrentTime);
      XTestFakeKeyEvent (x, code, True, CurrentTime);
      XTestFakeKeyEvent (x, code, False, CurrentTime);
      if (shifted)
        XTestFakeKeyEvent (x, shift, False, CurrentTime);
      if (*p == '\0')
        break;
    }
  XFlush (x);
}

/* Decodes the QR codes in the image at @path with zbarimg, an independent
 * decoder; the text of the one found, or NULL. */
static inline char *
app_test_zbarimg (const char *path)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "zbarimg", "--raw", "-q", path, NULL };
  char *out = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    return g_free (out), NULL;
  return g_strchomp (out);
}

/* A left click in the middle of @widget, through the X server, as a person
 * makes it: on whichever window holds the widget (a dialog too). */
static inline void
app_test_click (GtkWidget *widget)
{
  GtkNative *native = gtk_widget_get_native (widget);
  Display *x = gdk_x11_display_get_xdisplay (gtk_widget_get_display (widget));
  Window xid = gdk_x11_surface_get_xid (gtk_native_get_surface (native)), child;
  graphene_point_t point;
  double sx, sy;
  int rx, ry;

  g_assert_true (gtk_widget_compute_point (
    widget, GTK_WIDGET (native),
    &GRAPHENE_POINT_INIT (gtk_widget_get_width (widget) / 2.f, gtk_widget_get_height (widget) / 2.f), &point));
  /* Window coordinates include the client-side shadow, if any. */
  gtk_native_get_surface_transform (native, &sx, &sy);
  XTranslateCoordinates (x, xid, DefaultRootWindow (x), (int) (point.x + sx), (int) (point.y + sy), &rx, &ry,
                         &child);
  XTestFakeMotionEvent (x, -1, rx, ry, CurrentTime);
  XTestFakeButtonEvent (x, 1, True, CurrentTime);
  XTestFakeButtonEvent (x, 1, False, CurrentTime);
  XFlush (x);
}

/* The message dialog on screen, if any. */
static inline GtkWindow *
app_test_find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (toplevel) && gtk_widget_get_mapped (GTK_WIDGET (toplevel)))
        return toplevel;
    }
  return NULL;
}

/* Renders @widget as it is on screen into a PNG under the artifacts folder
 * (PRAVESH_ARTIFACTS, else the current directory); returns its path, or
 * NULL when the widget has not been drawn yet (try on the next tick). */
static inline char *
app_test_screenshot (GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv ("PRAVESH_ARTIFACTS");
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  char *path = g_build_filename (dir ? dir : ".", file, NULL);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);

  g_mkdir_with_parents (dir ? dir : ".", 0755);
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      /* Not drawn yet, and a window where nothing changes draws no frame:
       * one is asked for, for the caller's next try. */
      gtk_widget_queue_draw (widget);
      return g_free (path), NULL;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  return path;
}

/* Lets the windows draw whatever changed (300 ms of main loop). */
static inline void
app_test_settle (void)
{
  gint64 until = g_get_monotonic_time () + 300 * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
}

/* Saves what @widget shows once it has been drawn, turning the main loop
 * meanwhile (outside app_test_run's steps). */
static inline void
app_test_screenshot_when_drawn (GtkWidget *widget, const char *name)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  char *path;

  while (!(path = app_test_screenshot (widget, name)))
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
  g_free (path);
}

/* Runs `pravesh-ctl ARGS…` (NULL-terminated); TRUE when it exits 0. With
 * @out, its standard output, trailing newline cut; without, it is dropped.
 * Its standard error goes to the test's. */
static inline gboolean
app_test_ctl_run (const char *const *args, char **out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  int status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("PRAVESH_CTL"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, out ? G_SPAWN_DEFAULT : G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, out, NULL, &status, &error));
  g_assert_no_error (error);
  if (out != NULL)
    g_strchomp (*out);
  return g_spawn_check_wait_status (status, NULL);
}

/* As app_test_ctl_run (), which must succeed: its output. */
static inline char *
app_test_ctl (const char *const *args)
{
  char *out = NULL;

  g_assert_true (app_test_ctl_run (args, &out));
  return out;
}
