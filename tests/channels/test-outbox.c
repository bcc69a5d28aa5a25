/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-outbox.c: the hub's outbox as rows — queuing refuses bad input and
 * changes nothing, the worker claims due messages oldest first and no
 * more than asked, failures back off with growing waits until given up,
 * rate limits and stops cost no attempt, providers' reports move a status
 * only forward, the admin lists, counts and retries, and the desks'
 * delivery requests become messages exactly once, their status following
 * the message's and surviving a rebuild of the derived state. The counts
 * by status are kept as rows change, whoever changes them, and read
 * without touching the outbox table; held messages keep their reason; a
 * phone's calling code is found by E.164's assignments; what a day spent
 * is kept per prefix. */
#include <string.h>

#include "channels-test-util.h"
#include "pv-outbox.h"

static gint64
enqueue_text (PvStore *store, const char *channel, const char *phone, const char *body)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;

  g_assert_true (pv_outbox_enqueue (store, channel, phone, PV_OUTBOX_TEXT, body, 0, 0, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static PvOutboxMessage *
find (PvStore *store, gint64 id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = pv_outbox_list (store, NULL, 0, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < all->len; i++)
    if (((PvOutboxMessage *) all->pdata[i])->id == id)
      return g_ptr_array_steal_index (all, i);
  g_assert_not_reached ();
}

static PvIssuedTicket *
issue_with_phone (PvStore *store, const char *phone)
{
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = "School group", .day = 1, .party = 2, .name = "Asha", .phone = phone };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);

  g_assert_no_error (error);
  return g_ptr_array_steal_index (issued, 0);
}

