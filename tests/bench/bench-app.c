/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-app.c: the desktop app's benchmark (issue 5), under a private Xvfb.
 * (1) Frame to verdict: the real app on a gate page with the "demo:" camera
 * (a phone held up, moving, tilted and noisy, 15 frames a second) shows one
 * new ticket at a time; for each, the time from the decoded frame entering
 * the pipeline to the verdict painted on screen (the page's
 * "verdict-drawn"); bench-scanner's bare ZBar figure in the same run is its
 * peer. (2) Cold start: the
 * real `pravesh` binary started on a replica holding --tickets tickets,
 * from spawn to the gate page first painted ("Gate page ready" in its debug
 * log), the median of --starts runs. (3) Memory: that process's resident
 * set (VmRSS) and peak (VmHWM) once the gate is up and has decided a scan.
 * Goals: p50 ≤ 50 ms, start ≤ 1 s, memory ≤ 150 MB. Run with
 * `./build-aux/dev bench` or, from a build dir, `tests/app/run-xvfb.sh
 * tests/bench/bench-app` (`--help` for sizes). JSON lines on stdout, the
 * table on stderr. */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../app/app-test.h"
#include "pv-bench.h"
#include "pv-gate-page.h"
#include "pv-qr.h"

#ifndef PV_BENCH_BUILDTYPE
#define PV_BENCH_BUILDTYPE "unknown"
#endif

static int n_codes = 40;
static int n_tickets = 1000000;
static int n_starts = 5;
static gboolean json_only;

/* ---- (1) frame to verdict ---- */

typedef struct
{
  GPtrArray *codes;
  guint next;  /* index of the code on show */
  guint drawn; /* verdicts painted for it */
  gboolean armed;
  GArray *total; /* µs, frame in to verdict painted */
  gulong drawn_id;
} Latency;

static void
drawn_cb (PvGatePage *page, gint64 captured_at, gint64 drawn_at, Latency *l)
{
  gint64 us = drawn_at - captured_at;

  g_array_append_val (l->total, us);
  l->drawn++;
}

static gboolean
latency_step (AppRun *run, PvWindow *window, gpointer data)
{
  Latency *l = data;
  PvGatePage *page = PV_GATE_PAGE (pv_window_get_gate_page (window));

  if (l->drawn_id == 0)
    l->drawn_id = g_signal_connect (page, "verdict-drawn", G_CALLBACK (drawn_cb), l);
  if (!l->armed || l->drawn > 0)
    {
      const char *one[2] = { NULL, NULL };

      if (l->next == l->codes->len)
        return TRUE;
      /* A new ticket held up: the demo source starts it from its first
       * frame at once. */
      one[0] = g_ptr_array_index (l->codes, l->next++);
      l->drawn = 0;
      l->armed = TRUE;
      pv_gate_page_set_demo_codes (page, one);
      if (isatty (2))
        pv_bench_human ("\r  frame to verdict: ticket %u of %u", l->next, l->codes->len);
    }
  return FALSE;
}

static void
bench_latency (const char *db_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_store_open_existing (db_path, &error);
  const char *args[] = { "--db", db_path, "--camera", "demo:", "--role", "gate", NULL };
  Latency l = { .codes = g_ptr_array_new_with_free_func (g_free) };
  PvBenchLatency total;

  if (store == NULL)
    pv_bench_die ("open the replica", error);
  for (int i = 0; i < n_codes; i++)
    g_ptr_array_add (l.codes, app_test_issue (store, "Season pass", -1, 1, NULL));
  g_clear_object (&store);
  l.total = g_array_new (FALSE, FALSE, sizeof (gint64));
  app_test_run (args, latency_step, &l);
  if (isatty (2))
    pv_bench_human ("\n");
  total = pv_bench_latency_of (l.total);
  pv_bench_emit_latency ("frame_to_verdict", &total);
  pv_bench_human ("  %-34s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (n %u; goal p50 ≤ 50 ms: %s)\n",
                  "frame in → verdict painted", total.p50 / 1000, total.p99 / 1000, total.max / 1000, total.n,
                  total.p50 <= 50000 ? "met" : "MISSED");
  g_array_unref (l.total);
  g_ptr_array_unref (l.codes);
}

/* ---- (2) cold start and (3) memory ---- */

static gint64
status_kib (GPid pid, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  const char *at;

  if (!g_file_get_contents (path, &text, NULL, NULL) || !(at = strstr (text, field)))
    return -1;
  return g_ascii_strtoll (at + strlen (field) + 1, NULL, 10);
}

/* Starts `pravesh` on @db_path and waits for its gate page; the time it
 * took in µs. With @memory, also reads its memory once it has decided a
 * scan from the camera. */
static gint64
start_app (const char *db_path, const char *camera, gboolean memory, gint64 *rss, gint64 *hwm)
{
  g_autoptr (GError) error = NULL;
  /* GLib writes debug messages to stdout. */
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GSubprocess) app = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  gint64 started, ready = 0;
  char *line;

  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "pravesh", TRUE);
  started = g_get_monotonic_time ();
  app = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PRAVESH_APP"), "--db", db_path, "--role", "gate",
                                     "--camera", camera, NULL);
  if (app == NULL)
    pv_bench_die ("start pravesh", error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (app));
  while ((line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, NULL)) != NULL)
    {
      gboolean is_ready = strstr (line, "Gate page ready") != NULL;
      gboolean decided = strstr (line, "Verdict shown") != NULL;

      g_free (line);
      if (is_ready && ready == 0)
        {
          ready = g_get_monotonic_time () - started;
          if (!memory)
            break;
        }
      if (decided && memory)
        {
          GPid pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (app), NULL, 10);

          /* A moment for the verdict's frame and sound to settle. */
          g_usleep (500 * 1000);
          *rss = status_kib (pid, "VmRSS:");
          *hwm = status_kib (pid, "VmHWM:");
          break;
        }
    }
  g_subprocess_send_signal (app, SIGTERM);
  g_subprocess_wait (app, NULL, NULL);
  if (ready == 0)
    pv_bench_die ("see the gate page ready", NULL);
  return ready;
}

