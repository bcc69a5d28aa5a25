/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-core.c: the core benchmark of doc/benchmarks.md, every figure from one run
 * beside its peer: libsodium's bare Ed25519 sign and verify rates; bulk
 * issuance through pv_tickets_issue() (goal: at least 0.6 of the bare sign
 * rate); offline verification through pv_admission_verify() (goal: at least
 * 0.7 of the bare verify rate); then a store built to scale (a million
 * tickets and a million entry scans of distinct tickets over the fair's nine
 * days and three gates, the build rate itself reported), on which it times
 * gate decisions through pv_admission_scan(), each its own transaction as at
 * a real gate (ADMIT and ALREADY_USED mixed; rate, p50, p99, max), read-only
 * pv_admission_decide(), the process's peak RSS and the store's size. Run the
 * suite with `./build-aux/dev bench` (that is `meson test -C _build
 * --benchmark --suite bench -v`); for a shorter run call the program itself,
 * e.g. `_build/tests/bench/bench-core --tickets 100000 --entries 100000`
 * (`--help` lists every size). JSON lines, one figure each, go to stdout;
 * the readable table goes to stderr, unless --json silences it. Figures are
 * only meaningful from a release or debugoptimized build. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#include "pv-admission.h"
#include "pv-bench.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-store-private.h"
#include "pv-tickets.h"

#ifndef PV_BENCH_BUILDTYPE
#define PV_BENCH_BUILDTYPE "unknown"
#endif

/* The fair of the core tests: 2026-12-05 to 2026-12-13, 10:00–20:00 IST. */
#define BENCH_START "2026-12-05"
#define BENCH_DAYS 9
#define BENCH_GATES 3
#define BENCH_EVENT_ID 0x5eed0b01u
/* Tickets per pv_tickets_issue() call while building the big store. */
#define ISSUE_CHUNK 100000
/* Entry scans per outer transaction while building the big store. */
#define SCAN_BATCH 10000
#define MESSAGE_SIZE 20

static gint opt_tickets = 1000000;
static gint opt_entries = 1000000;
static gint opt_decisions = 20000;
static gint opt_issue = 50000;
static gint opt_verify = 20000;
static char *opt_dir = NULL;
static gboolean opt_json = FALSE;

static const GOptionEntry options[] = {
  { "tickets", 0, 0, G_OPTION_ARG_INT, &opt_tickets, "Tickets in the big store (default 1000000)", "N" },
  { "entries", 0, 0, G_OPTION_ARG_INT, &opt_entries, "Entry scans recorded in the big store, at most --tickets (default 1000000)", "N" },
  { "decisions", 0, 0, G_OPTION_ARG_INT, &opt_decisions, "Timed gate decisions on the big store (default 20000)", "N" },
  { "issue", 0, 0, G_OPTION_ARG_INT, &opt_issue, "Tickets issued in one bulk call, and bare signatures (default 50000)", "N" },
  { "verify", 0, 0, G_OPTION_ARG_INT, &opt_verify, "Offline verifications, and bare verifications (default 20000)", "N" },
  { "dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_dir, "Keep the stores in DIR (default: a temporary folder, removed at the end)", "DIR" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Only the JSON lines on stdout, no table on stderr", NULL },
  G_OPTION_ENTRY_NULL,
};

/* As pv_bench_emit_latency(), with its row in the table. */
static void
emit_latency (const char *metric, const PvBenchLatency *l)
{
  pv_bench_emit_latency (metric, l);
  pv_bench_human ("  %-34s p50 %7.0f µs  p99 %7.0f µs  max %8.0f µs  (n %u)\n", metric, l->p50,
                  l->p99, l->max, l->n);
}

static double
peak_rss_mib (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return NAN;
  return (double) usage.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* Current resident set from /proc, or NAN where there is none; freed heap
 * is handed back first, so what remains is what the store holds. */
static double
current_rss_mib (void)
{
  g_autofree char *status = NULL;
  const char *line;

#ifdef __GLIBC__
  malloc_trim (0);
#endif
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      || !(line = strstr (status, "\nVmRSS:")))
    return NAN;
  return g_ascii_strtod (line + strlen ("\nVmRSS:"), NULL) / 1024.0;
}