static void
test_enqueue_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *masked = NULL;

  g_assert_false (pv_outbox_enqueue (f->admin, "fax", "+919876543210", PV_OUTBOX_TEXT, "Hi", 0, 0, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_outbox_enqueue (f->admin, "sms", "98765 43210", PV_OUTBOX_TEXT, "Hi", 0, 0, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_outbox_enqueue (f->admin, "sms", NULL, PV_OUTBOX_TEXT, "Hi", 0, 0, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_outbox_enqueue (f->admin, "sms", "+919876543210", PV_OUTBOX_TEXT, "", 0, 0, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_outbox_enqueue (f->admin, "sms", "+919876543210", PV_OUTBOX_TEXT, "\xff\xfe", 0, 0, NULL,
                                     &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  /* A ticket that is not here cannot be captioned. */
  g_assert_false (pv_outbox_enqueue (f->admin, "whatsapp", "+919876543210", PV_OUTBOX_TICKET, NULL, 1, 999, NULL,
                                     &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM outbox"), ==, 0);

  masked = pv_outbox_mask_phone ("+919876543210");
  g_assert_cmpstr (masked, ==, "…3210");
  g_clear_pointer (&masked, g_free);
  masked = pv_outbox_mask_phone ("123");
  g_assert_cmpstr (masked, ==, "…");
  g_clear_pointer (&masked, g_free);
  masked = pv_outbox_mask_digits ("HTTP 400: (#131026) 919876543210 is not on WhatsApp");
  g_assert_cmpstr (masked, ==, "HTTP 400: (#131026) …3210 is not on WhatsApp");
}

static void
test_claim_and_send (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) claimed = NULL;
  g_autoptr (PvOutboxMessage) m = NULL;
  PvIssuedTicket *ticket = issue_with_phone (f->admin, "9876543210");
  gint64 a, b, c, t;
  guint64 counts[PV_OUTBOX_N_STATUSES];
  gboolean found;

  a = enqueue_text (f->admin, "whatsapp", "+919876543210", "First");
  f->clock += 1000;
  b = enqueue_text (f->admin, "sms", "+919876543210", "Second");
  f->clock += 1000;
  c = enqueue_text (f->admin, "whatsapp", "+919800000001", "Third");
  g_assert_true (pv_outbox_enqueue (f->admin, "whatsapp", "+919876543210", PV_OUTBOX_TICKET, NULL,
                                    ticket->ticket.issuer, ticket->ticket.serial, &t, &error));
  g_assert_no_error (error);

  /* The caption made for a ticket without one says which it is. */
  m = find (f->admin, t);
  g_assert_cmpint (m->kind, ==, PV_OUTBOX_TICKET);
  g_assert_cmpuint (m->serial, ==, ticket->ticket.serial);
  g_assert_nonnull (strstr (m->body, ticket->serial));
  g_assert_nonnull (strstr (m->body, "Test Book Fair"));
  g_assert_nonnull (strstr (m->body, "School group"));
  g_assert_nonnull (strstr (m->body, "2026-12-06"));
  g_assert_nonnull (strstr (m->body, "2 people"));
  g_assert_cmpint (m->status, ==, PV_OUTBOX_QUEUED);
  g_clear_pointer (&m, pv_outbox_message_free);

  g_assert_cmpint (pv_outbox_next_due (f->admin, "whatsapp", &error), ==, 0);
  claimed = pv_outbox_claim (f->admin, "whatsapp", f->clock, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (claimed->len, ==, 2);
  g_assert_cmpint (((PvOutboxMessage *) claimed->pdata[0])->id, ==, a);
  g_assert_cmpint (((PvOutboxMessage *) claimed->pdata[1])->id, ==, c);
  g_assert_cmpint (((PvOutboxMessage *) claimed->pdata[0])->status, ==, PV_OUTBOX_SENDING);
  g_clear_pointer (&claimed, g_ptr_array_unref);
  /* Claimed once: the next claim has the rest only. */
  claimed = pv_outbox_claim (f->admin, "whatsapp", f->clock, 10, &error);
  g_assert_cmpuint (claimed->len, ==, 1);
  g_assert_cmpint (((PvOutboxMessage *) claimed->pdata[0])->id, ==, t);
  g_clear_pointer (&claimed, g_ptr_array_unref);
  claimed = pv_outbox_claim (f->admin, "whatsapp", f->clock, 10, &error);
  g_assert_cmpuint (claimed->len, ==, 0);
  g_clear_pointer (&claimed, g_ptr_array_unref);
  g_assert_cmpint (pv_outbox_next_due (f->admin, "whatsapp", &error), ==, G_MAXINT64);
  g_assert_cmpint (pv_outbox_next_due (f->admin, NULL, &error), ==, 0); /* the SMS */

  f->clock += 1000;
  g_assert_true (pv_outbox_mark_sent (f->admin, a, "wamid.A", &error));
  g_assert_no_error (error);
  m = find (f->admin, a);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_SENT);
  g_assert_cmpstr (m->provider_id, ==, "wamid.A");
  g_assert_cmpint (m->sent_at, ==, f->clock);
  g_clear_pointer (&m, pv_outbox_message_free);
  g_assert_false (pv_outbox_mark_sent (f->admin, 12345, "x", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Reports move forward only; failed replaces sent alone. */
  g_assert_true (pv_outbox_update_status (f->admin, "wamid.A", PV_OUTBOX_READ, NULL, &found, &error));
  g_assert_true (found);
  g_assert_true (pv_outbox_update_status (f->admin, "wamid.A", PV_OUTBOX_DELIVERED, NULL, &found, &error));
  g_assert_true (pv_outbox_update_status (f->admin, "wamid.A", PV_OUTBOX_FAILED, "late", &found, &error));
  g_assert_no_error (error);
  m = find (f->admin, a);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_READ);
  g_assert_null (m->last_error);
  g_clear_pointer (&m, pv_outbox_message_free);
  g_assert_true (pv_outbox_update_status (f->admin, "wamid.nobody", PV_OUTBOX_READ, NULL, &found, &error));
  g_assert_false (found);
  g_assert_false (pv_outbox_update_status (f->admin, "wamid.A", PV_OUTBOX_QUEUED, NULL, &found, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (pv_outbox_mark_sent (f->admin, c, "wamid.C", &error));
  g_assert_true (pv_outbox_update_status (f->admin, "wamid.C", PV_OUTBOX_FAILED, "(#131026) undeliverable", &found,
                                          &error));
  m = find (f->admin, c);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_FAILED);
  g_assert_cmpstr (m->last_error, ==, "(#131026) undeliverable");
  g_clear_pointer (&m, pv_outbox_message_free);

  /* A crash with a ticket in flight: it is queued again at the start. */
  g_assert_true (pv_outbox_recover (f->admin, NULL, &error));
  m = find (f->admin, t);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_QUEUED);
  g_clear_pointer (&m, pv_outbox_message_free);

  g_assert_true (pv_outbox_count (f->admin, counts, &error));
  g_assert_cmpuint (counts[PV_OUTBOX_QUEUED], ==, 2);
  g_assert_cmpuint (counts[PV_OUTBOX_READ], ==, 1);
  g_assert_cmpuint (counts[PV_OUTBOX_FAILED], ==, 1);
  g_assert_cmpuint (counts[PV_OUTBOX_SENT], ==, 0);
  claimed = pv_outbox_list (f->admin, "queued", 0, &error);
  g_assert_cmpuint (claimed->len, ==, 2);
  g_assert_cmpint (((PvOutboxMessage *) claimed->pdata[0])->id, ==, t); /* newest first */
  g_assert_cmpint (((PvOutboxMessage *) claimed->pdata[1])->id, ==, b);
  g_clear_pointer (&claimed, g_ptr_array_unref);
  claimed = pv_outbox_list (f->admin, NULL, 1, &error);
  g_assert_cmpuint (claimed->len, ==, 1);
  g_clear_pointer (&claimed, g_ptr_array_unref);
  g_assert_null (pv_outbox_list (f->admin, "lost", 0, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  pv_issued_ticket_free (ticket);
}

static void
test_backoff (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) claimed = NULL;
  g_autoptr (PvOutboxMessage) m = NULL;
  PvOutboxBackoff backoff = { .max_attempts = 3, .base_us = 1000000, .cap_us = 3000000 };
  PvOutboxStatus status;
  gint64 id, next, previous_max = 0;

  /* The waits: base·2^(n-1), capped, less up to half; never shrinking. */
  for (guint n = 1; n <= 6; n++)
    {
      gint64 full = pv_outbox_backoff_delay (&backoff, n, 0.0);
      gint64 least = pv_outbox_backoff_delay (&backoff, n, 0.999999);

      g_assert_cmpint (full, ==, MIN (1000000 << (n - 1), 3000000));
      g_assert_cmpint (least, >=, full / 2);
      g_assert_cmpint (least, >=, previous_max / 2);
      g_assert_cmpint (least, <=, full);
      previous_max = full;
    }
  g_assert_cmpint (pv_outbox_backoff_delay (&backoff, 40, 0.0), ==, 3000000);

  id = enqueue_text (f->admin, "sms", "+919876543210", "Flaky");
  for (guint attempt = 1; attempt <= 3; attempt++)
    {
      claimed = pv_outbox_claim (f->admin, "sms", f->clock, 5, &error);
      g_assert_cmpuint (claimed->len, ==, 1);
      g_clear_pointer (&claimed, g_ptr_array_unref);
      g_assert_true (pv_outbox_mark_failed (f->admin, id, "HTTP 503", TRUE, &backoff, &status, &next, &error));
      g_assert_no_error (error);
      m = find (f->admin, id);
      g_assert_cmpuint (m->attempts, ==, attempt);
      g_assert_cmpstr (m->last_error, ==, "HTTP 503");
      if (attempt < 3)
        {
          gint64 step = MIN (1000000 << (attempt - 1), 3000000);

          g_assert_cmpint (status, ==, PV_OUTBOX_QUEUED);
          g_assert_cmpint (next - f->clock, >=, step / 2);
          g_assert_cmpint (next - f->clock, <=, step);
          g_assert_cmpint (m->next_attempt_at, ==, next);
          /* Not due before its time. */
          claimed = pv_outbox_claim (f->admin, "sms", next - 1, 5, &error);
          g_assert_cmpuint (claimed->len, ==, 0);
          g_clear_pointer (&claimed, g_ptr_array_unref);
          g_assert_cmpint (pv_outbox_next_due (f->admin, "sms", &error), ==, next);
          f->clock = next;
        }
      else
        g_assert_cmpint (status, ==, PV_OUTBOX_FAILED);
      g_clear_pointer (&m, pv_outbox_message_free);
    }

  /* The admin sends it again: its failures are forgotten. */
  g_assert_true (pv_outbox_retry (f->admin, id, &error));
  g_assert_no_error (error);
  m = find (f->admin, id);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_QUEUED);
  g_assert_cmpuint (m->attempts, ==, 0);
  g_clear_pointer (&m, pv_outbox_message_free);
  g_assert_false (pv_outbox_retry (f->admin, id, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_outbox_retry (f->admin, 999, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Slowing down costs no attempt; a refusal ends it at once. */
  claimed = pv_outbox_claim (f->admin, "sms", f->clock, 5, &error);
  g_clear_pointer (&claimed, g_ptr_array_unref);
  g_assert_true (pv_outbox_requeue (f->admin, id, f->clock + 5000000, "HTTP 429", &error));
  m = find (f->admin, id);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_QUEUED);
  g_assert_cmpuint (m->attempts, ==, 0);
  g_assert_cmpint (m->next_attempt_at, ==, f->clock + 5000000);
  g_assert_cmpstr (m->last_error, ==, "HTTP 429");
  g_clear_pointer (&m, pv_outbox_message_free);
  g_assert_true (pv_outbox_mark_failed (f->admin, id, "HTTP 401", FALSE, &backoff, &status, NULL, &error));
  g_assert_cmpint (status, ==, PV_OUTBOX_FAILED);
  g_assert_false (pv_outbox_mark_failed (f->admin, 999, "x", TRUE, &backoff, &status, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
}

static const char *
delivery_status (PvStore *store, guint16 issuer, guint32 serial, guint index)
{
  static char status[32];
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) deliveries = pv_tickets_list_deliveries (store, issuer, serial, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (index, <, deliveries->len);
  g_strlcpy (status, ((PvDelivery *) deliveries->pdata[index])->status, sizeof status);
  return status;
}

static void
test_deliveries (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  PvIssuedTicket *asha = issue_with_phone (f->admin, "9876543210");
  PvIssuedTicket *gone = issue_with_phone (f->admin, "9800000001");
  guint16 issuer = asha->ticket.issuer;
  const PvOutboxMessage *m;
  guint queued = 0;

  g_assert_true (pv_tickets_request_delivery (f->admin, issuer, asha->ticket.serial, PV_DELIVERY_WHATSAPP, &error));
  g_assert_true (pv_tickets_request_delivery (f->admin, issuer, asha->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_true (pv_tickets_request_delivery (f->admin, issuer, gone->ticket.serial, PV_DELIVERY_SMS, &error));
  g_assert_no_error (error);
  g_assert_true (pv_tickets_revoke (f->admin, issuer, gone->ticket.serial, "Lost", &error));

  g_assert_true (pv_outbox_take_deliveries (f->admin, &queued, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (queued, ==, 2);
  list = pv_outbox_list (f->admin, NULL, 0, &error);
  g_assert_cmpuint (list->len, ==, 3);
  /* Newest first: the revoked ticket's request, failed with the reason. */
  m = list->pdata[0];
  g_assert_cmpint (m->status, ==, PV_OUTBOX_FAILED);
  g_assert_nonnull (strstr (m->last_error, "revoked"));
  m = list->pdata[2];
  g_assert_cmpstr (m->channel, ==, "whatsapp");
  g_assert_cmpstr (m->recipient, ==, "+919876543210");
  g_assert_cmpint (m->kind, ==, PV_OUTBOX_TICKET);
  g_assert_cmpuint (m->issuer, ==, issuer);
  g_assert_cmpuint (m->serial, ==, asha->ticket.serial);
  g_assert_cmpuint (m->delivery_device, ==, 1);
  g_assert_nonnull (strstr (m->body, asha->serial));
  g_assert_cmpstr (delivery_status (f->admin, issuer, asha->ticket.serial, 0), ==, "pending");
  g_assert_cmpstr (delivery_status (f->admin, issuer, gone->ticket.serial, 0), ==, "failed");
  /* Each ticket's own messages, as a desk asks for them, and why one
   * failed in a word a desk can put in a volunteer's words. */
  {
    g_autoptr (GPtrArray) own = pv_outbox_list_for_ticket (f->admin, issuer, asha->ticket.serial, &error);
    g_autoptr (GPtrArray) other = pv_outbox_list_for_ticket (f->admin, issuer, gone->ticket.serial, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (own->len, ==, 2);
    g_assert_cmpstr (((PvOutboxMessage *) own->pdata[0])->channel, ==, "whatsapp");
    g_assert_cmpstr (((PvOutboxMessage *) own->pdata[1])->channel, ==, "sms");
    g_assert_cmpuint (other->len, ==, 1);
    g_assert_cmpstr (pv_outbox_failure_kind (other->pdata[0]), ==, "revoked");
  }

  /* Exactly once, however often the worker looks. */
  g_assert_true (pv_outbox_take_deliveries (f->admin, &queued, &error));
  g_assert_cmpuint (queued, ==, 0);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM outbox"), ==, 3);

  /* The request follows its message, and a rebuild keeps where it got. */
  g_assert_true (pv_outbox_mark_sent (f->admin, m->id, "wamid.T", &error));
  g_assert_cmpstr (delivery_status (f->admin, issuer, asha->ticket.serial, 0), ==, "sent");
  g_assert_true (pv_outbox_update_status (f->admin, "wamid.T", PV_OUTBOX_DELIVERED, NULL, NULL, &error));
  g_assert_cmpstr (delivery_status (f->admin, issuer, asha->ticket.serial, 0), ==, "delivered");
  g_assert_cmpstr (delivery_status (f->admin, issuer, asha->ticket.serial, 1), ==, "pending");
  g_assert_true (pv_state_rebuild (f->admin, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (delivery_status (f->admin, issuer, asha->ticket.serial, 0), ==, "delivered");
  g_assert_cmpstr (delivery_status (f->admin, issuer, asha->ticket.serial, 1), ==, "pending");
  /* Even a request set back to queued gets no second message. */
  g_assert_true (pv_store_exec (f->admin, "UPDATE deliveries SET status = 'queued'", &error));
  g_assert_true (pv_outbox_take_deliveries (f->admin, &queued, &error));
  g_assert_cmpuint (queued, ==, 0);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM outbox"), ==, 3);
  g_assert_cmpstr (delivery_status (f->admin, issuer, asha->ticket.serial, 0), ==, "delivered");
  g_assert_cmpstr (delivery_status (f->admin, issuer, gone->ticket.serial, 0), ==, "failed");
  pv_issued_ticket_free (asha);
  pv_issued_ticket_free (gone);
}

/* A one-time code keeps its digits for a template; a message WhatsApp
 * refused outside the window after taking it goes again as the template,
 * once, with no failure counted. */
static void
test_codes_and_templates (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvOutboxMessage) m = NULL;
  g_autoptr (GPtrArray) claimed = NULL;
  const char *const bad_codes[] = { NULL, "", "123", "12345678901", "12a456", "１２３４５６" };
  gint64 id = 0, text;

  for (guint i = 0; i < G_N_ELEMENTS (bad_codes); i++)
    {
      g_assert_false (pv_outbox_enqueue_code (f->admin, "whatsapp", "+919876543210", "Your code", bad_codes[i], NULL,
                                              &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
      g_clear_error (&error);
    }
  /* Without its digits a code could not go as a template. */
  g_assert_false (pv_outbox_enqueue (f->admin, "whatsapp", "+919876543210", PV_OUTBOX_CODE, "Your code 123456", 0, 0,
                                     NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_outbox_enqueue_code (f->admin, "fax", "+919876543210", "Your code", "123456", NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM outbox"), ==, 0);

  g_assert_true (pv_outbox_enqueue_code (f->admin, "whatsapp", "+919876543210", "Your code is 123456", "123456", &id,
                                         &error));
  g_assert_no_error (error);
  text = enqueue_text (f->admin, "whatsapp", "+919876543210", "Hello");
  m = find (f->admin, id);
  g_assert_cmpint (m->kind, ==, PV_OUTBOX_CODE);
  g_assert_cmpstr (pv_outbox_kind_to_string (m->kind), ==, "code");
  g_assert_cmpstr (m->otp, ==, "123456");
  g_assert_cmpstr (m->body, ==, "Your code is 123456");
  g_assert_false (m->by_template);
  g_clear_pointer (&m, pv_outbox_message_free);

  claimed = pv_outbox_claim (f->admin, "whatsapp", f->clock, 10, &error);
  g_assert_cmpuint (claimed->len, ==, 2);
  g_assert_true (pv_outbox_mark_sent (f->admin, id, "wamid.CODE", &error));
  g_assert_true (pv_outbox_mark_sent (f->admin, text, "wamid.TEXT", &error));
  g_assert_no_error (error);

  g_assert_null (pv_outbox_find_by_provider (f->admin, "wamid.nobody", &error));
  g_assert_no_error (error);
  g_assert_null (pv_outbox_find_by_provider (f->admin, NULL, &error));
  g_assert_no_error (error);
  m = pv_outbox_find_by_provider (f->admin, "wamid.CODE", &error);
  g_assert_no_error (error);
  g_assert_cmpint (m->id, ==, id);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_SENT);
  g_clear_pointer (&m, pv_outbox_message_free);

  f->clock += G_USEC_PER_SEC;
  g_assert_true (pv_outbox_requeue_by_template (f->admin, id, "WhatsApp error 131047: Re-engagement message", &error));
  g_assert_no_error (error);
  m = find (f->admin, id);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_QUEUED);
  g_assert_true (m->by_template);
  g_assert_cmpuint (m->attempts, ==, 0);
  g_assert_cmpint (m->next_attempt_at, ==, f->clock);
  g_assert_cmpstr (m->last_error, ==, "WhatsApp error 131047: Re-engagement message");
  g_clear_pointer (&m, pv_outbox_message_free);
  /* Due now, and it stays a template through a claim and a retry. */
  g_clear_pointer (&claimed, g_ptr_array_unref);
  claimed = pv_outbox_claim (f->admin, "whatsapp", f->clock, 10, &error);
  g_assert_cmpuint (claimed->len, ==, 1);
  g_assert_true (((PvOutboxMessage *) claimed->pdata[0])->by_template);
  g_assert_cmpstr (((PvOutboxMessage *) claimed->pdata[0])->otp, ==, "123456");
  /* A template refused the same way is not sent for ever. */
  g_assert_true (pv_outbox_mark_sent (f->admin, id, "wamid.CODE2", &error));
  g_assert_false (pv_outbox_requeue_by_template (f->admin, id, "again", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_outbox_requeue_by_template (f->admin, 9999, "x", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* Only a message the provider took. */
  g_assert_true (pv_outbox_update_status (f->admin, "wamid.TEXT", PV_OUTBOX_DELIVERED, NULL, NULL, &error));
  g_assert_false (pv_outbox_requeue_by_template (f->admin, text, "x", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  m = find (f->admin, text);
  g_assert_cmpint (m->status, ==, PV_OUTBOX_DELIVERED);
  g_assert_false (m->by_template);
}

/* A request naming a channel this hub does not know (a newer desk's) is
 * failed with the reason, not left queued where no worker would take it. */
static void
test_deliveries_unknown_channel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  PvIssuedTicket *asha = issue_with_phone (f->admin, "9876543210");
  const PvOutboxMessage *m;
  guint queued = 99;

  g_assert_true (pv_tickets_request_delivery (f->admin, asha->ticket.issuer, asha->ticket.serial, PV_DELIVERY_SMS,
                                              &error));
  g_assert_no_error (error);
  /* As a record from a later version would leave it. */
  g_assert_true (pv_store_exec (f->admin, "UPDATE deliveries SET channel = 'telegram'", &error));
  g_assert_true (pv_outbox_take_deliveries (f->admin, &queued, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (queued, ==, 0);
  list = pv_outbox_list (f->admin, NULL, 0, &error);
  g_assert_cmpuint (list->len, ==, 1);
  m = list->pdata[0];
  g_assert_cmpint (m->status, ==, PV_OUTBOX_FAILED);
  g_assert_cmpstr (m->channel, ==, "telegram");
  g_assert_nonnull (strstr (m->last_error, "“telegram” is not a channel"));
  g_assert_cmpstr (delivery_status (f->admin, asha->ticket.issuer, asha->ticket.serial, 0), ==, "failed");
  g_assert_cmpint (pv_outbox_next_due (f->admin, NULL, &error), ==, G_MAXINT64);
  /* And an admin cannot queue it again where nothing would send it. */
  g_assert_false (pv_outbox_retry (f->admin, m->id, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (pv_outbox_take_deliveries (f->admin, &queued, &error));
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM outbox"), ==, 1);
  pv_issued_ticket_free (asha);
}

/* Remembers whether a statement prepared while it is set reads or writes
 * the outbox table. */
static int
authorize_cb (void *data, int action, const char *arg1, const char *arg2, const char *db, const char *trigger)
{
  gboolean *touched = data;

  if ((action == SQLITE_READ || action == SQLITE_UPDATE || action == SQLITE_INSERT || action == SQLITE_DELETE)
      && g_strcmp0 (arg1, "outbox") == 0)
    *touched = TRUE;
  if (action == SQLITE_UPDATE || action == SQLITE_INSERT || action == SQLITE_DELETE)
    *touched = TRUE;
  return SQLITE_OK;
}

/* The counts by status agree with the rows, whichever way they changed. */
static void
assert_counts (PvStore *store)
{
  g_autoptr (GError) error = NULL;
  guint64 counts[PV_OUTBOX_N_STATUSES];

  g_assert_true (pv_outbox_count (store, counts, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < PV_OUTBOX_N_STATUSES; i++)
    g_assert_cmpint ((gint64) counts[i], ==,
                     test_query_int (store, "SELECT count(*) FROM outbox WHERE status = '%s'",
                                     pv_outbox_status_to_string (i)));
}

static void
test_counts_kept (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) claimed = NULL;
  guint64 counts[PV_OUTBOX_N_STATUSES];
  PvOutboxStatus status;
  gboolean touched = FALSE;
  gint64 a, b, c;

  /* /metrics asks often, the outbox grows all fair long: the count reads
   * neither the outbox table nor writes anything. */
  sqlite3_set_authorizer (pv_store_get_db (f->admin), authorize_cb, &touched);
  g_assert_true (pv_outbox_count (f->admin, counts, &error));
  sqlite3_set_authorizer (pv_store_get_db (f->admin), NULL, NULL);
  g_assert_false (touched);
  for (guint i = 0; i < PV_OUTBOX_N_STATUSES; i++)
    g_assert_cmpuint (counts[i], ==, 0);

  a = enqueue_text (f->admin, "sms", "+919876543210", "One");
  b = enqueue_text (f->admin, "sms", "+919876543211", "Two");
  c = enqueue_text (f->admin, "whatsapp", "+919876543212", "Three");
  assert_counts (f->admin);
  claimed = pv_outbox_claim (f->admin, "sms", pv_store_now (f->admin), 10, &error);
  g_assert_cmpuint (claimed->len, ==, 2);
  assert_counts (f->admin);
  g_assert_true (pv_outbox_mark_sent (f->admin, a, "p-1", &error));
  g_assert_true (pv_outbox_mark_failed (f->admin, b, "no", FALSE, &(PvOutboxBackoff){ 1, 1, 1 }, &status, NULL,
                                        &error));
  g_assert_true (pv_outbox_hold (f->admin, c, "over budget", &error));
  g_assert_no_error (error);
  assert_counts (f->admin);
  g_assert_true (pv_outbox_retry (f->admin, c, &error));
  g_assert_true (pv_outbox_update_status (f->admin, "p-1", PV_OUTBOX_DELIVERED, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_counts (f->admin);
  /* Another writer's SQL, as a volunteer's code is written, and a row
   * taken away. */
  g_assert_true (pv_store_exec (f->admin,
                                "INSERT INTO outbox (channel, recipient, body, created_at) "
                                "VALUES ('sms', '+919800000001', 'Code', 1);"
                                "UPDATE outbox SET status = 'read' WHERE status = 'delivered';"
                                "DELETE FROM outbox WHERE status = 'failed';",
                                &error));
  g_assert_no_error (error);
  assert_counts (f->admin);
  g_assert_true (pv_outbox_count (f->admin, counts, &error));
  g_assert_cmpuint (counts[PV_OUTBOX_QUEUED], ==, 2);
  g_assert_cmpuint (counts[PV_OUTBOX_READ], ==, 1);
  g_assert_cmpuint (counts[PV_OUTBOX_FAILED], ==, 0);
}

static void
test_hold (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvOutboxMessage) held = NULL;
  gint64 id = enqueue_text (f->admin, "sms", "+919876543210", "Code 123456");

  g_assert_true (pv_outbox_hold (f->admin, id, "today's budget is spent", &error));
  g_assert_no_error (error);
  held = find (f->admin, id);
  g_assert_cmpint (held->status, ==, PV_OUTBOX_HELD);
  g_assert_cmpstr (held->last_error, ==, "today's budget is spent");
  g_assert_cmpint (pv_outbox_next_due (f->admin, "sms", &error), ==, G_MAXINT64);
  g_assert_false (pv_outbox_hold (f->admin, 999, "no", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
}

static void
test_calling_codes (void)
{
  const struct
  {
    const char *phone, *code;
  } cases[] = {
    { "+919876543210", "+91" },
    { "+447700900123", "+44" },
    { "+19005550100", "+1" },
    { "+14165550100", "+1" },
    { "+79161234567", "+7" },
    { "+8801712345678", "+880" },
    { "+9779812345678", "+977" },
    { "+971501234567", "+971" },
    { "+35312345678", "+353" },
    { "+2348012345678", "+234" },
    { "+201001234567", "+20" },
    { "+88213012345", "+882" },
    /* Prefixes, as the settings name them. */
    { "+91", "+91" },
    { "+1", "+1" },
    { "+1416", "+1" },
    { "+977", "+977" },
    { "+9198", "+91" },
    { "+8", NULL },
    { "+88", NULL },
    { "+", NULL },
    { "919876543210", NULL },
    { "+91 98765", NULL },
    { "", NULL },
    { NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *code = pv_outbox_calling_code (cases[i].phone);
      g_assert_cmpstr (code, ==, cases[i].code);
    }
}

static void
test_spend (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) spent = NULL;
  const guint64 *n;

  g_assert_true (pv_outbox_spend_add (f->admin, "2026-12-05", "+91", PV_OUTBOX_SPEND_SENT, &error));
  g_assert_true (pv_outbox_spend_add (f->admin, "2026-12-05", "+91", PV_OUTBOX_SPEND_SENT, &error));
  g_assert_true (pv_outbox_spend_add (f->admin, "2026-12-05", "+91", PV_OUTBOX_SPEND_OVER_BUDGET, &error));
  g_assert_true (pv_outbox_spend_add (f->admin, "2026-12-05", "+44", PV_OUTBOX_SPEND_NOT_ALLOWED, &error));
  g_assert_true (pv_outbox_spend_add (f->admin, "2026-12-06", "+91", PV_OUTBOX_SPEND_SENT, &error));
  g_assert_no_error (error);
  spent = pv_outbox_spend_read (f->admin, "2026-12-05", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (spent), ==, 2);
  n = g_hash_table_lookup (spent, "+91");
  g_assert_cmpuint (n[PV_OUTBOX_SPEND_SENT], ==, 2);
  g_assert_cmpuint (n[PV_OUTBOX_SPEND_OVER_BUDGET], ==, 1);
  g_assert_cmpuint (n[PV_OUTBOX_SPEND_NOT_ALLOWED], ==, 0);
  n = g_hash_table_lookup (spent, "+44");
  g_assert_cmpuint (n[PV_OUTBOX_SPEND_NOT_ALLOWED], ==, 1);
  g_clear_pointer (&spent, g_hash_table_unref);
  spent = pv_outbox_spend_read (f->admin, "2026-12-07", &error);
  g_assert_cmpuint (g_hash_table_size (spent), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  TEST_ADD ("/outbox/enqueue-refused", test_enqueue_refused);
  TEST_ADD ("/outbox/claim-and-send", test_claim_and_send);
  TEST_ADD ("/outbox/backoff", test_backoff);
  TEST_ADD ("/outbox/deliveries", test_deliveries);
  TEST_ADD ("/outbox/deliveries-unknown-channel", test_deliveries_unknown_channel);
  TEST_ADD ("/outbox/codes-and-templates", test_codes_and_templates);
  TEST_ADD ("/outbox/counts-kept", test_counts_kept);
  TEST_ADD ("/outbox/hold", test_hold);
  TEST_ADD ("/outbox/spend", test_spend);
  g_test_add_func ("/outbox/calling-codes", test_calling_codes);
  return g_test_run ();
}
