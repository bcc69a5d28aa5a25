/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-bench.h: what the benchmarks (bench-core, bench-scanner) share: the
 * readable table on stderr (silenced by --json), fatal errors, the JSON lines
 * on stdout ({"bench":NAME,"metric":…, …}, one figure each), the usual
 * figures (a rate, a ratio against a goal, a value, a latency summary) and
 * the start of the "machine" line. Call pv_bench_init() once the options are
 * parsed, before anything else here. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @name goes into every JSON line and, as bench-@name, before every error;
 * @json_only silences pv_bench_human(). */
void pv_bench_init (const char *name, gboolean json_only);

/* Readable output, on stderr so stdout stays machine-readable. */
void pv_bench_human (const char *format, ...) G_GNUC_PRINTF (1, 2);
G_NORETURN void pv_bench_die (const char *what, const GError *error);

/* One JSON object per line: new, any number of fields, end (which prints
 * and frees it). */
GString *pv_bench_line_new (const char *metric);
void pv_bench_line_str (GString *line, const char *key, const char *value);
void pv_bench_line_num (GString *line, const char *key, double value);
void pv_bench_line_int (GString *line, const char *key, gint64 value);
void pv_bench_line_end (GString *line);

/* A rate: @n operations in @us µs; returns it. */
double pv_bench_emit_rate (const char *metric, guint64 n, gint64 us);
/* @ratio against @goal, passing at or above it ("goal"), or with @at_most
 * at or below it ("goal_max"). */
void pv_bench_emit_ratio (const char *metric, double ratio, double goal, gboolean at_most);
void pv_bench_emit_value (const char *metric, double value, const char *unit);

typedef struct
{
  guint n;
  double mean, p50, p99, max; /* µs */
} PvBenchLatency;

/* Nearest-rank percentile of sorted @values. */
double pv_bench_percentile (const gint64 *values, guint n, double p);
/* Sorts @samples (µs, gint64). */
PvBenchLatency pv_bench_latency_of (GArray *samples);
/* The JSON line only; each benchmark prints its own table row. */
void pv_bench_emit_latency (const char *metric, const PvBenchLatency *l);

/* User + system CPU time of the process so far, in seconds. */
double pv_bench_cpu_seconds (void);
char *pv_bench_cpu_model (void);
char *pv_bench_glib_version (void);
/* The "machine" line with cpu, nproc and kernel in it, for the caller to add
 * its libraries to and end; *@cpu and *@kernel (free both) for the table. */
GString *pv_bench_machine_line (char **cpu, char **kernel);
/* The warning for a build whose figures say little. */
void pv_bench_warn_buildtype (void);

G_END_DECLS
