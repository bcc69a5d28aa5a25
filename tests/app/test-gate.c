/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gate.c: the gate page in a real window under Xvfb. The app runs
 * with --camera file:… on rendered tickets (and once with codes typed
 * through the X server like a USB scanner); each verdict is read back from
 * the page's labels, the ledger is checked for the right record, and a
 * screenshot of every verdict is kept. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "app-test.h"
#include "pv-admission.h"
#include "pv-gate-page.h"
#include "pv-qr.h"
#include "pv-state.h"

static char *tmpdir;
static char *db_path;
static char *gate_db_path; /* a gate paired with a hub on db_path */
static char hub_listen[32] = "127.0.0.1:0";
static guint16 hub_port;

typedef struct
{
  const char *name;   /* of the screenshot */
  const char *typed;  /* a code to type, or NULL to show the camera one */
  const char *db;     /* the station's replica, NULL: the event file */
  const char *serial; /* typed into the lookup by a person, or NULL */
  char *headline, *what, *detail, *style, *note, *serial_shown;
  guint tries;
} Seen;

static void
seen_clear (Seen *seen)
{
  g_free (seen->headline);
  g_free (seen->what);
  g_free (seen->detail);
  g_free (seen->style);
  g_free (seen->note);
  g_free (seen->serial_shown);
  seen->headline = seen->what = seen->detail = seen->style = seen->note = seen->serial_shown = NULL;
}

static gboolean
verdict_shown (AppRun *run, PvWindow *window, gpointer data)
{
  Seen *seen = data;
  PvGatePage *page = PV_GATE_PAGE (pv_window_get_gate_page (window));
  g_autofree char *shot = NULL;

  g_assert_nonnull (page);
  if (seen->typed != NULL && run->ticks > 2 && seen->tries++ == 0)
    app_test_type (GTK_WINDOW (window), seen->typed);
  if (seen->serial != NULL && seen->tries == 0 && run->ticks > 2)
    {
      /* A person's pace: the wedge must let these keys through. */
      const char *keys[] = { "type", "--delay", "80", seen->serial, NULL };
      const char *enter[] = { "key", "Return", NULL };

      seen->tries++;
      pv_gate_page_focus_lookup (page);
      app_test_xdotool (GTK_WINDOW (window), keys);
      app_test_xdotool (GTK_WINDOW (window), enter);
    }
  if (pv_gate_page_get_n_verdicts (page) == 0)
    return FALSE;
  /* The first verdict, read once: on a busy machine the sound and the
   * screenshot below can outlast it (its time runs out, or the code held
   * up is read again), and a step run again must not read another. */
  if (seen->headline == NULL)
    {
      seen->headline = g_strdup (pv_gate_page_get_headline (page));
      seen->what = g_strdup (pv_gate_page_get_what (page));
      seen->detail = g_strdup (pv_gate_page_get_detail (page));
      seen->style = g_strdup (pv_gate_page_get_style (page));
      seen->note = g_strdup (pv_gate_page_get_note (page));
      seen->serial_shown = g_strdup (pv_gate_page_get_serial (page));
    }
  /* One frame so the verdict is drawn before the picture is taken, and
   * the verdict's sound played to its end. */
  if (run->ticks < 4 || pv_sounds_get_n_finished (pv_gate_page_get_sounds (page)) == 0)
    return FALSE;
  if (!(shot = app_test_screenshot (GTK_WIDGET (window), seen->name)))
    return FALSE;
  g_test_message ("screenshot: %s", shot);
  return TRUE;
}

/* Runs the gate with the code @code in front of the camera, or typed. */
static void
run_gate (const char *code, gboolean typed, Seen *seen)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *png = g_build_filename (tmpdir, "shown.png", NULL);
  g_autofree char *blank = g_build_filename (tmpdir, "blank.png", NULL);
  g_autofree char *camera = NULL;

  if (!typed)
    {
      g_assert_true (pv_qr_write_png (code, png, 8, &error));
      g_assert_no_error (error);
    }
  else
    {
      /* Something to look at that holds no code. */
      g_autoptr (GdkTexture) texture = NULL;
      guint8 *pixels = g_malloc (64 * 64 * 4);
      g_autoptr (GBytes) bytes = NULL;

      memset (pixels, 0x80, 64 * 64 * 4);
      bytes = g_bytes_new_take (pixels, 64 * 64 * 4);
      texture = gdk_memory_texture_new (64, 64, GDK_MEMORY_R8G8B8A8, bytes, 64 * 4);
      g_assert_true (gdk_texture_save_to_png (texture, blank));
    }
  camera = g_strconcat ("file:", typed ? blank : png, NULL);
  seen->typed = typed ? code : NULL;
  if (seen->serial != NULL)
    seen->typed = NULL;
  {
    const char *args[] = { "--db", seen->db ? seen->db : db_path, "--camera", camera, "--role", "gate", "--gate",
                           "Gate 1", NULL };
    g_assert_cmpint (app_test_run (args, verdict_shown, seen), ==, 0);
  }
}

