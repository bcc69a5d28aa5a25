/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-ledger.c: the pravesh-ctl commands that look at a replica as a
 * whole — CSV exports, the control room's figures, double entries — and at
 * its ledger: digests to compare replicas, merging another replica's file,
 * rebuilding the derived state to check it. Exports go through a temporary
 * file and a rename, so a failed export never leaves half a spreadsheet. */
#include "config.h"

#include <gio/gio.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "pv-batch.h"
#include "pv-ctl.h"
#include "pv-error.h"
#include "pv-export.h"
#include "pv-ledger.h"
#include "pv-state.h"
#include "pv-stats.h"

/* ---- export ---- */

typedef gboolean (*ExportFunc) (PvStore *store, GOutputStream *out, guint64 *out_rows,
                                GCancellable *cancellable, GError **error);

static int
run_export (PvCtl *ctl, int argc, char **argv, ExportFunc func, const char *what)
{
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GOutputStream) stream = NULL;
  g_autofree char *tmp = NULL;
  guint64 rows = 0;
  int status;
  GOptionEntry entries[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out,
      N_ ("Write to FILE instead of standard output"), N_ ("FILE") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error))
    return pv_ctl_fail (error);

  if (out == NULL)
    {
      stream = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
      if (!func (store, stream, &rows, NULL, &error)
          || !g_output_stream_close (stream, NULL, &error))
        return pv_ctl_fail (error);
      g_printerr (_ ("Exported %llu %s\n"), (unsigned long long) rows, what);
      return PV_CTL_EXIT_OK;
    }

  {
    g_autoptr (GFile) file = NULL;

    tmp = g_strconcat (out, ".tmp", NULL);
    file = g_file_new_for_path (tmp);
    stream = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                              &error));
    if (stream == NULL)
      return pv_ctl_fail (error);
  }
  if (!func (store, stream, &rows, NULL, &error) || !g_output_stream_close (stream, NULL, &error)
      || g_rename (tmp, out) != 0)
    {
      int saved_errno = errno;

      if (error == NULL)
        g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                     _ ("Cannot rename %s to %s: %s"), tmp, out, g_strerror (saved_errno));
      g_output_stream_close (stream, NULL, NULL);
      g_unlink (tmp);
      return pv_ctl_fail (error);
    }
  g_printerr (_ ("Exported %llu %s to %s\n"), (unsigned long long) rows, what, out);
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_export_tickets (PvCtl *ctl, int argc, char **argv)
{
  return run_export (ctl, argc, argv, pv_export_tickets, _ ("tickets"));
}

int
pv_ctl_export_entries (PvCtl *ctl, int argc, char **argv)
{
  return run_export (ctl, argc, argv, pv_export_entries, _ ("scans"));
}

/* ---- stats ---- */