static double
file_mib (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (double) st.st_size / (1024.0 * 1024.0) : 0.0;
}

/* The file system under @dir: fsync costs differ by orders of magnitude. */
static const char *
fs_type (const char *dir)
{
#ifdef __linux__
  struct statfs st;

  if (statfs (dir, &st) != 0)
    return "unknown";
  switch ((unsigned long) st.f_type)
    {
    case 0xEF53UL:
      return "ext4";
    case 0x01021994UL:
      return "tmpfs";
    case 0x9123683EUL:
      return "btrfs";
    case 0x58465342UL:
      return "xfs";
    case 0x794C7630UL:
      return "overlayfs";
    case 0x2FC12FC1UL:
      return "zfs";
    default:
      return "other";
    }
#else
  return "unknown";
#endif
}

static void
print_machine (const char *dir)
{
  g_autofree char *cpu = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *glib = pv_bench_glib_version ();
  GString *line = pv_bench_machine_line (&cpu, &kernel);

  pv_bench_line_str (line, "sqlite", sqlite3_libversion ());
  pv_bench_line_str (line, "sodium", sodium_version_string ());
  pv_bench_line_str (line, "glib", glib);
  pv_bench_line_str (line, "buildtype", PV_BENCH_BUILDTYPE);
  pv_bench_line_str (line, "dir", dir);
  pv_bench_line_str (line, "fs", fs_type (dir));
  pv_bench_line_end (line);
  pv_bench_human ("machine: %s, %u CPUs, Linux %s; SQLite %s, libsodium %s, GLib %s; %s build; "
                  "stores in %s (%s)\n",
                  cpu, g_get_num_processors (), kernel, sqlite3_libversion (),
                  sodium_version_string (), glib, PV_BENCH_BUILDTYPE, dir, fs_type (dir));
  pv_bench_warn_buildtype ();
}

static gint64
clock_func (gpointer data)
{
  return *(gint64 *) data;
}

/* A new store at @dir/@name holding the fair (three gates, the default
 * categories), created by its first admin device a week before the fair,
 * with @clock as its clock. */
static PvStore *
create_store (const char *dir, const char *name, gint64 *clock)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GDateTime) created = g_date_time_new_from_iso8601 ("2026-11-28T12:00:00+05:30", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PvEvent) event = NULL;
  PvStore *store;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_printerr ("bench-core: %s already exists; remove it or choose another --dir\n", path);
      exit (2);
    }
  event = pv_event_new (BENCH_EVENT_ID, "Bench Book Fair", BENCH_START, BENCH_DAYS, &error);
  if (event == NULL)
    pv_bench_die ("event", error);
  for (guint i = 0; i < BENCH_GATES; i++)
    {
      g_autofree char *gate = g_strdup_printf ("Gate %u", i + 1);
      if (!pv_event_add_gate (event, gate, &error))
        pv_bench_die ("gate", error);
    }
  pv_event_add_default_categories (event);

  *clock = g_date_time_to_unix (created) * G_USEC_PER_SEC;
  if (!(store = pv_store_open (path, &error)))
    pv_bench_die (path, error);
  pv_store_set_clock (store, clock_func, clock);
  if (!pv_devices_create_event (store, event, "Control room", &error))
    pv_bench_die ("create event", error);
  return store;
}

static void
remove_store_files (const char *dir, const char *name)
{
  static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (name, suffixes[i], NULL);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      g_unlink (path);
    }
}

