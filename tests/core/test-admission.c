/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-admission.c: every verdict of the admission decision, reached through
 * a real store: group size, re-entry, day and hour limits, gates,
 * revocation, forgery, foreign events, tampering. */
#include "pv-base45.h"
#include "pv-keys.h"
#include "pv-ticket-code.h"
#include "test-util.h"

static PvDecision
decide (PvStore *store, const char *code, const char *gate, gint64 at, gboolean is_exit)
{
  g_autoptr (GError) error = NULL;
  PvDecision decision;

  g_assert_true (pv_admission_scan (store, code, gate, at, is_exit, TRUE, &decision, &error));
  g_assert_no_error (error);
  return decision;
}

static void
test_admit_then_already_used (Fixture *f, gconstpointer data)
{
  g_autofree char *code = test_issue (f->admin, "One-day", 2, 1);
  gint64 at = test_time (f->admin, 2, 10, 42);
  PvDecision d = decide (f->admin, code, "Gate 2", at, FALSE);

  g_assert_cmpint (d.verdict, ==, PV_VERDICT_ADMIT);
  g_assert_cmpuint (d.party, ==, 1);
  g_assert_cmpint (d.day, ==, 2);
  g_assert_cmpstr (d.category, ==, "One-day");
  g_assert_cmpuint (d.device_id, ==, 1);
  g_assert_cmpuint (d.seq, >, 0);
  pv_decision_clear (&d);

  d = decide (f->admin, code, "gate 1", at + G_TIME_SPAN_MINUTE, FALSE);
  g_assert_cmpint (d.verdict, ==, PV_VERDICT_ALREADY_USED);
  g_assert_cmpstr (d.previous_gate, ==, "Gate 2");
  g_assert_cmpint (d.previous_at, ==, at);
  g_assert_cmpuint (d.device_id, ==, 0);
  g_assert_nonnull (strstr (d.message, "Gate 2"));
  g_assert_nonnull (strstr (d.message, "10:42"));
  pv_decision_clear (&d);
}