static void
bench_start_and_memory (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_build_filename (dir, "million.db", NULL);
  g_autofree char *png = g_build_filename (dir, "ticket.png", NULL);
  g_autofree char *camera = g_strconcat ("file:", png, NULL);
  g_autoptr (PvStore) store = app_test_create_event (big);
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  PvIssueRequest request = { .category = "Season pass", .day = -1, .count = (guint) n_tickets };
  g_autoptr (GPtrArray) issued = NULL;
  gint64 t0 = g_get_monotonic_time (), rss = -1, hwm = -1;
  PvBenchLatency start;
  GString *line;

  pv_bench_human ("  issuing %d tickets into the gate's replica…", n_tickets);
  if (!(issued = pv_tickets_issue (store, &request, &error)))
    pv_bench_die ("issue tickets", error);
  if (!pv_qr_write_png (((PvIssuedTicket *) g_ptr_array_index (issued, 0))->code, png, 8, &error))
    pv_bench_die ("draw a ticket", error);
  g_clear_pointer (&issued, g_ptr_array_unref);
  g_clear_object (&store);
  pv_bench_human (" %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);

  for (int i = 0; i < n_starts; i++)
    {
      gint64 us = start_app (big, camera, FALSE, NULL, NULL);
      g_array_append_val (starts, us);
    }
  start = pv_bench_latency_of (starts);
  line = pv_bench_line_new ("cold_start");
  pv_bench_line_num (line, "median_ms", start.p50 / 1000);
  pv_bench_line_num (line, "max_ms", start.max / 1000);
  pv_bench_line_int (line, "tickets", n_tickets);
  pv_bench_line_num (line, "goal_ms", 1000);
  pv_bench_line_end (line);
  pv_bench_human ("  %-34s median %6.0f ms  max %6.0f ms  (n %u, %d tickets; goal ≤ 1000 ms: %s)\n",
                  "spawn → gate page painted", start.p50 / 1000, start.max / 1000, start.n, n_tickets,
                  start.p50 <= 1e6 ? "met" : "MISSED");

  start_app (big, camera, TRUE, &rss, &hwm);
  line = pv_bench_line_new ("gate_memory");
  pv_bench_line_num (line, "rss_mib", rss / 1024.0);
  pv_bench_line_num (line, "peak_mib", hwm / 1024.0);
  pv_bench_line_int (line, "tickets", n_tickets);
  pv_bench_line_num (line, "goal_mib", 150);
  pv_bench_line_end (line);
  pv_bench_human ("  %-34s %6.1f MiB resident, peak %.1f MiB (goal ≤ 150 MB: %s)\n", "gate with camera, after a scan",
                  rss / 1024.0, hwm / 1024.0, hwm / 1024.0 * 1.048576 <= 150 ? "met" : "MISSED");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = g_option_context_new ("— the desktop app's benchmark");
  g_autofree char *dir = NULL, *small = NULL;
  g_autofree char *cpu = NULL, *kernel = NULL;
  GString *machine;
  GOptionEntry entries[] = {
    { "codes", 0, 0, G_OPTION_ARG_INT, &n_codes, "Tickets shown to the camera (default 40)", "N" },
    { "tickets", 0, 0, G_OPTION_ARG_INT, &n_tickets, "Tickets in the replica for start and memory (default 1000000)",
      "N" },
    { "starts", 0, 0, G_OPTION_ARG_INT, &n_starts, "Cold starts timed (default 5)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json_only, "JSON lines only", NULL },
    G_OPTION_ENTRY_NULL
  };

  /* As `pravesh` itself starts (main.c). */
  pv_application_choose_renderer ();
  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-app: %s\n", error->message);
      return 2;
    }
  pv_bench_init ("app", json_only);
  machine = pv_bench_machine_line (&cpu, &kernel);
  pv_bench_line_end (machine);
  pv_bench_human ("machine: %s, Linux %s; GTK %u.%u.%u, renderer %s%s; %s build\n", cpu, kernel,
                  gtk_get_major_version (), gtk_get_minor_version (), gtk_get_micro_version (),
                  g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "GTK's choice",
                  g_strcmp0 (g_getenv ("GDK_DEBUG"), "gl-disable") == 0 ? " (no GL)" : "", PV_BENCH_BUILDTYPE);
  {
    GString *renderer = pv_bench_line_new ("renderer");
    pv_bench_line_str (renderer, "gsk_renderer", g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default");
    pv_bench_line_str (renderer, "gdk_debug", g_getenv ("GDK_DEBUG") ? g_getenv ("GDK_DEBUG") : "");
    pv_bench_line_end (renderer);
  }
  pv_bench_warn_buildtype ();
  if (!(dir = g_dir_make_tmp ("pravesh-bench-app-XXXXXX", &error)))
    pv_bench_die ("make a folder", error);
  small = g_build_filename (dir, "fair.db", NULL);
  g_object_unref (app_test_create_event (small));
  bench_latency (small);
  bench_start_and_memory (dir);
  return 0;
}
