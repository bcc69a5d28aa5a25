/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-export.c: CSV exports of tickets and scans, written row by row to a
 * stream, with times in the event's zone as ISO 8601 so a spreadsheet in the
 * control room reads them as the clock on the wall. */
#include "pv-export.h"

#include "pv-csv.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-store-private.h"
#include "pv-ticket-code.h"

#define FLUSH_BYTES (64 * 1024)

static void
append_time (GString *row, PvEvent *event, gint64 at)
{
  g_autoptr (GDateTime) local = pv_event_local_time (event, at);
  g_autofree char *text = local ? g_date_time_format_iso8601 (local) : NULL;

  pv_csv_append_cell (row, text);
}

static gboolean
flush (GOutputStream *out, GString *buffer, gboolean force, GCancellable *cancellable, GError **error)
{
  if (buffer->len == 0 || (!force && buffer->len < FLUSH_BYTES))
    return TRUE;
  if (!g_output_stream_write_all (out, buffer->str, buffer->len, NULL, cancellable, error))
    return FALSE;
  g_string_truncate (buffer, 0);
  return TRUE;
}

typedef void (*RowFunc) (GString *row, PvEvent *event, sqlite3_stmt *stmt);

typedef struct
{
  const char *sql;
  const char *count_sql;
  const char *const *header;
  RowFunc row_func;
} Table;

/* Often enough for a progress bar to move smoothly, rarely enough to cost
 * nothing next to the rows. */
#define PROGRESS_ROWS 2048

static gboolean
export_rows (PvStore *store, const Table *table, GOutputStream *out, PvExportProgressFunc progress,
             gpointer user_data, guint64 total, guint64 *out_rows, GCancellable *cancellable, GError **error)
{
  g_autoptr (GString) buffer = g_string_sized_new (FLUSH_BYTES + 4096);
  sqlite3_stmt *stmt = NULL;
  PvEvent *event = pv_store_get_event (store, error);
  guint64 rows = 0;
  int rc;

  if (event == NULL)
    return FALSE;
  g_object_ref (event);
  for (guint i = 0; table->header[i]; i++)
    pv_csv_append_cell (buffer, table->header[i]);
  pv_csv_end_row (buffer);

  /* A private statement: the row callbacks may use the statement cache. */
  if (sqlite3_prepare_v2 (pv_store_get_db (store), table->sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      g_object_unref (event);
      return pv_store_fail (store, error, "Cannot export");
    }
  if (progress)
    progress (0, total, user_data);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      table->row_func (buffer, event, stmt);
      pv_csv_end_row (buffer);
      rows++;
      if (!flush (out, buffer, FALSE, cancellable, error))
        break;
      if (rows % PROGRESS_ROWS == 0)
        {
          /* A stream in memory never looks at @cancellable. */
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            break;
          if (progress)
            progress (rows, MAX (total, rows), user_data);
        }
    }
  sqlite3_finalize (stmt);
  g_object_unref (event);
  if (rc == SQLITE_ROW)
    return FALSE; /* the write failed or was cancelled; @error is set */
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot export");
  if (!flush (out, buffer, TRUE, cancellable, error))
    return FALSE;
  if (progress)
    progress (rows, MAX (total, rows), user_data);
  if (out_rows)
    *out_rows = rows;
  return TRUE;
}