static void
test_group (Fixture *f, gconstpointer data)
{
  g_autofree char *code = test_issue (f->admin, "School group", 0, 42);
  PvDecision d = decide (f->admin, code, "Gate 1", test_time (f->admin, 0, 11, 0), FALSE);
  g_autoptr (GError) error = NULL;
  PvIssueRequest too_big = { .category = "School group", .day = 0, .party = 201 };

  g_assert_cmpint (d.verdict, ==, PV_VERDICT_ADMIT);
  g_assert_cmpuint (d.party, ==, 42);
  g_assert_nonnull (strstr (d.message, "42"));
  pv_decision_clear (&d);
  /* School groups may not come back in after leaving. */
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 0, 15, 0), TRUE), ==, PV_VERDICT_EXIT);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 0, 15, 5), FALSE), ==, PV_VERDICT_ALREADY_USED);

  g_assert_null (pv_tickets_issue (f->admin, &too_big, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
}

static void
test_reentry (Fixture *f, gconstpointer data)
{
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);

  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 0, 10, 0), TRUE), ==, PV_VERDICT_NOT_INSIDE);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 0, 10, 5), FALSE), ==, PV_VERDICT_ADMIT);
  /* Passing the ticket back over the fence: refused. */
  g_assert_cmpint (test_scan (f->admin, code, "Gate 3", test_time (f->admin, 0, 10, 6), FALSE), ==, PV_VERDICT_ALREADY_USED);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 3", test_time (f->admin, 0, 12, 0), TRUE), ==, PV_VERDICT_EXIT);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 3", test_time (f->admin, 0, 12, 1), TRUE), ==, PV_VERDICT_NOT_INSIDE);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 2", test_time (f->admin, 0, 13, 0), FALSE), ==, PV_VERDICT_ADMIT);
  /* A new day, a new allowance, even without an exit scan yesterday. */
  g_assert_cmpint (test_scan (f->admin, code, "Gate 2", test_time (f->admin, 1, 10, 0), FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 2", test_time (f->admin, 1, 10, 1), FALSE), ==, PV_VERDICT_ALREADY_USED);
}

static void
test_entries_per_day (Fixture *f, gconstpointer data)
{
  g_autoptr (PvEvent) edited = pv_event_copy (pv_store_get_event (f->admin, NULL));
  g_autoptr (GError) error = NULL;
  g_autofree char *twice = NULL, *exhibitor = NULL;
  gint64 at = test_time (f->admin, 3, 11, 0);

  g_assert_true (pv_event_add_category (edited, pv_category_new ("Twice", PV_VALIDITY_ANY_ONE_DAY, 2, FALSE, NULL, 1), &error));
  g_assert_true (pv_ledger_append (f->admin, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (edited), NULL, &error));
  g_assert_no_error (error);

  twice = test_issue (f->admin, "Twice", -1, 1);
  g_assert_cmpint (test_scan (f->admin, twice, "Gate 1", at, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (f->admin, twice, "Gate 1", at + 1, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (f->admin, twice, "Gate 1", at + 2, FALSE), ==, PV_VERDICT_ALREADY_USED);
  /* Any one day: the first entry chose day 4. */
  g_assert_cmpint (test_scan (f->admin, twice, "Gate 1", test_time (f->admin, 4, 11, 0), FALSE), ==, PV_VERDICT_WRONG_DAY);

  exhibitor = test_issue (f->admin, "Exhibitor", -1, 1);
  for (int i = 0; i < 20; i++)
    g_assert_cmpint (test_scan (f->admin, exhibitor, "Gate 1", at + i, FALSE), ==, PV_VERDICT_ADMIT);
}

static void
test_calendar (Fixture *f, gconstpointer data)
{
  g_autofree char *code = test_issue (f->admin, "One-day", 4, 1);
  PvDecision d;

  d = decide (f->admin, code, "Gate 1", test_time (f->admin, 3, 12, 0), FALSE);
  g_assert_cmpint (d.verdict, ==, PV_VERDICT_WRONG_DAY);
  g_assert_cmpint (d.valid_day, ==, 4);
  g_assert_nonnull (strstr (d.message, "2026-12-09"));
  pv_decision_clear (&d);

  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, -1, 12, 0), FALSE), ==, PV_VERDICT_NOT_YET_VALID);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, TEST_DAYS, 12, 0), FALSE), ==, PV_VERDICT_EXPIRED);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 4, 9, 59), FALSE), ==, PV_VERDICT_OUTSIDE_HOURS);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 4, 20, 0), FALSE), ==, PV_VERDICT_OUTSIDE_HOURS);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 4, 19, 59), FALSE), ==, PV_VERDICT_ADMIT);
  /* Leaving after closing time is always allowed. */
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 4, 20, 30), TRUE), ==, PV_VERDICT_EXIT);
}

static void
test_time_zone (Fixture *f, gconstpointer data)
{
  PvEvent *event = pv_store_get_event (f->admin, NULL);

  /* 2026-12-05 04:40 UTC is 10:10 in Delhi: day 0, open. A gate with its
   * system clock in UTC must agree. */
  g_assert_cmpint (pv_event_day_at (event, test_iso ("2026-12-05T04:40:00Z")), ==, 0);
  g_assert_true (pv_event_is_open_at (event, test_iso ("2026-12-05T04:40:00Z")));
  g_assert_false (pv_event_is_open_at (event, test_iso ("2026-12-05T04:20:00Z")));
  g_assert_cmpint (pv_event_day_at (event, test_iso ("2026-12-04T18:40:00Z")), ==, 0);
  g_assert_cmpint (pv_event_day_at (event, test_iso ("2026-12-04T18:20:00Z")), ==, -1);
}

