/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-visitor-codes.c: the one-time codes by which a visitor finds their
 * tickets again — a code only for a phone that holds tickets, yet the same
 * answer and the same limits for any phone; one look per code, five
 * minutes; requests limited per phone; wrong guesses counted against the
 * code sent alone (none written when there is none, the code spent after
 * too many, the phone never locked out, so a stranger cannot lock out its
 * owner); only a digest kept; bad phones refused with nothing written. */
#include <string.h>

#include "channels-test-util.h"
#include "pv-visitor-codes.h"

#define ASHA "+91 98765-43210"

static void
issue_to (PvStore *store, const char *phone)
{
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = "Season pass", .day = -1, .name = "Asha", .phone = phone, .channel = "web" };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);

  g_assert_no_error (error);
  g_assert_nonnull (issued);
}

static char *
request_code (PvStore *store, const char *phone)
{
  g_autoptr (GError) error = NULL;
  char code[PV_VISITOR_CODE_DIGITS + 1];
  gint64 retry_at = -1;

  g_assert_true (pv_visitor_code_request (store, phone, code, &retry_at, &error));
  g_assert_no_error (error);
  g_assert_cmpint (retry_at, ==, 0);
  return g_strdup (code);
}

static gint64
rows (PvStore *store)
{
  return test_query_int (store, "SELECT count(*) FROM visitor_codes");
}