static void
add_counts_json (JsonBuilder *builder, const char *member, GPtrArray *counts)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < counts->len; i++)
    {
      const PvCount *count = g_ptr_array_index (counts, i);

      json_builder_begin_object (builder);
      pv_json_add_string (builder, "key", count->key);
      pv_json_add_int (builder, "value", count->value);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
print_counts (const char *label, GPtrArray *counts, const char *suffix)
{
  g_autoptr (GString) line = g_string_new (NULL);

  for (guint i = 0; i < counts->len; i++)
    {
      const PvCount *count = g_ptr_array_index (counts, i);
      g_string_append_printf (line, "%s%s%s %" G_GINT64_FORMAT, i ? ", " : "", count->key,
                              suffix, count->value);
    }
  g_print ("%-18s %s\n", label, line->len ? line->str : "–");
}

int
pv_ctl_stats (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *at_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean json = FALSE;
  PvStats stats = { 0 };
  PvEvent *event;
  guint n_days;
  gint64 now;
  int status;
  GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at_text,
      N_ ("The moment whose day to show, ISO 8601 (default now)"), N_ ("TIME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the figures as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || !pv_ctl_parse_at (event, at_text, &now, &error)
      || !pv_stats_load (store, now, &stats, &error))
    return pv_ctl_fail (error);
  n_days = pv_event_get_n_days (event);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      pv_json_add_string (builder, "event", pv_event_get_name (event));
      pv_json_add_string (builder, "today", stats.today);
      if (stats.day >= 0 && stats.day < (int) n_days)
        pv_json_add_int (builder, "day", stats.day + 1);
      else
        pv_json_add_null (builder, "day");
      pv_json_add_int (builder, "n_days", n_days);
      pv_json_add_int (builder, "registered_total", stats.registered_total);
      pv_json_add_int (builder, "registered_today", stats.registered_today);
      pv_json_add_int (builder, "entered_today", stats.entered_today);
      pv_json_add_int (builder, "entries_today", stats.entries_today);
      pv_json_add_int (builder, "exited_today", stats.exited_today);
      pv_json_add_int (builder, "inside_now", stats.inside_now);
      pv_json_add_int (builder, "scans_today", stats.scans_today);
      pv_json_add_int (builder, "doubles_total", stats.doubles_total);
      pv_json_add_int (builder, "doubles_today", stats.doubles_today);
      pv_json_add_int (builder, "capacity", stats.capacity);
      add_counts_json (builder, "by_channel", stats.by_channel);
      add_counts_json (builder, "by_category", stats.by_category);
      add_counts_json (builder, "entries_by_day", stats.entries_by_day);
      add_counts_json (builder, "entries_by_hour", stats.entries_by_hour);
      add_counts_json (builder, "entries_by_quarter", stats.entries_by_quarter);
      add_counts_json (builder, "entries_by_gate", stats.entries_by_gate);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    {
      if (stats.day >= 0 && stats.day < (int) n_days)
        g_print (_ ("%s — %s, day %d of %u\n"), pv_event_get_name (event), stats.today,
                 stats.day + 1, n_days);
      else
        g_print (_ ("%s — %s, not an event day\n"), pv_event_get_name (event), stats.today);
      g_print (_ ("%-18s %lld in all, %lld today\n"), _ ("Tickets issued"),
               (long long) stats.registered_total, (long long) stats.registered_today);
      g_print (_ ("%-18s %lld today (%lld entries, %lld scans)\n"), _ ("People entered"),
               (long long) stats.entered_today, (long long) stats.entries_today,
               (long long) stats.scans_today);
      g_print (_ ("%-18s %lld today\n"), _ ("People exited"), (long long) stats.exited_today);
      if (stats.capacity)
        g_print (_ ("%-18s %lld of %u\n"), _ ("Inside now"), (long long) stats.inside_now,
                 stats.capacity);
      else
        g_print ("%-18s %" G_GINT64_FORMAT "\n", _ ("Inside now"), stats.inside_now);
      g_print (_ ("%-18s %lld in all, %lld today\n"), _ ("Double entries"),
               (long long) stats.doubles_total, (long long) stats.doubles_today);
      print_counts (_ ("By channel"), stats.by_channel, "");
      print_counts (_ ("By category"), stats.by_category, "");
      print_counts (_ ("Entries by day"), stats.entries_by_day, "");
      print_counts (_ ("Entries by hour"), stats.entries_by_hour, ":00");
      print_counts (_ ("Entries by gate"), stats.entries_by_gate, "");
    }
  pv_stats_clear (&stats);
  return PV_CTL_EXIT_OK;
}

/* ---- doubles ---- */

static char *
device_name (PvStore *store, guint16 id)
{
  const PvDeviceInfo *device = pv_store_lookup_device (store, id);

  return g_strdup (device ? device->name : NULL);
}

static void
add_scan_json (JsonBuilder *builder, PvStore *store, PvEvent *event, guint16 device,
               const char *gate, gint64 at, gboolean offline)
{
  g_autofree char *name = device_name (store, device);

  json_builder_begin_object (builder);
  pv_json_add_int (builder, "device", device);
  pv_json_add_string (builder, "device_name", name);
  pv_json_add_string (builder, "gate", gate);
  pv_ctl_json_add_time (builder, "at", event, at);
  pv_json_add_bool (builder, "offline", offline);
  json_builder_end_object (builder);
}

static char *
describe_scan (PvStore *store, PvEvent *event, guint16 device, const char *gate, gint64 at,
               gboolean offline)
{
  g_autoptr (GDateTime) local = pv_event_local_time (event, at);
  g_autofree char *clock = local ? g_date_time_format (local, "%H:%M:%S") : g_strdup ("?");
  g_autofree char *name = device_name (store, device);

  /* TRANSLATORS: gate, time, device id, device name, "offline"/"online" */
  return g_strdup_printf (_ ("%s %s, device %u %s, %s"), gate, clock, device, name ? name : "",
                          offline ? _ ("offline") : _ ("online"));
}

int
pv_ctl_doubles (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GPtrArray) doubles = NULL;
  gboolean json = FALSE;
  PvEvent *event;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the double entries as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || !(doubles = pv_stats_list_doubles (store, &error)))
    return pv_ctl_fail (error);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < doubles->len; i++)
        {
          const PvDoubleEntry *entry = g_ptr_array_index (doubles, i);
          g_autofree char *date = pv_event_day_date (event, entry->day);

          json_builder_begin_object (builder);
          pv_json_add_string (builder, "serial", entry->serial);
          pv_json_add_string (builder, "day", date);
          pv_json_add_int (builder, "day_number", entry->day + 1);
          json_builder_set_member_name (builder, "double");
          add_scan_json (builder, store, event, entry->device_id, entry->gate, entry->at,
                         entry->offline);
          json_builder_set_member_name (builder, "first");
          if (entry->first_device_id)
            add_scan_json (builder, store, event, entry->first_device_id, entry->first_gate,
                           entry->first_at, entry->first_offline);
          else
            json_builder_add_null_value (builder);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
      return PV_CTL_EXIT_OK;
    }

  if (doubles->len == 0)
    {
      g_print (_ ("No double entries.\n"));
      return PV_CTL_EXIT_OK;
    }
  {
    g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

    g_ptr_array_add (rows, g_strsplit (_ ("SERIAL|DAY|ADMITTED FIRST|ADMITTED AGAIN (DOUBLE)"),
                                       "|", -1));
    for (guint i = 0; i < doubles->len; i++)
      {
        const PvDoubleEntry *entry = g_ptr_array_index (doubles, i);
        char **row = g_new0 (char *, 5);

        row[0] = g_strdup (entry->serial);
        row[1] = pv_event_day_date (event, entry->day);
        row[2] = entry->first_device_id
                   ? describe_scan (store, event, entry->first_device_id, entry->first_gate,
                                    entry->first_at, entry->first_offline)
                   : g_strdup ("–");
        row[3] = describe_scan (store, event, entry->device_id, entry->gate, entry->at,
                                entry->offline);
        g_ptr_array_add (rows, row);
      }
    pv_ctl_print_table (rows);
  }
  return PV_CTL_EXIT_OK;
}