static void
test_wrong_gate (Fixture *f, gconstpointer data)
{
  g_autoptr (PvEvent) edited = pv_event_copy (pv_store_get_event (f->admin, NULL));
  const char *gates[] = { "Gate 3", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  PvDecision d;

  g_assert_true (pv_event_add_category (edited, pv_category_new ("VIP", PV_VALIDITY_EVERY_DAY, 1, TRUE, gates, 1), &error));
  g_assert_true (pv_ledger_append (f->admin, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (edited), NULL, &error));
  code = test_issue (f->admin, "VIP", -1, 1);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 0, 12, 0), FALSE), ==, PV_VERDICT_WRONG_GATE);
  g_assert_cmpint (test_scan (f->admin, code, "Gate 3", test_time (f->admin, 0, 12, 0), FALSE), ==, PV_VERDICT_ADMIT);

  /* A gate the event does not have is a configuration error, not a verdict. */
  g_assert_false (pv_admission_scan (f->admin, code, "Gate 9", test_time (f->admin, 0, 12, 0), FALSE, TRUE, &d, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  pv_decision_clear (&d);
}

static void
test_revoked (Fixture *f, gconstpointer data)
{
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *before = NULL, *after = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) desk = NULL;
  gint64 desk_clock = f->clock;
  PvTicket ticket;
  PvDecision d;

  g_assert_true (pv_ticket_parse (code, -1, &ticket, NULL));
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 0, 11, 0), FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_true (pv_tickets_revoke (f->admin, ticket.issuer, ticket.serial, "Lost, reissued", &error));
  /* Revoked while inside: they may leave, and not come back. */
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", test_time (f->admin, 0, 11, 30), TRUE), ==, PV_VERDICT_EXIT);
  d = decide (f->admin, code, "Gate 1", test_time (f->admin, 0, 12, 0), FALSE);
  g_assert_cmpint (d.verdict, ==, PV_VERDICT_REVOKED);
  g_assert_nonnull (strstr (d.message, "Lost, reissued"));
  pv_decision_clear (&d);

  /* A stolen desk laptop: tickets from before the theft stay good. */
  desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  desk_clock += G_TIME_SPAN_MINUTE;
  before = test_issue (desk, "Season pass", -1, 1);
  f->clock = desk_clock + G_TIME_SPAN_HOUR;
  g_assert_true (pv_batch_merge (f->admin, desk, NULL, &error));
  g_assert_true (pv_devices_revoke (f->admin, pv_store_get_device_id (desk), "stolen", &error));
  desk_clock = f->clock + G_TIME_SPAN_MINUTE;
  after = test_issue (desk, "Season pass", -1, 1);
  g_assert_cmpint (test_scan (f->admin, before, "Gate 1", test_time (f->admin, 0, 12, 0), FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (f->admin, after, "Gate 1", test_time (f->admin, 0, 12, 0), FALSE), ==, PV_VERDICT_REVOKED);

  /* And once the desk learns of its revocation, it stops issuing, and
   * admitting. */
  g_assert_true (pv_batch_merge (desk, f->admin, NULL, &error));
  {
    PvIssueRequest request = { .category = "Season pass", .day = -1 };
    g_assert_null (pv_tickets_issue (desk, &request, &error));
    g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
    g_clear_error (&error);
    g_assert_false (pv_admission_scan (desk, before, "Gate 1", desk_clock, FALSE, TRUE, &d, &error));
    g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
    pv_decision_clear (&d);
  }
  g_assert_finalize_object (g_steal_pointer (&desk));
}

/* Re-encodes a parsed ticket with its fields and signature as given. */
static char *
encode_raw (const PvTicket *ticket)
{
  guint8 raw[PV_TICKET_PAYLOAD_SIZE + PV_SIGNATURE_SIZE];
  g_autofree char *b45 = NULL;

  memcpy (raw, ticket->payload, PV_TICKET_PAYLOAD_SIZE);
  memcpy (raw + PV_TICKET_PAYLOAD_SIZE, ticket->signature, PV_SIGNATURE_SIZE);
  b45 = pv_base45_encode (raw, sizeof raw);
  return g_strconcat (PV_TICKET_CODE_PREFIX, b45, NULL);
}