/* 1. The peer: libsodium signing and verifying 20-byte messages. */
static void
bench_sodium (double *out_sign, double *out_verify)
{
  guint8 pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  guint8 message[MESSAGE_SIZE] = { 0 }, scratch[crypto_sign_BYTES];
  guint n_sign = (guint) opt_issue, n_verify = (guint) opt_verify;
  g_autofree guint8 *sigs = g_malloc ((gsize) n_verify * crypto_sign_BYTES);
  guint bad = 0;
  gint64 t0, sign_us, verify_us;

  crypto_sign_keypair (pk, sk);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n_sign; i++)
    {
      memcpy (message, &i, sizeof i);
      crypto_sign_detached (i < n_verify ? sigs + (gsize) i * crypto_sign_BYTES : scratch, NULL,
                            message, sizeof message, sk);
    }
  sign_us = g_get_monotonic_time () - t0;
  for (guint i = n_sign; i < n_verify; i++)
    {
      memcpy (message, &i, sizeof i);
      crypto_sign_detached (sigs + (gsize) i * crypto_sign_BYTES, NULL, message, sizeof message, sk);
    }

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n_verify; i++)
    {
      memcpy (message, &i, sizeof i);
      bad += crypto_sign_verify_detached (sigs + (gsize) i * crypto_sign_BYTES, message,
                                          sizeof message, pk)
             != 0;
    }
  verify_us = g_get_monotonic_time () - t0;
  if (bad)
    {
      g_printerr ("bench-core: %u of libsodium's own signatures did not verify\n", bad);
      exit (1);
    }

  *out_sign = pv_bench_emit_rate ("sodium.sign", n_sign, sign_us);
  *out_verify = pv_bench_emit_rate ("sodium.verify", n_verify, verify_us);
  pv_bench_human ("\n1. libsodium (the peer), %d-byte messages\n", MESSAGE_SIZE);
  pv_bench_human ("  %-34s %10.0f /s  (%u in %.2f s)\n", "crypto_sign_detached", *out_sign, n_sign,
                  sign_us / 1e6);
  pv_bench_human ("  %-34s %10.0f /s  (%u in %.2f s)\n", "crypto_sign_verify_detached", *out_verify,
                  n_verify, verify_us / 1e6);
}

