/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-welcome.c: a station's first run under Xvfb. With no replica yet
 * the app offers pairing; the hub's pairing QR held up to the camera (a
 * real pravesh-hub on 127.0.0.1, a code from pravesh-ctl device invite)
 * pairs it and opens the gate; a garbled code pasted is refused in words
 * with no file made. Screenshots of both pages are kept. */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>

#include "app-test.h"
#include "pv-gate-page.h"
#include "pv-qr.h"
#include "pv-welcome.h"

static char *tmpdir;
static char *hub_db;

typedef struct
{
  const char *code; /* pasted, or NULL to hold the QR up */
  gboolean asked;
  gboolean shot;
  char *message;
  gboolean gate_open;
  gboolean gate_asked; /* paired without a gate: it asks which */
} Welcome;

static gboolean
welcome_step (AppRun *run, PvWindow *window, gpointer data)
{
  Welcome *w = data;

  if (window != NULL)
    {
      /* Paired: the station opened on its gate page. */
      g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), "welcome-paired");
      w->gate_open = pv_window_get_gate_page (window) != NULL && pv_window_get_desk_page (window) == NULL;
      w->gate_asked = w->gate_open && pv_gate_page_is_asking_gate (PV_GATE_PAGE (pv_window_get_gate_page (window)));
      return shot != NULL;
    }
  g_assert_nonnull (run->welcome);
  if (!w->shot)
    {
      g_autofree char *shot = app_test_screenshot (GTK_WIDGET (run->welcome), "welcome-choose");
      w->shot = shot != NULL;
      return FALSE;
    }
  if (!w->asked)
    {
      w->asked = TRUE;
      pv_welcome_show_pairing (PV_WELCOME (run->welcome));
      if (w->code != NULL)
        pv_welcome_pair (PV_WELCOME (run->welcome), w->code);
      return FALSE;
    }
  if (w->code != NULL && run->ticks > 8)
    {
      g_autofree char *shot = app_test_screenshot (GTK_WIDGET (run->welcome), "welcome-refused");

      /* Not drawn yet on a busy machine: the step runs again, so nothing
       * is kept until it is done. */
      if (shot == NULL)
        return FALSE;
      w->message = g_strdup (pv_welcome_get_message (PV_WELCOME (run->welcome)));
      return TRUE;
    }
  if (run->ticks == 8)
    {
      g_autofree char *shot = app_test_screenshot (GTK_WIDGET (run->welcome), "welcome-pair");
    }
  return FALSE;
}

static guint
count_replicas (void)
{
  g_autofree char *dir_path = g_build_filename (g_get_user_data_dir (), "pravesh", NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    n += g_str_has_suffix (name, ".db");
  return n;
}

static void
test_garbled (void)
{
  const char *args[] = { NULL };
  Welcome w = { .code = "PVPAIR:NOT-A-REAL-CODE" };

  g_assert_cmpint (app_test_run (args, welcome_step, &w), ==, 0);
  /* In a volunteer's words, with nothing of Base45 or positions. */
  g_assert_cmpstr (w.message, ==,
                   "That is not a Pravesh pairing code, or part of it was mistyped: copy the whole code again, or "
                   "hold its QR code up to the camera");
  g_assert_cmpuint (count_replicas (), ==, 0);
  g_free (w.message);
}

/* The hub dies with the test, whatever happens to the test. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
test_pair_by_camera (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GSubprocess) hub = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autofree char *line = NULL, *code = NULL, *png = g_build_filename (tmpdir, "pairing.png", NULL);
  g_autofree char *camera = g_strconcat ("file:", png, NULL);
  const char *invite[] = { "--db", hub_db, "device", "invite", "--role", "gate", "--name", "Gate 2 laptop", NULL };
  const char *args[] = { "--camera", camera, NULL };
  Welcome w = { 0 };

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  hub = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PRAVESH_HUB"), "--db", hub_db, "--listen",
                                     "127.0.0.1:0", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (hub));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_true (g_str_has_prefix (line, "listening "));
  code = app_test_ctl (invite);
  g_assert_true (pv_qr_write_png (code, png, 8, &error));

  g_assert_cmpint (app_test_run (args, welcome_step, &w), ==, 0);
  g_assert_true (w.gate_open);
  g_assert_true (w.gate_asked);
  g_assert_cmpuint (count_replicas (), ==, 1);
  g_subprocess_send_signal (hub, SIGTERM);
  g_assert_true (g_subprocess_wait (hub, NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autofree char *data_home = NULL;

  /* Before GLib reads it: the paired replica goes under the test's folder. */
  tmpdir = g_dir_make_tmp ("pravesh-test-welcome-XXXXXX", &error);
  g_assert_no_error (error);
  data_home = g_build_filename (tmpdir, "data", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_test_init (&argc, &argv, NULL);
  hub_db = g_build_filename (tmpdir, "hub.db", NULL);
  store = app_test_create_event (hub_db);
  g_clear_object (&store);

  g_test_add_func ("/welcome/garbled", test_garbled);
  g_test_add_func ("/welcome/pair-by-camera", test_pair_by_camera);
  return g_test_run ();
}
