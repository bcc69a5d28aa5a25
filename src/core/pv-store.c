/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-store.c: the SQLite side of a replica. Everything that talks to the file
 * goes through here: migrations from the GResource, one cache of prepared
 * statements, nested transactions, buffered counters and the in-memory
 * caches of the event and devices that sit on the admission hot path. */
#include "pv-store-private.h"

#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-fold-private.h"
#include "pv-hlc.h"
#include "pv-migrations-resources.h"

struct _PvStore
{
  GObject parent_instance;

  char *path;
  sqlite3 *db;
  GHashTable *statements; /* SQL text → Statement* */
  GHashTable *by_address; /* SQL text's address → Statement*, borrowed */
  int schema_version;
  guint tx_depth;
  GHashTable *counters; /* "name\x1fkey" → gint64* pending delta */

  PvClockFunc clock;
  gpointer clock_data;

  PvEvent *event;          /* cache, NULL until loaded */
  GHashTable *devices;     /* cache: id → PvDeviceInfo*, NULL until loaded */
  guint16 device_id;       /* cache of meta "device-id" */
  PvHlc hlc;               /* last time stamp issued or seen */
  PvHlc hlc_committed;     /* value in meta "hlc" */
  guint data_version;      /* SQLite's change counter when the caches were filled */
  guint64 outside_changes; /* times another connection was seen to have written */
  gboolean head_cached;    /* own_seq and own_hash hold this device's newest record */
  guint64 own_seq;
  guint8 own_hash[PV_HASH_SIZE];
};

G_DEFINE_FINAL_TYPE (PvStore, pv_store, G_TYPE_OBJECT)

/* "PVv1" in the SQLite header, so file(1) and we know our own files. */
#define PV_STORE_APPLICATION_ID 0x50567631

/* A cached prepared statement and the SQL it was made from. */
typedef struct
{
  char *sql;
  sqlite3_stmt *stmt;
} Statement;

static void
statement_free (gpointer data)
{
  Statement *statement = data;

  sqlite3_finalize (statement->stmt);
  g_free (statement->sql);
  g_free (statement);
}

static void
device_info_free (gpointer data)
{
  PvDeviceInfo *info = data;

  g_free (info->name);
  g_free (info);
}

static void
pv_store_finalize (GObject *object)
{
  PvStore *self = PV_STORE (object);

  if (self->tx_depth > 0)
    {
      g_warning ("Store %s closed inside a transaction; rolling back", self->path);
      self->tx_depth = 1;
      pv_store_rollback (self);
    }
  g_clear_pointer (&self->by_address, g_hash_table_unref);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->counters, g_hash_table_unref);
  g_clear_pointer (&self->devices, g_hash_table_unref);
  g_clear_object (&self->event);
  if (self->db)
    sqlite3_close (self->db);
  g_free (self->path);

  G_OBJECT_CLASS (pv_store_parent_class)->finalize (object);
}

static void
pv_store_class_init (PvStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pv_store_finalize;
}

static void
pv_store_init (PvStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, statement_free);
  self->by_address = g_hash_table_new (NULL, NULL);
  self->counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

gboolean
pv_store_fail (PvStore *self, GError **error, const char *context)
{
  g_set_error (error, PV_ERROR, PV_ERROR_STORE, "%s: %s (%s)", context,
               sqlite3_errmsg (self->db), self->path);
  return FALSE;
}

gboolean
pv_store_exec (PvStore *self, const char *sql, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_STORE, "%s (%s)",
                   message ? message : sqlite3_errmsg (self->db), self->path);
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

gboolean
pv_store_forbid_writes (PvStore *self, GError **error)
{
  return pv_store_exec (self, "PRAGMA query_only = ON", error);
}

sqlite3_stmt *
pv_store_prepare (PvStore *self, const char *sql, GError **error)
{
  /* Callers pass string literals, so the address finds the statement
   * without hashing a few hundred bytes of SQL on every call; the text is
   * still compared, in case a freed string's address came back. */
  Statement *statement = g_hash_table_lookup (self->by_address, sql);

  if (statement == NULL || strcmp (statement->sql, sql) != 0)
    {
      statement = g_hash_table_lookup (self->statements, sql);
      if (statement == NULL)
        {
          sqlite3_stmt *stmt;

          if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
            {
              pv_store_fail (self, error, "Cannot prepare a statement");
              return NULL;
            }
          statement = g_new (Statement, 1);
          statement->sql = g_strdup (sql);
          statement->stmt = stmt;
          g_hash_table_insert (self->statements, statement->sql, statement);
        }
      g_hash_table_insert (self->by_address, (gpointer) sql, statement);
    }
  sqlite3_reset (statement->stmt);
  sqlite3_clear_bindings (statement->stmt);
  return statement->stmt;
}