static gboolean
export_query (PvStore *store, const Table *table, GOutputStream *out, PvExportProgressFunc progress,
              gpointer user_data, guint64 *out_rows, GCancellable *cancellable, GError **error)
{
  sqlite3_stmt *count;
  guint64 total = 0;
  gboolean ok;

  if (progress == NULL)
    return export_rows (store, table, out, NULL, NULL, 0, out_rows, cancellable, error);
  /* One snapshot for the count and the rows (WAL lets the writers go on
   * meanwhile), so the total is the number of rows written. */
  if (!pv_store_begin (store, FALSE, error))
    return FALSE;
  if ((count = pv_store_prepare (store, table->count_sql, error)) == NULL)
    ok = FALSE;
  else if (sqlite3_step (count) != SQLITE_ROW)
    ok = pv_store_fail (store, error, "Cannot count the rows to export");
  else
    {
      total = (guint64) sqlite3_column_int64 (count, 0);
      ok = TRUE;
    }
  if (count != NULL)
    sqlite3_reset (count);
  ok = ok && export_rows (store, table, out, progress, user_data, total, out_rows, cancellable, error);
  /* Only read: ending it writes nothing, and a caller's own transaction
   * goes on. */
  if (!pv_store_commit (store, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

static void
append_serial (GString *row, sqlite3_stmt *stmt, int column)
{
  g_autofree char *serial = pv_ticket_format_serial ((guint16) sqlite3_column_int (stmt, column),
                                                     (guint32) sqlite3_column_int64 (stmt, column + 1));
  pv_csv_append_cell (row, serial);
}

static void
append_category (GString *row, PvEvent *event, int id)
{
  const PvCategory *category = pv_event_get_category (event, (guint8) id);
  g_autofree char *fallback = g_strdup_printf ("#%d", id);

  pv_csv_append_cell (row, category ? category->name : fallback);
}

static void
ticket_row (GString *row, PvEvent *event, sqlite3_stmt *stmt)
{
  int day = sqlite3_column_int (stmt, 3);
  g_autofree char *date = day != PV_TICKET_DAY_NONE ? pv_event_day_date (event, day) : NULL;

  append_serial (row, stmt, 0);
  append_category (row, event, sqlite3_column_int (stmt, 2));
  pv_csv_append_cell (row, date);
  pv_csv_append_number (row, sqlite3_column_int (stmt, 4));
  pv_csv_append_cell (row, (const char *) sqlite3_column_text (stmt, 5));
  append_time (row, event, sqlite3_column_int64 (stmt, 6));
  pv_csv_append_cell (row, (const char *) sqlite3_column_text (stmt, 7));
  pv_csv_append_cell (row, (const char *) sqlite3_column_text (stmt, 8));
  pv_csv_append_cell (row, (const char *) sqlite3_column_text (stmt, 9));
  pv_csv_append_cell (row, (const char *) sqlite3_column_text (stmt, 10));
}

static const char *const ticket_header[] = {
  "serial",
  "category",
  "day",
  "party",
  "channel",
  "issued_at",
  "revoked",
  "name",
  "phone",
  "code",
  NULL,
};

static const Table ticket_table = {
  "SELECT t.issuer, t.serial, t.category, t.day, t.party, t.channel, "
  "       t.issued_at, r.reason, p.name, p.phone, t.code "
  "FROM tickets t "
  "LEFT JOIN ticket_revocations r USING (issuer, serial) "
  "LEFT JOIN people p USING (issuer, serial) "
  "ORDER BY t.issuer, t.serial",
  "SELECT count(*) FROM tickets",
  ticket_header,
  ticket_row,
};

gboolean
pv_export_tickets (PvStore *store, GOutputStream *out, guint64 *out_rows,
                   GCancellable *cancellable, GError **error)
{
  return export_query (store, &ticket_table, out, NULL, NULL, out_rows, cancellable, error);
}

static void
scan_row (GString *row, PvEvent *event, sqlite3_stmt *stmt)
{
  append_time (row, event, sqlite3_column_int64 (stmt, 0));
  pv_csv_append_cell (row, (const char *) sqlite3_column_text (stmt, 1));
  pv_csv_append_cell (row, sqlite3_column_int (stmt, 2) ? "exit" : "entry");
  append_serial (row, stmt, 3);
  append_category (row, event, sqlite3_column_int (stmt, 5));
  pv_csv_append_number (row, sqlite3_column_int (stmt, 6));
  pv_csv_append_number (row, sqlite3_column_int (stmt, 7));
  pv_csv_append_cell (row, sqlite3_column_int (stmt, 8) ? "offline" : "online");
  pv_csv_append_cell (row, sqlite3_column_int (stmt, 9) ? "double" : "");
}

static const char *const scan_header[] = {
  "time",
  "gate",
  "direction",
  "serial",
  "category",
  "party",
  "device",
  "decided",
  "double",
  NULL,
};

static const Table scan_table = {
  "SELECT at, gate, is_exit, issuer, serial, category, party, device_id, "
  "       offline, is_double "
  "FROM scans ORDER BY hlc, device_id, seq",
  "SELECT count(*) FROM scans",
  scan_header,
  scan_row,
};

gboolean
pv_export_entries (PvStore *store, GOutputStream *out, guint64 *out_rows,
                   GCancellable *cancellable, GError **error)
{
  return export_query (store, &scan_table, out, NULL, NULL, out_rows, cancellable, error);
}

gboolean
pv_export_table (PvStore *store, PvExportTable table, GOutputStream *out, PvExportProgressFunc progress,
                 gpointer user_data, guint64 *out_rows, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (table == PV_EXPORT_TICKETS || table == PV_EXPORT_ENTRIES, FALSE);

  return export_query (store, table == PV_EXPORT_TICKETS ? &ticket_table : &scan_table, out, progress, user_data,
                       out_rows, cancellable, error);
}