/* 2 and 3. Bulk issuance, then offline verification of those codes. */
static void
bench_issue_verify (const char *dir, double sign_rate, double verify_rate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL, gate = NULL;
  g_autoptr (GPtrArray) issued = NULL;
  g_autoptr (GArray) samples = g_array_sized_new (FALSE, FALSE, sizeof (gint64), (guint) opt_verify);
  g_autofree char *gate_path = NULL;
  PvIssueRequest request = {
    .category = "Season pass",
    .day = -1,
    .count = (guint) opt_issue,
    .channel = "import",
  };
  gint64 clock, t0, issue_us, verify_us, at;
  double issue_rate, rate;
  PvBenchLatency latency;

  store = create_store (dir, "bench-issue.db", &clock);
  /* A gate enrolled before the tickets exist: it knows the desk, not the
   * tickets, so every code it sees needs its signature checked — the
   * offline case the goal is about. */
  gate_path = g_build_filename (dir, "bench-issue-gate.db", NULL);
  if (!pv_devices_add (store, PV_ROLE_GATE, "Gate", gate_path, NULL, &error)
      || !(gate = pv_store_open_existing (gate_path, &error)))
    pv_bench_die ("gate", error);
  pv_store_set_clock (gate, clock_func, &clock);
  t0 = g_get_monotonic_time ();
  issued = pv_tickets_issue (store, &request, &error);
  issue_us = g_get_monotonic_time () - t0;
  if (issued == NULL)
    pv_bench_die ("issue", error);
  g_assert (issued->len == (guint) opt_issue);

  pv_bench_human ("\n2. Issuance: pv_tickets_issue, %d tickets in one call (sign + ledger + state, one transaction)\n",
                  opt_issue);
  issue_rate = pv_bench_emit_rate ("issue.bulk", issued->len, issue_us);
  pv_bench_emit_ratio ("issue.vs_sign", issue_rate / sign_rate, 0.6, FALSE);
  pv_bench_human ("  %-34s %10.0f /s  (%.2f s)  %.2f of bare sign (goal ≥ 0.60) %s\n", "tickets issued",
                  issue_rate, issue_us / 1e6, issue_rate / sign_rate,
                  issue_rate / sign_rate >= 0.6 ? "ok" : "BELOW GOAL");

  /* Codes verified on the fair's first day; beyond --issue they repeat. */
  at = pv_event_time_of (pv_store_get_event (store, NULL), 0, 12 * 60);
  clock = at;
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < (guint) opt_verify; i++)
    {
      const PvIssuedTicket *one = g_ptr_array_index (issued, i % issued->len);
      PvDecision decision;
      gint64 s = g_get_monotonic_time (), lap;

      if (!pv_admission_verify (gate, one->code, at, &decision, &error))
        pv_bench_die ("verify", error);
      lap = g_get_monotonic_time () - s;
      g_array_append_val (samples, lap);
      if (decision.verdict != PV_VERDICT_VALID)
        {
          g_printerr ("bench-core: a fresh ticket did not verify: %s\n", decision.message);
          exit (1);
        }
      pv_decision_clear (&decision);
    }
  verify_us = g_get_monotonic_time () - t0;

  pv_bench_human ("\n3. Offline verification: pv_admission_verify on %d real codes%s\n", opt_verify,
                  opt_verify > opt_issue ? " (repeating; fewer were issued)" : "");
  rate = pv_bench_emit_rate ("verify.offline", (guint) opt_verify, verify_us);
  pv_bench_emit_ratio ("verify.vs_sodium", rate / verify_rate, 0.7, FALSE);
  pv_bench_human ("  %-34s %10.0f /s  (%.2f s)  %.2f of bare verify (goal ≥ 0.70) %s\n", "codes verified",
                  rate, verify_us / 1e6, rate / verify_rate, rate / verify_rate >= 0.7 ? "ok" : "BELOW GOAL");
  latency = pv_bench_latency_of (samples);
  emit_latency ("verify.latency", &latency);

  /* The same codes where they were issued: held as recorded, so no
   * signature check (what a gate does once it has synced the tickets). */
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < (guint) opt_verify; i++)
    {
      const PvIssuedTicket *one = g_ptr_array_index (issued, i % issued->len);
      PvDecision decision;

      if (!pv_admission_verify (store, one->code, at, &decision, &error) || decision.verdict != PV_VERDICT_VALID)
        pv_bench_die ("verify recorded", error);
      pv_decision_clear (&decision);
    }
  verify_us = g_get_monotonic_time () - t0;
  rate = pv_bench_emit_rate ("verify.recorded", (guint) opt_verify, verify_us);
  pv_bench_human ("  %-34s %10.0f /s  (%.2f s)  codes this replica holds as issued: no signature check\n",
                  "codes verified (recorded)", rate, verify_us / 1e6);
}

/* The big store: entry k admits ticket k on day k·9/E; a day's entries are
 * spread evenly over 10:00–18:00 and over the gates. */
typedef struct
{
  PvStore *store;
  PvEvent *event;
  gint64 clock;
  sqlite3_stmt *fetch_range;
  sqlite3_stmt *fetch_one;
  guint16 issuer;
  guint32 serial0; /* serial of ticket 0 */
  guint64 day_first[BENCH_DAYS + 1];
} Scale;

static int
entry_day (guint64 k)
{
  return (int) (k * BENCH_DAYS / (guint64) opt_entries);
}

static gint64
entry_time (Scale *s, guint64 k)
{
  int day = entry_day (k);
  guint64 first = s->day_first[day], n = s->day_first[day + 1] - first;

  return pv_event_time_of (s->event, day, 10 * 60)
         + (gint64) ((k - first) * (guint64) (8 * G_TIME_SPAN_HOUR) / MAX (n, 1));
}

static const char *
gate_name (guint64 k)
{
  static const char *const gates[BENCH_GATES] = { "Gate 1", "Gate 2", "Gate 3" };

  return gates[k % BENCH_GATES];
}

/* Codes of tickets @first.. into @codes, read straight from the tickets
 * table (holding a million codes in memory would inflate the RSS figure). */
static void
fetch_codes (Scale *s, guint64 first, guint n, GPtrArray *codes)
{
  sqlite3_stmt *stmt = s->fetch_range;

  g_ptr_array_set_size (codes, 0);
  sqlite3_bind_int (stmt, 1, s->issuer);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) (s->serial0 + first));
  sqlite3_bind_int (stmt, 3, (int) n);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (codes, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);
  if (codes->len != n)
    {
      g_printerr ("bench-core: found %u codes of tickets %" G_GUINT64_FORMAT "…, not %u\n",
                  codes->len, first, n);
      exit (1);
    }
}

