/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-state.h: the derived state of a replica — event in force, devices,
 * tickets, revocations, scans with their double-entry flags, counters,
 * requests to send tickets — kept up to date record by record, and rebuilt
 * from the ledger on demand. */
#pragma once

#include <glib.h>

#include "pv-rules.h"
#include "pv-types.h"

G_BEGIN_DECLS

/* Applies one record already inserted into the ledger. Refuses records whose
 * author may not write them (PV_ERROR_PERMISSION), of another event
 * (PV_ERROR_WRONG_EVENT) or that do not make sense (PV_ERROR_INVALID). */
gboolean pv_state_apply (PvStore *store, const PvRecord *record, GVariant *body, GError **error);

/* Empties every derived table and replays the ledger in canonical order. */
gboolean pv_state_rebuild (PvStore *store, GError **error);

/* Counts the counters again from the tables when a migration added ones
 * the replica's existing rows were never counted in (see 0011). */
gboolean pv_state_count_again_if_stale (PvStore *store, GError **error);
/* BLAKE2b over the derived tables in a fixed order: equal on two replicas
 * exactly when they derived the same state. */
gboolean pv_state_digest (PvStore *store, guint8 out[PV_HASH_SIZE], GError **error);

/* The scans of one ticket in canonical order (element-type PvScan). */
GArray *pv_state_load_scans (PvStore *store, guint16 issuer, guint32 serial, GError **error);

G_END_DECLS