static guint
count_scans (const char *code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_store_open_existing (db_path, &error);
  g_autoptr (GArray) scans = NULL;
  PvTicket ticket;

  g_assert_no_error (error);
  g_assert_true (pv_ticket_parse (code, -1, &ticket, &error));
  scans = pv_state_load_scans (store, ticket.issuer, ticket.serial, &error);
  g_assert_no_error (error);
  return scans->len;
}

static char *
issue (const char *category, int day_offset, guint party)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_store_open_existing (db_path, &error);

  g_assert_no_error (error);
  return app_test_issue (store, category, day_offset < -1 ? -1 : app_test_today (store) + day_offset, party, NULL);
}

static char *admitted_code;

static void
test_admit (void)
{
  Seen seen = { .name = "gate-admit" };

  admitted_code = issue ("One-day", 0, 1);
  run_gate (admitted_code, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ADMIT");
  g_assert_cmpstr (seen.style, ==, "admit");
  g_assert_true (g_str_has_prefix (seen.what, "One-day · Day "));
  g_assert_true (g_str_has_suffix (seen.what, " of 9"));
  g_assert_cmpstr (seen.detail, ==, "");
  /* The serial, to tell this verdict from the last one. */
  g_assert_true (g_str_has_prefix (seen.serial_shown, "Ticket 1-"));
  g_assert_cmpuint (count_scans (admitted_code), ==, 1);
  seen_clear (&seen);
}

static void
test_group (void)
{
  g_autofree char *code = issue ("School group", 0, 40);
  Seen seen = { .name = "gate-admit-group" };

  run_gate (code, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ADMIT");
  g_assert_true (g_str_has_prefix (seen.what, "School group · Day "));
  g_assert_cmpuint (count_scans (code), ==, 1);
  seen_clear (&seen);
}

static void
test_already_used (void)
{
  Seen seen = { .name = "gate-already-used" };

  g_assert_nonnull (admitted_code);
  run_gate (admitted_code, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ALREADY USED");
  g_assert_cmpstr (seen.style, ==, "refuse");
  g_assert_true (g_str_has_prefix (seen.detail, "Already used at Gate 1 at "));
  g_assert_cmpuint (count_scans (admitted_code), ==, 1);
  seen_clear (&seen);
}

/* One character of the signature changed: still a well-formed code. */
static void
test_forged (void)
{
  g_autofree char *code = issue ("One-day", 0, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_store_open_existing (db_path, &error);
  g_autofree char *forged = NULL;
  PvDecision decision = { 0 };
  Seen seen = { .name = "gate-forged" };
  gsize at = strlen (code) - 10;

  for (const char *c = "0123456789ABCDEFGHIJ"; *c; c++)
    {
      g_free (forged);
      forged = g_strdup (code);
      if (forged[at] == *c)
        continue;
      forged[at] = *c;
      g_assert_true (pv_admission_verify (store, forged, pv_store_now (store), &decision, &error));
      if (decision.verdict == PV_VERDICT_FORGED)
        break;
      pv_decision_clear (&decision);
    }
  g_assert_cmpint (decision.verdict, ==, PV_VERDICT_FORGED);
  pv_decision_clear (&decision);
  g_clear_object (&store);

  run_gate (forged, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "FORGED");
  g_assert_cmpstr (seen.style, ==, "refuse");
  g_assert_cmpstr (seen.detail, ==, "Forged: the signature does not match");
  g_assert_cmpuint (count_scans (code), ==, 0);
  seen_clear (&seen);
}

static void
test_wrong_day (void)
{
  g_autofree char *code = issue ("One-day", 1, 1);
  Seen seen = { .name = "gate-wrong-day" };

  run_gate (code, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "WRONG DAY");
  g_assert_cmpstr (seen.style, ==, "refuse");
  g_assert_true (g_str_has_prefix (seen.detail, "Wrong day: valid on "));
  g_assert_cmpuint (count_scans (code), ==, 0);
  seen_clear (&seen);
}

/* A USB scanner: the code typed through the X server, then Enter. */
static void
test_wedge (void)
{
  g_autofree char *code = issue ("One-day", 0, 1);
  Seen seen = { .name = "gate-wedge-admit" };

  run_gate (code, TRUE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ADMIT");
  g_assert_cmpuint (count_scans (code), ==, 1);
  seen_clear (&seen);
}

/* A code that will not scan: its serial typed into the lookup. */
static void
test_lookup (void)
{
  g_autofree char *code = issue ("One-day", 0, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *serial = NULL;
  PvTicket ticket;
  Seen seen = { .name = "gate-lookup-admit" };

  g_assert_true (pv_ticket_parse (code, -1, &ticket, &error));
  serial = pv_ticket_format_serial (ticket.issuer, ticket.serial);
  seen.serial = serial;
  run_gate (NULL, TRUE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ADMIT");
  g_assert_cmpuint (count_scans (code), ==, 1);
  seen_clear (&seen);
}

/* ---- with a hub ---- */

/* Its output, or NULL when the command fails (a code not sent yet). */
static char *
ctl_or_null (const char *const *args)
{
  char *out = NULL;

  if (!app_test_ctl_run (args, &out))
    g_clear_pointer (&out, g_free);
  return out;
}

/* The hub dies with the test, whatever happens to the test. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* pravesh-hub on the event file, on 127.0.0.1: a free port the first time,
 * the same one after, as paired devices remember its address. */
static GSubprocess *
start_hub (void)
{
  char *listen = hub_listen;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *line = NULL;
  GSubprocess *hub;
  const char *port;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  hub = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PRAVESH_HUB"), "--db", db_path, "--listen", listen,
                                     NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (hub));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "listening "));
  port = strrchr (g_strchomp (line), ':');
  g_assert_nonnull (port);
  hub_port = (guint16) g_ascii_strtoull (port + 1, NULL, 10);
  g_snprintf (hub_listen, sizeof hub_listen, "127.0.0.1:%u", hub_port);
  return hub;
}

static void
stop_hub (GSubprocess *hub)
{
  g_subprocess_send_signal (hub, SIGTERM);
  g_assert_true (g_subprocess_wait (hub, NULL, NULL));
  g_object_unref (hub);
}

/* The hub decides: green, no "offline" note, and the entry is the hub's. */
static void
test_online (void)
{
  g_autofree char *code = issue ("One-day", 0, 1);
  GSubprocess *hub = start_hub ();
  const char *invite[] = { "--db", db_path, "device", "invite", "--role", "gate", "--name", "Gate 1 laptop", NULL };
  g_autofree char *pairing = app_test_ctl (invite);
  Seen seen = { .name = "gate-online-admit" };
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) hub_store = NULL;
  g_autoptr (GArray) scans = NULL;
  PvTicket ticket;

  gate_db_path = g_build_filename (tmpdir, "gate.db", NULL);
  {
    const char *pair[] = { "--db", gate_db_path, "pair", pairing, NULL };
    g_autofree char *out = app_test_ctl (pair);
  }
  seen.db = gate_db_path;
  run_gate (code, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ADMIT");
  g_assert_cmpstr (seen.style, ==, "admit");
  g_assert_cmpstr (seen.note, ==, "");
  stop_hub (hub);

  /* Recorded by the hub, online. */
  hub_store = pv_store_open_existing (db_path, &error);
  g_assert_no_error (error);
  g_assert_true (pv_ticket_parse (code, -1, &ticket, &error));
  scans = pv_state_load_scans (hub_store, ticket.issuer, ticket.serial, &error);
  g_assert_cmpuint (scans->len, ==, 1);
  g_assert_cmpuint (g_array_index (scans, PvScan, 0).device_id, ==, pv_store_get_device_id (hub_store));
  seen_clear (&seen);
}

/* A volunteer signs in at the start of a shift: phone, then the one-time
 * code the hub queued for it; the header names them. */
typedef struct
{
  guint step;
  char *volunteer;
} SignIn;

static gboolean
sign_in_step (AppRun *run, PvWindow *window, gpointer data)
{
  SignIn *sign_in = data;

  if (sign_in->step == 0 && run->ticks > 2)
    {
      pv_window_sign_in (window, "98000 00001");
      sign_in->step = 1;
    }
  else if (sign_in->step == 1 && run->ticks % 10 == 0)
    {
      /* What the organiser reads out on site until SMS is wired. */
      const char *show[] = { "--db", db_path, "otp", "show", "9800000001", NULL };
      g_autofree char *message = ctl_or_null (show);
      g_autoptr (GRegex) digits = g_regex_new ("\\b(\\d{6})\\b", 0, 0, NULL);
      g_autoptr (GMatchInfo) match = NULL;

      if (message != NULL && g_regex_match (digits, message, 0, &match))
        {
          g_autofree char *code = g_match_info_fetch (match, 1);
          pv_window_sign_in_code (window, code);
          sign_in->step = 2;
        }
    }
  else if (sign_in->step == 2 && pv_window_get_volunteer (window) != NULL)
    {
      g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), "gate-signed-in");

      if (shot == NULL)
        return FALSE;
      sign_in->volunteer = g_strdup (pv_window_get_volunteer (window));
      return TRUE;
    }
  return FALSE;
}

static void
test_sign_in (void)
{
  GSubprocess *hub = start_hub ();
  const char *add[] = { "--db", db_path, "volunteer", "add", "--name", "Meera", "--phone", "98000 00001", NULL };
  g_autofree char *added = app_test_ctl (add);
  const char *args[] = { "--db", gate_db_path, "--camera", "none", NULL };
  SignIn sign_in = { 0 };

  g_assert_nonnull (gate_db_path);
  g_assert_cmpint (app_test_run (args, sign_in_step, &sign_in), ==, 0);
  g_assert_cmpstr (sign_in.volunteer, ==, "Meera (gate)");
  stop_hub (hub);
  g_free (sign_in.volunteer);
}

/* A hub that takes the connection and never answers: past the offline
 * bound the gate decides by itself, and the screen never froze. */
static gboolean
hold_connection_cb (GSocketService *service, GSocketConnection *connection, GObject *source, gpointer data)
{
  g_ptr_array_add (data, g_object_ref (connection));
  return TRUE;
}

static void
test_hub_slow (void)
{
  g_autofree char *code = issue ("One-day", 0, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketService) silent = g_socket_service_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, hub_port);
  g_autoptr (GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  Seen seen = { .name = "gate-slow-hub", .db = gate_db_path };

  g_assert_nonnull (gate_db_path);
  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (silent), address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, NULL, &error));
  g_assert_no_error (error);
  g_signal_connect (silent, "incoming", G_CALLBACK (hold_connection_cb), held);
  run_gate (code, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ADMIT");
  g_assert_cmpstr (seen.style, ==, "offline");
  g_assert_cmpstr (seen.note, ==, "Decided offline: the hub did not answer in time");
  g_assert_cmpuint (held->len, >, 0);
  g_socket_service_stop (silent);
  g_socket_listener_close (G_SOCKET_LISTENER (silent));
  seen_clear (&seen);
}

/* The hub is gone: the gate decides by itself, in amber, and says so. */
static void
test_hub_gone (void)
{
  g_autofree char *code = issue ("One-day", 0, 1);
  Seen seen = { .name = "gate-offline-admit", .db = gate_db_path };
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = NULL;
  g_autoptr (GArray) scans = NULL;
  PvTicket ticket;

  g_assert_nonnull (gate_db_path);
  /* The gate holds the ticket only once it has synced; a code it has
   * never seen is still verified by its signature offline. */
  run_gate (code, FALSE, &seen);
  g_assert_cmpstr (seen.headline, ==, "ADMIT");
  g_assert_cmpstr (seen.style, ==, "offline");
  g_assert_cmpstr (seen.note, ==, "Decided offline: the hub cannot be reached");

  gate = pv_store_open_existing (gate_db_path, &error);
  g_assert_true (pv_ticket_parse (code, -1, &ticket, &error));
  scans = pv_state_load_scans (gate, ticket.issuer, ticket.serial, &error);
  g_assert_cmpuint (scans->len, ==, 1);
  g_assert_cmpuint (g_array_index (scans, PvScan, 0).device_id, ==, pv_store_get_device_id (gate));
  seen_clear (&seen);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("pravesh-test-gate-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmpdir, "fair.db", NULL);
  store = app_test_create_event (db_path);
  g_clear_object (&store);

  g_test_add_func ("/gate/admit", test_admit);
  g_test_add_func ("/gate/group", test_group);
  g_test_add_func ("/gate/already-used", test_already_used);
  g_test_add_func ("/gate/forged", test_forged);
  g_test_add_func ("/gate/wrong-day", test_wrong_day);
  g_test_add_func ("/gate/wedge", test_wedge);
  g_test_add_func ("/gate/lookup", test_lookup);
  g_test_add_func ("/gate/online", test_online);
  g_test_add_func ("/gate/sign-in", test_sign_in);
  g_test_add_func ("/gate/hub-slow", test_hub_slow);
  g_test_add_func ("/gate/hub-gone", test_hub_gone);
  status = g_test_run ();

  g_free (admitted_code);
  g_free (gate_db_path);
  g_free (db_path);
  g_free (tmpdir); /* left behind on purpose when a test failed: see its files */
  return status;
}
