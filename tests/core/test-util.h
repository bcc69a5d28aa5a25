/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-util.h: what the core tests share — a temporary folder, a clock the
 * test moves by hand, and a ready-made nine-day event in Asia/Kolkata. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

#include "pv-admission.h"
#include "pv-batch.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-ledger.h"
#include "pv-state.h"
#include "pv-stats.h"
#include "pv-store-private.h"
#include "pv-tickets.h"

/* The fair: 2026-12-05 to 2026-12-13, 10:00–20:00 IST, three gates. */
#define TEST_START "2026-12-05"
#define TEST_DAYS 9
#define TEST_EVENT_ID 0x5eed0001u

static inline gint64
test_clock_func (gpointer data)
{
  return *(gint64 *) data;
}

/* µs of local (IST) time HH:MM on event day @day. */
static inline gint64
test_time (PvStore *store, int day, guint hour, guint minute)
{
  return pv_event_time_of (pv_store_get_event (store, NULL), day, hour * 60 + minute);
}

static inline gint64
test_iso (const char *iso)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, NULL);
  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC;
}

static inline PvStore *
test_open (const char *dir, const char *name, gint64 *clock)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  PvStore *store = pv_store_open (path, &error);

  g_assert_no_error (error);
  if (clock)
    pv_store_set_clock (store, test_clock_func, clock);
  return store;
}

/* Creates the test event in a new store "admin.db" under @dir; @clock starts
 * a week before the fair. */
static inline PvStore *
test_create_event (const char *dir, gint64 *clock)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvEvent) event = pv_event_new (TEST_EVENT_ID, "Test Book Fair", TEST_START,
                                            TEST_DAYS, &error);
  PvStore *store;

  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *gate = g_strdup_printf ("Gate %u", i + 1);
      g_assert_true (pv_event_add_gate (event, gate, &error));
    }
  pv_event_add_default_categories (event);
  *clock = test_iso ("2026-11-28T12:00:00+05:30");
  store = test_open (dir, "admin.db", clock);
  g_assert_true (pv_devices_create_event (store, event, "Control room", &error));
  g_assert_no_error (error);
  return store;
}

/* Adds a device replica "@name.db" and opens it with its own @clock. */
static inline PvStore *
test_add_device (PvStore *admin, const char *dir, PvRole role, const char *name, gint64 *clock)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".db", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  guint16 id = 0;

  g_assert_true (pv_devices_add (admin, role, name, path, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (id, >, 1);
  return test_open (dir, file, clock);
}

/* Issues one ticket and returns its code. */
static inline char *
test_issue (PvStore *store, const char *category, int day, guint party)
{
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = category, .day = day, .party = party };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (issued->len, ==, 1);
  return g_strdup (((PvIssuedTicket *) g_ptr_array_index (issued, 0))->code);
}

/* Scans @code and returns the verdict. */
static inline PvVerdict
test_scan (PvStore *store, const char *code, const char *gate, gint64 at, gboolean is_exit)
{
  g_autoptr (GError) error = NULL;
  PvDecision decision;
  PvVerdict verdict;

  g_assert_true (pv_admission_scan (store, code, gate, at, is_exit, TRUE, &decision, &error));
  g_assert_no_error (error);
  g_assert_nonnull (decision.message);
  verdict = decision.verdict;
  pv_decision_clear (&decision);
  return verdict;
}

static inline char *
test_digest (PvStore *store, gboolean state)
{
  g_autoptr (GError) error = NULL;
  guint8 hash[PV_HASH_SIZE];

  if (state)
    g_assert_true (pv_state_digest (store, hash, &error));
  else
    g_assert_true (pv_ledger_digest (store, hash, &error));
  g_assert_no_error (error);
  return pv_hash_to_hex (hash);
}

/* The newest record of @device in @store's file: its seq (0 when none),
 * and its hash and time stamp. */
static inline guint64
test_newest_record (PvStore *store, guint16 device, guint8 hash[PV_HASH_SIZE], PvHlc *hlc)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT seq, hash, hlc FROM records WHERE device_id = ?1 "
                                         "ORDER BY seq DESC LIMIT 1",
                                         NULL);
  guint64 seq = 0;

  g_assert_nonnull (stmt);
  sqlite3_bind_int (stmt, 1, device);
  memset (hash, 0, PV_HASH_SIZE);
  *hlc = 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      seq = (guint64) sqlite3_column_int64 (stmt, 0);
      g_assert_cmpint (sqlite3_column_bytes (stmt, 1), ==, PV_HASH_SIZE);
      memcpy (hash, sqlite3_column_blob (stmt, 1), PV_HASH_SIZE);
      *hlc = (PvHlc) sqlite3_column_int64 (stmt, 2);
    }
  sqlite3_reset (stmt);
  return seq;
}

/* Writes a record into @store's file as whoever holds the file can: a
 * correct hash, chained to @device's newest record there, stamped @hlc (0:
 * just after that record). The handle is not told, so nothing may be
 * appended through it afterwards. */
static inline PvRecord *
test_craft_record (PvStore *store, guint16 device, PvHlc hlc, PvRecordKind kind, GVariant *body)
{
  g_autoptr (GVariant) sunk = g_variant_ref_sink (body);
  g_autoptr (GVariant) normal = g_variant_get_normal_form (sunk);
  PvRecord *record = g_new0 (PvRecord, 1);
  sqlite3_stmt *stmt;
  PvHlc last;

  record->device_id = device;
  record->seq = test_newest_record (store, device, record->prev, &last) + 1;
  record->hlc = hlc ? hlc : last + 1;
  record->kind = kind;
  record->body = g_variant_get_data_as_bytes (normal);
  pv_record_compute_hash (record, record->hash);
  stmt = pv_store_prepare (store, "INSERT INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", NULL);
  g_assert_nonnull (stmt);
  sqlite3_bind_int (stmt, 1, record->device_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) record->seq);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) record->hlc);
  sqlite3_bind_int (stmt, 4, record->kind);
  sqlite3_bind_blob (stmt, 5, g_bytes_get_data (record->body, NULL), (int) g_bytes_get_size (record->body), SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 6, record->prev, PV_HASH_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 7, record->hash, PV_HASH_SIZE, SQLITE_STATIC);
  g_assert_true (pv_store_step_done (store, stmt, NULL));
  return record;
}

/* The first column of the first row of @sql. */
static inline gint64 G_GNUC_PRINTF (2, 3)
  test_query_int (PvStore *store, const char *format, ...)
{
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);
  g_assert_cmpint (sqlite3_prepare_v2 (pv_store_get_db (store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static inline void test_rmdir (const char *dir);

/* A fresh folder with the test event's admin store in it, for g_test_add. */
typedef struct
{
  char *dir;
  gint64 clock;
  PvStore *admin;
} Fixture;

static inline void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *name = g_path_get_basename (g_get_prgname ());
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);

  f->dir = g_dir_make_tmp (template, NULL);
  f->admin = test_create_event (f->dir, &f->clock);
}

static inline void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->admin);
  test_rmdir (f->dir);
  g_free (f->dir);
}

/* Registers a test that runs in a Fixture. */
#define TEST_ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

static inline void
test_rmdir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}
