/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-bench.c: the helpers bench-core and bench-scanner share (see
 * pv-bench.h): table and error output, the JSON lines and the figures
 * written as them, latency summaries and the machine description. Built
 * into each benchmark, so PV_BENCH_BUILDTYPE is the one its meson.build
 * passes. */
#include "pv-bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#ifndef PV_BENCH_BUILDTYPE
#define PV_BENCH_BUILDTYPE "unknown"
#endif

static const char *bench_name = "bench";
static gboolean bench_json_only = FALSE;

void
pv_bench_init (const char *name, gboolean json_only)
{
  bench_name = name;
  bench_json_only = json_only;
}

void
pv_bench_human (const char *format, ...)
{
  va_list args;

  if (bench_json_only)
    return;
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fflush (stderr);
}

void
pv_bench_die (const char *what, const GError *error)
{
  g_printerr ("bench-%s: %s: %s\n", bench_name, what, error ? error->message : "failed");
  exit (1);
}

GString *
pv_bench_line_new (const char *metric)
{
  GString *line = g_string_new ("{\"bench\":\"");

  g_string_append (line, bench_name);
  g_string_append (line, "\",\"metric\":\"");
  g_string_append (line, metric);
  g_string_append_c (line, '"');
  return line;
}

void
pv_bench_line_str (GString *line, const char *key, const char *value)
{
  g_string_append_printf (line, ",\"%s\":\"", key);
  for (const char *p = value ? value : ""; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (line, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (line, "\\u%04x", (guint) (guchar) *p);
      else
        g_string_append_c (line, *p);
    }
  g_string_append_c (line, '"');
}

void
pv_bench_line_num (GString *line, const char *key, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    g_string_append_printf (line, ",\"%s\":null", key);
  else
    g_string_append_printf (line, ",\"%s\":%s", key,
                            g_ascii_formatd (buf, sizeof buf, "%.6g", value));
}

void
pv_bench_line_int (GString *line, const char *key, gint64 value)
{
  g_string_append_printf (line, ",\"%s\":%" G_GINT64_FORMAT, key, value);
}

void
pv_bench_line_end (GString *line)
{
  g_string_append (line, "}\n");
  fputs (line->str, stdout);
  fflush (stdout);
  g_string_free (line, TRUE);
}

double
pv_bench_emit_rate (const char *metric, guint64 n, gint64 us)
{
  double rate = us > 0 ? (double) n * G_USEC_PER_SEC / (double) us : NAN;
  GString *line = pv_bench_line_new (metric);

  pv_bench_line_num (line, "value", rate);
  pv_bench_line_str (line, "unit", "1/s");
  pv_bench_line_int (line, "n", (gint64) n);
  pv_bench_line_num (line, "seconds", (double) us / G_USEC_PER_SEC);
  pv_bench_line_end (line);
  return rate;
}

void
pv_bench_emit_ratio (const char *metric, double ratio, double goal, gboolean at_most)
{
  GString *line = pv_bench_line_new (metric);
  gboolean pass = at_most ? ratio <= goal : ratio >= goal;

  pv_bench_line_num (line, "value", ratio);
  pv_bench_line_str (line, "unit", "ratio");
  pv_bench_line_num (line, at_most ? "goal_max" : "goal", goal);
  g_string_append_printf (line, ",\"pass\":%s", pass ? "true" : "false");
  pv_bench_line_end (line);
}

void
pv_bench_emit_value (const char *metric, double value, const char *unit)
{
  GString *line = pv_bench_line_new (metric);

  pv_bench_line_num (line, "value", value);
  pv_bench_line_str (line, "unit", unit);
  pv_bench_line_end (line);
}

static int
compare_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

double
pv_bench_percentile (const gint64 *values, guint n, double p)
{
  guint rank = (guint) ceil (p * n);

  return n == 0 ? NAN : (double) values[CLAMP (rank, 1, n) - 1];
}

PvBenchLatency
pv_bench_latency_of (GArray *samples)
{
  PvBenchLatency l = { samples->len, NAN, NAN, NAN, NAN };
  gint64 *v = (gint64 *) (void *) samples->data;
  double sum = 0;

  if (samples->len == 0)
    return l;
  g_array_sort (samples, compare_i64);
  for (guint i = 0; i < samples->len; i++)
    sum += (double) v[i];
  l.mean = sum / samples->len;
  l.p50 = pv_bench_percentile (v, samples->len, 0.50);
  l.p99 = pv_bench_percentile (v, samples->len, 0.99);
  l.max = (double) v[samples->len - 1];
  return l;
}

void
pv_bench_emit_latency (const char *metric, const PvBenchLatency *l)
{
  GString *line = pv_bench_line_new (metric);

  pv_bench_line_num (line, "p50", l->p50);
  pv_bench_line_num (line, "p99", l->p99);
  pv_bench_line_num (line, "max", l->max);
  pv_bench_line_num (line, "mean", l->mean);
  pv_bench_line_str (line, "unit", "us");
  pv_bench_line_int (line, "n", l->n);
  pv_bench_line_end (line);
}

double
pv_bench_cpu_seconds (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return NAN;
  return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
         + (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

char *
pv_bench_cpu_model (void)
{
  g_autofree char *info = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &info, NULL, NULL))
    return g_strdup ("unknown");
  lines = g_strsplit (info, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "model name") && strchr (lines[i], ':'))
      return g_strdup (g_strstrip (strchr (lines[i], ':') + 1));
  return g_strdup ("unknown");
}

char *
pv_bench_glib_version (void)
{
  return g_strdup_printf ("%u.%u.%u", glib_major_version, glib_minor_version,
                          glib_micro_version);
}

GString *
pv_bench_machine_line (char **cpu, char **kernel)
{
  GString *line = pv_bench_line_new ("machine");
  struct utsname uts;

  if (uname (&uts) != 0)
    memset (&uts, 0, sizeof uts);
  *cpu = pv_bench_cpu_model ();
  *kernel = g_strdup (uts.release);
  pv_bench_line_str (line, "cpu", *cpu);
  pv_bench_line_int (line, "nproc", g_get_num_processors ());
  pv_bench_line_str (line, "kernel", *kernel);
  return line;
}

void
pv_bench_warn_buildtype (void)
{
  if (!g_str_equal (PV_BENCH_BUILDTYPE, "release")
      && !g_str_equal (PV_BENCH_BUILDTYPE, "debugoptimized"))
    pv_bench_human ("warning: a %s build; figures from it say little\n", PV_BENCH_BUILDTYPE);
}
