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
 * Goals: p50 ≤ 50 ms, start ≤ 1 s, memory ≤ 150 MB. (4) The control
 * room's dashboard (issue 6) on that replica once it also holds an entry
 * for each ticket over yesterday and today: a refresh (every figure and
 * chart read again) beside the one full scan of the entries a dashboard
 * without incremental counters would make, and each chart's redraw with
 * Cairo at its size on screen and full screen, beside a bare cairo_paint
 * of that size. Goals: refresh ≤ 50 ms, redraw ≤ 16 ms. Run with
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
#include "pv-admission.h"
#include "pv-bench.h"
#include "pv-dashboard-page.h"
#include "pv-gate-page.h"
#include "pv-qr.h"
#include "pv-store-private.h"

#ifndef PV_BENCH_BUILDTYPE
#define PV_BENCH_BUILDTYPE "unknown"
#endif

static int n_codes = 40;
static int n_tickets = 1000000;
static int n_starts = 5;
static gboolean json_only;
static int n_rounds = 40;

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

static GPtrArray *
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
  return g_steal_pointer (&issued);
}

/* ---- (4) the dashboard ---- */

static void
add_entries (PvStore *store, GPtrArray *issued)
{
  static const char *const gates[] = { "Gate 1", "Gate 2", "Gate 3" };
  g_autoptr (GError) error = NULL;
  gint64 now = pv_store_now (store), t0 = g_get_monotonic_time ();
  /* Evenly from the start of today, the event's first day, up to now. */
  g_autoptr (GDateTime) local = pv_event_local_time (pv_store_get_event (store, NULL), now);
  gint64 first = now - (g_date_time_get_hour (local) * G_TIME_SPAN_HOUR + g_date_time_get_minute (local) * G_TIME_SPAN_MINUTE);
  gint64 step = (now - first) / MAX (issued->len, 1);
  guint admitted = 0;

  pv_bench_human ("  recording an entry for each of the %u tickets…", issued->len);
  for (guint k = 0; k < issued->len; k++)
    {
      PvDecision decision = { 0 };

      if (k % 10000 == 0 && (k > 0 && !pv_store_commit (store, &error)))
        pv_bench_die ("commit entries", error);
      if (k % 10000 == 0 && !pv_store_begin (store, TRUE, &error))
        pv_bench_die ("begin", error);
      if (!pv_admission_scan (store, ((PvIssuedTicket *) issued->pdata[k])->code, gates[k % 3], first + k * step,
                              FALSE, FALSE, &decision, &error))
        pv_bench_die ("record an entry", error);
      admitted += decision.verdict == PV_VERDICT_ADMIT;
      pv_decision_clear (&decision);
    }
  if (!pv_store_commit (store, &error))
    pv_bench_die ("commit entries", error);
  pv_bench_human (" %u admitted, %.1f s\n", admitted, (g_get_monotonic_time () - t0) / 1e6);
  /* All but the one the memory figure's gate admitted already. */
  if (admitted + 1 < issued->len)
    pv_bench_die ("admit every ticket", NULL);
}

static void
emit_times (const char *metric, const char *what, GArray *times, double goal_ms)
{
  PvBenchLatency l = pv_bench_latency_of (times);
  GString *line = pv_bench_line_new (metric);

  pv_bench_line_num (line, "p50_ms", l.p50 / 1000);
  pv_bench_line_num (line, "p99_ms", l.p99 / 1000);
  pv_bench_line_num (line, "max_ms", l.max / 1000);
  pv_bench_line_int (line, "n", l.n);
  if (goal_ms > 0)
    pv_bench_line_num (line, "goal_ms", goal_ms);
  pv_bench_line_end (line);
  if (goal_ms > 0)
    pv_bench_human ("  %-44s p50 %7.2f ms  p99 %7.2f ms  (goal ≤ %.0f ms: %s)\n", what, l.p50 / 1000, l.p99 / 1000,
                    goal_ms, l.p99 <= goal_ms * 1000 ? "met" : "MISSED");
  else
    pv_bench_human ("  %-44s p50 %7.2f ms  p99 %7.2f ms\n", what, l.p50 / 1000, l.p99 / 1000);
}

