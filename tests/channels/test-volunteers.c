/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-volunteers.c: the control room's view of volunteers in the hub's
 * file — the list with each one's newest sign-in, deactivating (no code is
 * sent, a code sent before no longer works) and back, the sign-ins newest
 * first —, sign-in codes marked apart from whatever else goes to a
 * volunteer's phone, and bad input refused with nothing changed. */
#include <string.h>

#include "channels-test-util.h"
#include "pv-outbox.h"
#include "pv-volunteers.h"

/* The code in the newest message for @phone. */
static char *
code_for (PvStore *store, const char *phone)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *message = pv_outbox_newest (store, phone, &error);
  g_autoptr (GRegex) digits = g_regex_new ("\\b(\\d{6})\\b", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  g_assert_no_error (error);
  g_assert_true (g_regex_match (digits, message, 0, &match));
  return g_match_info_fetch (match, 1);
}

static gint64
count_rows (PvStore *store, const char *table)
{
  return test_query_int (store, "SELECT count(*) FROM %s", table);
}

static void
sign_in (PvStore *store, const char *phone, guint16 device)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  PvVolunteer volunteer = { 0 };

  g_assert_true (pv_volunteers_request_code (store, phone, &error));
  g_assert_no_error (error);
  code = code_for (store, phone);
  g_assert_true (pv_volunteers_verify_code (store, phone, code, device, &volunteer, &error));
  g_assert_no_error (error);
  g_assert_true (volunteer.active);
  pv_volunteer_clear (&volunteer);
}

