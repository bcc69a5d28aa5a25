/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-records-private.h: reading the records table, shared by the ledger
 * and the merge engine (pv-batch.c); not for use outside core. */
#pragma once

#include <sqlite3.h>

#include "pv-records.h"

G_BEGIN_DECLS

/* A row of (device_id, seq, hlc, kind, body, prev, hash) into @record; the
 * body is a new GBytes the caller unrefs. */
void _pv_records_from_row (sqlite3_stmt *stmt, PvRecord *record);

/* The devices holding records (element-type guint16), in id order. */
GArray *_pv_records_list_authors (PvStore *store, GError **error);

/* The records of @store beyond @vector (all of them when NULL), in
 * canonical order; stops at the first FALSE from @func. */
gboolean _pv_records_foreach_after (PvStore *store,
                                    GHashTable *vector,
                                    PvRecordFunc func,
                                    gpointer user_data,
                                    GError **error);

G_END_DECLS
