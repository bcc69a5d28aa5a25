/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-store.h: one replica's SQLite file — migrations, the prepared-statement
 * cache, transactions, local metadata and secrets, buffered counters, the
 * clock, and caches of the event and device certificates that every
 * admission decision reads. */
#pragma once

#include <gio/gio.h>

#include "pv-keys.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_STORE (pv_store_get_type ())
G_DECLARE_FINAL_TYPE (PvStore, pv_store, PV, STORE, GObject)

/* Returns µs since the Unix epoch. */
typedef gint64 (*PvClockFunc) (gpointer user_data);

/* A device as admission needs it, cached in memory. */
typedef struct
{
  guint16 id;
  PvRole role;
  char *name;
  gint64 valid_from;
  gint64 valid_until;
  gint64 revoked_at;  /* G_MAXINT64 when not revoked */
  PvHlc enrolled_hlc; /* its first enrolment; its own records come after */
  guint8 public_key[PV_PUBLIC_KEY_SIZE];
} PvDeviceInfo;

/* Opens or creates @path, applies pending migrations, turns on WAL and
 * foreign keys. PV_ERROR_STORE when the file is another program's SQLite
 * database (left untouched), not SQLite at all, or newer than this program. */
PvStore *pv_store_open (const char *path, GError **error);
/* The same, but only for a Pravesh store that is already there: a missing
 * file is not created, an empty or foreign database not turned into one. */
PvStore *pv_store_open_existing (const char *path, GError **error);
const char *pv_store_get_path (PvStore *self);
/* Schema version after migrations. */
int pv_store_get_schema_version (PvStore *self);
/* Applies a component's own numbered migrations ("0001-name.sql", … under
 * @dir in @resource), as pv_store_open () applies core's, for a layer above
 * core whose tables only some stores hold (the hub's channels). Their
 * version is kept in meta under @version_key (0 when absent); all of it
 * happens in one transaction, joining the caller's if there is one.
 * PV_ERROR_STORE when the store's version is newer than @resource knows. */
gboolean pv_store_migrate (PvStore *self, GResource *resource, const char *dir, const char *version_key,
                           GError **error);

/* Makes this handle unable to write, even by mistake: for a reader with
 * a handle of its own, on a worker thread. */
gboolean pv_store_forbid_writes (PvStore *self, GError **error);

/* Nested calls join the outermost transaction. @immediate takes the write
 * lock at once, so two processes deciding on one file serialise. */
gboolean pv_store_begin (PvStore *self, gboolean immediate, GError **error);
gboolean pv_store_commit (PvStore *self, GError **error);
void pv_store_rollback (PvStore *self);
gboolean pv_store_in_transaction (PvStore *self);

void pv_store_set_clock (PvStore *self, PvClockFunc func, gpointer user_data);
gint64 pv_store_now (PvStore *self);

gint64 pv_store_get_meta_int (PvStore *self, const char *key, gint64 fallback);
gboolean pv_store_set_meta_int (PvStore *self, const char *key, gint64 value, GError **error);
char *pv_store_dup_meta_string (PvStore *self, const char *key);
gboolean pv_store_set_meta_string (PvStore *self, const char *key, const char *value, GError **error);
/* Meta "hub-url": the hub this replica syncs with and asks online — its
 * pairing code's URL on a device, its own address in pravesh-hub's file. */
#define PV_META_HUB_URL "hub-url"
GBytes *pv_store_get_secret (PvStore *self, const char *name);
gboolean pv_store_set_secret (PvStore *self, const char *name, const guint8 *data, gsize len, GError **error);

/* Adds @delta to a counter; buffered in memory and written when the
 * outermost transaction commits (dropped on rollback). */
void pv_store_counter_add (PvStore *self, const char *name, const char *key, gint64 delta);

/* Forgets the counter changes not yet written, after the caller emptied the
 * counters table to count everything again. */
void pv_store_counters_discard_pending (PvStore *self);

/* The event in force, or NULL (with PV_ERROR_NOT_INITIALIZED) when the
 * store holds none. Borrowed: valid until the configuration changes. */
PvEvent *pv_store_get_event (PvStore *self, GError **error);
/* Borrowed; NULL when the device is unknown. */
const PvDeviceInfo *pv_store_lookup_device (PvStore *self, guint16 id);
/* Outside a transaction: when another connection (another process) wrote
 * to the file since this one last looked, forgets what this handle keeps
 * in memory (event, devices, clock) and returns TRUE. Cheap enough to call
 * before each request a server answers from its caches. */
gboolean pv_store_refresh (PvStore *self);

/* How many times pv_store_refresh() (or a transaction's start) found that
 * another connection had written: whoever watches the file for news
 * compares this, since any caller of refresh may be the one to notice. */
guint64 pv_store_get_outside_changes (PvStore *self);

/* Called by the state module when the event or devices change. */
void pv_store_invalidate_caches (PvStore *self);

/* The hybrid logical clock of this replica: tick for a local record,
 * observe a foreign one. Persisted with the transaction that used it. */
PvHlc pv_store_hlc_tick (PvStore *self);
void pv_store_hlc_observe (PvStore *self, PvHlc remote);

/* The newest record this device wrote, remembered by the ledger so a bulk
 * append need not look it up each time. Forgotten on rollback. */
gboolean pv_store_get_cached_head (PvStore *self, guint64 *out_seq, guint8 out_hash[PV_HASH_SIZE]);
void pv_store_set_cached_head (PvStore *self, guint64 seq, const guint8 hash[PV_HASH_SIZE]);

/* The event this replica belongs to, 0 when none: known from its identity
 * before the first record of the event has arrived (a device just paired). */
guint32 pv_store_get_event_id (PvStore *self);

/* This replica's own device id, 0 when the store has no identity. */
guint16 pv_store_get_device_id (PvStore *self);

/* The name of the secret that holds this replica's device key. */
#define PV_STORE_DEVICE_SECRET "device-secret-key"
/* This device's secret key, or PV_ERROR_NOT_INITIALIZED. */
gboolean pv_store_get_device_secret_key (PvStore *self, guint8 out[PV_SECRET_KEY_SIZE], GError **error);

G_END_DECLS