static char *
fetch_code (Scale *s, guint64 ticket)
{
  sqlite3_stmt *stmt = s->fetch_one;
  char *code = NULL;

  sqlite3_bind_int (stmt, 1, s->issuer);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) (s->serial0 + ticket));
  if (sqlite3_step (stmt) == SQLITE_ROW)
    code = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (code == NULL)
    {
      g_printerr ("bench-core: no code for ticket %" G_GUINT64_FORMAT "\n", ticket);
      exit (1);
    }
  return code;
}

static void
build_tickets (Scale *s)
{
  g_autoptr (GError) error = NULL;
  guint64 done = 0;
  gint64 total_us = 0;

  pv_bench_human ("\n4. Admission at scale: building a store of %d tickets and %d entries\n", opt_tickets,
                  opt_entries);
  while (done < (guint64) opt_tickets)
    {
      guint n = (guint) MIN ((guint64) ISSUE_CHUNK, (guint64) opt_tickets - done);
      PvIssueRequest request = { .category = "Season pass", .day = -1, .count = n, .channel = "import" };
      g_autoptr (GPtrArray) issued = NULL;
      const PvIssuedTicket *first;
      gint64 t0 = g_get_monotonic_time (), lap;

      issued = pv_tickets_issue (s->store, &request, &error);
      lap = g_get_monotonic_time () - t0;
      total_us += lap;
      if (issued == NULL)
        pv_bench_die ("issue", error);
      first = g_ptr_array_index (issued, 0);
      if (done == 0)
        {
          s->issuer = first->ticket.issuer;
          s->serial0 = first->ticket.serial;
        }
      else if (first->ticket.serial != s->serial0 + done)
        {
          g_printerr ("bench-core: serials are not consecutive\n");
          exit (1);
        }
      done += n;
      pv_bench_human ("  issued %8" G_GUINT64_FORMAT " tickets  (this chunk %7.0f /s)\n", done,
                      n * 1e6 / MAX (lap, 1));
    }
  pv_bench_emit_rate ("build.issue", done, total_us);
  pv_bench_human ("  %-34s %10.0f /s  (%.1f s, chunks of %d)\n", "tickets issued into the big store",
                  done * 1e6 / MAX (total_us, 1), total_us / 1e6, ISSUE_CHUNK);
}

static void
build_entries (Scale *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  guint64 entries = (guint64) opt_entries;
  gint64 scan_us = 0, wall0 = g_get_monotonic_time ();
  guint64 next_report = 100000;

  for (guint64 k0 = 0; k0 < entries; k0 += SCAN_BATCH)
    {
      guint n = (guint) MIN ((guint64) SCAN_BATCH, entries - k0);
      gint64 t0;

      fetch_codes (s, k0, n, codes);
      t0 = g_get_monotonic_time ();
      if (!pv_store_begin (s->store, TRUE, &error))
        pv_bench_die ("begin", error);
      for (guint j = 0; j < n; j++)
        {
          guint64 k = k0 + j;
          gint64 at = entry_time (s, k);
          PvDecision decision;

          s->clock = at;
          if (!pv_admission_scan (s->store, g_ptr_array_index (codes, j), gate_name (k), at, FALSE,
                                  TRUE, &decision, &error))
            pv_bench_die ("scan", error);
          if (decision.verdict != PV_VERDICT_ADMIT)
            {
              g_printerr ("bench-core: entry %" G_GUINT64_FORMAT " was refused: %s\n", k,
                          decision.message);
              exit (1);
            }
          pv_decision_clear (&decision);
        }
      if (!pv_store_commit (s->store, &error))
        pv_bench_die ("commit", error);
      scan_us += g_get_monotonic_time () - t0;
      if (k0 + n >= next_report || k0 + n == entries)
        {
          pv_bench_human ("  recorded %8" G_GUINT64_FORMAT " entries  (%7.0f /s so far, %.0f s)\n", k0 + n,
                          (k0 + n) * 1e6 / MAX (scan_us, 1), (g_get_monotonic_time () - wall0) / 1e6);
          next_report += 100000;
        }
    }
  pv_bench_emit_rate ("build.entries", entries, scan_us);
  pv_bench_human ("  %-34s %10.0f /s  (%.1f s, pv_admission_scan in transactions of %d)\n",
                  "entries recorded", entries * 1e6 / MAX (scan_us, 1), scan_us / 1e6, SCAN_BATCH);
  if (scan_us > 3 * G_TIME_SPAN_MINUTE)
    pv_bench_human ("  note: recording %" G_GUINT64_FORMAT " entries took %.1f min, over 3 minutes\n",
                    entries, scan_us / 6e7);
}

