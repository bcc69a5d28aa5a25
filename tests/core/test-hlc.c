/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-hlc.c: the hybrid logical clock follows wall time, never runs back,
 * and orders a received time stamp before anything written after it. */
#include "pv-hlc.h"

static void
test_follows_wall_time (void)
{
  PvHlc a = pv_hlc_tick (0, 1000 * 1000);
  PvHlc b = pv_hlc_tick (a, 2000 * 1000);

  g_assert_cmpint (pv_hlc_wall_ms (a), ==, 1000);
  g_assert_cmpint (pv_hlc_counter (a), ==, 0);
  g_assert_cmpint (pv_hlc_wall_ms (b), ==, 2000);
  g_assert_cmpuint (b, >, a);
}

static void
test_same_millisecond_and_backwards (void)
{
  PvHlc a = pv_hlc_tick (0, 5000 * 1000);
  PvHlc b = pv_hlc_tick (a, 5000 * 1000);
  PvHlc c = pv_hlc_tick (b, 1000 * 1000); /* clock set back */

  g_assert_cmpuint (b, ==, a + 1);
  g_assert_cmpuint (c, ==, b + 1);
  g_assert_cmpint (pv_hlc_wall_ms (c), ==, 5000);
  g_assert_cmpint (pv_hlc_counter (c), ==, 2);
}

static void
test_observe (void)
{
  /* A gate whose clock is a minute slow receives a record from a gate
   * whose clock is right: its next record still sorts after it. */
  PvHlc remote = pv_hlc_make (60000 + 10, 3);
  PvHlc local = pv_hlc_tick (0, 10 * 1000);
  PvHlc seen = pv_hlc_observe (local, remote, 11 * 1000);

  g_assert_cmpuint (seen, >, remote);
  g_assert_cmpuint (pv_hlc_tick (seen, 12 * 1000), >, seen);
  g_assert_cmpuint (pv_hlc_make (-5, 0), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hlc/follows-wall-time", test_follows_wall_time);
  g_test_add_func ("/hlc/same-millisecond-and-backwards", test_same_millisecond_and_backwards);
  g_test_add_func ("/hlc/observe", test_observe);
  return g_test_run ();
}
