/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-hostile.c: replicas in the wrong hands, and one file with two
 * writers. Whoever holds a device's file holds its key and can write
 * anything into it: a time stamp at the top of the range, a record stamped
 * before its author was enrolled, scans from a stolen gate, a gate's scan
 * that misstates the category, planted names and phone numbers, a damaged
 * hash. Each test replays one such scenario from a review and asserts what
 * honest replicas must do about it: refuse what they must without a crash,
 * leave out only the author at fault, keep merging from each other, and end
 * with the same state — equal to a rebuild — whatever order the records
 * arrive in. */
#include <sodium.h>
#include <string.h>

#include "pv-hlc.h"
#include "test-util.h"

/* The body of an entry or exit scan of @code, naming @category instead of
 * the ticket's own when it is not 0. */
static GVariant *
scan_body (const char *code, int day, const char *gate, gint64 at, guint8 category)
{
  PvTicket ticket;

  g_assert_true (pv_ticket_parse (code, -1, &ticket, NULL));
  return g_variant_new (PV_SCAN_VARIANT_TYPE, ticket.issuer, ticket.serial,
                        category ? category : ticket.category, (gint16) day, ticket.party, gate,
                        at, TRUE);
}

static void
merge (PvStore *store, PvStore *other, PvMergeStats *stats)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (pv_batch_merge (store, other, stats, &error));
  g_assert_no_error (error);
}

/* A merge between honest replicas: nobody is left out. */
static void
merge_clean (PvStore *store, PvStore *other)
{
  PvMergeStats stats;

  merge (store, other, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
  g_assert_cmpstr (stats.refused_reason, ==, "");
  g_assert_cmpuint (stats.forks, ==, 0);
}

/* Both stores hold the same records and derived the same state. */
static void
assert_same (PvStore *a, PvStore *b)
{
  g_autofree char *ledger_a = test_digest (a, FALSE);
  g_autofree char *ledger_b = test_digest (b, FALSE);
  g_autofree char *state_a = test_digest (a, TRUE);
  g_autofree char *state_b = test_digest (b, TRUE);

  g_assert_cmpstr (ledger_a, ==, ledger_b);
  g_assert_cmpstr (state_a, ==, state_b);
}

/* What @store derived record by record is what a rebuild derives. */
static void
assert_rebuild_agrees (PvStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = test_digest (store, TRUE);
  g_autofree char *after = NULL;

  g_assert_true (pv_state_rebuild (store, &error));
  g_assert_no_error (error);
  after = test_digest (store, TRUE);
  g_assert_cmpstr (before, ==, after);
}

static PvHlc
newest_hlc (PvStore *store, guint16 device)
{
  guint8 hash[PV_HASH_SIZE];
  PvHlc hlc;

  test_newest_record (store, device, hash, &hlc);
  return hlc;
}

/* 1. A gate's holder stamps a record 2^64-1. Those who merge it keep it,
 * but their clocks move at most a day ahead instead of stopping at the top
 * (or wrapping to zero, after which nobody took their records), and the
 * stamp does not put the record first anywhere. */
static void
test_hlc_top_of_range (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, honest_clock = f->clock, desk_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) honest = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-2", &honest_clock);
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *second = NULL, *third = NULL;
  g_autoptr (PvRecord) hostile = NULL;
  g_autoptr (GArray) scans = NULL;
  guint16 gate_id = pv_store_get_device_id (gate);
  guint16 honest_id = pv_store_get_device_id (honest);
  guint16 desk_id = pv_store_get_device_id (desk);
  PvMergeStats stats;
  PvHlc before, after;
  gboolean kept;

  /* The arithmetic: the clock stops at the top rather than wrapping, and a
   * stamp from far ahead moves it a day at most. */
  g_assert_cmpuint (pv_hlc_tick (PV_HLC_MAX, f->clock), ==, PV_HLC_MAX);
  g_assert_cmpuint (pv_hlc_tick (G_MAXUINT64, f->clock), ==, PV_HLC_MAX);
  g_assert_cmpuint (pv_hlc_observe (0, G_MAXUINT64, f->clock), <=,
                    pv_hlc_make ((f->clock + PV_HLC_MAX_AHEAD_US) / 1000, 1));

  merge_clean (gate, f->admin);
  merge_clean (honest, f->admin);
  hostile = test_craft_record (gate, gate_id, G_MAXUINT64, PV_RECORD_ENTRY,
                               scan_body (code, 0, "Gate 1", test_time (f->admin, 0, 11, 0), 0));
  /* An honest gate admits the visitor a little later, by its own clock. */
  honest_clock = test_time (f->admin, 0, 11, 5);
  g_assert_cmpint (test_scan (honest, code, "Gate 2", honest_clock, FALSE), ==, PV_VERDICT_ADMIT);

  /* Kept, as a record from a clock set wrong would be (or its author left
   * out: either way the merge goes on). */
  merge (f->admin, gate, &stats);
  kept = stats.applied == 1;
  g_assert_true (kept || stats.refused_authors == 1);
  merge_clean (f->admin, honest);

  /* The admin's clock keeps working, at most a day ahead. */
  before = newest_hlc (f->admin, 1);
  f->clock += G_USEC_PER_SEC;
  second = test_issue (f->admin, "Season pass", -1, 1);
  after = newest_hlc (f->admin, 1);
  g_assert_cmpuint (after, >, before);
  g_assert_cmpuint (after, <, hostile->hlc);
  g_assert_cmpint (pv_hlc_wall_ms (after), <=, (f->clock + PV_HLC_MAX_AHEAD_US) / 1000);

  /* Honest replicas keep taking each other's records, both ways. */
  merge_clean (desk, f->admin);
  desk_clock = f->clock + G_USEC_PER_SEC;
  third = test_issue (desk, "Season pass", -1, 1);
  after = newest_hlc (desk, desk_id);
  g_assert_cmpuint (after, <, hostile->hlc);
  g_assert_cmpint (pv_hlc_wall_ms (after), <=, (desk_clock + PV_HLC_MAX_AHEAD_US) / 1000);
  merge (f->admin, desk, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
  g_assert_cmpuint (stats.applied, ==, 1);
  merge_clean (desk, f->admin);
  assert_same (f->admin, desk);

  assert_rebuild_agrees (f->admin);
  assert_rebuild_agrees (desk);

  /* In canonical order (by time stamp, unsigned) the hostile stamp comes
   * last: the honest gate's entry won, the one stamped 2^64-1 is the
   * double. */
  scans = pv_state_load_scans (f->admin, 1, 1, NULL);
  g_assert_nonnull (scans);
  g_assert_cmpuint (scans->len, ==, kept ? 2 : 1);
  g_assert_cmpuint (g_array_index (scans, PvScan, 0).device_id, ==, honest_id);
  g_assert_false (g_array_index (scans, PvScan, 0).is_double);
  if (kept)
    {
      g_assert_cmpuint (g_array_index (scans, PvScan, 1).device_id, ==, gate_id);
      g_assert_true (g_array_index (scans, PvScan, 1).is_double);
    }
  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&honest));
  g_assert_finalize_object (g_steal_pointer (&desk));
}

