/* SPDX-License-Identifier: GPL-3.0-or-later */
/* channels-test-util.h: the core tests' fixtures (test-util.h) for the
 * channels' tests: the admin store is the hub's, so it gets the hub's
 * tables as pravesh-hub gives them to its store. */
#pragma once

#include "pv-channels.h"
#include "test-util.h"

/* Opens an existing hub store again, as pravesh-hub does. */
static inline PvStore *
test_open_hub (const char *dir, const char *name, gint64 *clock)
{
  g_autoptr (GError) error = NULL;
  PvStore *store = test_open (dir, name, clock);

  g_assert_true (pv_channels_prepare_store (store, &error));
  g_assert_no_error (error);
  return store;
}

static inline void
hub_fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture_setup (f, data);
  g_assert_true (pv_channels_prepare_store (f->admin, &error));
  g_assert_no_error (error);
}

#undef TEST_ADD
/* Registers a test that runs in a Fixture whose admin store is a hub's. */
#define TEST_ADD(path, func) g_test_add (path, Fixture, NULL, hub_fixture_setup, func, fixture_teardown)
