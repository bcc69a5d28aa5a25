/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-channels.c: brings a hub's store up to the channels' schema (see the
 * header) with core's migration runner, after recognising how far a store
 * made by older programs, whose core migrations made these tables, got. */
#include "pv-channels.h"

#include "pv-channels-migrations.h"
#include "pv-store-private.h"

/* The version of the channels' migrations a store has had, in meta. */
#define VERSION_KEY "channels-schema-version"
#define MIGRATIONS "/in/pravesh/channels-migrations"

/* Until the channels had migrations of their own, core's 0008, 0010, 0012,
 * 0013, 0014 and 0015 made these tables in every store, in the order of
 * channels' 0001 to 0006 and with the same statements. What each left
 * behind tells how far a store got: the newest found is its version. */
#define ADOPTED_VERSION_SQL                                                                  \
  "SELECT CASE"                                                                              \
  "  WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'outbox_counts') THEN 6"          \
  "  WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'whatsapp_conversations') THEN 5" \
  "  WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'visitor_codes') THEN 4"          \
  "  WHEN EXISTS (SELECT 1 FROM pragma_table_info ('outbox') WHERE name = 'status') THEN 3"  \
  "  WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'volunteer_sign_ins') THEN 2"     \
  "  WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'volunteers') THEN 1"             \
  "  ELSE 0 END"

/* Notes the version of a store that has none yet: 0 for one made since
 * (a new hub, or a station's file turned hub), the version its tables
 * show for one made before. */
static gboolean
adopt_older_tables (PvStore *store, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 version;

  if (pv_store_get_meta_int (store, VERSION_KEY, -1) >= 0)
    return TRUE;
  if (!(stmt = pv_store_prepare (store, ADOPTED_VERSION_SQL, error)))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return pv_store_fail (store, error, "Cannot read which of the hub's tables the store holds");
    }
  version = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return pv_store_set_meta_int (store, VERSION_KEY, version, error);
}

/* The newest version this program knows. */
static gint64
latest_version (void)
{
  g_auto (GStrv) names = g_resource_enumerate_children (pv_channels_migrations_get_resource (), MIGRATIONS,
                                                        G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  return names ? (gint64) g_strv_length (names) : -1;
}

gboolean
pv_channels_prepare_store (PvStore *store, GError **error)
{
  /* Up to date, the usual case, takes no write lock: a command run beside
   * a busy hub does not wait for it. */
  if (pv_store_get_meta_int (store, VERSION_KEY, -1) == latest_version ())
    return TRUE;
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!adopt_older_tables (store, error)
      || !pv_store_migrate (store, pv_channels_migrations_get_resource (), MIGRATIONS, VERSION_KEY, error))
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      return FALSE;
    }
  return pv_store_commit (store, error);
}
