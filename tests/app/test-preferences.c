/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-preferences.c: the checks the preferences window makes before it
 * writes a setting — addresses, peers, where to serve, the kiosk PIN —
 * so a typo never becomes a station's configuration. */
#include "config.h"

#include "pv-preferences.h"

static void
test_url (void)
{
  g_assert_null (pv_preferences_check_url (""));
  g_assert_null (pv_preferences_check_url ("https://hub.example:8443"));
  g_assert_null (pv_preferences_check_url ("http://192.168.1.2:8470/"));
  g_assert_nonnull (pv_preferences_check_url ("hub.example"));
  g_assert_nonnull (pv_preferences_check_url ("ftp://hub.example/"));
  g_assert_nonnull (pv_preferences_check_url ("http://"));
  g_assert_nonnull (pv_preferences_check_url ("https:// spaced"));
}

static void
test_peers (void)
{
  g_assert_null (pv_preferences_check_peers (""));
  g_assert_null (pv_preferences_check_peers ("http://10.0.0.2:8471, http://10.0.0.3:8471"));
  g_assert_nonnull (pv_preferences_check_peers ("http://10.0.0.2:8471, 10.0.0.3"));
}

static void
test_listen (void)
{
  g_assert_null (pv_preferences_check_listen ("127.0.0.1:0"));
  g_assert_null (pv_preferences_check_listen ("192.168.1.20:8471"));
  g_assert_nonnull (pv_preferences_check_listen ("192.168.1.20"));
  g_assert_nonnull (pv_preferences_check_listen (":x"));
}

static void
test_pin (void)
{
  g_assert_null (pv_preferences_check_pin (""));
  g_assert_null (pv_preferences_check_pin ("2468"));
  g_assert_null (pv_preferences_check_pin ("12345678"));
  g_assert_nonnull (pv_preferences_check_pin ("123"));
  g_assert_nonnull (pv_preferences_check_pin ("123456789"));
  g_assert_nonnull (pv_preferences_check_pin ("12a4"));
  g_assert_nonnull (pv_preferences_check_pin ("१२३४")); /* Devanagari digits: not on every keypad */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/preferences/url", test_url);
  g_test_add_func ("/preferences/peers", test_peers);
  g_test_add_func ("/preferences/listen", test_listen);
  g_test_add_func ("/preferences/pin", test_pin);
  return g_test_run ();
}
