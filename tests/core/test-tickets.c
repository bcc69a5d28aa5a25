/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tickets.c: what a registration desk does with tickets after issuing
 * them — looks one up, finds one from what a visitor says (a serial, a
 * phone number or its last digits, part of a name in any script), lists
 * its own recent ones, and asks the hub to send one by WhatsApp or SMS.
 * The request is a ledger record: it must be refused where the rules say,
 * carry no personal data to gates, be kept when it arrives before its
 * ticket, and come back the same from a rebuild, which leaves the hub's
 * delivery status alone. */
#include <string.h>

#include "test-util.h"

static PvIssuedTicket *
issue (PvStore *store, const char *name, const char *phone)
{
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = "Season pass", .day = -1, .name = name, .phone = phone };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (issued->len, ==, 1);
  return g_ptr_array_steal_index (issued, 0);
}

static void
merge (PvStore *store, PvStore *other)
{
  g_autoptr (GError) error = NULL;
  PvMergeStats stats = { 0 };

  g_assert_true (pv_batch_merge (store, other, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
}

/* The serials @text finds, newest first, as "1-000003 1-000001". */
static char *
search (PvStore *store, const char *text, guint limit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = pv_tickets_search (store, text, limit, &error);
  g_autoptr (GString) serials = g_string_new (NULL);

  g_assert_no_error (error);
  g_assert_nonnull (found);
  for (guint i = 0; i < found->len; i++)
    {
      const PvTicketInfo *info = g_ptr_array_index (found, i);

      g_assert_true (info->known);
      g_string_append_printf (serials, "%s%s", i ? " " : "", info->serial_text);
    }
  return g_string_free (g_steal_pointer (&serials), FALSE);
}

static void
assert_found (PvStore *store, const char *text, const char *expected)
{
  g_autofree char *got = search (store, text, 50);

  if (g_strcmp0 (got, expected) != 0)
    g_test_message ("searching “%s”", text);
  g_assert_cmpstr (got, ==, expected);
}

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

static void
test_lookup (Fixture *f, gconstpointer data)
{
  g_autoptr (PvIssuedTicket) one = issue (f->admin, "Ravi Kumar", "98765 43210");
  g_autoptr (PvIssuedTicket) bare = issue (f->admin, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_auto (PvTicketInfo) info = { 0 };

  g_assert_true (pv_tickets_lookup (f->admin, one->ticket.issuer, one->ticket.serial, &info, &error));
  g_assert_no_error (error);
  g_assert_true (info.known);
  g_assert_cmpuint (info.issuer, ==, 1);
  g_assert_cmpuint (info.serial, ==, one->ticket.serial);
  g_assert_cmpstr (info.serial_text, ==, one->serial);
  g_assert_cmpuint (info.category, ==, one->ticket.category);
  g_assert_cmpuint (info.day, ==, PV_TICKET_DAY_NONE);
  g_assert_cmpuint (info.party, ==, 1);
  g_assert_cmpstr (info.channel, ==, "desk");
  g_assert_cmpint (info.issued_at, ==, (gint64) one->ticket.issued_at * G_USEC_PER_SEC);
  g_assert_cmpstr (info.code, ==, one->code);
  g_assert_false (info.revoked);
  g_assert_null (info.revoke_reason);
  g_assert_cmpstr (info.name, ==, "Ravi Kumar");
  g_assert_cmpstr (info.phone, ==, "+919876543210");
  pv_ticket_info_clear (&info);

  /* Without a visitor's details: nothing to show, not empty strings. */
  g_assert_true (pv_tickets_lookup (f->admin, 1, bare->ticket.serial, &info, &error));
  g_assert_true (info.known);
  g_assert_null (info.name);
  g_assert_null (info.phone);
  pv_ticket_info_clear (&info);

  /* Revoked before its issue record came: the revocation alone is known. */
  g_assert_true (pv_tickets_revoke (f->admin, 7, 42, "Reported stolen", &error));
  g_assert_no_error (error);
  g_assert_true (pv_tickets_lookup (f->admin, 7, 42, &info, &error));
  g_assert_false (info.known);
  g_assert_null (info.code);
  g_assert_cmpstr (info.serial_text, ==, "7-000042");
  g_assert_true (info.revoked);
  g_assert_cmpstr (info.revoke_reason, ==, "Reported stolen");
  g_assert_cmpint (info.revoked_at, ==, f->clock);
}

static void
test_search (Fixture *f, gconstpointer data)
{
  g_autoptr (PvIssuedTicket) asha = NULL, ravi = NULL, asha2 = NULL, devanagari = NULL;
  g_autoptr (PvIssuedTicket) nukta = NULL, accented = NULL, other = NULL, mixed = NULL;
  g_autofree char *got = NULL;

  /* An hour apart, so "newest first" is plain to see. */
  asha = issue (f->admin, "Asha Verma", "98765 43210"); /* 1-000001 */
  f->clock += G_TIME_SPAN_HOUR;
  ravi = issue (f->admin, "Ravi Kumar", "+91 91234 43210"); /* 1-000002 */
  f->clock += G_TIME_SPAN_HOUR;
  asha2 = issue (f->admin, "ASHA iyer", "90000 03145"); /* 1-000003 */
  f->clock += G_TIME_SPAN_HOUR;
  devanagari = issue (f->admin, "आशा वर्मा", "+44 20 7946 0018"); /* 1-000004 */
  f->clock += G_TIME_SPAN_HOUR;
  /* Precomposed qa (U+0958), as one keyboard types it. */
  nukta = issue (f->admin, "\u0958\u092E\u0930 Ali", NULL); /* 1-000005 */
  f->clock += G_TIME_SPAN_HOUR;
  accented = issue (f->admin, "Élodie Martin", ""); /* 1-000006 */
  f->clock += G_TIME_SPAN_HOUR;
  other = issue (f->admin, NULL, NULL); /* 1-000007 */
  f->clock += G_TIME_SPAN_HOUR;
  mixed = issue (f->admin, "Sunil कुमार", NULL); /* 1-000008 */

  /* Serials, however written, and a whole code from a scanner. */
  assert_found (f->admin, "1-2", "1-000002");
  assert_found (f->admin, " 1-000002 ", "1-000002");
  assert_found (f->admin, other->code, "1-000007");
  assert_found (f->admin, "1-99", "");
  assert_found (f->admin, "2-1", "");

  /* A whole phone number, in the ways people write it. */
  assert_found (f->admin, "9876543210", "1-000001");
  assert_found (f->admin, "+91 98765-43210", "1-000001");
  assert_found (f->admin, "098765 43210", "1-000001");
  assert_found (f->admin, "+442079460018", "1-000004");
  /* Its last digits, four at least, as a visitor reads them out. */
  assert_found (f->admin, "43210", "1-000002 1-000001");
  assert_found (f->admin, "3210", "1-000002 1-000001");
  assert_found (f->admin, "543210", "1-000001");
  assert_found (f->admin, "0018", "1-000004");
  assert_found (f->admin, "210", "");
  assert_found (f->admin, "99999", "");
  /* "1-3145" is a serial; it does not read as the end of 90000 03145. */
  assert_found (f->admin, "1-3145", "");
  assert_found (f->admin, "03145", "1-000003");

  /* Part of a name, in any case, newest first. */
  assert_found (f->admin, "asha", "1-000003 1-000001");
  assert_found (f->admin, "VERMA", "1-000001");
  assert_found (f->admin, "a ver", "1-000001");
  assert_found (f->admin, "आशा", "1-000004");
  assert_found (f->admin, "वर्मा", "1-000004");
  /* Decomposed qa (ka + nukta), as another keyboard types it. */
  assert_found (f->admin, "\u0915\u093C\u092E\u0930", "1-000005");
  assert_found (f->admin, "élodie", "1-000006");
  assert_found (f->admin, "ÉLODIE", "1-000006");
  assert_found (f->admin, "zubair", "");
  /* Two scripts in one name. */
  assert_found (f->admin, "SUNIL कु", "1-000008");
  assert_found (f->admin, "कुमार", "1-000008");
  assert_found (f->admin, "kumar", "1-000002");

  /* At most @limit, the newest. */
  got = search (f->admin, "a", 2);
  g_assert_cmpstr (got, ==, "1-000006 1-000005");
  g_clear_pointer (&got, g_free);
  got = search (f->admin, "asha", 0);
  g_assert_cmpstr (got, ==, "");
  assert_found (f->admin, "", "");
  assert_found (f->admin, "   ", "");
  assert_found (f->admin, "%_*", "");
}

/* A gate holds no people: only serials find anything there. */
static void
test_search_on_gate (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvIssuedTicket) asha = issue (f->admin, "Asha Verma", "98765 43210");
  g_autoptr (GPtrArray) found = NULL;
  g_autoptr (GError) error = NULL;

  merge (gate, f->admin);
  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM people"), ==, 0);
  assert_found (gate, asha->serial, asha->serial);
  assert_found (gate, "9876543210", "");
  assert_found (gate, "3210", "");
  assert_found (gate, "asha", "");
  found = pv_tickets_search (gate, asha->serial, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_null (((PvTicketInfo *) found->pdata[0])->name);
  g_assert_null (((PvTicketInfo *) found->pdata[0])->phone);
  g_assert_finalize_object (g_steal_pointer (&gate));
}

static void
test_recent (Fixture *f, gconstpointer data)
{
  gint64 desk_clock = f->clock;
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  guint16 desk_id = pv_store_get_device_id (desk);
  g_autoptr (GPtrArray) recent = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 5; i++)
    {
      pv_issued_ticket_free (issue (desk, NULL, NULL));
      desk_clock += G_TIME_SPAN_MINUTE;
    }
  g_free (test_issue (f->admin, "Season pass", -1, 1));
  merge (desk, f->admin);

  recent = pv_tickets_recent (desk, desk_id, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recent->len, ==, 3);
  for (guint i = 0; i < recent->len; i++)
    {
      const PvTicketInfo *info = recent->pdata[i];
      g_assert_cmpuint (info->issuer, ==, desk_id);
      g_assert_cmpuint (info->serial, ==, 5 - i);
      g_assert_true (info->known);
    }
  g_clear_pointer (&recent, g_ptr_array_unref);
  recent = pv_tickets_recent (desk, 1, 10, &error);
  g_assert_cmpuint (recent->len, ==, 1);
  g_clear_pointer (&recent, g_ptr_array_unref);
  recent = pv_tickets_recent (desk, 99, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recent->len, ==, 0);
  g_assert_finalize_object (g_steal_pointer (&desk));
}

static guint
count_deliveries (PvStore *store, guint16 issuer, guint32 serial)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) deliveries = pv_tickets_list_deliveries (store, issuer, serial, &error);

  g_assert_no_error (error);
  return deliveries->len;
}