static void
iterate_until_drawn (GtkWidget *widget)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while ((!gtk_widget_get_mapped (widget) || gtk_widget_get_width (widget) == 0)
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  /* Half a second more for the first frames to be painted. */
  deadline = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  while (g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

typedef struct
{
  gint64 laid_out, painted;
} Frame;

static void
frame_layout_cb (GdkFrameClock *clock, Frame *frame)
{
  frame->laid_out = g_get_monotonic_time ();
}

static void
frame_painted_cb (GdkFrameClock *clock, Frame *frame)
{
  frame->painted = g_get_monotonic_time ();
}

static void
bench_dashboard (const char *big, GPtrArray *issued)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_store_open (big, &error);
  g_autoptr (GSettings) settings = NULL;
  g_autoptr (GArray) refresh = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) scan = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) page_frame = g_array_new (FALSE, FALSE, sizeof (gint64));
  static const char *const names[] = { "quarters", "inside", "gates", "categories", "channels" };
  GtkWidget *window, *page;
  sqlite3_stmt *stmt;

  if (store == NULL)
    pv_bench_die ("open the replica", error);
  add_entries (store, issued);
  adw_init ();
  settings = g_settings_new ("in.pravesh.Pravesh");
  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  page = pv_dashboard_page_new (store, NULL, settings, NULL);
  gtk_window_set_child (GTK_WINDOW (window), page);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until_drawn (page);

  /* Refresh: every figure and chart read again from the replica. */
  for (int i = 0; i < n_rounds; i++)
    {
      gint64 t0 = g_get_monotonic_time (), us;

      if (!pv_dashboard_page_refresh (PV_DASHBOARD_PAGE (page), 0, &error))
        pv_bench_die ("refresh the dashboard", error);
      us = g_get_monotonic_time () - t0;
      g_array_append_val (refresh, us);
    }
  /* The peer: one pass over the entries, the least a dashboard that
   * counts from the scans table on each update would pay. */
  if (!(stmt = pv_store_prepare (store, "SELECT gate, count(*), sum(party) FROM scans WHERE is_exit = 0 GROUP BY gate",
                                 &error)))
    pv_bench_die ("prepare the scan", error);
  for (int i = 0; i < MIN (n_rounds, 10); i++)
    {
      gint64 t0 = g_get_monotonic_time (), us;

      while (sqlite3_step (stmt) == SQLITE_ROW)
        ;
      sqlite3_reset (stmt);
      us = g_get_monotonic_time () - t0;
      g_array_append_val (scan, us);
    }
  pv_bench_human ("  dashboard on %u tickets and %u entries, window 1280×800:\n", issued->len, issued->len);
  emit_times ("dashboard_refresh", "refresh (all tiles and charts)", refresh, 50);
  emit_times ("dashboard_full_scan", "peer: one full scan of the entries", scan, 0);

  /* Redraw: each chart drawn with Cairo at its size on screen and full
   * screen; the bare floor is one cairo_paint of the same surface. */
  for (guint c = 0; c < PV_DASHBOARD_N_CHARTS; c++)
    {
      PvChart *chart = pv_dashboard_page_get_chart (PV_DASHBOARD_PAGE (page), c);
      const int sizes[][2] = { { gtk_widget_get_width (GTK_WIDGET (chart)), gtk_widget_get_height (GTK_WIDGET (chart)) },
                               { 1920, 1080 } };

      for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
        {
          g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_autoptr (GArray) bare = g_array_new (FALSE, FALSE, sizeof (gint64));
          cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MAX (sizes[s][0], 1),
                                                                 MAX (sizes[s][1], 1));
          g_autofree char *metric = g_strdup_printf ("chart_redraw.%s.%s", names[c], s == 0 ? "screen" : "1080p");
          g_autofree char *what = g_strdup_printf ("redraw %s at %d×%d", names[c], sizes[s][0], sizes[s][1]);

          for (int i = 0; i < n_rounds; i++)
            {
              cairo_t *cr = cairo_create (surface);
              gint64 t0 = g_get_monotonic_time (), us;

              pv_chart_render (chart, cr, sizes[s][0], sizes[s][1], FALSE);
              cairo_surface_flush (surface);
              us = g_get_monotonic_time () - t0;
              g_array_append_val (times, us);
              t0 = g_get_monotonic_time ();
              cairo_set_source_rgb (cr, 1, 1, 1);
              cairo_paint (cr);
              cairo_surface_flush (surface);
              us = g_get_monotonic_time () - t0;
              g_array_append_val (bare, us);
              cairo_destroy (cr);
            }
          emit_times (metric, what, times, 16);
          g_free (metric);
          metric = g_strdup_printf ("chart_redraw.%s.%s.bare_paint", names[c], s == 0 ? "screen" : "1080p");
          emit_times (metric, "  peer: bare cairo_paint of that surface", bare, 0);
          cairo_surface_destroy (surface);
        }
    }

  /* The whole window as GTK paints a frame of it with every chart
   * redrawn: from the frame clock's before-paint to its after-paint, so
   * the wait for the next frame is not counted. */
  {
    GdkFrameClock *clock = gtk_widget_get_frame_clock (window);
    Frame frame = { 0 };
    gulong layout_id = g_signal_connect (clock, "before-paint", G_CALLBACK (frame_layout_cb), &frame);
    gulong paint_id = g_signal_connect (clock, "after-paint", G_CALLBACK (frame_painted_cb), &frame);

    for (int i = 0; i < n_rounds; i++)
      {
        gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC, us;

        frame.painted = frame.laid_out = 0;
        for (guint c = 0; c < PV_DASHBOARD_N_CHARTS; c++)
          gtk_widget_queue_draw (GTK_WIDGET (pv_dashboard_page_get_chart (PV_DASHBOARD_PAGE (page), c)));
        while (frame.painted == 0 && g_get_monotonic_time () < deadline)
          g_main_context_iteration (NULL, TRUE);
        if (frame.painted == 0 || frame.laid_out == 0)
          pv_bench_die ("paint the dashboard", NULL);
        us = frame.painted - frame.laid_out;
        g_array_append_val (page_frame, us);
      }
    g_signal_handler_disconnect (clock, layout_id);
    g_signal_handler_disconnect (clock, paint_id);
  }
  emit_times ("dashboard_frame", "whole window painted, charts redrawn", page_frame, 16);
  gtk_window_destroy (GTK_WINDOW (window));
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
    { "rounds", 0, 0, G_OPTION_ARG_INT, &n_rounds, "Dashboard refreshes and redraws timed (default 40)", "N" },
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
  {
    g_autoptr (GPtrArray) issued = bench_start_and_memory (dir);
    g_autofree char *big = g_build_filename (dir, "million.db", NULL);

    bench_dashboard (big, issued);
  }
  return 0;
}
