/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-export-page.h: the control room's exports — tickets, entries and
 * volunteers as CSV files a spreadsheet opens — each written on a worker
 * thread with a progress bar and a Cancel button while the window goes on,
 * into a temporary file that only becomes the chosen one when complete. */
#pragma once

#include <adwaita.h>

#include "pv-store-watch.h"
#include "pv-types.h"

G_BEGIN_DECLS

typedef enum
{
  PV_EXPORT_KIND_TICKETS,
  PV_EXPORT_KIND_ENTRIES,
  PV_EXPORT_KIND_VOLUNTEERS, /* fetched from the hub, which alone keeps them */
  PV_EXPORT_N_KINDS
} PvExportKind;

#define PV_TYPE_EXPORT_PAGE (pv_export_page_get_type ())
G_DECLARE_FINAL_TYPE (PvExportPage, pv_export_page, PV, EXPORT_PAGE, AdwBin)

GtkWidget *pv_export_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings);

/* Exports @kind into @file (replaced when there), as the file chooser's
 * answer does; the row says how it went. Ignored while that kind is
 * being exported already. */
void pv_export_page_export_to (PvExportPage *self, PvExportKind kind, GFile *file);
/* Stops an export of @kind; no file is left behind. */
void pv_export_page_cancel (PvExportPage *self, PvExportKind kind);
gboolean pv_export_page_is_busy (PvExportPage *self, PvExportKind kind);
/* For tests: @kind's row (its subtitle says how the last export went) and
 * its progress bar. */
AdwActionRow *pv_export_page_get_row (PvExportPage *self, PvExportKind kind);
GtkProgressBar *pv_export_page_get_progress (PvExportPage *self, PvExportKind kind);

/* Writes @volunteers (element-type PvApiVolunteer, as
 * pv_api_volunteers_list_finish () gives them) to @out as CSV, times in
 * @event's zone. */
gboolean pv_export_volunteers_csv (GPtrArray *volunteers,
                                   PvEvent *event,
                                   GOutputStream *out,
                                   guint64 *out_rows,
                                   GCancellable *cancellable,
                                   GError **error);

G_END_DECLS