static void
test_list_and_sign_ins (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = NULL, sign_ins = NULL;
  gint64 zara = 0, asha = 0;
  const PvVolunteer *v;
  const PvSignIn *s;

  g_assert_true (pv_volunteers_add (f->admin, "Zara", "98000 00001", PV_ROLE_GATE, &zara, &error));
  g_assert_true (pv_volunteers_add (f->admin, "asha", "+91 98765-43210", PV_ROLE_DESK, &asha, &error));
  g_assert_no_error (error);

  list = pv_volunteers_list (f->admin, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  /* By name, whatever the case. */
  v = &g_array_index (list, PvVolunteer, 0);
  g_assert_cmpstr (v->name, ==, "asha");
  g_assert_cmpstr (v->phone, ==, "+919876543210");
  g_assert_cmpint (v->role, ==, PV_ROLE_DESK);
  g_assert_true (v->active);
  g_assert_cmpint (v->added_at, ==, f->clock);
  g_assert_cmpint (v->last_sign_in_at, ==, 0);
  g_assert_null (v->last_sign_in_device_name);
  g_clear_pointer (&list, g_array_unref);

  /* Asha at the control room's device (1), then at a device nobody knows. */
  sign_in (f->admin, "9876543210", 1);
  f->clock += G_USEC_PER_SEC;
  sign_in (f->admin, "9800000001", 1);
  f->clock += G_USEC_PER_SEC;
  sign_in (f->admin, "9876543210", 42);

  list = pv_volunteers_list (f->admin, &error);
  g_assert_no_error (error);
  v = &g_array_index (list, PvVolunteer, 0);
  g_assert_cmpint (v->last_sign_in_at, ==, f->clock);
  g_assert_cmpuint (v->last_sign_in_device, ==, 42);
  g_assert_null (v->last_sign_in_device_name);
  v = &g_array_index (list, PvVolunteer, 1);
  g_assert_cmpstr (v->name, ==, "Zara");
  g_assert_cmpuint (v->last_sign_in_device, ==, 1);
  g_assert_cmpstr (v->last_sign_in_device_name, ==, "Control room");

  sign_ins = pv_volunteers_sign_ins (f->admin, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sign_ins->len, ==, 2);
  s = &g_array_index (sign_ins, PvSignIn, 0);
  g_assert_cmpint (s->volunteer_id, ==, asha);
  g_assert_cmpstr (s->phone, ==, "+919876543210");
  g_assert_cmpuint (s->device_id, ==, 42);
  g_assert_null (s->device_name);
  s = &g_array_index (sign_ins, PvSignIn, 1);
  g_assert_cmpint (s->volunteer_id, ==, zara);
  g_assert_cmpstr (s->name, ==, "Zara");
  g_assert_cmpstr (s->device_name, ==, "Control room");
  g_clear_pointer (&sign_ins, g_array_unref);
  sign_ins = pv_volunteers_sign_ins (f->admin, G_MAXUINT, &error);
  g_assert_cmpuint (sign_ins->len, ==, 3);
}

static void
test_deactivate (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  PvVolunteer volunteer = { 0 };
  gint64 id = 0, messages, deactivated_at;

  g_assert_true (pv_volunteers_add (f->admin, "Meera", "9800000001", PV_ROLE_GATE, &id, &error));
  g_assert_cmpint (pv_volunteers_find (f->admin, "+91 98000 00001", &error), ==, id);
  g_assert_no_error (error);

  /* A code is out when she is deactivated: it is refused, and spent. */
  g_assert_true (pv_volunteers_request_code (f->admin, "9800000001", &error));
  code = code_for (f->admin, "9800000001");
  g_assert_true (pv_volunteers_set_active (f->admin, id, FALSE, &error));
  g_assert_no_error (error);
  deactivated_at = test_query_int (f->admin, "SELECT deactivated_at FROM volunteers WHERE id = %" G_GINT64_FORMAT, id);
  g_assert_cmpint (deactivated_at, ==, f->clock);
  f->clock += G_USEC_PER_SEC;
  g_assert_true (pv_volunteers_set_active (f->admin, id, FALSE, &error));
  g_assert_cmpint (test_query_int (f->admin, "SELECT deactivated_at FROM volunteers"), ==, deactivated_at);
  g_assert_false (pv_volunteers_verify_code (f->admin, "9800000001", code, 1, &volunteer, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, "deactivated"));
  g_assert_null (volunteer.name);
  g_clear_error (&error);
  g_assert_cmpint (count_rows (f->admin, "volunteer_sign_ins"), ==, 0);
  /* Not counted as a guess. */
  g_assert_cmpint (test_query_int (f->admin, "SELECT failures FROM otps"), ==, 0);

  /* Asking again: the answer a stranger gets, and no message. */
  messages = count_rows (f->admin, "outbox");
  g_assert_true (pv_volunteers_request_code (f->admin, "9800000001", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->admin, "outbox"), ==, messages);

  /* Back again: a new code works. */
  g_assert_true (pv_volunteers_set_active (f->admin, id, TRUE, &error));
  g_assert_no_error (error);
  sign_in (f->admin, "9800000001", 1);
  g_assert_cmpint (count_rows (f->admin, "volunteer_sign_ins"), ==, 1);
}

/* The outbox lets sign-in codes past spent budgets: the mark is the
 * message's, which only pv_volunteers_request_code () sets, never the phone's. */
static void
test_sign_in_codes_marked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  gint64 id = 0;

  g_assert_true (pv_volunteers_add (f->admin, "Meera", "9800000001", PV_ROLE_GATE, &id, &error));
  g_assert_true (pv_volunteers_request_code (f->admin, "9800000001", &error));
  /* What anyone can have sent to her phone: a visitor's code, a text. */
  g_assert_true (pv_outbox_enqueue_code (f->admin, "sms", "+919800000001", "Your code is 123456", "123456", NULL,
                                         &error));
  g_assert_true (pv_outbox_enqueue (f->admin, "sms", "+919800000001", PV_OUTBOX_TEXT, "Hello", 0, 0, NULL, &error));
  g_assert_no_error (error);
  messages = pv_outbox_list (f->admin, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 3);
  /* The newest first: the text, the visitor's code, the sign-in code. */
  for (guint i = 0; i < messages->len; i++)
    {
      const PvOutboxMessage *m = messages->pdata[i];

      g_assert_cmpstr (m->recipient, ==, "+919800000001");
      g_assert_cmpint (m->sign_in, ==, i == 2);
    }
  g_assert_nonnull (strstr (((PvOutboxMessage *) messages->pdata[2])->body, "sign-in code"));
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;

  g_assert_true (pv_volunteers_add (f->admin, "Meera", "9800000001", PV_ROLE_GATE, &id, &error));
  g_assert_no_error (error);
  g_assert_true (pv_volunteers_set_active (f->admin, id, FALSE, &error));

  /* The phone is taken, deactivated or not. */
  g_assert_false (pv_volunteers_add (f->admin, "Meera 2", "+91 98000 00001", PV_ROLE_GATE, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (pv_volunteers_add (f->admin, "Hub", "9800000002", PV_ROLE_HUB, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_volunteers_add (f->admin, "  ", "9800000002", PV_ROLE_GATE, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_volunteers_set_active (f->admin, id + 1, TRUE, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (pv_volunteers_find (f->admin, "9800000002", &error), ==, 0);
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (pv_volunteers_find (f->admin, "12", &error), ==, 0);
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (count_rows (f->admin, "volunteers"), ==, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT deactivated_at IS NOT NULL FROM volunteers"), ==, 1);
}

/* A name too long is told in characters, as a person counts; nobody
 * is added. */
static void
test_name_too_long (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) name = g_string_new (NULL);
  g_autoptr (GArray) list = NULL;
  g_autoptr (GError) error = NULL;
  gint64 id = 0;

  for (guint i = 0; i < 33; i++)
    g_string_append (name, "क");
  g_assert_true (pv_volunteers_add (f->admin, name->str, "9800000001", PV_ROLE_GATE, &id, &error));
  g_assert_no_error (error);
  g_string_append (name, "क");
  g_assert_false (pv_volunteers_add (f->admin, name->str, "9800000002", PV_ROLE_GATE, &id, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "A volunteer’s name is at most 33 characters long: write a shorter form of it");
  list = pv_volunteers_list (f->admin, NULL);
  g_assert_cmpuint (list->len, ==, 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  TEST_ADD ("/volunteers/list-and-sign-ins", test_list_and_sign_ins);
  TEST_ADD ("/volunteers/deactivate", test_deactivate);
  TEST_ADD ("/volunteers/name-too-long", test_name_too_long);
  TEST_ADD ("/volunteers/sign-in-codes-marked", test_sign_in_codes_marked);
  TEST_ADD ("/volunteers/refused", test_refused);
  return g_test_run ();
}
