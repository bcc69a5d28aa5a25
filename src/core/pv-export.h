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

G_END_DECLS