/* ---- ledger ---- */

static int
print_digest (PvCtl *ctl, int argc, char **argv,
              gboolean (*digest) (PvStore *, guint8 *, GError **))
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autofree char *hex = NULL;
  guint8 hash[PV_HASH_SIZE];
  int status;

  if (!pv_ctl_parse_options (ctl, NULL, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !digest (store, hash, &error))
    return pv_ctl_fail (error);
  hex = pv_hash_to_hex (hash);
  g_print ("%s\n", hex);
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_ledger_digest (PvCtl *ctl, int argc, char **argv)
{
  return print_digest (ctl, argc, argv, pv_ledger_digest);
}

int
pv_ctl_ledger_state_digest (PvCtl *ctl, int argc, char **argv)
{
  return print_digest (ctl, argc, argv, pv_state_digest);
}

int
pv_ctl_ledger_count (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  int status;

  if (!pv_ctl_parse_options (ctl, NULL, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)))
    return pv_ctl_fail (error);
  g_print ("%" G_GUINT64_FORMAT "\n", pv_ledger_count (store));
  return PV_CTL_EXIT_OK;
}

static gboolean
same_file (const char *a, const char *b)
{
  GStatBuf sa, sb;

  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

int
pv_ctl_ledger_apply (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (PvStore) other = NULL;
  gboolean json = FALSE;
  PvMergeStats stats = { 0 };
  const char *other_path;
  PvEvent *ours, *theirs;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the counts as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  other_path = argv[1];
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(ours = pv_store_get_event (store, &error)))
    return pv_ctl_fail (error);
  if (!g_file_test (other_path, G_FILE_TEST_EXISTS))
    return pv_ctl_error (_ ("%s does not exist"), other_path);
  if (same_file (ctl->db_path, other_path))
    return pv_ctl_error (_ ("%s is this store itself; apply another replica’s file"), other_path);
  if (!(other = pv_ctl_open_store_path (other_path, &error))
      || !(theirs = pv_store_get_event (other, &error)))
    return pv_ctl_fail (error);
  /* The merge would refuse it record by record; one clear sentence is better. */
  if (pv_event_get_id (ours) != pv_event_get_id (theirs))
    return pv_ctl_error (_ ("%s holds another event (“%s”, %08x); this store holds “%s” (%08x)"),
                         other_path, pv_event_get_name (theirs), pv_event_get_id (theirs),
                         pv_event_get_name (ours), pv_event_get_id (ours));
  if (!pv_batch_merge (store, other, &stats, &error))
    return pv_ctl_fail (error);
  /* None of these fails the merge — the rest came through — but the admin
   * must know: a fork means two files wrote as one device (a cloned laptop,
   * or a tampered file); refused records mean a device or file to look at. */
  if (stats.forks > 0)
    g_printerr (_ ("pravesh-ctl: warning: %s holds %llu record(s) that "
                   "contradict records held here for the same device (a cloned or tampered "
                   "replica); they are kept as evidence in the forks table, not applied\n"),
                other_path, (unsigned long long) stats.forks);
  if (stats.refused_authors > 0)
    g_printerr (_ ("pravesh-ctl: warning: the records of %u device(s) in %s were refused and left "
                   "out (%s)\n"),
                stats.refused_authors, other_path, stats.refused_reason);
  if (stats.people_refused > 0)
    g_printerr (_ ("pravesh-ctl: warning: %s holds personal data for %llu ticket(s) that no "
                   "ticket record vouches for; it was not taken\n"),
                other_path, (unsigned long long) stats.people_refused);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "applied", (gint64) stats.applied);
      pv_json_add_int (builder, "duplicates", (gint64) stats.duplicates);
      pv_json_add_int (builder, "forks", (gint64) stats.forks);
      pv_json_add_int (builder, "unsigned", (gint64) stats.unsigned_skipped);
      pv_json_add_int (builder, "refused_authors", stats.refused_authors);
      if (stats.refused_authors)
        pv_json_add_string (builder, "refused_reason", stats.refused_reason);
      pv_json_add_int (builder, "people_refused", (gint64) stats.people_refused);
      pv_json_add_int (builder, "people", (gint64) stats.people);
      pv_json_add_int (builder, "records", (gint64) pv_ledger_count (store));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    g_print (_ ("Applied %llu new records from %s (%llu already held, %llu forks, %llu not yet "
                "signed by their author, %llu people); the ledger holds %llu records\n"),
             (unsigned long long) stats.applied, other_path, (unsigned long long) stats.duplicates,
             (unsigned long long) stats.forks, (unsigned long long) stats.unsigned_skipped,
             (unsigned long long) stats.people, (unsigned long long) pv_ledger_count (store));
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_ledger_rebuild (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autofree char *before_hex = NULL, *after_hex = NULL;
  guint8 before[PV_HASH_SIZE], after[PV_HASH_SIZE];
  int status;

  if (!pv_ctl_parse_options (ctl, NULL, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_state_digest (store, before, &error)
      || !pv_state_rebuild (store, &error) || !pv_state_digest (store, after, &error))
    return pv_ctl_fail (error);
  before_hex = pv_hash_to_hex (before);
  after_hex = pv_hash_to_hex (after);
  g_print (_ ("before %s\n"), before_hex);
  g_print (_ ("after  %s\n"), after_hex);
  if (!g_str_equal (before_hex, after_hex))
    return pv_ctl_error (_ ("The rebuilt state differs from the state before: the incremental "
                            "state had drifted from the ledger (it is rebuilt now)"));
  return PV_CTL_EXIT_OK;
}
