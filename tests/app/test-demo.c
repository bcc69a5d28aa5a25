/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-demo.c: `pravesh --demo`, as a newcomer runs it — a real
 * pravesh-hub started on loopback, this station paired with a one-time
 * code, the demo camera showing tickets — reaches an online verdict on
 * the gate page, and leaves nothing behind when it closes. As the control
 * room (the demo's default) it opens on a dashboard with a day of
 * activity, and its devices and volunteers pages work against that hub:
 * a pairing code made on screen pairs a new device, which is then
 * revoked; a volunteer added shows in the list. */
#include "config.h"

#include "app-test.h"
#include "pv-dashboard-page.h"
#include "pv-devices-page.h"
#include "pv-gate-page.h"
#include "pv-volunteers-page.h"

typedef struct
{
  char *headline;
  char *style;
  guint idle_ticks;   /* in a row, on the idle page after the first verdict */
  gboolean idle_seen; /* long enough to read it */
} Demo;

/* The demo camera's pauses: after its verdict goes by itself, the idle
 * page — the camera's picture, the count, exit mode — stays long enough
 * for a newcomer to read it before the next ticket comes. */
#define IDLE_TICKS 20

static gboolean
demo_step (AppRun *run, PvWindow *window, gpointer data)
{
  Demo *demo = data;
  PvGatePage *page = PV_GATE_PAGE (pv_window_get_gate_page (window));
  g_autofree char *shot = NULL;

  g_assert_nonnull (page);
  if (pv_gate_page_get_n_verdicts (page) == 0 || run->ticks < 4)
    return FALSE;
  if (demo->headline == NULL)
    {
      if (!(shot = app_test_screenshot (GTK_WIDGET (window), "demo-gate")))
        return FALSE;
      demo->headline = g_strdup (pv_gate_page_get_headline (page));
      demo->style = g_strdup (pv_gate_page_get_style (page));
      return FALSE;
    }
  /* The next ticket's verdict must not come before the idle page was
   * there to be read. */
  g_assert_cmpuint (pv_gate_page_get_n_verdicts (page), ==, 1);
  if (pv_gate_page_get_style (page) != NULL)
    {
      demo->idle_ticks = 0;
      return FALSE;
    }
  if (++demo->idle_ticks < IDLE_TICKS)
    return FALSE;
  if (!(shot = app_test_screenshot (GTK_WIDGET (window), "demo-gate-idle")))
    return FALSE;
  demo->idle_seen = TRUE;
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
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");
  Demo demo = { 0 };

  /* The hub's verdict is the one expected: a busy machine can hold its
   * answer up past the default bound (800 ms), and then the gate rightly
   * decides by itself, in amber. The gate waits as long as it may. */
  g_settings_set_uint (settings, "offline-bound-ms", 10000);
  g_assert_cmpint (app_test_run (args, demo_step, &demo), ==, 0);
  g_settings_reset (settings, "offline-bound-ms");
  /* The demo's first ticket is fresh, and the hub is up: green. */
  g_assert_cmpstr (demo.headline, ==, "ADMIT");
  g_assert_cmpstr (demo.style, ==, "admit");
  g_assert_true (demo.idle_seen);
  g_assert_cmpuint (count_demo_dirs (), ==, dirs_before);
  g_free (demo.headline);
  g_free (demo.style);
}

typedef struct
{
  int stage;
  guint waits;
  char *dir;
  char *pairing;
  guint n_loads;
} Room;

static guint
count_rows (GtkListBox *list)
{
  guint n = 0;

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (list)); row; row = gtk_widget_get_next_sibling (row))
    n += ADW_IS_ACTION_ROW (row);
  return n;
}

static AdwActionRow *
find_row (GtkListBox *list, const char *title)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (list)); row; row = gtk_widget_get_next_sibling (row))
    if (ADW_IS_ACTION_ROW (row) && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), title) == 0)
      return ADW_ACTION_ROW (row);
  return NULL;
}