/* Spreads j over 0..n-1 without repeats (a stride coprime to n). */
static guint64
spread (guint64 j, guint64 n)
{
  guint64 stride = (guint64) (n * 0.6180339887) | 1;

  for (;;)
    {
      guint64 a = stride, b = n;
      while (b)
        {
          guint64 t = a % b;
          a = b;
          b = t;
        }
      if (a == 1)
        break;
      stride++;
    }
  return j * stride % n;
}

/* The tickets for @n decisions on the last day: even ones entered today
 * already (ALREADY_USED), odd ones did not — never used, then used on an
 * earlier day (ADMIT: a season pass is good once a day). @offset skips the
 * not-yet-used tickets an earlier round took. */
static GPtrArray *
pick_codes (Scale *s, guint n, guint64 offset)
{
  GPtrArray *codes = g_ptr_array_new_with_free_func (g_free);
  guint64 today_first = s->day_first[BENCH_DAYS - 1], entries = (guint64) opt_entries;
  guint64 used_n = entries - today_first;
  guint64 never_n = (guint64) opt_tickets - entries;
  guint64 fresh_n = never_n + today_first;

  for (guint i = 0; i < n; i++)
    {
      guint64 ticket;

      if (i % 2 == 0 && used_n > 0)
        ticket = today_first + spread (i / 2, used_n);
      else
        {
          guint64 j = (offset + i / 2) % MAX (fresh_n, 1);
          ticket = j < never_n ? entries + spread (j, never_n) : spread (j - never_n, today_first);
        }
      g_ptr_array_add (codes, fetch_code (s, ticket));
    }
  return codes;
}

static void
count_verdict (guint *counts, PvVerdict verdict)
{
  if (verdict == PV_VERDICT_ADMIT)
    counts[0]++;
  else if (verdict == PV_VERDICT_ALREADY_USED)
    counts[1]++;
  else
    counts[2]++;
}

static void
bench_decisions (Scale *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) codes = pick_codes (s, (guint) opt_decisions, 0);
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) admit = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) used = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 start = pv_event_time_of (s->event, BENCH_DAYS - 1, 18 * 60);
  gint64 t0, total_us;
  guint counts[3] = { 0 };
  PvBenchLatency l;

  pv_bench_human ("\n   Gate decisions: pv_admission_scan, one transaction each, on day %d after 18:00\n",
                  BENCH_DAYS);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < codes->len; i++)
    {
      gint64 at = start + (gint64) i * (119 * G_TIME_SPAN_MINUTE) / (gint64) codes->len;
      PvDecision decision;
      gint64 s0, lap;

      s->clock = at;
      s0 = g_get_monotonic_time ();
      if (!pv_admission_scan (s->store, g_ptr_array_index (codes, i), gate_name (i), at, FALSE,
                              TRUE, &decision, &error))
        pv_bench_die ("scan", error);
      lap = g_get_monotonic_time () - s0;
      g_array_append_val (all, lap);
      if (decision.verdict == PV_VERDICT_ADMIT)
        g_array_append_val (admit, lap);
      else if (decision.verdict == PV_VERDICT_ALREADY_USED)
        g_array_append_val (used, lap);
      count_verdict (counts, decision.verdict);
      pv_decision_clear (&decision);
    }
  total_us = g_get_monotonic_time () - t0;

  {
    GString *line = pv_bench_line_new ("scan.verdicts");
    pv_bench_line_int (line, "admit", counts[0]);
    pv_bench_line_int (line, "already_used", counts[1]);
    pv_bench_line_int (line, "other", counts[2]);
    pv_bench_line_end (line);
  }
  pv_bench_human ("  %-34s %10.0f /s  (%u in %.2f s: %u ADMIT, %u ALREADY_USED, %u other)\n",
                  "decisions", codes->len * 1e6 / MAX (total_us, 1), codes->len, total_us / 1e6, counts[0],
                  counts[1], counts[2]);
  pv_bench_emit_rate ("scan.decisions", codes->len, total_us);
  l = pv_bench_latency_of (all);
  emit_latency ("scan.latency", &l);
  l = pv_bench_latency_of (admit);
  emit_latency ("scan.latency.admit", &l);
  l = pv_bench_latency_of (used);
  emit_latency ("scan.latency.already_used", &l);
}

