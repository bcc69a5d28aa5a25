/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-demo.c: `pravesh --demo`, as a newcomer runs it — a real
 * pravesh-hub started on loopback, this station paired with a one-time
 * code, the demo camera showing tickets — reaches an online verdict on
 * the gate page, and leaves nothing behind when it closes. */
#include "config.h"

#include "app-test.h"
#include "pv-gate-page.h"

typedef struct
{
  char *headline;
  char *style;
} Demo;

static gboolean
demo_step (AppRun *run, PvWindow *window, gpointer data)
{
  Demo *demo = data;
  PvGatePage *page = PV_GATE_PAGE (pv_window_get_gate_page (window));
  g_autofree char *shot = NULL;

  g_assert_nonnull (page);
  if (pv_gate_page_get_n_verdicts (page) == 0 || run->ticks < 4)
    return FALSE;
  if (!(shot = app_test_screenshot (GTK_WIDGET (window), "demo-gate")))
    return FALSE;
  demo->headline = g_strdup (pv_gate_page_get_headline (page));
  demo->style = g_strdup (pv_gate_page_get_style (page));
  return TRUE;
}

static guint
count_demo_dirs (void)
{
  g_autoptr (GDir) dir = g_dir_open (g_get_tmp_dir (), 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    n += g_str_has_prefix (name, "pravesh-demo-");
  return n;
}

static void
test_gate (void)
{
  const char *args[] = { "--demo", "--role", "gate", NULL };
  guint dirs_before = count_demo_dirs ();
  Demo demo = { 0 };

  g_assert_cmpint (app_test_run (args, demo_step, &demo), ==, 0);
  /* The demo's first ticket is fresh, and the hub is up: green. */
  g_assert_cmpstr (demo.headline, ==, "ADMIT");
  g_assert_cmpstr (demo.style, ==, "admit");
  g_assert_cmpuint (count_demo_dirs (), ==, dirs_before);
  g_free (demo.headline);
  g_free (demo.style);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/demo/gate", test_gate);
  return g_test_run ();
}
