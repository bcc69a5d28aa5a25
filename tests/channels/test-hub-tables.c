/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-hub-tables.c: the hub's own tables are in the hub's store alone. A
 * new gate or desk replica holds none of them; pv_channels_prepare_store ()
 * makes them; and a store made when core's migrations made them in every
 * replica, at any step of the way, is recognised, keeps its rows, and ends
 * with the same schema as a new hub's. */
#include "config.h"

#include <string.h>

#include "channels-test-util.h"
#include "pv-channels-migrations.h"

/* Every table, index and trigger the channels' migrations make. */
static const char *const hub_objects[] = {
  "volunteers",
  "otps",
  "outbox",
  "outbox_recipient",
  "volunteer_sign_ins",
  "volunteer_sign_ins_at",
  "volunteer_sign_ins_volunteer",
  "outbox_due",
  "outbox_status",
  "outbox_provider",
  "outbox_delivery",
  "outbox_delivery_status",
  "visitor_codes",
  "whatsapp_conversations",
  "whatsapp_inbox",
  "whatsapp_seen",
  "whatsapp_seen_at",
  "outbox_counts",
  "outbox_counts_insert",
  "outbox_counts_delete",
  "outbox_counts_update",
  "outbox_spend",
};

#define MIGRATIONS "/in/pravesh/channels-migrations"

static gint64
count_hub_objects (PvStore *store)
{
  gint64 n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (hub_objects); i++)
    n += test_query_int (store, "SELECT count(*) FROM sqlite_master WHERE name = '%s'", hub_objects[i]);
  return n;
}

/* The schema as `sqlite3 FILE .schema` shows it, in a fixed order. */
static char *
dup_schema (PvStore *store)
{
  GString *schema = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (pv_store_get_db (store),
                                       "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name", -1,
                                       &stmt, NULL),
                   ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (schema, "%s;\n", sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return g_string_free (schema, FALSE);
}

static void
test_stations_have_none (Fixture *f, gconstpointer data)
{
  gint64 gate_clock = f->clock, desk_clock = f->clock;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  g_autoptr (PvStore) desk = test_add_device (f->admin, f->dir, PV_ROLE_DESK, "desk-1", &desk_clock);

  /* Nor has the admin store before a hub (or a command on the hub's
   * tables) prepares it. */
  g_assert_cmpint (count_hub_objects (f->admin), ==, 0);
  g_assert_cmpint (count_hub_objects (gate), ==, 0);
  g_assert_cmpint (count_hub_objects (desk), ==, 0);
  g_assert_cmpint (pv_store_get_meta_int (gate, "channels-schema-version", -1), ==, -1);
  /* What every station needs stays in core. */
  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                         "('deliveries', 'device_contacts', 'invites')"),
                   ==, 3);
}

static void
test_hub_has_all (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;

  g_assert_true (pv_channels_prepare_store (f->admin, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_hub_objects (f->admin), ==, G_N_ELEMENTS (hub_objects));
  g_assert_cmpint (pv_store_get_meta_int (f->admin, "channels-schema-version", -1), ==, 6);
  g_assert_cmpint (test_query_int (f->admin, "SELECT count(*) FROM outbox_counts WHERE n = 0"), ==, 7);
  /* Again: nothing to do. */
  before = dup_schema (f->admin);
  g_assert_true (pv_channels_prepare_store (f->admin, &error));
  g_assert_no_error (error);
  after = dup_schema (f->admin);
  g_assert_cmpstr (before, ==, after);
}

/* A store from a newer program is refused, not written to. */
static void
test_newer_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (pv_store_set_meta_int (f->admin, "channels-schema-version", 7, &error));
  g_assert_false (pv_channels_prepare_store (f->admin, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_STORE);
  g_assert_cmpint (count_hub_objects (f->admin), ==, 0);
}

/* Runs the first @n channels migrations as core's 0008 to 0015 ran the
 * same statements: into any store, with no version of their own. */
static void
make_tables_as_core_did (PvStore *store, guint n)
{
  GResource *resource = pv_channels_migrations_get_resource ();
  g_auto (GStrv) names = g_resource_enumerate_children (resource, MIGRATIONS, 0, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (names);
  g_assert_cmpuint (g_strv_length (names), ==, 6);
  for (guint i = 1; i <= n; i++)
    for (guint k = 0; names[k]; k++)
      if ((guint) atoi (names[k]) == i)
        {
          g_autofree char *path = g_strconcat (MIGRATIONS "/", names[k], NULL);
          g_autoptr (GBytes) sql = g_resource_lookup_data (resource, path, 0, &error);

          g_assert_no_error (error);
          g_assert_true (pv_store_exec (store, g_bytes_get_data (sql, NULL), &error));
          g_assert_no_error (error);
        }
}

static void
test_older_stores_adopted (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fresh = NULL;

  g_assert_true (pv_channels_prepare_store (f->admin, &error));
  g_assert_no_error (error);
  fresh = dup_schema (f->admin);

  for (guint step = 1; step <= 6; step++)
    {
      g_autofree char *name = g_strdup_printf ("old-%u.db", step);
      g_autofree char *schema = NULL;
      g_autoptr (PvStore) old = test_open (f->dir, name, &f->clock);

      make_tables_as_core_did (old, step);
      g_assert_true (pv_store_exec (old,
                                    "INSERT INTO volunteers (id, name, phone, role, added_at) "
                                    "VALUES (1, 'Asha', '+919800000001', 'desk', 1);"
                                    "INSERT INTO outbox (channel, recipient, body, created_at) "
                                    "VALUES ('sms', '+919800000001', 'Your code is 123456', 1);",
                                    &error));
      g_assert_no_error (error);
      g_assert_true (pv_channels_prepare_store (old, &error));
      g_assert_no_error (error);
      g_assert_cmpint (pv_store_get_meta_int (old, "channels-schema-version", -1), ==, 6);
      schema = dup_schema (old);
      g_assert_cmpstr (schema, ==, fresh);
      g_assert_cmpint (test_query_int (old, "SELECT count(*) FROM volunteers WHERE name = 'Asha'"), ==, 1);
      g_assert_cmpint (test_query_int (old, "SELECT count(*) FROM outbox"), ==, 1);
      g_assert_cmpint (test_query_int (old, "SELECT sum(n) FROM outbox_counts"), ==, 1);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/hub-tables/stations-have-none", Fixture, NULL, fixture_setup, test_stations_have_none,
              fixture_teardown);
  g_test_add ("/hub-tables/hub-has-all", Fixture, NULL, fixture_setup, test_hub_has_all, fixture_teardown);
  g_test_add ("/hub-tables/newer-refused", Fixture, NULL, fixture_setup, test_newer_refused, fixture_teardown);
  g_test_add ("/hub-tables/older-stores-adopted", Fixture, NULL, fixture_setup, test_older_stores_adopted,
              fixture_teardown);
  return g_test_run ();
}