/* A ticket's scans, for the control room to follow up: a shared
 * screenshot admitted at two gates that could not see each other, the
 * exits, and a scan by a gate revoked meanwhile, in canonical order with
 * each gate device's name. */
static void
test_history (Fixture *f, gconstpointer data)
{
  g_autoptr (PvIssuedTicket) one = issue (f->admin, "Ravi Kumar", NULL);
  g_autoptr (PvIssuedTicket) never = issue (f->admin, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) scans = NULL;
  gint64 c1 = f->clock, c2 = f->clock;
  g_autoptr (PvStore) g1 = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "North gate PC", &c1);
  g_autoptr (PvStore) g2 = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "South gate PC", &c2);
  const PvScanInfo *scan;

  merge (g1, f->admin);
  merge (g2, f->admin);
  c1 = test_time (f->admin, 0, 11, 0);
  c2 = c1 + G_USEC_PER_SEC;
  g_assert_cmpint (test_scan (g1, one->code, "Gate 1", c1, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (g2, one->code, "Gate 2", c2, FALSE), ==, PV_VERDICT_ADMIT);
  c1 = test_time (f->admin, 0, 12, 0);
  g_assert_cmpint (test_scan (g1, one->code, "Gate 1", c1, TRUE), ==, PV_VERDICT_EXIT);
  /* The south gate PC is reported stolen at 12:30; it scans on at 13:00. */
  f->clock = test_time (f->admin, 0, 12, 30);
  g_assert_true (pv_devices_revoke (f->admin, pv_store_get_device_id (g2), "Stolen", &error));
  g_assert_no_error (error);
  c2 = test_time (f->admin, 0, 13, 0);
  g_assert_cmpint (test_scan (g2, one->code, "Gate 2", c2, TRUE), ==, PV_VERDICT_EXIT);
  merge (f->admin, g2);
  merge (f->admin, g1);

  scans = pv_tickets_history (f->admin, one->ticket.issuer, one->ticket.serial, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scans->len, ==, 4);
  scan = g_ptr_array_index (scans, 0);
  g_assert_cmpstr (scan->gate, ==, "Gate 1");
  g_assert_cmpstr (scan->device_name, ==, "North gate PC");
  g_assert_cmpuint (scan->device_id, ==, pv_store_get_device_id (g1));
  g_assert_cmpint (scan->at, ==, test_time (f->admin, 0, 11, 0));
  g_assert_cmpint (scan->day, ==, 0);
  g_assert_cmpuint (scan->party, ==, 1);
  g_assert_false (scan->is_exit);
  g_assert_true (scan->offline);
  g_assert_false (scan->is_double);
  g_assert_false (scan->is_void);
  scan = g_ptr_array_index (scans, 1);
  g_assert_cmpstr (scan->gate, ==, "Gate 2");
  g_assert_cmpstr (scan->device_name, ==, "South gate PC");
  g_assert_cmpint (scan->at, ==, test_time (f->admin, 0, 11, 0) + G_USEC_PER_SEC);
  g_assert_false (scan->is_exit);
  g_assert_true (scan->is_double);
  g_assert_false (scan->is_void);
  scan = g_ptr_array_index (scans, 2);
  g_assert_cmpstr (scan->gate, ==, "Gate 1");
  g_assert_true (scan->is_exit);
  g_assert_false (scan->is_double);
  scan = g_ptr_array_index (scans, 3);
  g_assert_cmpstr (scan->device_name, ==, "South gate PC");
  g_assert_true (scan->is_exit);
  g_assert_true (scan->is_void);
  g_clear_pointer (&scans, g_ptr_array_unref);

  /* A gate holds the same history, names and all, once it has synced. */
  merge (g1, f->admin);
  scans = pv_tickets_history (g1, one->ticket.issuer, one->ticket.serial, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scans->len, ==, 4);
  g_assert_cmpstr (((PvScanInfo *) g_ptr_array_index (scans, 1))->device_name, ==, "South gate PC");
  g_clear_pointer (&scans, g_ptr_array_unref);

  /* Never scanned, and not known at all: nothing, not an error. */
  scans = pv_tickets_history (f->admin, never->ticket.issuer, never->ticket.serial, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scans->len, ==, 0);
  g_clear_pointer (&scans, g_ptr_array_unref);
  scans = pv_tickets_history (f->admin, 99, 12345, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scans->len, ==, 0);

  g_assert_finalize_object (g_steal_pointer (&g1));
  g_assert_finalize_object (g_steal_pointer (&g2));
}

