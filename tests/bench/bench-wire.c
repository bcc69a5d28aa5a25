/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-wire.c: the question the sync issue left open — JSON batches or a
 * compact binary framing? On pages of real records (tickets issued by a
 * real store, collected as sync collects them) it times encoding and
 * parsing with both of pv-wire's codecs (each strict, every record's hash
 * checked), and the bytes per record of each; then applying the same pages
 * into a fresh replica, which is what a replicating gate spends its time
 * on. The binary framing measured better and carries batches on the wire;
 * JSON stays for requests, debugging and other implementations. One JSON
 * line per figure on stdout, a table on stderr. */
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "pv-batch.h"
#include "pv-bench.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-store.h"
#include "pv-tickets.h"
#include "pv-wire.h"

static gint opt_records = 100000;
static gint opt_rounds = 3;
static gboolean opt_json = FALSE;

static const GOptionEntry options[] = {
  { "records", 0, 0, G_OPTION_ARG_INT, &opt_records, "Tickets in the source store (default 100000)", "N" },
  { "rounds", 0, 0, G_OPTION_ARG_INT, &opt_rounds, "Times each page is encoded and parsed (default 3)", "N" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Only the JSON lines on stdout, no table on stderr", NULL },
  G_OPTION_ENTRY_NULL,
};

static PvStore *
make_event (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PvEvent) event = pv_event_new (0x5eed0b02u, "Bench Book Fair", "2026-12-05", 9, &error);
  PvStore *store;

  if (event == NULL || !pv_event_add_gate (event, "Gate 1", &error))
    pv_bench_die ("event", error);
  pv_event_add_default_categories (event);
  if (!(store = pv_store_open (path, &error)) || !pv_devices_create_event (store, event, "Control room", &error))
    pv_bench_die ("store", error);
  return store;
}

int
main (int argc, char *argv[])
{
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pv-bench-wire-XXXXXX", NULL);
  g_autofree char *replica_path = NULL;
  g_autoptr (PvStore) source = NULL, replica = NULL;
  g_autoptr (GPtrArray) pages = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_batch_free);
  g_autoptr (GHashTable) vector = NULL;
  PvIssueRequest request = { .category = "Season pass", .day = -1 };
  gint64 json_encode = 0, json_parse = 0, binary_encode_us = 0, binary_parse_us = 0, apply_us = 0, t;
  guint64 records = 0, json_bytes = 0, binary_bytes = 0;
  guint16 replica_id = 0;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    pv_bench_die ("options", error);
  pv_bench_init ("wire", opt_json);
  pv_bench_warn_buildtype ();

  /* Real records: the tickets of a store, collected page by page as a
   * fresh gate would pull them. */
  source = make_event (dir, "source.db");
  /* The gate is enrolled first, so the tickets are all news to it. */
  replica_path = g_build_filename (dir, "replica.db", NULL);
  if (!pv_devices_add (source, PV_ROLE_GATE, "Gate", replica_path, &replica_id, &error))
    pv_bench_die ("replica", error);
  request.count = (guint) opt_records;
  {
    g_autoptr (GPtrArray) issued = pv_tickets_issue (source, &request, &error);
    if (issued == NULL)
      pv_bench_die ("issue", error);
  }
  vector = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  for (;;)
    {
      PvBatch *page = pv_batch_collect (source, vector, PV_BATCH_PAGE, FALSE, NULL, &error);

      if (page == NULL)
        pv_bench_die ("collect", error);
      for (guint i = 0; i < page->records->len; i++)
        {
          const PvRecord *r = page->records->pdata[i];
          g_hash_table_insert (vector, GUINT_TO_POINTER (r->device_id), g_memdup2 (&r->seq, sizeof r->seq));
        }
      records += page->records->len;
      g_ptr_array_add (pages, page);
      if (!page->more)
        break;
    }

  for (gint round = 0; round < opt_rounds; round++)
    for (guint i = 0; i < pages->len; i++)
      {
        const PvBatch *page = pages->pdata[i];
        g_autoptr (GBytes) json = NULL, binary = NULL;
        g_autoptr (PvBatch) from_json = NULL, from_binary = NULL;

        t = g_get_monotonic_time ();
        json = pv_batch_to_json (page);
        json_encode += g_get_monotonic_time () - t;
        t = g_get_monotonic_time ();
        from_json = pv_batch_new_from_json (g_bytes_get_data (json, NULL), g_bytes_get_size (json), G_MAXSIZE,
                                            &error);
        json_parse += g_get_monotonic_time () - t;
        t = g_get_monotonic_time ();
        binary = pv_batch_to_binary (page);
        binary_encode_us += g_get_monotonic_time () - t;
        t = g_get_monotonic_time ();
        from_binary = pv_batch_new_from_binary (g_bytes_get_data (binary, NULL), g_bytes_get_size (binary), G_MAXSIZE,
                                                &error);
        binary_parse_us += g_get_monotonic_time () - t;
        if (from_json == NULL || from_binary == NULL || from_json->records->len != page->records->len
            || from_binary->records->len != page->records->len)
          pv_bench_die ("round trip", error);
        if (round == 0)
          {
            json_bytes += g_bytes_get_size (json);
            binary_bytes += g_bytes_get_size (binary);
          }
      }

  /* What a replicating gate does with the pages: apply them, durably. */
  if (!(replica = pv_store_open_existing (replica_path, &error)))
    pv_bench_die ("replica", error);
  t = g_get_monotonic_time ();
  for (guint i = 0; i < pages->len; i++)
    {
      PvMergeStats stats;

      if (!pv_batch_apply (replica, pages->pdata[i], &stats, NULL, &error))
        pv_bench_die ("apply", error);
    }
  apply_us = g_get_monotonic_time () - t;

  {
    guint64 n = records * (guint64) opt_rounds;
    double je = pv_bench_emit_rate ("json_encode_records_per_s", n, json_encode);
    double jp = pv_bench_emit_rate ("json_parse_records_per_s", n, json_parse);
    double be = pv_bench_emit_rate ("binary_encode_records_per_s", n, binary_encode_us);
    double bp = pv_bench_emit_rate ("binary_parse_records_per_s", n, binary_parse_us);
    double ap = pv_bench_emit_rate ("apply_records_per_s", records, apply_us);

    pv_bench_emit_value ("json_bytes_per_record", (double) json_bytes / (double) records, "B");
    pv_bench_emit_value ("binary_bytes_per_record", (double) binary_bytes / (double) records, "B");
    pv_bench_human ("%'llu records in %u pages of real tickets\n", (unsigned long long) records, pages->len);
    pv_bench_human ("%-32s %14s %14s\n", "", "JSON", "binary");
    pv_bench_human ("%-32s %12.0f/s %12.0f/s\n", "encode", je, be);
    pv_bench_human ("%-32s %12.0f/s %12.0f/s\n", "parse (hashes checked)", jp, bp);
    pv_bench_human ("%-32s %12.0f B %12.0f B\n", "bytes per record", (double) json_bytes / (double) records,
                    (double) binary_bytes / (double) records);
    pv_bench_human ("%-32s %12.0f/s\n", "apply into a fresh replica", ap);
  }

  g_clear_object (&source);
  g_clear_object (&replica);
  {
    static const char *const files[] = { "source.db", "source.db-wal", "source.db-shm",
                                         "replica.db", "replica.db-wal", "replica.db-shm" };
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *path = g_build_filename (dir, files[i], NULL);
        g_unlink (path);
      }
    g_rmdir (dir);
  }
  return 0;
}
