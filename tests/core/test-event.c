/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-event.c: building an event, validating what people type, the
 * configuration's round trip through GVariant and refusing broken ones. */
#include "pv-error.h"
#include "pv-event.h"

static PvEvent *
make_event (void)
{
  g_autoptr (GError) error = NULL;
  PvEvent *event = pv_event_new (7, "  National Book Fair ", "2026-12-05", 9, &error);

  g_assert_no_error (error);
  g_assert_true (pv_event_add_gate (event, "Gate 1", &error));
  g_assert_true (pv_event_add_gate (event, "Gate 2", &error));
  pv_event_add_default_categories (event);
  return event;
}

static void
test_defaults (void)
{
  g_autoptr (PvEvent) event = make_event ();
  const PvCategory *group = pv_event_find_category (event, "school GROUP");
  guint open, close;

  g_assert_cmpstr (pv_event_get_name (event), ==, "National Book Fair");
  g_assert_cmpstr (pv_event_get_timezone (event), ==, "Asia/Kolkata");
  g_assert_cmpuint (pv_event_get_categories (event)->len, ==, 4);
  g_assert_nonnull (group);
  g_assert_cmpuint (group->max_party, >, 1);
  g_assert_false (group->reentry);
  g_assert_cmpstr (pv_event_find_gate (event, "gate 2"), ==, "Gate 2");
  pv_event_get_hours (event, 8, &open, &close);
  g_assert_cmpuint (open, ==, 600);
  g_assert_cmpuint (close, ==, 1200);
  g_assert_true (pv_category_allows_gate (group, "Gate 1"));
}

static void
test_bad_input (void)
{
  g_autoptr (PvEvent) event = make_event ();
  const char *unknown[] = { "Gate 9", NULL };
  GError *error = NULL;
  guint minutes;
  int day;

  g_assert_null (pv_event_new (1, "", "2026-12-05", 3, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (pv_event_new (1, "X", "2026-02-30", 3, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (pv_event_new (1, "X", "2026-12-05", 0, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_event_set_timezone (event, "Mars/Olympus", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_event_set_hours (event, -1, 600, 600, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_event_add_gate (event, "GATE 1", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (pv_event_add_category (event, pv_category_new ("one-DAY", PV_VALIDITY_EVERY_DAY, 1, TRUE, NULL, 1), &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (pv_event_add_category (event, pv_category_new ("VIP", PV_VALIDITY_EVERY_DAY, 1, TRUE, unknown, 1), &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (pv_parse_clock_time ("25:00", &minutes, &error));
  g_clear_error (&error);
  g_assert_false (pv_parse_clock_time ("9:00", &minutes, &error));
  g_clear_error (&error);
  g_assert_true (pv_parse_clock_time ("24:00", &minutes, &error));
  g_assert_cmpuint (minutes, ==, 1440);
  g_assert_false (pv_event_parse_day (event, "2026-12-14", &day, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (pv_event_parse_day (event, "2026-12-13", &day, &error));
  g_assert_cmpint (day, ==, 8);
}

static void
test_round_trip (void)
{
  g_autoptr (PvEvent) event = make_event ();
  g_autoptr (PvEvent) copy = NULL;
  g_autoptr (GVariant) a = NULL, b = NULL;
  g_autoptr (GError) error = NULL;
  const char *gates[] = { "Gate 2", NULL };
  guint8 key[PV_PUBLIC_KEY_SIZE];

  for (guint i = 0; i < sizeof key; i++)
    key[i] = (guint8) i;
  pv_event_set_public_key (event, key);
  pv_event_set_venue (event, "Pragati Maidan, नई दिल्ली");
  pv_event_set_capacity (event, 40000);
  g_assert_true (pv_event_set_hours (event, 8, 600, 1080, &error));
  g_assert_true (pv_event_add_category (event, pv_category_new ("Press", PV_VALIDITY_ANY_ONE_DAY, 3, FALSE, gates, 2), &error));

  a = g_variant_ref_sink (pv_event_to_variant (event));
  copy = pv_event_new_from_variant (a, &error);
  g_assert_no_error (error);
  b = g_variant_ref_sink (pv_event_to_variant (copy));
  g_assert_true (g_variant_equal (a, b));
  g_assert_cmpuint (pv_event_find_category (copy, "Press")->id, ==, 5);
  g_assert_cmpstr (pv_event_find_category (copy, "Press")->gates[0], ==, "Gate 2");
}

static void
test_broken_variants (void)
{
  g_autoptr (PvEvent) event = make_event ();
  g_autoptr (GVariant) good = g_variant_ref_sink (pv_event_to_variant (event));
  static const char *const drop[] = { "id", "name", "hours", "categories", "public-key", "gates" };

  for (guint i = 0; i < G_N_ELEMENTS (drop); i++)
    {
      g_auto (GVariantDict) dict;
      g_autoptr (GVariant) broken = NULL;
      g_autoptr (GError) error = NULL;

      g_variant_dict_init (&dict, good);
      g_variant_dict_remove (&dict, drop[i]);
      broken = g_variant_ref_sink (g_variant_dict_end (&dict));
      g_assert_null (pv_event_new_from_variant (broken, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
    }
  {
    g_auto (GVariantDict) dict;
    g_autoptr (GVariant) broken = NULL;
    g_autoptr (GError) error = NULL;

    g_variant_dict_init (&dict, good);
    g_variant_dict_insert (&dict, "days", "u", 3); /* hours still for 9 */
    broken = g_variant_ref_sink (g_variant_dict_end (&dict));
    g_assert_null (pv_event_new_from_variant (broken, &error));
    g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) wrong = g_variant_ref_sink (g_variant_new_string ("event"));
    g_assert_null (pv_event_new_from_variant (wrong, &error));
    g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/event/defaults", test_defaults);
  g_test_add_func ("/event/bad-input", test_bad_input);
  g_test_add_func ("/event/round-trip", test_round_trip);
  g_test_add_func ("/event/broken-variants", test_broken_variants);
  return g_test_run ();
}
