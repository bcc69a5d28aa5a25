/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-export.h: CSV exports of a replica's tickets and scans, streamed so a
 * million rows never sit in memory at once. */
#pragma once

#include <gio/gio.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* Stream the tickets (serial, category, day, party, channel, issued at,
 * revoked, name, phone) or the scans (time, gate, direction, serial,
 * category, party, device, offline, double) as CSV with a header row.
 * @out_rows, when not NULL, receives the number of data rows written. */
gboolean pv_export_tickets (PvStore *store,
                            GOutputStream *out,
                            guint64 *out_rows,
                            GCancellable *cancellable,
                            GError **error);
gboolean pv_export_entries (PvStore *store,
                            GOutputStream *out,
                            guint64 *out_rows,
                            GCancellable *cancellable,
                            GError **error);

typedef enum
{
  PV_EXPORT_TICKETS,
  PV_EXPORT_ENTRIES,
} PvExportTable;

/* Told, on the exporting thread, of the @done data rows written out of
 * @total: at the start, every few thousand rows and at the end. */
typedef void (*PvExportProgressFunc) (guint64 done, guint64 total, gpointer user_data);

/* As pv_export_tickets() or pv_export_entries(), inside one read
 * transaction that first counts the rows, so @total is exact however the
 * file grows meanwhile; @progress may be NULL. A cancelled export stops
 * within a few thousand rows with G_IO_ERROR_CANCELLED. */
gboolean pv_export_table (PvStore *store,
                          PvExportTable table,
                          GOutputStream *out,
                          PvExportProgressFunc progress,
                          gpointer user_data,
                          guint64 *out_rows,
                          GCancellable *cancellable,
                          GError **error);

G_END_DECLS
