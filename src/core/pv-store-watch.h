/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-store-watch.h: tells whoever listens (sync's live sessions, the app's
 * pages) when a replica's ledger may have grown — from this process (writers
 * call notify) or from another process writing into the same file (seen by
 * polling SQLite's data_version, which costs no disk access). Live sessions
 * feed new records to their peers on each "changed". Only GLib and the
 * store: no network. */
#pragma once

#include <glib-object.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_STORE_WATCH (pv_store_watch_get_type ())
G_DECLARE_FINAL_TYPE (PvStoreWatch, pv_store_watch, PV, STORE_WATCH, GObject)

/* Polls every @interval_ms (0: only notify). */
PvStoreWatch *pv_store_watch_new (PvStore *store, guint interval_ms);
PvStore *pv_store_watch_get_store (PvStoreWatch *self);
/* This process wrote to the store: "changed" is emitted soon, once for any
 * number of calls before it. */
void pv_store_watch_notify (PvStoreWatch *self);

G_END_DECLS