static void
bench_decide (Scale *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) codes = pick_codes (s, (guint) opt_decisions, (guint64) (opt_decisions + 1) / 2);
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 at = pv_event_time_of (s->event, BENCH_DAYS - 1, 19 * 60 + 59);
  gint64 t0, total_us;
  guint counts[3] = { 0 };
  PvBenchLatency l;

  s->clock = at;
  pv_bench_human ("\n5. Read-only decisions: pv_admission_decide on the same store\n");
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < codes->len; i++)
    {
      PvDecision decision;
      gint64 s0 = g_get_monotonic_time (), lap;

      if (!pv_admission_decide (s->store, g_ptr_array_index (codes, i), gate_name (i), at, FALSE,
                                &decision, &error))
        pv_bench_die ("decide", error);
      lap = g_get_monotonic_time () - s0;
      g_array_append_val (all, lap);
      count_verdict (counts, decision.verdict);
      pv_decision_clear (&decision);
    }
  total_us = g_get_monotonic_time () - t0;
  pv_bench_human ("  %-34s %10.0f /s  (%u: %u ADMIT, %u ALREADY_USED, %u other)\n", "decisions",
                  codes->len * 1e6 / MAX (total_us, 1), codes->len, counts[0], counts[1], counts[2]);
  pv_bench_emit_rate ("decide.decisions", codes->len, total_us);
  l = pv_bench_latency_of (all);
  emit_latency ("decide.latency", &l);
}

