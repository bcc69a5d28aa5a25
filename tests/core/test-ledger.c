/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ledger.c: hash chains, the version vector, applying foreign records
 * (duplicates, gaps, forks, tampering, wrong event, wrong role), and the
 * rebuild of derived state from the records alone. */
#include <sodium.h>

#include "test-util.h"

typedef struct
{
  GPtrArray *records;
} Collect;

static gboolean
collect_cb (const PvRecord *record, gpointer user_data, GError **error)
{
  g_ptr_array_add (user_data, pv_record_copy (record));
  return TRUE;
}

static GPtrArray *
all_records (PvStore *store)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_record_free);
  g_autoptr (GError) error = NULL;

  g_assert_true (pv_records_foreach (store, collect_cb, records, &error));
  g_assert_no_error (error);
  return records;
}

static void
test_chain (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GHashTable) vector = NULL;
  guint8 zero[PV_HASH_SIZE] = { 0 };
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);

  records = all_records (f->admin);
  g_assert_cmpuint (records->len, ==, 3);
  for (guint i = 0; i < records->len; i++)
    {
      const PvRecord *r = g_ptr_array_index (records, i);
      guint8 hash[PV_HASH_SIZE];

      g_assert_cmpuint (r->device_id, ==, 1);
      g_assert_cmpuint (r->seq, ==, i + 1);
      pv_record_compute_hash (r, hash);
      g_assert_cmpmem (hash, PV_HASH_SIZE, r->hash, PV_HASH_SIZE);
      if (i == 0)
        g_assert_cmpmem (r->prev, PV_HASH_SIZE, zero, PV_HASH_SIZE);
      else
        {
          const PvRecord *before = g_ptr_array_index (records, i - 1);
          g_assert_cmpmem (r->prev, PV_HASH_SIZE, before->hash, PV_HASH_SIZE);
          g_assert_cmpuint (r->hlc, >, before->hlc);
        }
    }
  g_assert_cmpint (((PvRecord *) g_ptr_array_index (records, 0))->kind, ==, PV_RECORD_EVENT_CONFIG);
  g_assert_cmpint (((PvRecord *) g_ptr_array_index (records, 1))->kind, ==, PV_RECORD_DEVICE_ENROLLED);
  g_assert_cmpint (((PvRecord *) g_ptr_array_index (records, 2))->kind, ==, PV_RECORD_TICKET_ISSUED);

  vector = pv_ledger_version_vector (f->admin, NULL);
  g_assert_cmpuint (g_hash_table_size (vector), ==, 1);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (vector, GUINT_TO_POINTER (1)), ==, 3);
}

static void
test_hlc_never_goes_back (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  /* A while after the device's certificate began (nothing is issued
   * before it), somebody sets the laptop's clock back an hour. */
  f->clock += 2 * G_TIME_SPAN_HOUR;
  a = test_issue (f->admin, "Season pass", -1, 1);
  f->clock -= G_TIME_SPAN_HOUR;
  b = test_issue (f->admin, "Season pass", -1, 1);
  records = all_records (f->admin);
  g_assert_cmpuint (((PvRecord *) g_ptr_array_index (records, 3))->hlc, >,
                    ((PvRecord *) g_ptr_array_index (records, 2))->hlc);
}

/* Applies @records[from…] of another store into @store in order. */
static void
apply_all (PvStore *store, GPtrArray *records, guint from)
{
  for (guint i = from; i < records->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (pv_ledger_apply (store, g_ptr_array_index (records, i), NULL, &error));
      g_assert_no_error (error);
    }
}