static void
test_request_delivery (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, desk_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autoptr (PvIssuedTicket) asha = issue (desk, "Asha Verma", "98765 43210");
  g_autoptr (PvIssuedTicket) nameless = issue (desk, "Ravi", NULL);
  g_autoptr (PvIssuedTicket) revoked = issue (desk, "Mala", "91234 56789");
  g_autoptr (GPtrArray) deliveries = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) body = NULL;
  guint16 desk_id = pv_store_get_device_id (desk);
  guint64 records = pv_ledger_count (desk);
  const PvDelivery *d;
  sqlite3_stmt *stmt;

  /* What a desk cannot ask, it is told why, and nothing is written. */
  g_assert_false (pv_tickets_request_delivery (desk, desk_id, asha->ticket.serial, "fax", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_tickets_request_delivery (desk, desk_id, asha->ticket.serial, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_tickets_request_delivery (desk, desk_id, 999, PV_DELIVERY_SMS, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (pv_tickets_request_delivery (desk, desk_id, nameless->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "phone"));
  g_clear_error (&error);
  g_assert_true (pv_tickets_revoke (desk, desk_id, revoked->ticket.serial, "Duplicate", &error));
  records++;
  g_assert_false (pv_tickets_request_delivery (desk, desk_id, revoked->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (pv_ledger_count (desk), ==, records);

  g_assert_true (pv_tickets_request_delivery (desk, desk_id, asha->ticket.serial, PV_DELIVERY_WHATSAPP, &error));
  g_assert_no_error (error);
  desk_clock += G_TIME_SPAN_MINUTE;
  g_assert_true (pv_tickets_request_delivery (desk, desk_id, asha->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_cmpuint (pv_ledger_count (desk), ==, records + 2);
  deliveries = pv_tickets_list_deliveries (desk, desk_id, asha->ticket.serial, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (deliveries->len, ==, 2);
  d = deliveries->pdata[0];
  g_assert_cmpuint (d->requested_by, ==, desk_id);
  g_assert_cmpuint (d->issuer, ==, desk_id);
  g_assert_cmpuint (d->serial, ==, asha->ticket.serial);
  g_assert_cmpstr (d->channel, ==, "whatsapp");
  g_assert_cmpint (d->requested_at, ==, desk_clock - G_TIME_SPAN_MINUTE);
  g_assert_cmpstr (d->status, ==, "queued");
  g_assert_cmpstr (((PvDelivery *) deliveries->pdata[1])->channel, ==, "sms");

  /* The record names the ticket and the channel; never the person. */
  stmt = pv_store_prepare (desk, "SELECT body FROM records WHERE kind = ?1 ORDER BY seq LIMIT 1", NULL);
  sqlite3_bind_int (stmt, 1, PV_RECORD_DELIVERY_REQUESTED);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  {
    g_autoptr (GBytes) bytes = g_bytes_new (sqlite3_column_blob (stmt, 0), (gsize) sqlite3_column_bytes (stmt, 0));
    guint16 issuer;
    guint32 serial;
    const char *channel;
    gint64 at;

    body = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (PV_DELIVERY_VARIANT_TYPE), bytes, FALSE));
    g_assert_true (g_variant_is_normal_form (body));
    g_variant_get (body, "(qu&sx)", &issuer, &serial, &channel, &at);
    g_assert_cmpuint (issuer, ==, desk_id);
    g_assert_cmpstr (channel, ==, "whatsapp");
    g_assert_null (memmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "43210", 5));
    g_assert_null (memmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "Asha", 4));
  }
  sqlite3_reset (stmt);
  g_assert_cmpstr (pv_record_kind_to_string (PV_RECORD_DELIVERY_REQUESTED), ==, "delivery-requested");

  /* The requests reach gates, which hold no people all the same. */
  merge (gate, desk);
  g_assert_cmpuint (count_deliveries (gate, desk_id, asha->ticket.serial), ==, 2);
  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM people"), ==, 0);
  merge (f->admin, desk);
  merge (desk, f->admin);
  merge (gate, f->admin);
  g_assert_cmpuint (count_deliveries (f->admin, desk_id, asha->ticket.serial), ==, 2);
  {
    g_autofree char *a = test_digest (f->admin, TRUE), *b = test_digest (desk, TRUE);
    g_autofree char *c = test_digest (gate, TRUE);
    g_assert_cmpstr (a, ==, b);
    g_assert_cmpstr (a, ==, c);
  }
  assert_rebuild_agrees (gate);

  /* A gate may not ask: not through the API, not straight into its ledger. */
  g_assert_false (pv_tickets_request_delivery (gate, desk_id, asha->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
  g_assert_false (pv_ledger_append (gate, PV_RECORD_DELIVERY_REQUESTED,
                                    g_variant_new ("(qusx)", desk_id, asha->ticket.serial, "sms", gate_clock),
                                    NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
  /* Nor may a desk's record name a channel there is none of. */
  g_assert_false (pv_ledger_append (desk, PV_RECORD_DELIVERY_REQUESTED,
                                    g_variant_new ("(qusx)", desk_id, asha->ticket.serial, "fax", desk_clock),
                                    NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
}

/* A request can arrive before its ticket: the admin asks for a desk's
 * ticket, and a gate hears from the admin before it hears from the desk. */
static void
test_delivery_before_ticket (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, desk_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autoptr (PvIssuedTicket) asha = issue (desk, "Asha Verma", "98765 43210");
  g_autoptr (GHashTable) vector = NULL;
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GError) error = NULL;
  guint16 desk_id = pv_store_get_device_id (desk);
  PvMergeStats stats = { 0 };
  guint64 *left_out = g_new (guint64, 1);

  merge (f->admin, desk);
  f->clock = desk_clock + G_TIME_SPAN_MINUTE;
  g_assert_true (pv_tickets_request_delivery (f->admin, desk_id, asha->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_no_error (error);

  /* Everything of the admin's, nothing of the desk's. */
  vector = pv_ledger_version_vector (gate, &error);
  g_assert_no_error (error);
  *left_out = G_MAXINT64;
  g_hash_table_insert (vector, GUINT_TO_POINTER (desk_id), left_out);
  batch = pv_batch_collect (f->admin, vector, 0, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (pv_batch_apply (gate, batch, &stats, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.refused_authors, ==, 0);
  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM tickets WHERE issuer = %u", desk_id), ==, 0);
  g_assert_cmpuint (count_deliveries (gate, desk_id, asha->ticket.serial), ==, 1);
  assert_rebuild_agrees (gate);

  /* The ticket comes later; the state is what every other order gives. */
  merge (gate, f->admin);
  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM tickets WHERE issuer = %u", desk_id), ==, 1);
  assert_rebuild_agrees (gate);
  merge (desk, f->admin);
  {
    g_autofree char *a = test_digest (f->admin, TRUE), *b = test_digest (desk, TRUE);
    g_autofree char *c = test_digest (gate, TRUE);
    g_assert_cmpstr (a, ==, b);
    g_assert_cmpstr (a, ==, c);
  }
  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
}

/* The status is the hub's outbox's: a rebuild keeps it, and replicas whose
 * outboxes differ still derive the same state. */
static void
test_rebuild_keeps_status (Fixture *f, gconstpointer data)
{
  gint64 desk_clock = f->clock;
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);
  g_autoptr (PvIssuedTicket) one = issue (f->admin, "Asha Verma", "98765 43210");
  g_autoptr (PvIssuedTicket) two = issue (f->admin, "Ravi Kumar", "91234 43210");
  g_autoptr (GError) error = NULL;
  g_autofree char *desk_state = NULL, *admin_state = NULL;

  g_assert_true (pv_tickets_request_delivery (f->admin, 1, one->ticket.serial, PV_DELIVERY_WHATSAPP, &error));
  g_assert_true (pv_tickets_request_delivery (f->admin, 1, two->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_no_error (error);
  merge (desk, f->admin);
  g_assert_true (pv_store_exec (f->admin,
                                "UPDATE deliveries SET status = 'sent' WHERE serial = 1", &error));
  admin_state = test_digest (f->admin, TRUE);
  desk_state = test_digest (desk, TRUE);
  g_assert_cmpstr (admin_state, ==, desk_state);

  assert_rebuild_agrees (f->admin);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM deliveries WHERE status = 'sent'"), ==, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM deliveries WHERE status = 'queued'"), ==, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM temp.sqlite_master"), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&desk));
}

/* A desk's search stays quick with many people: PRAVESH_SEARCH_N (say
 * 1000000) tickets, phones and names, inserted straight into the tables
 * (issuing that many takes minutes); the figures go to the TAP log. Run by
 * hand: `PRAVESH_SEARCH_N=1000000 test-tickets -p /tickets/search-timing`. */
static void
test_search_timing (Fixture *f, gconstpointer data)
{
  static const char *const first[] = { "Asha", "Ravi", "Mala", "Arjun", "Priya", "Kiran", "आशा", "रवि",
                                       "माला", "अर्जुन", "Zoya", "Élodie" };
  static const char *const last[] = { "Verma", "Kumar", "Iyer", "Singh", "Das", "Khan", "वर्मा", "सिंह",
                                      "दास", "Nair" };
  const char *n_text = g_getenv ("PRAVESH_SEARCH_N");
  guint n = n_text ? (guint) g_ascii_strtoull (n_text, NULL, 10) : 20000;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimer) timer = g_timer_new ();
  const char *const queries[] = { "1-001777", "1-1777", "9800012345", "+91 98000 12345", "2345", "12345", "0012345",
                                  "asha", "ASHA VER", "वर्मा", "zzzz", "Élodie Nair" };
  sqlite3_stmt *ticket, *person;

  g_assert_true (pv_store_begin (f->admin, TRUE, &error));
  ticket = pv_store_prepare (f->admin,
                             "INSERT INTO tickets (issuer, serial, category, day, party, channel, issued_at, "
                             "  code, rec_device, rec_seq) VALUES (1, ?1, 1, 255, 1, 'desk', ?2, 'PV1:X', 1, 1)",
                             &error);
  g_assert_no_error (error);
  person = pv_store_prepare (f->admin,
                             "INSERT INTO people (issuer, serial, name, phone, salt) VALUES (1, ?1, ?2, ?3, x'00')",
                             &error);
  g_assert_no_error (error);
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s %s", first[g_rand_int_range (rand, 0, G_N_ELEMENTS (first))],
                                               last[g_rand_int_range (rand, 0, G_N_ELEMENTS (last))]);
      g_autofree char *phone = g_strdup_printf ("+9198%08u", i);

      sqlite3_bind_int64 (ticket, 1, 1000 + i);
      sqlite3_bind_int64 (ticket, 2, f->clock + (gint64) i * G_USEC_PER_SEC);
      g_assert_true (pv_store_step_done (f->admin, ticket, &error));
      sqlite3_bind_int64 (person, 1, 1000 + i);
      sqlite3_bind_text (person, 2, name, -1, SQLITE_STATIC);
      sqlite3_bind_text (person, 3, phone, -1, SQLITE_STATIC);
      g_assert_true (pv_store_step_done (f->admin, person, &error));
    }
  g_assert_true (pv_store_commit (f->admin, &error));
  g_test_message ("%u tickets and people inserted in %.1f s", n, g_timer_elapsed (timer, NULL));

  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autoptr (GPtrArray) found = NULL;
      gdouble best = G_MAXDOUBLE;

      for (guint round = 0; round < 3; round++)
        {
          g_clear_pointer (&found, g_ptr_array_unref);
          g_timer_start (timer);
          found = pv_tickets_search (f->admin, queries[q], 50, &error);
          best = MIN (best, g_timer_elapsed (timer, NULL));
          g_assert_no_error (error);
        }
      g_test_message ("search %-18s %3u found in %8.3f ms", queries[q], found->len, best * 1000);
    }
}

/* One number, however it is written, is one key; what cannot be a number
 * is refused. */
static void
test_normalize_phone (void)
{
  static const struct
  {
    const char *in;
    const char *out; /* NULL: refused */
  } cases[] = {
    { "+919812345678", "+919812345678" },
    { "9812345678", "+919812345678" },
    { "09812345678", "+919812345678" },
    { "+91 98123-45678", "+919812345678" },
    { "(+91) 98123 45678", "+919812345678" },
    /* "00" is the international prefix: the same number again. */
    { "00919812345678", "+919812345678" },
    { "0091 98123 45678", "+919812345678" },
    { "0044 20 7946 0018", "+442079460018" },
    { "+442079460018", "+442079460018" },
    /* No country code starts with 0. */
    { "+0919812345678", NULL },
    { "+00919812345678", NULL },
    { "+0 98123 45678", NULL },
    { "000919812345678", NULL },
    { "00", NULL },
    { "0091", NULL },
    { "", NULL },
    { "12345", NULL },
    { "+1234567890123456", NULL },
    { "98123 45678 ext 2", NULL },
    { "9812345678+", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *normal = pv_normalize_phone (cases[i].in, &error);

      if (cases[i].out != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (normal, ==, cases[i].out);
        }
      else
        {
          if (normal != NULL)
            g_error ("“%s” was taken as %s", cases[i].in, normal);
          g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
        }
    }
}

/* A name is limited in characters, as a person counts, to what a ticket
 * keeps in any script: 66 Devanagari letters pass, 67 do not, with the
 * limit said in characters; 50 emoji (4 bytes each, within 66) meet the
 * byte limit, said the same way; nothing refused is written. */
static void
test_name_bytes (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) name = g_string_new (NULL);
  g_autoptr (GString) emoji = g_string_new (NULL);
  guint64 records = pv_ledger_count (f->admin);

  for (guint i = 0; i < PV_TICKET_NAME_MAX_CHARS; i++)
    g_string_append (name, "क");
  g_assert_cmpuint (g_utf8_strlen (name->str, -1), ==, 66);
  pv_issued_ticket_free (issue (f->admin, name->str, NULL));
  g_string_append (name, "क");
  for (guint i = 0; i < 51; i++)
    g_string_append (emoji, "😀");
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GError) error = NULL;
      PvIssueRequest request = { .category = "Season pass", .day = -1, .name = i ? emoji->str : name->str };

      g_assert_null (pv_tickets_issue (f->admin, &request, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, "A name is at most 66 characters long: write a shorter form of it");
    }
  g_assert_cmpuint (pv_ledger_count (f->admin), ==, records + 1);
}

/* A ticket every gate would refuse is not made: none after the event's
 * last day, none before the device's certificate begins (a clock set
 * wrong), and the reason is said; nothing is written. */
static void
test_issue_out_of_time (Fixture *f, gconstpointer data)
{
  PvIssueRequest request = { .category = "Season pass", .day = -1 };
  guint64 records = pv_ledger_count (f->admin);
  gint64 now = f->clock;
  /* Read before issuing: a transaction may drop the cached event. */
  gint64 last_evening = pv_event_time_of (pv_store_get_event (f->admin, NULL), TEST_DAYS - 1, 23 * 60);

  {
    g_autoptr (GError) error = NULL;

    f->clock = last_evening + 12 * G_TIME_SPAN_HOUR;
    g_assert_null (pv_tickets_issue (f->admin, &request, &error));
    g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "The event ended on "));
  }
  {
    g_autoptr (GError) error = NULL;

    f->clock = now - G_TIME_SPAN_DAY;
    g_assert_null (pv_tickets_issue (f->admin, &request, &error));
    g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
    g_assert_nonnull (strstr (error->message, "Check this computer’s clock"));
  }
  g_assert_cmpuint (pv_ledger_count (f->admin), ==, records);
  /* On the last day itself, and a second before the certificate (within
   * the drift the gates allow), it still issues. */
  f->clock = last_evening;
  pv_issued_ticket_free (issue (f->admin, NULL, NULL));
  f->clock = now - G_USEC_PER_SEC;
  pv_issued_ticket_free (issue (f->admin, NULL, NULL));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tickets/normalize-phone", test_normalize_phone);
  TEST_ADD ("/tickets/name-bytes", test_name_bytes);
  TEST_ADD ("/tickets/issue-out-of-time", test_issue_out_of_time);
  TEST_ADD ("/tickets/lookup", test_lookup);
  TEST_ADD ("/tickets/search", test_search);
  TEST_ADD ("/tickets/search-on-gate", test_search_on_gate);
  TEST_ADD ("/tickets/recent", test_recent);
  TEST_ADD ("/tickets/history", test_history);
  TEST_ADD ("/tickets/request-delivery", test_request_delivery);
  TEST_ADD ("/tickets/delivery-before-ticket", test_delivery_before_ticket);
  TEST_ADD ("/tickets/rebuild-keeps-status", test_rebuild_keeps_status);
  TEST_ADD ("/tickets/search-timing", test_search_timing);
  return g_test_run ();
}