static void
bench_scale (const char *dir, double rss_before)
{
  g_autofree char *path = g_build_filename (dir, "bench-scale.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  sqlite3_int64 sqlite_current, sqlite_peak;
  Scale s = { 0 };
  double rss_after_build, rss_now, wal_mib;
  sqlite3 *db;

  s.store = create_store (dir, "bench-scale.db", &s.clock);
  s.event = pv_store_get_event (s.store, NULL);
  for (guint d = 0; d <= BENCH_DAYS; d++)
    s.day_first[d] = ((guint64) d * (guint64) opt_entries + BENCH_DAYS - 1) / BENCH_DAYS;
  db = pv_store_get_db (s.store);
  if (sqlite3_prepare_v2 (db,
                          "SELECT code FROM tickets WHERE issuer = ?1 AND serial >= ?2 "
                          "ORDER BY serial LIMIT ?3",
                          -1, &s.fetch_range, NULL)
        != SQLITE_OK
      || sqlite3_prepare_v2 (db, "SELECT code FROM tickets WHERE issuer = ?1 AND serial = ?2", -1,
                             &s.fetch_one, NULL)
           != SQLITE_OK)
    {
      g_printerr ("bench-core: %s\n", sqlite3_errmsg (db));
      exit (1);
    }

  build_tickets (&s);
  build_entries (&s);
  rss_after_build = peak_rss_mib ();
  bench_decisions (&s);
  bench_decide (&s);

  rss_now = current_rss_mib ();
  sqlite_current = sqlite3_memory_used ();
  sqlite_peak = sqlite3_memory_highwater (FALSE);
  pv_bench_human ("\n   Memory and disk, %d tickets and %d + %d entries\n", opt_tickets, opt_entries,
                  opt_decisions);
  pv_bench_emit_value ("memory.peak_rss", peak_rss_mib (), "MiB");
  pv_bench_emit_value ("memory.peak_rss_before_scale", rss_before, "MiB");
  pv_bench_emit_value ("memory.peak_rss_after_build", rss_after_build, "MiB");
  pv_bench_emit_value ("memory.rss", rss_now, "MiB");
  pv_bench_emit_value ("memory.sqlite_heap_peak", (double) sqlite_peak / (1024.0 * 1024.0), "MiB");
  pv_bench_human ("  %-34s %10.1f MiB (%.1f MiB before the big store, %.1f MiB after its build)\n",
                  "peak RSS (ru_maxrss)", peak_rss_mib (), rss_before, rss_after_build);
  pv_bench_human ("  %-34s %10.1f MiB (after malloc_trim, store still open)\n", "RSS now", rss_now);
  pv_bench_human ("  %-34s %10.1f MiB peak, %.1f MiB now\n", "SQLite heap", sqlite_peak / 1048576.0,
                  sqlite_current / 1048576.0);

  /* Sizes at rest: closing checkpoints the write-ahead log into the file. */
  wal_mib = file_mib (wal);
  sqlite3_finalize (s.fetch_range);
  sqlite3_finalize (s.fetch_one);
  g_clear_object (&s.store);
  pv_bench_emit_value ("store.size", file_mib (path), "MiB");
  pv_bench_emit_value ("store.wal_size_open", wal_mib, "MiB");
  pv_bench_human ("  %-34s %10.1f MiB after closing (write-ahead log %.1f MiB while open)\n", "store file",
                  file_mib (path), wal_mib);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("— Pravesh core benchmark");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  gboolean temporary;
  double sign_rate, verify_rate;
  gint64 t0 = g_get_monotonic_time ();

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, options, NULL);
  g_option_context_set_summary (context,
                                "Times issuance, offline verification and gate decisions on a "
                                "store of a million tickets, beside libsodium's own rates.\n"
                                "JSON lines on stdout, a readable table on stderr.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-core: %s\n", error->message);
      return 2;
    }
  pv_bench_init ("core", opt_json);
  if (opt_tickets < 1 || opt_entries < BENCH_DAYS || opt_decisions < 1 || opt_issue < 1
      || opt_verify < 1 || opt_issue > PV_MAX_BULK_ISSUE)
    {
      g_printerr ("bench-core: sizes must be positive, --entries at least %d, --issue at most %d\n",
                  BENCH_DAYS, PV_MAX_BULK_ISSUE);
      return 2;
    }
  if (opt_entries > opt_tickets)
    {
      g_printerr ("bench-core: --entries %d is more than --tickets %d; every entry is a distinct ticket\n",
                  opt_entries, opt_tickets);
      return 2;
    }
  if (sodium_init () < 0)
    {
      g_printerr ("bench-core: libsodium cannot be initialised\n");
      return 1;
    }

  temporary = opt_dir == NULL;
  if (temporary)
    {
      if (!(dir = g_dir_make_tmp ("pv-bench-XXXXXX", &error)))
        pv_bench_die ("temporary folder", error);
    }
  else
    {
      dir = g_strdup (opt_dir);
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          g_printerr ("bench-core: cannot create %s: %s\n", dir, g_strerror (errno));
          return 1;
        }
    }

  print_machine (dir);
  bench_sodium (&sign_rate, &verify_rate);
  bench_issue_verify (dir, sign_rate, verify_rate);
  bench_scale (dir, peak_rss_mib ());

  if (temporary)
    {
      remove_store_files (dir, "bench-issue.db");
      remove_store_files (dir, "bench-scale.db");
      g_rmdir (dir);
    }
  pv_bench_emit_value ("total_seconds", (g_get_monotonic_time () - t0) / 1e6, "s");
  pv_bench_human ("\ndone in %.0f s\n", (g_get_monotonic_time () - t0) / 1e6);
  g_free (opt_dir);
  return 0;
}