/* 2. A gate's holder stamps a record before the gate was enrolled (and
 * before the event itself). In canonical order it would come before its
 * author's enrolment and break every rebuild and enrolment after it: it
 * is refused, by replicas that know the gate and by fresh ones alike. */
static void
test_stamped_before_enrolment (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, desk_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *path = g_build_filename (f->dir, "desk-2.db", NULL);
  g_autofree char *ledger_before = NULL, *state_before = NULL, *ledger_after = NULL, *state_after = NULL;
  g_autoptr (PvStore) desk = NULL;
  g_autoptr (PvStore) fresh = NULL;
  g_autoptr (PvRecord) early = NULL;
  g_autoptr (GError) error = NULL;
  guint16 gate_id = pv_store_get_device_id (gate);
  PvMergeStats stats;
  guint16 id = 0;

  merge_clean (gate, f->admin);
  early = test_craft_record (gate, gate_id, 1, PV_RECORD_ENTRY,
                             scan_body (code, 0, "Gate 1", test_time (f->admin, 0, 11, 0), 0));
  ledger_before = test_digest (f->admin, FALSE);
  state_before = test_digest (f->admin, TRUE);

  g_assert_false (pv_ledger_apply (f->admin, early, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);

  merge (f->admin, gate, &stats);
  g_assert_cmpuint (stats.applied, ==, 0);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  g_assert_nonnull (strstr (stats.refused_reason, "before its author was enrolled"));
  ledger_after = test_digest (f->admin, FALSE);
  state_after = test_digest (f->admin, TRUE);
  g_assert_cmpstr (ledger_after, ==, ledger_before);
  g_assert_cmpstr (state_after, ==, state_before);

  /* Rebuilding and enrolling still work. */
  assert_rebuild_agrees (f->admin);
  g_assert_true (pv_devices_add (f->admin, PV_ROLE_DESK, "desk-2", path, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (id, ==, gate_id + 1);
  desk = test_open (f->dir, "desk-2.db", &desk_clock);
  merge (desk, gate, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  assert_rebuild_agrees (desk);

  /* A replica that has no event yet meets the record before anything else. */
  fresh = test_open (f->dir, "fresh.db", &desk_clock);
  merge (fresh, gate, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  g_assert_cmpint (test_query_int (fresh, "SELECT count(*) FROM records WHERE device_id = %u", gate_id), ==, 0);
  merge_clean (fresh, f->admin);
  assert_same (fresh, f->admin);
  assert_rebuild_agrees (fresh);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
  g_assert_finalize_object (g_steal_pointer (&fresh));
}

/* 3. A device keeps its role and key: were a re-enrolment to change them,
 * whether the device's earlier records are allowed would depend on which
 * certificate a replica saw first. */
static void
test_reenrolment_keeps_role_and_key (Fixture *f, gconstpointer data)
{
  gint64 desk_clock = f->clock, x_clock = f->clock, y_clock = f->clock;
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autoptr (PvStore) x = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "x", &x_clock);
  g_autoptr (PvStore) y = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "y", &y_clock);
  g_autoptr (GBytes) event_sk = pv_store_get_secret (f->admin, "event-secret-key");
  g_autoptr (PvDeviceCert) as_gate = NULL, rekeyed = NULL, renewed = NULL;
  g_autoptr (PvRecord) forged = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *code = test_issue (desk, "Season pass", -1, 1);
  g_autofree char *ledger_before = NULL, *ledger_after = NULL;
  guint16 desk_id = pv_store_get_device_id (desk);
  guint8 key[PV_PUBLIC_KEY_SIZE], pk[PV_PUBLIC_KEY_SIZE], sk[PV_SECRET_KEY_SIZE];
  gint64 valid_until;
  PvMergeStats stats;

  {
    const PvDeviceInfo *known = pv_store_lookup_device (f->admin, desk_id);

    g_assert_nonnull (known);
    g_assert_cmpint (known->role, ==, PV_ROLE_DESK);
    memcpy (key, known->public_key, sizeof key);
    valid_until = known->valid_until;
  }
  pv_keypair_generate (pk, sk);
  f->clock += 60 * G_USEC_PER_SEC;
  as_gate = pv_device_cert_new (TEST_EVENT_ID, desk_id, PV_ROLE_GATE, "desk-1", f->clock, valid_until, key);
  rekeyed = pv_device_cert_new (TEST_EVENT_ID, desk_id, PV_ROLE_DESK, "desk-1", f->clock, valid_until, pk);
  renewed = pv_device_cert_new (TEST_EVENT_ID, desk_id, PV_ROLE_DESK, "desk-1", f->clock,
                                valid_until + G_TIME_SPAN_DAY, key);
  pv_device_cert_sign (as_gate, g_bytes_get_data (event_sk, NULL));
  pv_device_cert_sign (rekeyed, g_bytes_get_data (event_sk, NULL));
  pv_device_cert_sign (renewed, g_bytes_get_data (event_sk, NULL));

  /* The admin refuses to change the role or the key... */
  ledger_before = test_digest (f->admin, FALSE);
  g_assert_false (pv_ledger_append (f->admin, PV_RECORD_DEVICE_ENROLLED, pv_device_cert_to_variant (as_gate), NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_ledger_append (f->admin, PV_RECORD_DEVICE_ENROLLED, pv_device_cert_to_variant (rekeyed), NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  ledger_after = test_digest (f->admin, FALSE);
  g_assert_cmpstr (ledger_after, ==, ledger_before);
  /* ...but renews a certificate. */
  g_assert_true (pv_ledger_append (f->admin, PV_RECORD_DEVICE_ENROLLED, pv_device_cert_to_variant (renewed), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pv_store_lookup_device (f->admin, desk_id)->valid_until, ==, valid_until + G_TIME_SPAN_DAY);
  g_assert_cmpint (pv_store_lookup_device (f->admin, desk_id)->role, ==, PV_ROLE_DESK);
  merge_clean (x, f->admin);
  merge_clean (y, f->admin);

  /* A hand-edited admin file holds the re-enrolment as a gate anyway. The
   * desk's ticket arrives before it at x, after it at y: both take the
   * ticket and leave the admin's record out. */
  forged = test_craft_record (f->admin, 1, 0, PV_RECORD_DEVICE_ENROLLED, pv_device_cert_to_variant (as_gate));
  merge (x, desk, &stats);
  g_assert_cmpuint (stats.applied, ==, 1);
  merge (x, f->admin, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  g_assert_nonnull (strstr (stats.refused_reason, "another role or key"));
  merge (y, f->admin, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  merge (y, desk, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
  g_assert_cmpuint (stats.applied, ==, 1);

  g_assert_cmpuint (pv_ledger_count (x), ==, pv_ledger_count (y));
  assert_same (x, y);
  g_assert_cmpint (test_query_int (x, "SELECT count(*) FROM tickets WHERE issuer = %u", desk_id), ==, 1);
  g_assert_cmpint (pv_store_lookup_device (x, desk_id)->role, ==, PV_ROLE_DESK);
  g_assert_cmpint (pv_store_lookup_device (y, desk_id)->role, ==, PV_ROLE_DESK);
  assert_rebuild_agrees (x);
  assert_rebuild_agrees (y);

  g_assert_finalize_object (g_steal_pointer (&desk));
  g_assert_finalize_object (g_steal_pointer (&x));
  g_assert_finalize_object (g_steal_pointer (&y));
}

static void
assert_scan (PvStore *store, guint16 device, gboolean is_void, gboolean is_double, guint n)
{
  g_assert_cmpint (test_query_int (store, "SELECT count(*) FROM scans WHERE device_id = %u", device), ==, n);
  g_assert_cmpint (test_query_int (store, "SELECT count(*) FROM scans WHERE device_id = %u AND is_void = %d AND is_double = %d",
                                   device, is_void, is_double),
                   ==, n);
}

/* 4. A stolen gate laptop, revoked by the control room, keeps "admitting".
 * Its scans from the revocation on are void: not entries in any counter,
 * and never the entry that makes a real visitor's a double — whether the
 * revocation or the scans reach a replica first. */
static void
test_revoked_gate_scans_are_void (Fixture *f, gconstpointer data)
{
  gint64 stolen_clock = f->clock, clock1 = f->clock, clock2 = f->clock, x_clock = f->clock, y_clock = f->clock;
  g_autoptr (PvStore) stolen = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "stolen", &stolen_clock);
  g_autoptr (PvStore) gate1 = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &clock1);
  g_autoptr (PvStore) gate2 = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-2", &clock2);
  g_autoptr (PvStore) x = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "x", &x_clock);
  g_autoptr (PvStore) y = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "y", &y_clock);
  g_autofree char *code = test_issue (f->admin, "One-day", 0, 1);
  g_autofree char *code2 = test_issue (f->admin, "One-day", 0, 1);
  g_autoptr (GPtrArray) doubles = NULL;
  g_autoptr (GError) error = NULL;
  guint16 stolen_id = pv_store_get_device_id (stolen);
  guint16 id1 = pv_store_get_device_id (gate1);
  guint16 id2 = pv_store_get_device_id (gate2);
  PvStore *replicas[] = { x, y, f->admin };
  PvDecision decision;

  merge_clean (stolen, f->admin);
  merge_clean (gate1, f->admin);
  merge_clean (gate2, f->admin);
  f->clock += G_USEC_PER_SEC;
  g_assert_true (pv_devices_revoke (f->admin, stolen_id, "stolen", &error));
  g_assert_no_error (error);

  /* Nobody at the gates knows yet. The first ticket: the thief "admits"
   * somebody before the real visitor arrives at gate 1. The second: gate 1
   * admits the visitor, the thief scans a screenshot, and gate 2, offline,
   * admits a second screenshot — a real double, that gate 1's entry won. */
  stolen_clock = test_time (f->admin, 0, 10, 1);
  g_assert_cmpint (test_scan (stolen, code, "Gate 3", stolen_clock, FALSE), ==, PV_VERDICT_ADMIT);
  clock1 = test_time (f->admin, 0, 10, 5);
  g_assert_cmpint (test_scan (gate1, code, "Gate 1", clock1, FALSE), ==, PV_VERDICT_ADMIT);
  clock1 = test_time (f->admin, 0, 10, 6);
  g_assert_cmpint (test_scan (gate1, code2, "Gate 1", clock1, FALSE), ==, PV_VERDICT_ADMIT);
  stolen_clock = test_time (f->admin, 0, 10, 7);
  g_assert_cmpint (test_scan (stolen, code2, "Gate 3", stolen_clock, FALSE), ==, PV_VERDICT_ADMIT);
  clock2 = test_time (f->admin, 0, 10, 10);
  g_assert_cmpint (test_scan (gate2, code2, "Gate 2", clock2, FALSE), ==, PV_VERDICT_ADMIT);

  /* x: the scans, then the revocation. y: the other way round. */
  merge_clean (x, stolen);
  merge_clean (x, gate1);
  merge_clean (x, gate2);
  merge_clean (x, f->admin);
  merge_clean (y, f->admin);
  merge_clean (y, gate2);
  merge_clean (y, gate1);
  merge_clean (y, stolen);
  merge_clean (f->admin, gate1);
  merge_clean (f->admin, stolen);
  merge_clean (f->admin, gate2);
  merge_clean (x, y);
  merge_clean (y, x);
  assert_same (x, y);
  assert_same (x, f->admin);

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    {
      PvStore *store = replicas[i];
      g_autofree char *date = pv_event_day_date (pv_store_get_event (store, NULL), 0);
      g_autofree char *stolen_gate = g_strdup_printf ("%s|Gate 3", date);
      g_autofree char *gate_1 = g_strdup_printf ("%s|Gate 1", date);

      assert_scan (store, stolen_id, TRUE, FALSE, 2);
      assert_scan (store, id1, FALSE, FALSE, 2);
      assert_scan (store, id2, FALSE, TRUE, 1);
      /* Three entries at the real gates, two visitors, one double. */
      g_assert_cmpint (pv_stats_counter (store, "scans.day", date), ==, 3);
      g_assert_cmpint (pv_stats_counter (store, "entries.day", date), ==, 3);
      g_assert_cmpint (pv_stats_counter (store, "inside.day", date), ==, 3);
      g_assert_cmpint (pv_stats_counter (store, "visitors.day", date), ==, 2);
      g_assert_cmpint (pv_stats_counter (store, "doubles.day", date), ==, 1);
      g_assert_cmpint (pv_stats_counter (store, "entries.gate", stolen_gate), ==, 0);
      g_assert_cmpint (pv_stats_counter (store, "entries.gate", gate_1), ==, 2);
      assert_rebuild_agrees (store);
    }

  /* Once the stolen gate hears of its revocation, it says so itself. */
  merge_clean (stolen, f->admin);
  stolen_clock = test_time (f->admin, 0, 10, 20);
  g_assert_false (pv_admission_scan (stolen, code, "Gate 3", stolen_clock, FALSE, TRUE, &decision, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
  pv_decision_clear (&decision);

  /* The control room's list names the entry the double lost to: gate 1's,
   * not the void scan in between. */
  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    {
      PvDoubleEntry *entry;

      doubles = pv_stats_list_doubles (replicas[i], &error);
      g_assert_no_error (error);
      g_assert_cmpuint (doubles->len, ==, 1);
      entry = g_ptr_array_index (doubles, 0);
      g_assert_cmpuint (entry->device_id, ==, id2);
      g_assert_cmpuint (entry->first_device_id, ==, id1);
      g_assert_cmpstr (entry->first_gate, ==, "Gate 1");
      g_clear_pointer (&doubles, g_ptr_array_unref);
    }

  g_assert_finalize_object (g_steal_pointer (&stolen));
  g_assert_finalize_object (g_steal_pointer (&gate1));
  g_assert_finalize_object (g_steal_pointer (&gate2));
  g_assert_finalize_object (g_steal_pointer (&x));
  g_assert_finalize_object (g_steal_pointer (&y));
}

static gint64
count_people (PvStore *store, guint16 issuer)
{
  return test_query_int (store, "SELECT count(*) FROM people WHERE issuer = %u", issuer);
}

/* 5. Names and phone numbers carry no signature of their own; the salted
 * digest in the (signed) ticket record vouches for them. A file's holder
 * cannot plant a row for a ticket nobody issued yet (which would block the
 * desk's own row for it later) nor change the row of a ticket that is. */
static void
test_people_need_a_voucher (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, desk_clock = f->clock, z_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autoptr (PvStore) z = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-2", &z_clock);
  g_autoptr (GPtrArray) named = NULL, unnamed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *plant = NULL, *replace = NULL;
  guint16 d = pv_store_get_device_id (desk);
  PvIssueRequest request = { .category = "Season pass", .day = -1, .name = "Asha", .phone = "9876543210" };
  PvMergeStats stats;

  /* Rows for the desk's next two serials, one with a well-formed salt. */
  plant = g_strdup_printf ("INSERT INTO people VALUES (%u, 1, 'Mallory', '+919999999999', x'00'),"
                           " (%u, 2, 'Mallory', '+919999999999', zeroblob(16))",
                           d, d);
  g_assert_true (pv_store_exec (gate, plant, NULL));
  /* Rows of tickets nobody holds are not even passed on: a batch carries
   * the people of its tickets and those the receiver asks for. */
  merge (f->admin, gate, &stats);
  g_assert_cmpuint (stats.people, ==, 0);
  merge (desk, gate, &stats);
  g_assert_cmpuint (stats.people, ==, 0);
  g_assert_cmpint (count_people (f->admin, d), ==, 0);
  g_assert_cmpint (count_people (desk, d), ==, 0);

  /* The desk issues those serials, with a name and without. */
  named = pv_tickets_issue (desk, &request, &error);
  g_assert_no_error (error);
  g_assert_nonnull (named);
  request.name = request.phone = NULL;
  unnamed = pv_tickets_issue (desk, &request, &error);
  g_assert_no_error (error);
  g_assert_nonnull (unnamed);
  g_assert_cmpint (count_people (desk, d), ==, 1);

  merge (f->admin, desk, &stats);
  g_assert_cmpuint (stats.people, ==, 1);
  g_assert_cmpuint (stats.people_refused, ==, 0);
  merge (f->admin, gate, &stats);
  g_assert_cmpuint (stats.people, ==, 0);
  g_assert_cmpint (count_people (f->admin, d), ==, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM people WHERE issuer = %u AND serial = 1 "
                                             "AND name = 'Asha' AND phone = '+919876543210'",
                                   d),
                   ==, 1);

  /* The gate now holds the ticket records and rewrites the visitor's row;
   * a desk that meets the gate's file first still keeps the real one. */
  merge_clean (gate, desk);
  g_assert_true (pv_store_exec (gate, "DELETE FROM people", NULL));
  replace = g_strdup_printf ("INSERT INTO people VALUES (%u, 1, 'Mallory', '+919999999999', zeroblob(16))", d);
  g_assert_true (pv_store_exec (gate, replace, NULL));
  merge (z, gate, &stats);
  g_assert_cmpuint (stats.applied, ==, 2);
  g_assert_cmpuint (stats.people, ==, 0);
  g_assert_cmpuint (stats.people_refused, ==, 1);
  g_assert_cmpint (count_people (z, d), ==, 0);
  merge (z, desk, &stats);
  g_assert_cmpuint (stats.people, ==, 1);
  g_assert_cmpint (test_query_int (z, "SELECT count(*) FROM people WHERE issuer = %u AND name = 'Asha'", d), ==, 1);
  g_assert_cmpint (count_people (z, d), ==, 1);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
  g_assert_finalize_object (g_steal_pointer (&z));
}

static void G_GNUC_PRINTF (2, 3)
  raw_exec (const char *path, const char *format, ...)
{
  g_autofree char *sql = NULL;
  char *message = NULL;
  sqlite3 *db = NULL;
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

/* 6. A file whose records table lost its CHECKs can hold a hash (or a
 * previous hash) of the wrong length, or none: reading it gives an error,
 * never a read past the end of SQLite's buffer. */
static void
test_damaged_hash (Fixture *f, gconstpointer data)
{
  static const char *const damage[] = { "hash = x'00'", "hash = NULL", "hash = zeroblob(64)", "prev = x'00'", "prev = NULL" };
  gint64 gate_clock = f->clock, other_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *code2 = NULL;
  g_autofree char *path = g_strdup (pv_store_get_path (gate));
  g_autofree char *ledger_before = NULL;
  guint16 gate_id = pv_store_get_device_id (gate);

  merge_clean (gate, f->admin);
  gate_clock = test_time (f->admin, 0, 11, 0);
  g_assert_cmpint (test_scan (gate, code, "Gate 1", gate_clock, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_finalize_object (g_steal_pointer (&gate));
  raw_exec (path, "PRAGMA foreign_keys = OFF; BEGIN;"
                  "CREATE TABLE r2 (device_id INTEGER NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL,"
                  "  kind INTEGER NOT NULL, body BLOB NOT NULL, prev BLOB, hash BLOB,"
                  "  PRIMARY KEY (device_id, seq)) WITHOUT ROWID;"
                  "INSERT INTO r2 SELECT * FROM records; DROP TABLE records;"
                  "ALTER TABLE r2 RENAME TO records; COMMIT;");
  code2 = test_issue (f->admin, "Season pass", -1, 1);
  ledger_before = test_digest (f->admin, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (damage); i++)
    {
      g_autoptr (PvStore) hostile = NULL;
      g_autoptr (PvStore) other = NULL;
      g_autoptr (GHashTable) vector = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *other_name = g_strdup_printf ("other-%u.db", i);
      g_autofree char *ledger_after = NULL;
      gboolean damaged_hash = g_str_has_prefix (damage[i], "hash");
      PvMergeStats stats;
      PvDecision decision;
      PvHead head;

      g_test_message ("Damage: %s", damage[i]);
      raw_exec (path, "UPDATE records SET %s WHERE device_id = %u AND seq = 1", damage[i], gate_id);
      hostile = pv_store_open (path, &error);
      g_assert_no_error (error);
      pv_store_set_clock (hostile, test_clock_func, &gate_clock);

      /* The holder's own handle: its newest record is damaged, so it can
       * neither vouch for its chain nor extend it. */
      if (damaged_hash)
        {
          g_assert_false (pv_ledger_sign_own_head (hostile, &head, &error));
          g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
          g_clear_error (&error);
          g_assert_null (pv_ledger_version_vector (hostile, &error));
          g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
          g_clear_error (&error);
          g_assert_false (pv_admission_scan (hostile, code, "Gate 1", gate_clock + G_USEC_PER_SEC, TRUE, TRUE, &decision, &error));
          g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
          g_clear_error (&error);
          pv_decision_clear (&decision);
        }

      /* Replicas merging the file take nothing of the damaged record. */
      if (!pv_batch_merge (f->admin, hostile, &stats, &error))
        g_assert_nonnull (error);
      else
        g_assert_cmpuint (stats.applied, ==, 0);
      g_clear_error (&error);
      ledger_after = test_digest (f->admin, FALSE);
      g_assert_cmpstr (ledger_after, ==, ledger_before);
      g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM records WHERE device_id = %u", gate_id), ==, 0);

      other = test_open (f->dir, other_name, &other_clock);
      if (!pv_batch_merge (other, hostile, &stats, &error))
        g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM records WHERE device_id = %u", gate_id), ==, 0);

      /* And the file can still take the admin's news, or say why not. */
      if (!pv_batch_merge (hostile, f->admin, &stats, &error))
        g_assert_nonnull (error);
      g_clear_error (&error);

      g_assert_finalize_object (g_steal_pointer (&hostile));
      g_assert_finalize_object (g_steal_pointer (&other));
    }
}

/* Every record of @device in @store links to the one before it, with a
 * rising time stamp. */
static void
assert_chain (PvStore *store, guint16 device)
{
  sqlite3_stmt *stmt = NULL;
  guint8 prev[PV_HASH_SIZE] = { 0 };
  guint64 expected = 1;
  PvHlc last = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (pv_store_get_db (store),
                                       "SELECT device_id, seq, hlc, kind, body, prev, hash FROM records "
                                       "WHERE device_id = ?1 ORDER BY seq",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_int (stmt, 1, device);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr (PvRecord) record = g_new0 (PvRecord, 1);
      guint8 hash[PV_HASH_SIZE];

      record->device_id = (guint16) sqlite3_column_int (stmt, 0);
      record->seq = (guint64) sqlite3_column_int64 (stmt, 1);
      record->hlc = (PvHlc) sqlite3_column_int64 (stmt, 2);
      record->kind = (PvRecordKind) sqlite3_column_int (stmt, 3);
      record->body = g_bytes_new (sqlite3_column_blob (stmt, 4), (gsize) sqlite3_column_bytes (stmt, 4));
      memcpy (record->prev, sqlite3_column_blob (stmt, 5), PV_HASH_SIZE);
      memcpy (record->hash, sqlite3_column_blob (stmt, 6), PV_HASH_SIZE);
      g_assert_cmpuint (record->seq, ==, expected);
      g_assert_cmpmem (record->prev, PV_HASH_SIZE, prev, PV_HASH_SIZE);
      g_assert_cmpuint (record->hlc, >, last);
      pv_record_compute_hash (record, hash);
      g_assert_cmpmem (hash, PV_HASH_SIZE, record->hash, PV_HASH_SIZE);
      memcpy (prev, record->hash, PV_HASH_SIZE);
      last = record->hlc;
      expected++;
    }
  sqlite3_finalize (stmt);
  g_assert_cmpuint (expected, >, 1);
}

/* Revokes serial @serial of the admin's through @store. */
static void
revoke_serial (PvStore *store, guint32 serial)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (pv_tickets_revoke (store, 1, serial, "lost", &error));
  g_assert_no_error (error);
}

/* 7. Two handles on one file (two processes, say the control room's window
 * and pravesh-ctl): each sees what the other wrote at its next transaction,
 * so appends through both, interleaved, make one valid chain, and each
 * knows the devices the other enrolled. */
static void
test_two_handles_one_file (Fixture *f, gconstpointer data)
{
  gint64 desk_clock = f->clock, other_clock = f->clock, gate_clock = f->clock;
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autoptr (PvStore) other = test_open (f->dir, "admin.db", &other_clock);
  g_autoptr (PvStore) gate = NULL;
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *a1 = NULL, *b1 = NULL, *a2 = NULL, *b2 = NULL;
  g_autofree char *state = NULL, *state_other = NULL;
  PvHlc ahead;
  PvMergeStats stats;

  /* Plain appends through both handles in turn. */
  revoke_serial (f->admin, 100);
  f->clock += G_USEC_PER_SEC;
  other_clock = f->clock;
  revoke_serial (other, 101);
  f->clock += G_USEC_PER_SEC;
  other_clock = f->clock;
  /* Once, this handle's remembered newest record was stale here. */
  revoke_serial (f->admin, 102);
  /* The second handle's clock is five minutes ahead (it saw such a stamp);
   * the first must still stamp its next record after it. */
  other_clock = f->clock + 300 * G_USEC_PER_SEC;
  revoke_serial (other, 103);
  ahead = newest_hlc (other, 1);
  f->clock += G_USEC_PER_SEC;
  revoke_serial (f->admin, 104);
  g_assert_cmpuint (newest_hlc (f->admin, 1), >, ahead);
  assert_chain (f->admin, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM ticket_revocations"), ==, 5);
  state = test_digest (f->admin, TRUE);
  state_other = test_digest (other, TRUE);
  g_assert_cmpstr (state, ==, state_other);
  assert_rebuild_agrees (f->admin);

  /* A device enrolled through one handle is known to the other at once. */
  gate = test_add_device (other, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  merge_clean (gate, other);
  gate_clock = test_time (f->admin, 0, 11, 0);
  g_assert_cmpint (test_scan (gate, code, "Gate 1", gate_clock, FALSE), ==, PV_VERDICT_ADMIT);
  merge (f->admin, gate, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
  g_assert_cmpuint (stats.applied, ==, 1);
  merge (desk, f->admin, &stats);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
  g_assert_cmpuint (stats.unsigned_skipped, ==, 0);
  assert_same (desk, f->admin);

  /* Tickets, issued through both handles in turn: distinct serials, one
   * chain, counted once each. */
  f->clock += G_USEC_PER_SEC;
  a1 = test_issue (f->admin, "Season pass", -1, 1);
  f->clock += G_USEC_PER_SEC;
  other_clock = f->clock;
  b1 = test_issue (other, "Season pass", -1, 1);
  f->clock += G_USEC_PER_SEC;
  other_clock = f->clock;
  a2 = test_issue (f->admin, "Season pass", -1, 1);
  f->clock += G_USEC_PER_SEC;
  other_clock = f->clock;
  b2 = test_issue (other, "Season pass", -1, 1);
  assert_chain (f->admin, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(DISTINCT serial) FROM tickets WHERE issuer = 1"), ==, 5);
  g_assert_cmpint (pv_stats_counter (f->admin, "registrations.channel", "desk"), ==, 5);
  assert_rebuild_agrees (f->admin);

  merge_clean (desk, f->admin);
  merge_clean (desk, other);
  assert_same (desk, f->admin);
  assert_same (desk, other);
  assert_chain (desk, 1);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
  g_assert_finalize_object (g_steal_pointer (&other));
}

/* Moves the event in force to time zone @tz. */
static void
set_timezone (PvStore *store, const char *tz)
{
  g_autoptr (PvEvent) edited = pv_event_copy (pv_store_get_event (store, NULL));
  g_autoptr (GError) error = NULL;

  g_assert_true (pv_event_set_timezone (edited, tz, &error));
  g_assert_true (pv_ledger_append (store, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (edited), NULL, &error));
  g_assert_no_error (error);
}

/* 8. Counters are keyed by local date and hour. A configuration that moves
 * the event to another time zone counts them again, whether the scans came
 * before it, after it, or with it in one merge: the incremental counters
 * equal a rebuild's, on every replica. */
static void
test_time_zone_change_recounts (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, x_clock = f->clock, y_clock = f->clock, z_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) x = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "x", &x_clock);
  g_autoptr (PvStore) y = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "y", &y_clock);
  g_autoptr (PvStore) z = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "z", &z_clock);
  g_autofree char *code = test_issue (f->admin, "One-day", 0, 1);
  PvStore *replicas[] = { x, y, z, f->admin };

  merge_clean (gate, f->admin);
  /* 10:30 in Kolkata is 05:00 UTC. */
  gate_clock = test_time (f->admin, 0, 10, 30);
  g_assert_cmpint (test_scan (gate, code, "Gate 1", gate_clock, FALSE), ==, PV_VERDICT_ADMIT);
  f->clock = test_time (f->admin, 0, 10, 31);
  set_timezone (f->admin, "UTC");

  merge_clean (x, gate); /* the scan, then the configuration */
  merge_clean (x, f->admin);
  merge_clean (y, f->admin); /* the configuration, then the scan */
  merge_clean (y, gate);
  merge_clean (gate, f->admin);
  merge_clean (z, gate); /* both in one merge */
  merge_clean (f->admin, gate);
  assert_same (x, y);
  assert_same (x, z);
  assert_same (x, f->admin);

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    {
      g_test_message ("Replica %u", i);
      g_assert_cmpint (pv_stats_counter (replicas[i], "entries.hour", "2026-12-05T05"), ==, 1);
      g_assert_cmpint (pv_stats_counter (replicas[i], "entries.hour", "2026-12-05T10"), ==, 0);
      g_assert_cmpint (pv_stats_counter (replicas[i], "entries.quarter", "2026-12-05T05:00"), ==, 1);
      g_assert_cmpint (pv_stats_counter (replicas[i], "entries.day", "2026-12-05"), ==, 1);
      g_assert_cmpint (pv_stats_counter (replicas[i], "registrations.channel", "desk"), ==, 1);
      assert_rebuild_agrees (replicas[i]);
    }

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&x));
  g_assert_finalize_object (g_steal_pointer (&y));
  g_assert_finalize_object (g_steal_pointer (&z));
}

/* 9. Any gate can write a scan that misstates the ticket's category (an
 * unlimited exhibitor's, say). Double entries follow the rules of the
 * category the ticket's canonically first scan names, so the outcome does
 * not depend on which scan a replica received last. */
static void
test_misstated_category (Fixture *f, gconstpointer data)
{
  gint64 ca = f->clock, cb = f->clock, cc = f->clock, cx = f->clock, cy = f->clock;
  g_autoptr (PvStore) ga = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-a", &ca);
  g_autoptr (PvStore) gb = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-b", &cb);
  g_autoptr (PvStore) gc = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-c", &cc);
  g_autoptr (PvStore) x = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "x", &cx);
  g_autoptr (PvStore) y = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "y", &cy);
  g_autofree char *code = test_issue (f->admin, "One-day", 0, 1);
  g_autoptr (PvRecord) misstated = NULL;
  const PvCategory *exhibitor = pv_event_find_category (pv_store_get_event (f->admin, NULL), "Exhibitor");
  PvStore *replicas[] = { x, y };

  g_assert_nonnull (exhibitor);
  g_assert_cmpuint (exhibitor->entries_per_day, ==, 0);
  merge_clean (ga, f->admin);
  merge_clean (gb, f->admin);
  merge_clean (gc, f->admin);
  ca = test_time (f->admin, 0, 10, 30);
  cb = ca + 60 * G_USEC_PER_SEC;
  g_assert_cmpint (test_scan (ga, code, "Gate 1", ca, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (gb, code, "Gate 2", cb, FALSE), ==, PV_VERDICT_ADMIT);
  misstated = test_craft_record (gc, pv_store_get_device_id (gc), pv_hlc_make (cb / 1000 + 600000, 0), PV_RECORD_ENTRY,
                                 scan_body (code, 0, "Gate 3", cb + 600 * G_USEC_PER_SEC, exhibitor->id));

  merge_clean (x, ga);
  merge_clean (x, gb);
  merge_clean (x, gc);
  merge_clean (y, gc);
  merge_clean (y, ga);
  merge_clean (y, gb);
  assert_same (x, y);

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    {
      /* A one-day ticket, by its first scan: the second and third entries
       * are doubles. */
      assert_scan (replicas[i], pv_store_get_device_id (ga), FALSE, FALSE, 1);
      assert_scan (replicas[i], pv_store_get_device_id (gb), FALSE, TRUE, 1);
      assert_scan (replicas[i], pv_store_get_device_id (gc), FALSE, TRUE, 1);
      g_assert_cmpint (pv_stats_counter (replicas[i], "doubles.day", "2026-12-05"), ==, 2);
      g_assert_cmpint (pv_stats_counter (replicas[i], "visitors.day", "2026-12-05"), ==, 1);
      assert_rebuild_agrees (replicas[i]);
    }

  g_assert_finalize_object (g_steal_pointer (&ga));
  g_assert_finalize_object (g_steal_pointer (&gb));
  g_assert_finalize_object (g_steal_pointer (&gc));
  g_assert_finalize_object (g_steal_pointer (&x));
  g_assert_finalize_object (g_steal_pointer (&y));
}

static void
assert_no_ghost (Fixture *f, const char *path, guint64 records, const char *ledger, const char *state)
{
  static const char *const suffixes[] = { "", "-wal", "-shm" };
  g_autofree char *ledger_now = test_digest (f->admin, FALSE);
  g_autofree char *state_now = test_digest (f->admin, TRUE);

  g_assert_cmpuint (pv_ledger_count (f->admin), ==, records);
  g_assert_cmpstr (ledger_now, ==, ledger);
  g_assert_cmpstr (state_now, ==, state);
  g_assert_null (pv_store_lookup_device (f->admin, 2));
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM devices"), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
      g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
    }
}

/* 10. An enrolment commits only with a complete replica for it: when the
 * replica cannot be made, no device is left enrolled whose key nobody
 * holds, no half-made file is left in the way, and the next attempt gets
 * the same device id. */
static void
test_failed_enrolment_leaves_no_ghost (Fixture *f, gconstpointer data)
{
  g_autofree char *nowhere = g_build_filename (f->dir, "missing", "desk-1.db", NULL);
  g_autofree char *path = g_build_filename (f->dir, "desk-1.db", NULL);
  g_autofree char *ledger = test_digest (f->admin, FALSE);
  g_autofree char *state = test_digest (f->admin, TRUE);
  g_autofree char *code = NULL;
  g_autoptr (PvStore) desk = NULL;
  g_autoptr (GError) error = NULL;
  guint64 records = pv_ledger_count (f->admin);
  gint64 desk_clock = f->clock;
  guint16 id = 0;

  /* The replica's file cannot be created. */
  g_assert_false (pv_devices_add (f->admin, PV_ROLE_DESK, "desk-1", nowhere, &id, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_STORE);
  g_clear_error (&error);
  g_assert_cmpuint (id, ==, 0);
  assert_no_ghost (f, nowhere, records, ledger, state);

  /* The file is created, but filling it fails (this store's personal data
   * cannot be read): the file goes again. */
  g_assert_true (pv_store_exec (f->admin, "ALTER TABLE people DROP COLUMN salt", NULL));
  g_assert_false (pv_devices_add (f->admin, PV_ROLE_DESK, "desk-1", path, &id, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_STORE);
  g_clear_error (&error);
  g_assert_cmpuint (id, ==, 0);
  assert_no_ghost (f, path, records, ledger, state);
  g_assert_true (pv_store_exec (f->admin, "ALTER TABLE people ADD COLUMN salt BLOB NOT NULL DEFAULT x''", NULL));

  g_assert_true (pv_devices_add (f->admin, PV_ROLE_DESK, "desk-1", path, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (id, ==, 2);
  g_assert_cmpuint (pv_ledger_count (f->admin), ==, records + 1);
  desk = test_open (f->dir, "desk-1.db", &desk_clock);
  g_assert_cmpuint (pv_store_get_device_id (desk), ==, 2);
  code = test_issue (desk, "Season pass", -1, 1);
  merge_clean (f->admin, desk);
  assert_same (f->admin, desk);
  assert_rebuild_agrees (f->admin);
  g_assert_finalize_object (g_steal_pointer (&desk));
}

/* 12. One author's refused record costs only that author's records: the
 * merge leaves them out, says whose and why, and takes everybody else's. */
static void
test_merge_leaves_out_one_author (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, desk_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autofree char *code = test_issue (desk, "Season pass", -1, 1);
  g_autofree char *code2 = test_issue (desk, "One-day", 0, 1);
  g_autofree char *gate_name = NULL, *state = NULL;
  g_autoptr (PvRecord) forged = NULL;
  guint16 gate_id = pv_store_get_device_id (gate);
  guint16 desk_id = pv_store_get_device_id (desk);
  PvMergeStats stats;

  merge_clean (gate, desk);
  gate_clock = test_time (f->admin, 0, 11, 0);
  g_assert_cmpint (test_scan (gate, code, "Gate 1", gate_clock, FALSE), ==, PV_VERDICT_ADMIT);
  /* The gate's holder has it issue a ticket, which a gate may not. */
  forged = test_craft_record (gate, gate_id, 0, PV_RECORD_TICKET_ISSUED,
                              g_variant_new ("(s@ays)", code2, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1), "desk"));

  merge (f->admin, gate, &stats);
  g_assert_cmpuint (stats.applied, ==, 2);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  gate_name = g_strdup_printf ("Device %u (gate)", gate_id);
  g_assert_nonnull (strstr (stats.refused_reason, gate_name));
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM records WHERE device_id = %u", desk_id), ==, 2);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM records WHERE device_id = %u", gate_id), ==, 0);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM tickets WHERE issuer = %u", desk_id), ==, 2);
  assert_rebuild_agrees (f->admin);

  /* Again: nothing new from the others, the same author left out. */
  state = test_digest (f->admin, TRUE);
  merge (f->admin, gate, &stats);
  g_assert_cmpuint (stats.applied, ==, 0);
  g_assert_cmpuint (stats.refused_authors, ==, 1);
  merge_clean (f->admin, desk);
  merge_clean (desk, f->admin);
  assert_same (desk, f->admin);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
}

/* 12. A batch of made-up authors (one well-formed record each, a random
 * signature) beside one real author: the made-up ones are left out without
 * an attempt each (it was quadratic), and the real one's records apply. */
static void
test_many_made_up_authors (Fixture *f, gconstpointer data)
{
  gint64 desk_clock = f->clock;
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GHashTable) vector = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *code = test_issue (desk, "Season pass", -1, 1);
  PvMergeStats stats;
  gint64 started;

  vector = pv_ledger_version_vector (f->admin, &error);
  batch = pv_batch_collect (desk, vector, 0, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->records->len, ==, 1);
  for (guint16 fake = 1000; fake < 3000; fake++)
    {
      PvRecord record = { .device_id = fake, .seq = 1, .hlc = 1, .kind = PV_RECORD_TICKET_REVOKED };
      g_autoptr (GVariant) body = g_variant_ref_sink (g_variant_new ("(quxs)", 1, 1, (gint64) 0, "spam"));
      PvHead head = { .device_id = fake, .seq = 1 };

      record.body = g_variant_get_data_as_bytes (body);
      pv_record_compute_hash (&record, record.hash);
      pv_batch_add_record (batch, &record);
      g_bytes_unref (record.body);
      memcpy (head.hash, record.hash, PV_HASH_SIZE);
      randombytes_buf (head.signature, sizeof head.signature);
      pv_batch_add_head (batch, &head);
    }
  started = g_get_monotonic_time ();
  g_assert_true (pv_batch_apply (f->admin, batch, &stats, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("2000 made-up authors refused in %.0f ms", (g_get_monotonic_time () - started) / 1000.0);
  g_assert_cmpuint (stats.applied, ==, 1);
  g_assert_cmpuint (stats.refused_authors, ==, 2000);
  g_assert_nonnull (strstr (stats.refused_reason, "never enrolled"));
  g_assert_finalize_object (g_steal_pointer (&desk));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD TEST_ADD
  ADD ("/hostile/hlc-top-of-range", test_hlc_top_of_range);
  ADD ("/hostile/stamped-before-enrolment", test_stamped_before_enrolment);
  ADD ("/hostile/reenrolment-keeps-role-and-key", test_reenrolment_keeps_role_and_key);
  ADD ("/hostile/revoked-gate-scans-are-void", test_revoked_gate_scans_are_void);
  ADD ("/hostile/people-need-a-voucher", test_people_need_a_voucher);
  ADD ("/hostile/damaged-hash", test_damaged_hash);
  ADD ("/hostile/two-handles-one-file", test_two_handles_one_file);
  ADD ("/hostile/time-zone-change-recounts", test_time_zone_change_recounts);
  ADD ("/hostile/misstated-category", test_misstated_category);
  ADD ("/hostile/failed-enrolment-leaves-no-ghost", test_failed_enrolment_leaves_no_ghost);
  ADD ("/hostile/merge-leaves-out-one-author", test_merge_leaves_out_one_author);
  ADD ("/hostile/many-made-up-authors", test_many_made_up_authors);
  return g_test_run ();
}