static void
test_forged_and_foreign (Fixture *f, gconstpointer data)
{
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *forged = NULL, *stranger = NULL, *foreign = NULL;
  guint8 pk[PV_PUBLIC_KEY_SIZE], sk[PV_SECRET_KEY_SIZE];
  gint64 at = test_time (f->admin, 0, 12, 0);
  PvTicket ticket;

  g_assert_true (pv_ticket_parse (code, -1, &ticket, NULL));
  /* A valid-looking code whose party was raised after signing. */
  ticket.payload[14] = 50;
  forged = encode_raw (&ticket);
  g_assert_cmpint (test_scan (f->admin, forged, "Gate 1", at, FALSE), ==, PV_VERDICT_FORGED);

  pv_keypair_generate (pk, sk);
  g_assert_true (pv_ticket_parse (code, -1, &ticket, NULL));
  ticket.issuer = 77;
  g_free (pv_ticket_sign (&ticket, sk));
  stranger = encode_raw (&ticket);
  g_assert_cmpint (test_scan (f->admin, stranger, "Gate 1", at, FALSE), ==, PV_VERDICT_UNKNOWN_ISSUER);

  g_assert_true (pv_ticket_parse (code, -1, &ticket, NULL));
  ticket.event_id ^= 1;
  g_free (pv_ticket_sign (&ticket, sk));
  foreign = encode_raw (&ticket);
  g_assert_cmpint (test_scan (f->admin, foreign, "Gate 1", at, FALSE), ==, PV_VERDICT_WRONG_EVENT);

  g_assert_cmpint (test_scan (f->admin, "", "Gate 1", at, FALSE), ==, PV_VERDICT_MALFORMED);
  g_assert_cmpint (test_scan (f->admin, "https://example.com/", "Gate 1", at, FALSE), ==, PV_VERDICT_MALFORMED);
  g_assert_cmpint (test_scan (f->admin, "PV1:", "Gate 1", at, FALSE), ==, PV_VERDICT_MALFORMED);
  /* None of those touched the ledger; the genuine ticket still enters. */
  g_assert_cmpint (test_scan (f->admin, code, "Gate 1", at, FALSE), ==, PV_VERDICT_ADMIT);
}

static void
test_tampering (Fixture *f, gconstpointer data)
{
  static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  g_autofree char *code = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *digest = test_digest (f->admin, FALSE);
  g_autofree char *after = NULL;
  gint64 at = test_time (f->admin, 0, 12, 0);
  gsize len = strlen (code);
  guint refused = 0;

  /* Every single-character change, anywhere in the code, to every other
   * character a QR alphanumeric symbol can hold (and a lowercase letter). */
  for (gsize pos = 0; pos < len; pos++)
    for (const char *c = alphabet; *c || c == alphabet + sizeof alphabet - 1; c++)
      {
        g_autofree char *changed = g_strdup (code);
        char replacement = *c ? *c : 'a';
        PvDecision d;

        if (replacement == code[pos])
          continue;
        changed[pos] = replacement;
        g_assert_true (pv_admission_decide (f->admin, changed, "Gate 1", at, FALSE, &d, NULL));
        g_assert_cmpint (d.verdict, !=, PV_VERDICT_ADMIT);
        refused++;
        pv_decision_clear (&d);
        if (!*c)
          break;
      }
  g_assert_cmpuint (refused, >=, len * 44);
  after = test_digest (f->admin, FALSE);
  g_assert_cmpstr (digest, ==, after);
}

static void
test_verify (Fixture *f, gconstpointer data)
{
  g_autofree char *code = test_issue (f->admin, "One-day", 1, 1);
  g_autoptr (GError) error = NULL;
  PvDecision d;

  g_assert_true (pv_admission_verify (f->admin, code, f->clock, &d, &error));
  g_assert_cmpint (d.verdict, ==, PV_VERDICT_VALID);
  g_assert_cmpint (d.valid_day, ==, 1);
  pv_decision_clear (&d);
  g_assert_true (pv_admission_verify (f->admin, "PV1:????", f->clock, &d, &error));
  g_assert_cmpint (d.verdict, ==, PV_VERDICT_MALFORMED);
  pv_decision_clear (&d);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD TEST_ADD
  ADD ("/admission/admit-then-already-used", test_admit_then_already_used);
  ADD ("/admission/group", test_group);
  ADD ("/admission/reentry", test_reentry);
  ADD ("/admission/entries-per-day", test_entries_per_day);
  ADD ("/admission/calendar", test_calendar);
  ADD ("/admission/time-zone", test_time_zone);
  ADD ("/admission/wrong-gate", test_wrong_gate);
  ADD ("/admission/revoked", test_revoked);
  ADD ("/admission/forged-and-foreign", test_forged_and_foreign);
  ADD ("/admission/tampering", test_tampering);
  ADD ("/admission/verify", test_verify);
  return g_test_run ();
}