static void
test_code_works_once (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL, *stranger = NULL, *wrong = NULL;

  issue_to (f->admin, ASHA);
  code = request_code (f->admin, "9876543210");
  g_assert_cmpuint (strlen (code), ==, PV_VISITOR_CODE_DIGITS);
  g_assert_true (g_ascii_isdigit (code[0]) && g_ascii_isdigit (code[5]));
  /* Only a digest is kept. */
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM visitor_codes WHERE phone = '+919876543210' "
                                             "AND length(code_digest) = 32 AND length(salt) = 16"),
                   ==, 1);

  /* A phone with no tickets: the same answer, no code. */
  stranger = request_code (f->admin, "9800000001");
  g_assert_cmpstr (stranger, ==, "");
  g_assert_false (pv_visitor_code_verify (f->admin, "9800000001", "000000", NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);

  /* Right, written another way: accepted once. */
  wrong = g_strdup (code);
  wrong[0] = wrong[0] == '9' ? '0' : wrong[0] + 1;
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, wrong, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
  g_assert_true (pv_visitor_code_verify (f->admin, "+919876543210", code, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, code, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
  /* A success clears the count of wrong guesses before it; a guess at the
   * spent code counts nowhere. */
  g_assert_cmpint (test_query_int (f->admin, "SELECT failures FROM visitor_codes WHERE phone = '+919876543210'"), ==,
                   0);

  /* Five minutes, no more. */
  g_clear_pointer (&code, g_free);
  code = request_code (f->admin, ASHA);
  f->clock += PV_VISITOR_CODE_LIFETIME;
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, code, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
}

static void
test_limits (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  char none[PV_VISITOR_CODE_DIGITS + 1];
  gint64 retry_at = 0;

  issue_to (f->admin, ASHA);
  /* Requests per phone, for a stranger as for Asha. */
  for (const char *const *phone = (const char *const[]){ ASHA, "9800000001", NULL }; *phone; phone++)
    {
      for (int i = 0; i < PV_VISITOR_CODE_REQUESTS; i++)
        g_free (request_code (f->admin, *phone));
      g_assert_false (pv_visitor_code_request (f->admin, *phone, none, &retry_at, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
      g_assert_cmpstr (none, ==, "");
      g_assert_cmpint (retry_at, ==, f->clock + PV_VISITOR_CODE_WINDOW);
      g_clear_error (&error);
    }
  f->clock += PV_VISITOR_CODE_WINDOW;
  code = request_code (f->admin, ASHA);

  /* Guesses at a phone with no code live — never asked for, or expired —
   * count nowhere and write nothing: they cannot lock its owner out. */
  for (int i = 0; i < 3 * PV_VISITOR_CODE_FAILURES; i++)
    {
      g_assert_false (pv_visitor_code_verify (f->admin, "9800000003", "123456", &retry_at, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
      g_assert_cmpint (retry_at, ==, 0);
      g_clear_error (&error);
    }
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM visitor_codes WHERE phone = '+919800000003'"), ==,
                   0);

  /* Against a live code they count; one short of the limit, the right
   * code still works. */
  for (int i = 0; i < PV_VISITOR_CODE_FAILURES - 1; i++)
    {
      g_assert_false (pv_visitor_code_verify (f->admin, ASHA, "12345", &retry_at, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
      g_assert_cmpint (retry_at, ==, 0);
      g_clear_error (&error);
    }
  g_assert_true (pv_visitor_code_verify (f->admin, ASHA, code, NULL, &error));
  g_assert_no_error (error);

  /* At the limit the code is spent — the right one no longer works —, but
   * the phone is not locked out: a new code works at once, its count of
   * wrong guesses its own. */
  g_clear_pointer (&code, g_free);
  code = request_code (f->admin, ASHA);
  for (int i = 0; i < PV_VISITOR_CODE_FAILURES; i++)
    {
      g_assert_false (pv_visitor_code_verify (f->admin, ASHA, "12345", &retry_at, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
      g_assert_cmpint (retry_at, ==, 0);
      g_clear_error (&error);
    }
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, code, &retry_at, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
  g_clear_pointer (&code, g_free);
  code = request_code (f->admin, ASHA);
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, "12345", NULL, &error));
  g_clear_error (&error);
  g_assert_true (pv_visitor_code_verify (f->admin, ASHA, code, NULL, &error));
  g_assert_no_error (error);

  /* An expired code takes no more guesses either. */
  g_clear_pointer (&code, g_free);
  f->clock += PV_VISITOR_CODE_WINDOW;
  code = request_code (f->admin, ASHA);
  f->clock += PV_VISITOR_CODE_LIFETIME;
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, "12345", NULL, &error));
  g_clear_error (&error);
  g_assert_cmpint (test_query_int (f->admin, "SELECT failures FROM visitor_codes WHERE phone = '+919876543210'"), ==,
                   0);

  /* Rows that hold nothing any more are forgotten: the stranger's went a
   * window after its requests, Asha's go a window after her last one. */
  g_assert_cmpint (rows (f->admin), ==, 1);
  f->clock += PV_VISITOR_CODE_WINDOW;
  g_free (request_code (f->admin, "9800000002"));
  g_assert_cmpint (rows (f->admin), ==, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM visitor_codes WHERE phone = '+919800000002'"), ==,
                   1);
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  char code[PV_VISITOR_CODE_DIGITS + 1];

  issue_to (f->admin, ASHA);
  g_assert_false (pv_visitor_code_request (f->admin, "12", code, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_visitor_code_request (f->admin, "<script>", code, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_visitor_code_request (f->admin, NULL, code, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_visitor_code_verify (f->admin, "", "123456", NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (rows (f->admin), ==, 0);
  g_assert_false (pv_store_in_transaction (f->admin));

  /* A code the caller sends in its own transaction, which it may abandon:
   * then nothing was written. */
  g_assert_true (pv_store_begin (f->admin, TRUE, &error));
  g_assert_true (pv_visitor_code_request (f->admin, ASHA, code, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (code), ==, PV_VISITOR_CODE_DIGITS);
  g_assert_true (pv_store_in_transaction (f->admin));
  pv_store_rollback (f->admin);
  g_assert_cmpint (rows (f->admin), ==, 0);
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, code, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
  g_assert_false (pv_visitor_code_verify (f->admin, ASHA, NULL, NULL, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_clear_error (&error);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  TEST_ADD ("/visitor-codes/works-once", test_code_works_once);
  TEST_ADD ("/visitor-codes/limits", test_limits);
  TEST_ADD ("/visitor-codes/refused", test_refused);
  return g_test_run ();
}
