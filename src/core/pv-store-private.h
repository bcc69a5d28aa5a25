/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-store-private.h: the store's SQLite handle and statements, for the
 * modules that own the tables (core, and the hub's domain library for its
 * own): every other layer asks them by name for what it needs, so SQL
 * stays beside the tables it reads. */
#pragma once

#include <sqlite3.h>

#include "pv-store.h"

G_BEGIN_DECLS

sqlite3 *pv_store_get_db (PvStore *self);

/* A cached prepared statement, reset and with bindings cleared. */
sqlite3_stmt *pv_store_prepare (PvStore *self, const char *sql, GError **error);
/* Steps @stmt expecting SQLITE_DONE, then resets it. */
gboolean pv_store_step_done (PvStore *self, sqlite3_stmt *stmt, GError **error);
gboolean pv_store_exec (PvStore *self, const char *sql, GError **error);
/* Fills @error with SQLite's message for the last failure, after @context. */
gboolean pv_store_fail (PvStore *self, GError **error, const char *context);

G_END_DECLS