static void
test_apply_rules (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *code2 = test_issue (f->admin, "Season pass", -1, 1);
  g_autoptr (GPtrArray) records = all_records (f->admin);
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL, *state_before = NULL, *state_after = NULL;
  PvRecord *last = g_ptr_array_index (records, records->len - 1);
  PvRecord *previous = g_ptr_array_index (records, records->len - 2);
  g_autoptr (PvRecord) bad = NULL;
  gboolean is_new = TRUE;

  before = test_digest (gate, FALSE);
  state_before = test_digest (gate, TRUE);

  /* A gap: the newest record without the one before it. */
  g_assert_false (pv_ledger_apply (gate, last, &is_new, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_CHAIN);
  g_clear_error (&error);

  /* A record whose body was changed after hashing. */
  bad = pv_record_copy (previous);
  g_bytes_unref (bad->body);
  bad->body = g_bytes_new ("nonsense", 8);
  g_assert_false (pv_ledger_apply (gate, bad, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Rehashed, but still not a ticket record. */
  pv_record_compute_hash (bad, bad->hash);
  g_assert_false (pv_ledger_apply (gate, bad, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);

  after = test_digest (gate, FALSE);
  state_after = test_digest (gate, TRUE);
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpstr (state_before, ==, state_after);

  /* In order they apply, and again they are no-ops. */
  apply_all (gate, records, 0);
  g_assert_true (pv_ledger_apply (gate, last, &is_new, &error));
  g_assert_false (is_new);
  g_clear_pointer (&before, g_free);
  g_clear_pointer (&after, g_free);
  before = test_digest (f->admin, FALSE);
  after = test_digest (gate, FALSE);
  /* The gate holds everything the admin holds (the admin lacks nothing). */
  g_assert_cmpstr (before, ==, after);
  g_assert_finalize_object (g_steal_pointer (&gate));
}

/* A byte-for-byte copy of the admin's file, as a restored backup or a
 * cloned laptop would be: the same device id and key. */
static PvStore *
clone_admin (Fixture *f, gint64 *clock)
{
  g_autofree char *path = g_build_filename (f->dir, "admin.db", NULL);
  g_autofree char *copy_path = g_build_filename (f->dir, "copy.db", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize length;
  PvStore *copy;

  g_assert_true (pv_store_exec (f->admin, "PRAGMA wal_checkpoint(TRUNCATE)", NULL));
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (copy_path, contents, (gssize) length, NULL));
  copy = pv_store_open (copy_path, &error);
  g_assert_no_error (error);
  pv_store_set_clock (copy, test_clock_func, clock);
  return copy;
}

static void
test_fork (Fixture *f, gconstpointer data)
{
  g_autofree char *other_path = g_build_filename (f->dir, "other.db", NULL);
  g_autoptr (PvStore) copy = NULL;
  g_autoptr (PvStore) other = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = NULL, *digest_after = NULL;
  g_autofree char *mine = NULL, *theirs = NULL;
  sqlite3_stmt *stmt;
  PvMergeStats stats;

  /* A restored backup of the admin laptop: the same device id and key, but
   * it writes its own seq 3 while the original writes a different one. */
  copy = clone_admin (f, &f->clock);
  mine = test_issue (f->admin, "Season pass", -1, 1);
  theirs = test_issue (copy, "Exhibitor", -1, 1);
  /* With more after the fork, it shows as a chain that does not follow
   * ours, rather than as a head at a sequence number we hold. */
  for (guint i = 1; i < GPOINTER_TO_UINT (data); i++)
    g_free (test_issue (copy, "Exhibitor", -1, 1));

  other = test_open (f->dir, "other.db", &f->clock);
  g_assert_true (pv_batch_merge (other, f->admin, &stats, &error));
  g_assert_no_error (error);
  digest = test_digest (other, FALSE);

  records = all_records (copy);
  g_assert_false (pv_ledger_apply (other, g_ptr_array_index (records, 2), NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_FORK);
  g_clear_error (&error);

  /* A merge reports the fork and carries on. */
  g_assert_true (pv_batch_merge (other, copy, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.forks, ==, 1);
  g_assert_cmpuint (stats.applied, ==, 0);
  digest_after = test_digest (other, FALSE);
  g_assert_cmpstr (digest, ==, digest_after);

  stmt = pv_store_prepare (other, "SELECT count(*) FROM forks WHERE device_id = 1 AND seq = 3", NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 1);
  sqlite3_reset (stmt);
  g_assert_finalize_object (g_steal_pointer (&copy));
  g_assert_finalize_object (g_steal_pointer (&other));
  (void) other_path;
}

/* A gate's file is in the hands of whoever holds the laptop. Records they
 * add in the admin's name, with a perfectly good hash chain, must not get
 * past the next merge: the admin never signed them. */
static void
test_forged_authorship (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &gate_clock);
  g_autoptr (PvRecord) forged = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *admin_before = test_digest (f->admin, FALSE);
  g_autofree char *desk_before = NULL, *after = NULL;
  PvMergeStats stats;
  sqlite3_stmt *stmt;

  g_assert_true (pv_batch_merge (desk, gate, NULL, &error));
  g_assert_no_error (error);
  desk_before = test_digest (desk, FALSE);
  /* The next admin record, chained correctly, written into the gate's file. */
  forged = test_craft_record (gate, 1, 0, PV_RECORD_TICKET_REVOKED,
                              g_variant_new ("(quxs)", 1, 1, (gint64) 0, "forged"));

  /* Not covered by the admin's signature: left behind. */
  g_assert_true (pv_batch_merge (desk, gate, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.forks, ==, 0);
  g_assert_cmpuint (stats.applied, ==, 0);
  after = test_digest (desk, FALSE);
  g_assert_cmpstr (after, ==, desk_before);
  g_clear_pointer (&after, g_free);

  /* And claiming the admin's head moved on does not help without its key. */
  stmt = pv_store_prepare (gate,
                           "INSERT INTO signed_heads (device_id, seq, hash, signature) "
                           "SELECT device_id, ?2, ?3, signature FROM signed_heads "
                           "WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1",
                           NULL);
  sqlite3_bind_int (stmt, 1, 1);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) forged->seq);
  sqlite3_bind_blob (stmt, 3, forged->hash, PV_HASH_SIZE, SQLITE_STATIC);
  g_assert_true (pv_store_step_done (gate, stmt, NULL));
  g_assert_cmpint (sqlite3_changes (pv_store_get_db (gate)), ==, 1);
  /* The admin's records are left out of this merge; the gate's own ones
   * would still come through. */
  g_assert_true (pv_batch_merge (desk, gate, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  g_assert_nonnull (strstr (stats.refused_reason, "device 1"));
  after = test_digest (desk, FALSE);
  g_assert_cmpstr (after, ==, desk_before);
  g_clear_pointer (&after, g_free);

  /* The admin itself refuses a record in its own name it did not write:
   * at a sequence number it used, as a fork; at the next one, outright. */
  g_assert_false (pv_ledger_apply (f->admin, forged, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_FORK);
  g_clear_error (&error);
  {
    g_autoptr (GPtrArray) mine = all_records (f->admin);
    const PvRecord *newest = mine->pdata[mine->len - 1];

    forged->seq = newest->seq + 1;
    forged->hlc = newest->hlc + 1;
    memcpy (forged->prev, newest->hash, PV_HASH_SIZE);
    pv_record_compute_hash (forged, forged->hash);
    g_assert_false (pv_ledger_apply (f->admin, forged, NULL, &error));
    g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  }
  after = test_digest (f->admin, FALSE);
  g_assert_cmpstr (after, ==, admin_before);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
}

static void
test_permissions (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *before = test_digest (gate, FALSE);
  g_autofree char *after = NULL;
  g_autoptr (PvEvent) edited = NULL;
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = "Season pass", .day = -1 };

  g_assert_null (pv_tickets_issue (gate, &request, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);

  /* Even written straight into the ledger, a gate's ticket is refused. */
  g_assert_false (pv_ledger_append (gate, PV_RECORD_TICKET_ISSUED,
                                    g_variant_new ("(s@ays)", code,
                                                   g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1),
                                                   "desk"),
                                    NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);

  edited = pv_event_copy (pv_store_get_event (gate, NULL));
  pv_event_set_capacity (edited, 5);
  g_assert_false (pv_ledger_append (gate, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (edited), NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);

  after = test_digest (gate, FALSE);
  g_assert_cmpstr (before, ==, after);
  g_assert_finalize_object (g_steal_pointer (&gate));
}

static void
test_wrong_event (Fixture *f, gconstpointer data)
{
  g_autofree char *dir2 = g_dir_make_tmp ("pv-ledger-other-XXXXXX", NULL);
  gint64 clock2;
  g_autoptr (PvStore) stranger = test_create_event (dir2, &clock2);
  g_autofree char *before = test_digest (f->admin, FALSE);
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (pv_batch_merge (f->admin, stranger, NULL, &error));
  g_assert_nonnull (error);
  after = test_digest (f->admin, FALSE);
  g_assert_cmpstr (before, ==, after);
  g_assert_finalize_object (g_steal_pointer (&stranger));
  test_rmdir (dir2);
}

static void
test_rebuild (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  g_autofree char *a = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *b = test_issue (f->admin, "School group", 1, 30);
  PvStats stats;

  test_scan (f->admin, a, "Gate 1", test_time (f->admin, 1, 11, 0), FALSE);
  test_scan (f->admin, b, "Gate 2", test_time (f->admin, 1, 11, 5), FALSE);
  test_scan (f->admin, a, "Gate 2", test_time (f->admin, 1, 12, 0), TRUE);
  g_assert_true (pv_tickets_revoke (f->admin, 1, 1, "test", &error));

  before = test_digest (f->admin, TRUE);
  g_assert_true (pv_state_rebuild (f->admin, &error));
  g_assert_no_error (error);
  after = test_digest (f->admin, TRUE);
  g_assert_cmpstr (before, ==, after);

  g_assert_true (pv_stats_load (f->admin, test_time (f->admin, 1, 13, 0), &stats, &error));
  g_assert_cmpint (stats.entered_today, ==, 31);
  g_assert_cmpint (stats.inside_now, ==, 30);
  g_assert_cmpint (stats.registered_total, ==, 2);
  pv_stats_clear (&stats);
}

static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup (pv_store_get_path (f->admin));
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *before = test_digest (f->admin, TRUE);
  g_autofree char *after = NULL, *code2 = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_finalize_object (g_steal_pointer (&f->admin));
  f->admin = pv_store_open (path, &error);
  g_assert_no_error (error);
  pv_store_set_clock (f->admin, test_clock_func, &f->clock);
  after = test_digest (f->admin, TRUE);
  g_assert_cmpstr (before, ==, after);
  /* Every migration applied (0010 added the admin API's tables). */
  g_assert_cmpint (pv_store_get_schema_version (f->admin), >=, 10);
  /* Serials continue; the clock resumes after what it had issued. */
  code2 = test_issue (f->admin, "Season pass", -1, 1);
  g_assert_cmpstr (code, !=, code2);
}

/* A stolen admin laptop, revoked, goes on changing the configuration: what
 * it wrote after its revocation is not in force anywhere, whichever
 * arrives first, the revocation or the change. */
static void
test_revoked_admin_config (Fixture *f, gconstpointer data)
{
  gint64 stolen_clock = f->clock, other_clock = f->clock;
  g_autoptr (PvStore) stolen = test_add_device (f->admin, f->dir, PV_ROLE_ADMIN, "admin-2", &stolen_clock);
  g_autoptr (PvStore) other = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &other_clock);
  g_autoptr (PvEvent) edited = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL;

  f->clock += G_TIME_SPAN_HOUR;
  g_assert_true (pv_devices_revoke (f->admin, pv_store_get_device_id (stolen), "stolen", &error));
  g_assert_no_error (error);

  stolen_clock = f->clock + G_TIME_SPAN_HOUR;
  edited = pv_event_copy (pv_store_get_event (stolen, NULL));
  pv_event_set_capacity (edited, 7);
  g_assert_true (pv_ledger_append (stolen, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (edited), NULL, &error));
  g_assert_no_error (error);

  /* One replica hears of the change first, the other of the revocation. */
  other_clock = stolen_clock + G_TIME_SPAN_MINUTE;
  g_assert_true (pv_batch_merge (other, stolen, NULL, &error));
  g_assert_cmpuint (pv_event_get_capacity (pv_store_get_event (other, NULL)), ==, 7);
  g_assert_true (pv_batch_merge (other, f->admin, NULL, &error));
  g_assert_true (pv_batch_merge (f->admin, stolen, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (pv_event_get_capacity (pv_store_get_event (other, NULL)), ==, 0);
  g_assert_cmpuint (pv_event_get_capacity (pv_store_get_event (f->admin, NULL)), ==, 0);
  a = test_digest (other, TRUE);
  b = test_digest (f->admin, TRUE);
  g_assert_cmpstr (a, ==, b);
  g_assert_true (pv_state_rebuild (other, &error));
  g_clear_pointer (&a, g_free);
  a = test_digest (other, TRUE);
  g_assert_cmpstr (a, ==, b);

  g_assert_finalize_object (g_steal_pointer (&stolen));
  g_assert_finalize_object (g_steal_pointer (&other));
}

/* Every signed head is kept, and the newest is what a replica passes on. */
static void
test_head_history (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (GArray) heads = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  PvHead newest = { 0 };

  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM signed_heads WHERE device_id = 1"), ==, 1);
  code = test_issue (f->admin, "Season pass", -1, 1);
  g_assert_true (pv_batch_merge (gate, f->admin, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM signed_heads WHERE device_id = 1"), ==, 2);

  heads = pv_ledger_get_heads (gate, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < heads->len; i++)
    if (g_array_index (heads, PvHead, i).device_id == 1)
      newest = g_array_index (heads, PvHead, i);
  g_assert_cmpuint (newest.seq, ==, pv_ledger_count (f->admin));
  g_assert_true (pv_head_verify (&newest, pv_store_lookup_device (gate, 1)->public_key));
  g_assert_finalize_object (g_steal_pointer (&gate));
}

/* A cloned admin laptop whose clock runs behind: its other history is
 * stamped earlier than ours, and is still seen as a fork, with evidence. */
static void
test_fork_with_clock_behind (Fixture *f, gconstpointer data)
{
  g_autoptr (PvStore) copy = NULL, other = NULL;
  g_autoptr (GError) error = NULL;
  PvMergeStats stats;
  gint64 copy_clock;

  copy = clone_admin (f, &copy_clock);
  f->clock += G_TIME_SPAN_MINUTE;
  copy_clock = f->clock - 30 * G_USEC_PER_SEC;
  g_free (test_issue (f->admin, "Season pass", -1, 1));
  g_free (test_issue (copy, "Exhibitor", -1, 1));
  copy_clock += G_USEC_PER_SEC;
  g_free (test_issue (copy, "Exhibitor", -1, 1));

  other = test_open (f->dir, "other.db", &f->clock);
  g_assert_true (pv_batch_merge (other, f->admin, &stats, &error));
  g_assert_true (pv_batch_merge (other, copy, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.forks, ==, 1);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
  g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM forks"), ==, 1);
  g_assert_finalize_object (g_steal_pointer (&copy));
  g_assert_finalize_object (g_steal_pointer (&other));
}

/* A revocation dated before every configuration (a second admin's clock far
 * behind) makes them all lapse: the founding one stands, on every replica,
 * whatever each held before. */
static void
test_all_configs_lapse (Fixture *f, gconstpointer data)
{
  gint64 c2 = f->clock, c3 = f->clock, c4 = f->clock;
  g_autoptr (PvStore) admin2 = test_add_device (f->admin, f->dir, PV_ROLE_ADMIN, "admin-2", &c2);
  g_autoptr (PvStore) r1 = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &c3);
  g_autoptr (PvStore) r2 = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-2", &c4);
  g_autoptr (PvEvent) edited = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL;

  f->clock += G_TIME_SPAN_HOUR;
  edited = pv_event_copy (pv_store_get_event (f->admin, NULL));
  pv_event_set_capacity (edited, 7);
  g_assert_true (pv_ledger_append (f->admin, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (edited), NULL, &error));
  c2 = f->clock + G_TIME_SPAN_HOUR;
  g_assert_true (pv_ledger_append (admin2, PV_RECORD_DEVICE_REVOKED,
                                   g_variant_new ("(qxs)", (guint16) 1, (gint64) G_USEC_PER_SEC, "skewed clock"),
                                   NULL, &error));
  g_assert_no_error (error);
  c3 = c4 = c2 + G_TIME_SPAN_HOUR;
  g_assert_true (pv_batch_merge (r1, f->admin, NULL, &error));
  g_assert_true (pv_batch_merge (r1, admin2, NULL, &error));
  g_assert_true (pv_batch_merge (r2, admin2, NULL, &error));
  g_assert_true (pv_batch_merge (r2, f->admin, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (pv_event_get_capacity (pv_store_get_event (r1, NULL)), ==, 0);
  g_assert_cmpuint (pv_event_get_capacity (pv_store_get_event (r2, NULL)), ==, 0);
  a = test_digest (r1, TRUE);
  b = test_digest (r2, TRUE);
  g_assert_cmpstr (a, ==, b);
  g_assert_true (pv_state_rebuild (r2, &error));
  c = test_digest (r2, TRUE);
  g_assert_cmpstr (c, ==, b);
  g_assert_finalize_object (g_steal_pointer (&admin2));
  g_assert_finalize_object (g_steal_pointer (&r1));
  g_assert_finalize_object (g_steal_pointer (&r2));
}

static void
test_not_a_store (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-ledger-junk-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "junk.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autofree char *after = NULL;

  g_assert_true (g_file_set_contents (path, "this is not SQLite, just text that is long enough", -1, NULL));
  store = pv_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, PV_ERROR, PV_ERROR_STORE);
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, "this is not SQLite, just text that is long enough");
  test_rmdir (dir);
}

static void
test_foreign_database (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-ledger-foreign-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "accounts.db", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.db", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.db", NULL);
  g_autofree char *before = NULL, *after = NULL;
  g_autoptr (GError) error = NULL;
  gsize before_len, after_len;
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE ledger (id INTEGER, amount INTEGER);"
                                     "INSERT INTO ledger VALUES (1, 100);",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));

  /* Somebody else's database is refused and left exactly as it was. */
  g_assert_null (pv_store_open (path, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_STORE);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);

  /* Opening an existing store never creates or converts one. */
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_null (pv_store_open_existing (empty, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_STORE);
  g_clear_error (&error);
  g_assert_null (pv_store_open_existing (missing, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_STORE);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  test_rmdir (dir);
}

/* The scans of @code in @store. */
static GArray *
scans_of (PvStore *store, const char *code)
{
  g_autoptr (GError) error = NULL;
  GArray *scans;
  PvTicket ticket;

  g_assert_true (pv_ticket_parse (code, -1, &ticket, &error));
  scans = pv_state_load_scans (store, ticket.issuer, ticket.serial, &error);
  g_assert_no_error (error);
  return scans;
}

/* A gate's lookup by serial is recorded as a manual entry (or exit): its
 * own kind with the scan's usual body, so it reaches another replica as
 * one, is rebuilt as one, and counts as any entry does. */
static void
test_manual_scans (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *scanned = test_issue (f->admin, "Season pass", -1, 1);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GArray) scans = NULL;
  g_autoptr (GError) error = NULL;
  gint64 noon = test_time (f->admin, 0, 12, 0);
  PvDecision d;

  g_assert_true (pv_admission_scan_manual (f->admin, code, "Gate 1", noon, FALSE, FALSE, &d, &error));
  g_assert_cmpint (d.verdict, ==, PV_VERDICT_ADMIT);
  g_assert_true (d.manual);
  pv_decision_clear (&d);
  g_assert_true (pv_admission_scan_manual (f->admin, code, "Gate 1", noon + 60 * G_USEC_PER_SEC, TRUE, FALSE,
                                           &d, &error));
  g_assert_cmpint (d.verdict, ==, PV_VERDICT_EXIT);
  pv_decision_clear (&d);
  g_assert_cmpint (test_scan (f->admin, scanned, "Gate 1", noon, FALSE), ==, PV_VERDICT_ADMIT);

  records = all_records (f->admin);
  g_assert_cmpint (((PvRecord *) g_ptr_array_index (records, records->len - 3))->kind, ==, PV_RECORD_MANUAL_ENTRY);
  g_assert_cmpint (((PvRecord *) g_ptr_array_index (records, records->len - 2))->kind, ==, PV_RECORD_MANUAL_EXIT);
  g_assert_cmpint (((PvRecord *) g_ptr_array_index (records, records->len - 1))->kind, ==, PV_RECORD_ENTRY);
  g_assert_cmpstr (pv_record_kind_to_string (PV_RECORD_MANUAL_ENTRY), ==, "manual-entry");

  /* Another replica: the same scans, marked the same. */
  apply_all (gate, records, 0);
  for (guint r = 0; r < 3; r++)
    {
      PvStore *store = r == 1 ? gate : f->admin;

      if (r == 2)
        {
          g_assert_true (pv_state_rebuild (f->admin, &error));
          g_assert_no_error (error);
        }
      g_clear_pointer (&scans, g_array_unref);
      scans = scans_of (store, code);
      g_assert_cmpuint (scans->len, ==, 2);
      g_assert_true (g_array_index (scans, PvScan, 0).manual);
      g_assert_false (g_array_index (scans, PvScan, 0).is_exit);
      g_assert_true (g_array_index (scans, PvScan, 1).manual);
      g_assert_true (g_array_index (scans, PvScan, 1).is_exit);
      g_clear_pointer (&scans, g_array_unref);
      scans = scans_of (store, scanned);
      g_assert_cmpuint (scans->len, ==, 1);
      g_assert_false (g_array_index (scans, PvScan, 0).manual);
    }
  {
    g_autofree char *here = test_digest (f->admin, TRUE), *there = test_digest (gate, TRUE);
    g_assert_cmpstr (here, ==, there);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD TEST_ADD
  ADD ("/ledger/chain", test_chain);
  ADD ("/ledger/hlc-never-goes-back", test_hlc_never_goes_back);
  ADD ("/ledger/apply-rules", test_apply_rules);
  ADD ("/ledger/fork", test_fork);
  g_test_add ("/ledger/fork-then-more", Fixture, GUINT_TO_POINTER (3), fixture_setup, test_fork,
              fixture_teardown);
  ADD ("/ledger/permissions", test_permissions);
  ADD ("/ledger/forged-authorship", test_forged_authorship);
  ADD ("/ledger/wrong-event", test_wrong_event);
  ADD ("/ledger/rebuild", test_rebuild);
  ADD ("/ledger/reopen", test_reopen);
  ADD ("/ledger/revoked-admin-config", test_revoked_admin_config);
  ADD ("/ledger/head-history", test_head_history);
  ADD ("/ledger/fork-with-clock-behind", test_fork_with_clock_behind);
  ADD ("/ledger/all-configs-lapse", test_all_configs_lapse);
  ADD ("/ledger/manual-scans", test_manual_scans);
  g_test_add_func ("/ledger/not-a-store", test_not_a_store);
  g_test_add_func ("/ledger/foreign-database", test_foreign_database);
  return g_test_run ();
}
