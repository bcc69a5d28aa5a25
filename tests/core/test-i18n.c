/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-i18n.c: translations read per language, as the hub reads them for
 * each visitor — from the catalogue this build compiled from po/hi.po,
 * whatever the process's locale — and damaged catalogues refused. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "pv-i18n.h"

static void
test_lookup (void)
{
  /* The tests run in C.UTF-8: the process's own gettext says English. */
  g_assert_cmpstr (pv_i18n_lookup ("hi", NULL, "One-day"), ==, "एक दिन");
  g_assert_cmpstr (pv_i18n_lookup ("hi", "date", "Mon"), ==, "सोमवार");
  /* The same English in two contexts, two Hindi words. */
  g_assert_cmpstr (pv_i18n_lookup ("hi", "web form field", "Ticket"), ==, "टिकट का प्रकार");
  g_assert_cmpstr (pv_i18n_lookup ("hi", "web page", "Ticket"), ==, "टिकट");
  g_assert_cmpstr (pv_i18n_lookup ("en", "web page", "Ticket"), ==, "Ticket");
  g_assert_null (pv_i18n_lookup ("hi", NULL, "No such message in any catalogue"));
  g_assert_cmpstr (pv_i18n_translate ("hi", NULL, "No such message in any catalogue"), ==,
                   "No such message in any catalogue");
  /* The catalogue's header is not a message. */
  g_assert_null (pv_i18n_lookup ("hi", NULL, ""));
}

static void
test_missing_language (void)
{
  g_test_expect_message ("pravesh-core", G_LOG_LEVEL_WARNING, "No xx translations*");
  g_assert_null (pv_i18n_lookup ("xx", NULL, "One-day"));
  g_test_assert_expected_messages ();
  /* Said once, not at every message. */
  g_assert_cmpstr (pv_i18n_translate ("xx", NULL, "One-day"), ==, "One-day");
}

static GBytes *
real_catalogue (void)
{
  g_autofree char *path = g_build_filename (pv_i18n_locale_dir (), "hi", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  g_autoptr (GError) error = NULL;
  char *data;
  gsize size;

  g_assert_true (g_file_get_contents (path, &data, &size, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, size);
}

static void
test_damaged (void)
{
  g_autoptr (GBytes) real = real_catalogue ();
  gsize size;
  const guint8 *data = g_bytes_get_data (real, &size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) text = g_bytes_new_static ("msgid \"One-day\"\nmsgstr \"x\"\n", 28);
  g_autofree guint8 *copy = g_memdup2 (data, size);
  guint n_refused = 0;

  g_assert_true (pv_i18n_check_catalogue (real, &error));
  g_assert_no_error (error);

  g_assert_false (pv_i18n_check_catalogue (text, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "Not a compiled translation catalogue"));
  g_clear_error (&error);

  /* Cut short anywhere: refused in words, never read past its end. */
  for (gsize cut = 0; cut < size; cut += 1 + cut / 16)
    {
      g_autoptr (GBytes) part = g_bytes_new (data, cut);

      if (!pv_i18n_check_catalogue (part, &error))
        {
          g_assert_nonnull (error);
          g_assert_cmpuint (strlen (error->message), >, 10);
          n_refused++;
        }
      g_clear_error (&error);
    }
  g_assert_cmpuint (n_refused, >, 0);

  /* An offset that points beyond the file. */
  memset (copy + 16, 0xff, 4);
  {
    g_autoptr (GBytes) bad = g_bytes_new_static (copy, size);

    g_assert_false (pv_i18n_check_catalogue (bad, &error));
    g_assert_nonnull (strstr (error->message, "damaged"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/i18n/lookup", test_lookup);
  g_test_add_func ("/i18n/missing-language", test_missing_language);
  g_test_add_func ("/i18n/damaged", test_damaged);
  return g_test_run ();
}