static gboolean
room_step (AppRun *run, PvWindow *window, gpointer data)
{
  Room *room = data;
  PvDashboardPage *dashboard;
  PvDevicesPage *devices;
  PvVolunteersPage *volunteers;
  g_autofree char *shot = NULL;

  if (window == NULL)
    return FALSE;
  dashboard = PV_DASHBOARD_PAGE (pv_window_get_page (window, "dashboard"));
  devices = PV_DEVICES_PAGE (pv_window_get_page (window, "devices"));
  volunteers = PV_VOLUNTEERS_PAGE (pv_window_get_page (window, "volunteers"));
  switch (room->stage)
    {
    case 0:
      /* The demo's day: thousands registered, many came, some still in. */
      if (pv_dashboard_page_get_n_refreshes (dashboard) == 0 || run->ticks < 6)
        return FALSE;
      g_assert_cmpint (g_ascii_strtoll (pv_dashboard_page_get_detail (dashboard, PV_DASHBOARD_REGISTERED) + 8, NULL,
                                        10),
                       >, 0);
      g_assert_cmpstr (pv_dashboard_page_get_figure (dashboard, PV_DASHBOARD_DOUBLES), ==, "0");
      if (!(shot = app_test_screenshot (GTK_WIDGET (window), "demo-dashboard")))
        return FALSE;
      pv_window_show_page (window, "devices");
      room->stage = 1;
      return FALSE;
    case 1:
      /* The hub answers for its devices: itself and this station. */
      if (count_rows (pv_devices_page_get_list (devices)) < 2
          || !g_str_has_prefix (pv_devices_page_get_note (devices), "As the hub saw them"))
        return FALSE;
      /* As "Pair a New Device…" asks the hub, the gate chosen with it. */
      pv_devices_page_invite_at (devices, "gate", "Gate 9 laptop", "Gate 4");
      room->stage = 2;
      return FALSE;
    case 2:
      {
        g_autofree char *db = NULL;
        GtkWindow *dialog = app_test_find_dialog ();

        if (pv_devices_page_get_pairing_code (devices) == NULL || dialog == NULL)
          return FALSE;
        g_assert_true (g_str_has_prefix (pv_devices_page_get_pairing_code (devices), "PVPAIR:"));
        if (++room->waits < 4 || !(shot = app_test_screenshot (GTK_WIDGET (dialog), "demo-pairing-code")))
          return FALSE;
        gtk_window_destroy (dialog);
        /* The code on screen pairs a real device. */
        db = g_build_filename (room->dir, "gate9.db", NULL);
        {
          const char *args[] = { "--db", db, "pair", pv_devices_page_get_pairing_code (devices), NULL };
          g_autoptr (PvStore) paired = NULL;
          g_autofree char *gate = NULL;

          g_assert_true (app_test_ctl_run (args, NULL));
          /* It knows its gate: it will not ask, nor record elsewhere. */
          paired = pv_store_open_existing (db, NULL);
          g_assert_nonnull (paired);
          gate = pv_devices_dup_gate (paired);
          g_assert_cmpstr (gate, ==, "Gate 4");
        }
        room->waits = 0;
        room->stage = 3;
        return FALSE;
      }
    case 3:
      {
        AdwActionRow *row;

        /* The device list asks the hub every few seconds; nudge it. */
        if (room->waits++ % 20 == 0)
          pv_devices_page_refresh (devices);
        if (!(row = find_row (pv_devices_page_get_list (devices), "Gate 9 laptop")))
          return FALSE;
        g_assert_nonnull (strstr (adw_action_row_get_subtitle (row), "Gate"));
        pv_devices_page_revoke (devices, pv_devices_page_find_device (devices, "Gate 9 laptop"), "Test over");
        room->stage = 4;
        return FALSE;
      }
    case 4:
      if (pv_devices_page_get_status (devices) == NULL)
        return FALSE;
      g_assert_nonnull (strstr (pv_devices_page_get_status (devices), "Revoked"));
      if (!(shot = app_test_screenshot (GTK_WIDGET (window), "demo-devices")))
        return FALSE;
      pv_window_show_page (window, "volunteers");
      room->stage = 5;
      return FALSE;
    case 5:
      /* The demo hub's two volunteers, then one more. */
      if (pv_volunteers_page_get_n_loads (volunteers) == 0)
        return FALSE;
      g_assert_cmpuint (count_rows (pv_volunteers_page_get_list (volunteers)), ==, 2);
      g_assert_nonnull (find_row (pv_volunteers_page_get_list (volunteers), "Asha Verma"));
      room->n_loads = pv_volunteers_page_get_n_loads (volunteers);
      pv_volunteers_page_add (volunteers, "Meera Nair", "98000 00009", "gate");
      room->stage = 6;
      return FALSE;
    case 6:
      /* A load already on its way when the volunteer was added may end
       * first, without her: wait for the hub's yes, then for a list that
       * has her (the page loads again after every change). */
      if (g_strcmp0 (pv_volunteers_page_get_status (volunteers), "Meera Nair can now sign in with their phone.") != 0)
        return FALSE;
      if (find_row (pv_volunteers_page_get_list (volunteers), "Meera Nair") == NULL)
        return FALSE;
      /* The same phone again: the hub's refusal in words, nothing added. */
      room->n_loads = pv_volunteers_page_get_n_loads (volunteers);
      pv_volunteers_page_add (volunteers, "Someone Else", "+91 98000 00009", "desk");
      room->stage = 7;
      return FALSE;
    case 7:
      if (g_strcmp0 (pv_volunteers_page_get_status (volunteers), "Meera Nair can now sign in with their phone.") == 0)
        return FALSE;
      g_assert_nonnull (strstr (pv_volunteers_page_get_status (volunteers), "is there already"));
      g_assert_cmpuint (count_rows (pv_volunteers_page_get_list (volunteers)), ==, 3);
      return (shot = app_test_screenshot (GTK_WIDGET (window), "demo-volunteers")) != NULL;
    }
  return FALSE;
}

static void
test_control_room (void)
{
  const char *args[] = { "--demo", NULL };
  Room room = { 0 };

  room.dir = g_dir_make_tmp ("pv-test-room-XXXXXX", NULL);
  g_assert_cmpint (app_test_run (args, room_step, &room), ==, 0);
  {
    /* The paired device's file and its journal, then the folder. */
    g_autoptr (GDir) dir = g_dir_open (room.dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (room.dir, name, NULL);
        g_unlink (path);
      }
  }
  g_rmdir (room.dir);
  g_free (room.dir);
}

int
main (int argc, char **argv)
{
  /* A temporary folder of its own, made before GLib first reads TMPDIR:
   * the demo folders counted are this test's, not those of a demo someone
   * else runs on the machine meanwhile. */
  const char *tmp = g_getenv ("TMPDIR");
  g_autofree char *own = g_strconcat (tmp != NULL && *tmp != '\0' ? tmp : "/tmp", "/pravesh-test-demo-XXXXXX", NULL);
  int status;

  g_assert_nonnull (mkdtemp (own));
  g_setenv ("TMPDIR", own, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/demo/gate", test_gate);
  g_test_add_func ("/demo/control-room", test_control_room);
  status = g_test_run ();
  /* Empty when every demo cleaned up after itself, as the tests check. */
  g_rmdir (own);
  return status;
}