gboolean
pv_store_step_done (PvStore *self, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      pv_store_fail (self, error, "Cannot write to the store");
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Applies the migrations in @resource under @dir ("0001-name.sql", …) past
 * *@version, each in its own transaction (or in the caller's), and leaves
 * the version reached in *@version: in meta under @version_key, or in
 * SQLite's user_version (with our application id) when that is NULL. */
static gboolean
apply_migrations (PvStore *self,
                  GResource *resource,
                  const char *dir,
                  const char *version_key,
                  int *version,
                  GError **error)
{
  g_auto (GStrv) names = g_resource_enumerate_children (resource, dir, G_RESOURCE_LOOKUP_FLAGS_NONE, error);

  if (names == NULL)
    return FALSE;
  qsort (names, g_strv_length (names), sizeof (char *), compare_names);
  for (guint i = 0; names[i]; i++)
    {
      g_autofree char *path = g_strconcat (dir, "/", names[i], NULL);
      g_autofree char *pragma = NULL;
      g_autoptr (GBytes) sql = NULL;
      int number = atoi (names[i]);

      if (number <= *version)
        continue;
      if (number != *version + 1)
        return g_set_error (error, PV_ERROR, PV_ERROR_STORE,
                            "Migration %s does not follow version %d", names[i], *version),
               FALSE;
      sql = g_resource_lookup_data (resource, path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
      if (sql == NULL)
        return FALSE;
      if (version_key == NULL)
        pragma = g_strdup_printf ("PRAGMA user_version = %d; PRAGMA application_id = %d", number,
                                  PV_STORE_APPLICATION_ID);
      if (!pv_store_begin (self, TRUE, error))
        return FALSE;
      if (!pv_store_exec (self, g_bytes_get_data (sql, NULL), error)
          || !(pragma ? pv_store_exec (self, pragma, error) : pv_store_set_meta_int (self, version_key, number, error))
          || !pv_store_commit (self, error))
        {
          /* A failed commit has rolled back already. */
          if (pv_store_in_transaction (self))
            pv_store_rollback (self);
          g_prefix_error (error, "Migration %s failed: ", names[i]);
          return FALSE;
        }
      *version = number;
    }

  if (*version > (int) g_strv_length (names))
    return g_set_error (error, PV_ERROR, PV_ERROR_STORE,
                        "%s has schema version %d, newer than this program knows (%u)",
                        self->path, *version, g_strv_length (names)),
           FALSE;
  return TRUE;
}

static gboolean
migrate (PvStore *self, gboolean existing, GError **error)
{
  int version, application_id, n_objects;
  sqlite3_stmt *stmt;

  if (!(stmt = pv_store_prepare (self,
                                 "SELECT (SELECT user_version FROM pragma_user_version), "
                                 "       (SELECT application_id FROM pragma_application_id), "
                                 "       (SELECT count(*) FROM sqlite_master)",
                                 error)))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return pv_store_fail (self, error, "Cannot read the schema version");
    }
  version = sqlite3_column_int (stmt, 0);
  application_id = sqlite3_column_int (stmt, 1);
  n_objects = sqlite3_column_int (stmt, 2);
  sqlite3_reset (stmt);
  /* Never turn somebody else's database into ours. */
  if (application_id != PV_STORE_APPLICATION_ID && (version != 0 || n_objects != 0))
    return g_set_error (error, PV_ERROR, PV_ERROR_STORE,
                        "%s is an SQLite database, but not a Pravesh store", self->path),
           FALSE;
  if (existing && version == 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_STORE, "%s is not a Pravesh store", self->path),
           FALSE;
  /* 16 MiB of page cache (the default is 2): a bulk issue of 100,000
   * tickets otherwise spills pages to the WAL before it commits. */
  if (!pv_store_exec (self, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                            "PRAGMA cache_size = -16384;",
                      error))
    return FALSE;

  if (!apply_migrations (self, pv_migrations_get_resource (), "/in/pravesh/migrations", NULL, &version, error))
    return FALSE;
  self->schema_version = version;
  return TRUE;
}

gboolean
pv_store_migrate (PvStore *self, GResource *resource, const char *dir, const char *version_key, GError **error)
{
  int version;

  g_return_val_if_fail (version_key != NULL, FALSE);
  /* Read under the write lock, so two programs opening one file do not
   * both apply the same migration. */
  if (!pv_store_begin (self, TRUE, error))
    return FALSE;
  version = (int) pv_store_get_meta_int (self, version_key, 0);
  if (!apply_migrations (self, resource, dir, version_key, &version, error))
    {
      if (pv_store_in_transaction (self))
        pv_store_rollback (self);
      return FALSE;
    }
  return pv_store_commit (self, error);
}

static PvStore *
open_store (const char *path, gboolean existing, GError **error)
{
  g_autoptr (PvStore) self = g_object_new (PV_TYPE_STORE, NULL);
  int rc;

  if (existing && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_STORE, "%s does not exist (or is not a file)", path);
      return NULL;
    }

  pv_crypto_init ();
  self->path = g_strdup (path);
  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | (existing ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_STORE, "Cannot open %s: %s", path,
                   self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, TRUE);
  sqlite3_busy_timeout (self->db, 5000);
  if (!_pv_fold_register_sql (self->db))
    {
      pv_store_fail (self, error, "Cannot define the search functions");
      return NULL;
    }

  /* The identity check in migrate() comes before WAL: switching the
   * journal mode is a change to the file, and a foreign file stays as it was.
   * WAL lets readers (stats, export) run beside the writer; synchronous=FULL
   * keeps an admission that was answered on disk through a power cut. */
  if (!pv_store_exec (self, "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;", error))
    {
      g_prefix_error (error, "%s is not a Pravesh store: ", path);
      return NULL;
    }
  if (!migrate (self, existing, error))
    return NULL;
  self->device_id = (guint16) pv_store_get_meta_int (self, "device-id", 0);
  self->hlc = self->hlc_committed = (PvHlc) pv_store_get_meta_int (self, "hlc", 0);
  {
    int version = 0;
    if (sqlite3_file_control (self->db, "main", SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK)
      self->data_version = (guint) version;
  }
  return g_steal_pointer (&self);
}

PvStore *
pv_store_open (const char *path, GError **error)
{
  return open_store (path, FALSE, error);
}

PvStore *
pv_store_open_existing (const char *path, GError **error)
{
  return open_store (path, TRUE, error);
}

const char *
pv_store_get_path (PvStore *self)
{
  return self->path;
}

sqlite3 *
pv_store_get_db (PvStore *self)
{
  return self->db;
}

int
pv_store_get_schema_version (PvStore *self)
{
  return self->schema_version;
}

/* Another handle on the same file (a second process, or a second PvStore in
 * this one) may have written since this handle's last transaction: then
 * what this handle remembers — the clock, its newest record, the event and
 * device caches — may be stale and is read again. */
gboolean
pv_store_refresh (PvStore *self)
{
  sqlite3_stmt *touch = pv_store_prepare (self, "SELECT 1 FROM meta LIMIT 1", NULL);
  int version = 0;

  /* A read starts the snapshot whose version the file control reports. */
  if (touch)
    {
      sqlite3_step (touch);
      sqlite3_reset (touch);
    }
  if (sqlite3_file_control (self->db, "main", SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK
      || (guint) version == self->data_version)
    return FALSE;
  self->data_version = (guint) version;
  self->outside_changes++;
  self->hlc = self->hlc_committed = MAX (self->hlc, (PvHlc) pv_store_get_meta_int (self, "hlc", 0));
  self->head_cached = FALSE;
  self->device_id = (guint16) pv_store_get_meta_int (self, "device-id", 0);
  pv_store_invalidate_caches (self);
  return TRUE;
}

gboolean
pv_store_begin (PvStore *self, gboolean immediate, GError **error)
{
  if (self->tx_depth++ > 0)
    return TRUE;
  if (!pv_store_exec (self, immediate ? "BEGIN IMMEDIATE" : "BEGIN", error))
    {
      self->tx_depth = 0;
      return FALSE;
    }
  /* Read under the lock just taken (a deferred BEGIN takes it on the first
   * read, which this is). */
  pv_store_refresh (self);
  return TRUE;
}

static gboolean
flush_counters (PvStore *self, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;
  sqlite3_stmt *stmt;

  if (g_hash_table_size (self->counters) == 0)
    return TRUE;
  stmt = pv_store_prepare (self,
                           "INSERT INTO counters (name, key, value) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT (name, key) DO UPDATE SET value = value + ?3",
                           error);
  if (stmt == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, self->counters);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *sep = strchr (key, '\x1f');
      gint64 delta = *(gint64 *) value;

      if (delta == 0)
        continue;
      sqlite3_bind_text (stmt, 1, key, (int) (sep - (const char *) key), SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, sep + 1, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, delta);
      if (!pv_store_step_done (self, stmt, error))
        return FALSE;
    }
  g_hash_table_remove_all (self->counters);
  return TRUE;
}

gboolean
pv_store_commit (PvStore *self, GError **error)
{
  g_return_val_if_fail (self->tx_depth > 0, FALSE);
  if (--self->tx_depth > 0)
    return TRUE;
  if (!flush_counters (self, error)
      || (self->hlc != self->hlc_committed
          && !pv_store_set_meta_int (self, "hlc", (gint64) self->hlc, error))
      || !pv_store_exec (self, "COMMIT", error))
    {
      self->tx_depth = 1;
      pv_store_rollback (self);
      return FALSE;
    }
  self->hlc_committed = self->hlc;
  /* Our own commit does not make our memory stale. */
  {
    int version = 0;
    if (sqlite3_file_control (self->db, "main", SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK)
      self->data_version = (guint) version;
  }
  return TRUE;
}

void
pv_store_rollback (PvStore *self)
{
  g_return_if_fail (self->tx_depth > 0);
  /* A rollback anywhere abandons the whole transaction: inner callers see
   * their error, outer ones must not commit half of it. */
  self->tx_depth = 0;
  if (sqlite3_get_autocommit (self->db) == 0)
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  g_hash_table_remove_all (self->counters);
  self->hlc = self->hlc_committed;
  self->head_cached = FALSE;
  self->device_id = (guint16) pv_store_get_meta_int (self, "device-id", 0);
  pv_store_invalidate_caches (self);
}

gboolean
pv_store_in_transaction (PvStore *self)
{
  return self->tx_depth > 0;
}

void
pv_store_set_clock (PvStore *self, PvClockFunc func, gpointer user_data)
{
  self->clock = func;
  self->clock_data = user_data;
}

gint64
pv_store_now (PvStore *self)
{
  return self->clock ? self->clock (self->clock_data) : g_get_real_time ();
}

gint64
pv_store_get_meta_int (PvStore *self, const char *key, gint64 fallback)
{
  sqlite3_stmt *stmt = pv_store_prepare (self, "SELECT value FROM meta WHERE key = ?1", NULL);
  gint64 value = fallback;

  if (stmt == NULL)
    return fallback;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) == SQLITE_INTEGER)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

gboolean
pv_store_set_meta_int (PvStore *self, const char *key, gint64 value, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (self,
                                         "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                                         error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, value);
  if (g_str_equal (key, "device-id"))
    self->device_id = (guint16) value;
  return pv_store_step_done (self, stmt, error);
}

char *
pv_store_dup_meta_string (PvStore *self, const char *key)
{
  sqlite3_stmt *stmt = pv_store_prepare (self, "SELECT value FROM meta WHERE key = ?1", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) == SQLITE_TEXT)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

gboolean
pv_store_set_meta_string (PvStore *self, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (self,
                                         "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                                         error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  return pv_store_step_done (self, stmt, error);
}

GBytes *
pv_store_get_secret (PvStore *self, const char *name)
{
  sqlite3_stmt *stmt = pv_store_prepare (self, "SELECT value FROM secrets WHERE name = ?1", NULL);
  GBytes *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

gboolean
pv_store_set_secret (PvStore *self, const char *name, const guint8 *data, gsize len, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (self,
                                         "INSERT OR REPLACE INTO secrets (name, value) VALUES (?1, ?2)",
                                         error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, data, (int) len, SQLITE_STATIC);
  return pv_store_step_done (self, stmt, error);
}

void
pv_store_counter_add (PvStore *self, const char *name, const char *key, gint64 delta)
{
  char id[256];
  gint64 *value;

  /* Built on the stack: most calls find a counter already pending. */
  if ((gsize) g_snprintf (id, sizeof id, "%s\x1f%s", name, key) >= sizeof id)
    {
      g_warning ("Counter key %s/%s is too long; not counted", name, key);
      return;
    }
  value = g_hash_table_lookup (self->counters, id);
  if (value == NULL)
    {
      value = g_new0 (gint64, 1);
      g_hash_table_insert (self->counters, g_strdup (id), value);
    }
  *value += delta;
}

void
pv_store_counters_discard_pending (PvStore *self)
{
  g_hash_table_remove_all (self->counters);
}

PvEvent *
pv_store_get_event (PvStore *self, GError **error)
{
  sqlite3_stmt *stmt;

  if (self->event)
    return self->event;
  if (!(stmt = pv_store_prepare (self, "SELECT config FROM event_config WHERE id = 1", error)))
    return NULL;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (sqlite3_column_blob (stmt, 0),
                                              sqlite3_column_bytes (stmt, 0));
      g_autoptr (GVariant) config = g_variant_ref_sink (
        g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));

      self->event = pv_event_new_from_variant (config, error);
    }
  else
    g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED,
                 "%s holds no event yet: run “pravesh-ctl --db %s event init” first",
                 self->path, self->path);
  sqlite3_reset (stmt);
  return self->event;
}

static gboolean
load_devices (PvStore *self)
{
  sqlite3_stmt *stmt = pv_store_prepare (self,
                                         "SELECT id, role, name, valid_from, valid_until, "
                                         "       coalesce(revoked_at, 9223372036854775807), public_key, "
                                         "       enrolled_hlc "
                                         "FROM devices",
                                         NULL);
  if (stmt == NULL)
    return FALSE;
  self->devices = g_hash_table_new_full (NULL, NULL, NULL, device_info_free);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      PvDeviceInfo *info = g_new0 (PvDeviceInfo, 1);

      info->id = (guint16) sqlite3_column_int (stmt, 0);
      if (!pv_role_from_string ((const char *) sqlite3_column_text (stmt, 1), &info->role, NULL))
        info->role = PV_ROLE_GATE; /* the least a stranger may do */
      info->name = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      info->valid_from = sqlite3_column_int64 (stmt, 3);
      info->valid_until = sqlite3_column_int64 (stmt, 4);
      info->revoked_at = sqlite3_column_int64 (stmt, 5);
      if (sqlite3_column_bytes (stmt, 6) == PV_PUBLIC_KEY_SIZE)
        memcpy (info->public_key, sqlite3_column_blob (stmt, 6), PV_PUBLIC_KEY_SIZE);
      info->enrolled_hlc = (PvHlc) sqlite3_column_int64 (stmt, 7);
      g_hash_table_insert (self->devices, GUINT_TO_POINTER (info->id), info);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

const PvDeviceInfo *
pv_store_lookup_device (PvStore *self, guint16 id)
{
  if (self->devices == NULL && !load_devices (self))
    return NULL;
  return g_hash_table_lookup (self->devices, GUINT_TO_POINTER (id));
}

void
pv_store_invalidate_caches (PvStore *self)
{
  g_clear_object (&self->event);
  g_clear_pointer (&self->devices, g_hash_table_unref);
}

PvHlc
pv_store_hlc_tick (PvStore *self)
{
  g_warn_if_fail (self->tx_depth > 0);
  self->hlc = pv_hlc_tick (self->hlc, pv_store_now (self));
  return self->hlc;
}

void
pv_store_hlc_observe (PvStore *self, PvHlc remote)
{
  /* A record stamped far in the future (a clock set wrong, or a hostile
   * peer) is kept, but may not drag this clock along: its records would all
   * carry that stamp, and a stamp near the top would stop the clock. */
  PvHlc bound = pv_hlc_make ((pv_store_now (self) + PV_HLC_MAX_AHEAD_US) / 1000, 0);

  self->hlc = MAX (self->hlc, MIN (remote, bound));
}

gboolean
pv_store_get_cached_head (PvStore *self, guint64 *out_seq, guint8 out_hash[PV_HASH_SIZE])
{
  if (!self->head_cached)
    return FALSE;
  *out_seq = self->own_seq;
  memcpy (out_hash, self->own_hash, PV_HASH_SIZE);
  return TRUE;
}

void
pv_store_set_cached_head (PvStore *self, guint64 seq, const guint8 hash[PV_HASH_SIZE])
{
  self->head_cached = TRUE;
  self->own_seq = seq;
  memcpy (self->own_hash, hash, PV_HASH_SIZE);
}

guint16
pv_store_get_device_id (PvStore *self)
{
  return self->device_id;
}

gboolean
pv_store_get_device_secret_key (PvStore *self, guint8 out[PV_SECRET_KEY_SIZE], GError **error)
{
  g_autoptr (GBytes) secret = pv_store_get_secret (self, PV_STORE_DEVICE_SECRET);

  if (secret == NULL || g_bytes_get_size (secret) != PV_SECRET_KEY_SIZE)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED,
                   "%s has no device key: it was not created as a device replica", self->path);
      return FALSE;
    }
  memcpy (out, g_bytes_get_data (secret, NULL), PV_SECRET_KEY_SIZE);
  return TRUE;
}

guint32
pv_store_get_event_id (PvStore *self)
{
  return (guint32) pv_store_get_meta_int (self, "event-id", 0);
}

guint64
pv_store_get_outside_changes (PvStore *self)
{
  return self->outside_changes;
}
