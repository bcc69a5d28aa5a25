/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-merge.c: the property that makes offline gates safe to merge. Random
 * ledgers are built on several simulated devices (desks issuing and asking
 * for tickets to be sent, gates admitting and letting out, partial merges
 * between random pairs while "offline"), then every replica merges with the
 * others in a random order. All of them must end with the same ledger
 * digest, the same derived state (counters, double entries, deliveries) and
 * the same list of double entries, equal to what a rebuild from the records
 * alone gives and to what a fresh replica fed the records in another order
 * gives. */
#include "test-util.h"

#define N_DESKS 2
#define N_GATES 3

typedef struct
{
  char *dir;
  gint64 clocks[1 + N_DESKS + N_GATES];
  PvStore *stores[1 + N_DESKS + N_GATES]; /* admin, desks, gates */
  GPtrArray *codes;
  guint deliveries; /* requests to send a ticket that were written */
} World;

static void
world_build (World *w, GRand *rand)
{
  static const char *const categories[] = { "One-day", "Season pass", "School group", "Exhibitor" };
  g_autoptr (GError) error = NULL;
  guint n = G_N_ELEMENTS (w->stores);

  w->dir = g_dir_make_tmp ("pv-merge-XXXXXX", NULL);
  w->codes = g_ptr_array_new_with_free_func (g_free);
  w->stores[0] = test_create_event (w->dir, &w->clocks[0]);
  for (guint i = 1; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u", i <= N_DESKS ? "desk" : "gate", i);
      w->clocks[i] = w->clocks[0];
      w->stores[i] = test_add_device (w->stores[0], w->dir,
                                      i <= N_DESKS ? PV_ROLE_DESK : PV_ROLE_GATE, name, &w->clocks[i]);
    }

  /* Days 0 and 1 of the fair, a step every few seconds; the clocks of the
   * devices drift up to a minute apart, as real ones do. */
  for (guint step = 0; step < 400; step++)
    {
      guint who = g_rand_int_range (rand, 0, (gint32) n);
      PvStore *store = w->stores[who];
      int day = step < 200 ? 0 : 1;
      gint64 base = test_time (w->stores[0], day, 10, 0) + (gint64) (step % 200) * 20 * G_USEC_PER_SEC;
      guint action = g_rand_int_range (rand, 0, 100);

      for (guint i = 0; i < n; i++)
        w->clocks[i] = base + g_rand_int_range (rand, -30, 30) * (gint64) G_USEC_PER_SEC;

      if (who <= N_DESKS && (action < 60 || w->codes->len < 5))
        {
          const char *category = categories[g_rand_int_range (rand, 0, G_N_ELEMENTS (categories))];
          gboolean chosen = g_str_equal (category, "One-day") || g_str_equal (category, "School group");
          PvIssueRequest request = {
            .category = category,
            .day = chosen ? g_rand_int_range (rand, 0, 2) : -1,
            .party = g_str_equal (category, "School group") ? g_rand_int_range (rand, 1, 60) : 1,
            .name = "Asha Verma",
            .phone = "98765 43210",
          };
          g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);
          g_assert_no_error (error);
          g_ptr_array_add (w->codes, g_strdup (((PvIssuedTicket *) issued->pdata[0])->code));
        }
      else if (who <= N_DESKS && action < 70)
        {
          /* "Send by WhatsApp": refused where this replica lacks the
           * ticket or its visitor's phone, as a desk volunteer would be. */
          const char *code = w->codes->pdata[g_rand_int_range (rand, 0, (gint32) w->codes->len)];
          PvTicket ticket;

          g_assert_true (pv_ticket_parse (code, -1, &ticket, NULL));
          if (pv_tickets_request_delivery (store, ticket.issuer, ticket.serial,
                                           g_rand_boolean (rand) ? PV_DELIVERY_WHATSAPP : PV_DELIVERY_SMS, &error))
            w->deliveries++;
          else
            g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
          g_clear_error (&error);
        }
      else if (action < 85 && w->codes->len > 0)
        {
          /* Any gate may see any ticket, including ones it has not heard of
           * and ones another gate admitted a moment ago. */
          const char *code = w->codes->pdata[g_rand_int_range (rand, 0, (gint32) w->codes->len)];
          g_autofree char *gate = g_strdup_printf ("Gate %d", g_rand_int_range (rand, 1, 4));
          test_scan (store, code, gate, w->clocks[who], g_rand_int_range (rand, 0, 5) == 0);
        }
      else
        {
          /* A moment of network: one replica pulls from another. */
          guint from = g_rand_int_range (rand, 0, (gint32) n);
          if (from != who)
            g_assert_true (pv_batch_merge (store, w->stores[from], NULL, &error));
          g_assert_no_error (error);
        }
    }
}

static void
world_free (World *w)
{
  for (guint i = 0; i < G_N_ELEMENTS (w->stores); i++)
    g_assert_finalize_object (w->stores[i]);
  g_ptr_array_unref (w->codes);
  test_rmdir (w->dir);
  g_free (w->dir);
}

static char *
doubles_text (PvStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) doubles = pv_stats_list_doubles (store, &error);
  GString *text = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < doubles->len; i++)
    {
      PvDoubleEntry *d = doubles->pdata[i];
      g_string_append_printf (text, "%s day %d %u/%" G_GUINT64_FORMAT " %s after %u %s\n", d->serial,
                              d->day, d->device_id, d->seq, d->gate, d->first_device_id, d->first_gate);
    }
  return g_string_free (text, FALSE);
}

static void
test_converges (gconstpointer data)
{
  guint32 seed = GPOINTER_TO_UINT (data) ^ g_test_rand_int ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = NULL, *state = NULL, *doubles = NULL;
  g_autoptr (PvStore) fresh = NULL;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  gint64 fresh_clock = 0;
  World w = { 0 };
  guint n = G_N_ELEMENTS (w.stores);

  g_test_message ("seed %u", seed);
  world_build (&w, rand);

  /* Two rounds of every replica pulling from every other, in random order:
   * after the first, every record has reached some replica that the second
   * round's pulls read from. */
  for (guint round = 0; round < 2; round++)
    {
      g_array_set_size (order, 0);
      for (guint i = 0; i < n * n; i++)
        g_array_append_val (order, i);
      for (guint i = order->len - 1; i > 0; i--)
        {
          guint j = g_rand_int_range (rand, 0, (gint32) i + 1);
          guint t = g_array_index (order, guint, i);
          g_array_index (order, guint, i) = g_array_index (order, guint, j);
          g_array_index (order, guint, j) = t;
        }
      for (guint k = 0; k < order->len; k++)
        {
          guint to = g_array_index (order, guint, k) / n, from = g_array_index (order, guint, k) % n;
          if (to != from)
            g_assert_true (pv_batch_merge (w.stores[to], w.stores[from], NULL, &error));
          g_assert_no_error (error);
        }
    }

  digest = test_digest (w.stores[0], FALSE);
  state = test_digest (w.stores[0], TRUE);
  doubles = doubles_text (w.stores[0]);
  g_test_message ("%" G_GUINT64_FORMAT " records, %u delivery requests, doubles:\n%s", pv_ledger_count (w.stores[0]),
                  w.deliveries, doubles);
  g_assert_cmpint (test_query_int (w.stores[0], "SELECT count(*) FROM deliveries"), ==, w.deliveries);
  for (guint i = 1; i < n; i++)
    {
      g_autofree char *d = test_digest (w.stores[i], FALSE);
      g_autofree char *s = test_digest (w.stores[i], TRUE);
      g_autofree char *x = doubles_text (w.stores[i]);
      g_assert_cmpstr (d, ==, digest);
      g_assert_cmpstr (s, ==, state);
      g_assert_cmpstr (x, ==, doubles);
    }

  /* The state is a function of the records alone. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *s = NULL;
      g_assert_true (pv_state_rebuild (w.stores[i], &error));
      g_assert_no_error (error);
      s = test_digest (w.stores[i], TRUE);
      g_assert_cmpstr (s, ==, state);
    }

  /* A new replica fed from the gates first, the admin last. */
  fresh = test_open (w.dir, "fresh.db", &fresh_clock);
  for (guint i = n; i-- > 0;)
    g_assert_true (pv_batch_merge (fresh, w.stores[i], NULL, &error));
  g_assert_no_error (error);
  {
    g_autofree char *d = test_digest (fresh, FALSE);
    g_autofree char *s = test_digest (fresh, TRUE);
    g_assert_cmpstr (d, ==, digest);
    g_assert_cmpstr (s, ==, state);
  }
  g_assert_finalize_object (g_steal_pointer (&fresh));
  world_free (&w);
}

static void
test_offline_double (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-merge-double-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) doubles = NULL;
  gint64 clock, c1, c2;
  g_autoptr (PvStore) admin = test_create_event (dir, &clock);
  g_autoptr (PvStore) g1 = NULL, g2 = NULL;
  g_autofree char *code = test_issue (admin, "One-day", 0, 1);
  PvDoubleEntry *d;
  PvStats stats;

  c1 = c2 = clock;
  g1 = test_add_device (admin, dir, PV_ROLE_GATE, "gate-1", &c1);
  g2 = test_add_device (admin, dir, PV_ROLE_GATE, "gate-2", &c2);
  g_assert_true (pv_batch_merge (g1, admin, NULL, &error));

  /* A shared screenshot, shown at two gates a second apart, network down.
   * Gate 2's clock is ahead, but its scan happened later in HLC order only
   * if it had seen gate 1's; it had not, so wall time decides. */
  c1 = test_time (admin, 0, 11, 0);
  c2 = c1 + G_USEC_PER_SEC;
  g_assert_cmpint (test_scan (g1, code, "Gate 1", c1, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (g2, code, "Gate 2", c2, FALSE), ==, PV_VERDICT_ADMIT);

  g_assert_true (pv_batch_merge (admin, g2, NULL, &error));
  g_assert_true (pv_batch_merge (admin, g1, NULL, &error));
  doubles = pv_stats_list_doubles (admin, &error);
  g_assert_cmpuint (doubles->len, ==, 1);
  d = doubles->pdata[0];
  g_assert_cmpstr (d->gate, ==, "Gate 2");
  g_assert_cmpstr (d->first_gate, ==, "Gate 1");
  g_assert_true (d->offline);
  g_assert_cmpint (d->day, ==, 0);
  g_assert_true (pv_stats_load (admin, c2, &stats, &error));
  g_assert_cmpint (stats.doubles_today, ==, 1);
  g_assert_cmpint (stats.entered_today, ==, 1);
  g_assert_cmpint (stats.entries_today, ==, 2);
  pv_stats_clear (&stats);

  /* Gate 1 now knows, and refuses the ticket a third time. */
  g_assert_true (pv_batch_merge (g1, admin, NULL, &error));
  g_assert_cmpint (test_scan (g1, code, "Gate 1", c2 + G_USEC_PER_SEC, FALSE), ==, PV_VERDICT_ALREADY_USED);

  g_assert_finalize_object (g_steal_pointer (&g1));
  g_assert_finalize_object (g_steal_pointer (&g2));
  g_assert_finalize_object (g_steal_pointer (&admin));
  test_rmdir (dir);
}

static void
test_gate_keeps_no_personal_data (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-merge-pii-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  gint64 clock, gc, dc;
  g_autoptr (PvStore) admin = test_create_event (dir, &clock);
  g_autoptr (PvStore) gate = NULL, desk = NULL;
  PvIssueRequest request = { .category = "Season pass", .day = -1, .name = "Ravi", .phone = "+91 98100 00000" };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (admin, &request, &error);
  PvMergeStats stats;
  sqlite3_stmt *stmt;

  gc = dc = clock;
  gate = test_add_device (admin, dir, PV_ROLE_GATE, "gate-1", &gc);
  desk = test_add_device (admin, dir, PV_ROLE_DESK, "desk-1", &dc);
  g_assert_true (pv_batch_merge (gate, admin, &stats, &error));
  g_assert_cmpuint (stats.people, ==, 0);
  stmt = pv_store_prepare (gate, "SELECT count(*) FROM people", NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
  sqlite3_reset (stmt);

  stmt = pv_store_prepare (desk, "SELECT name, phone FROM people", NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "Ravi");
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1), ==, "+919810000000");
  sqlite3_reset (stmt);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
  g_assert_finalize_object (g_steal_pointer (&admin));
  test_rmdir (dir);
}

/* Pulls from @from into @to in pages of @limit records, as sync does, and
 * checks every page: one head per author with records, at its last one. */
static guint
pull_pages (PvStore *to, PvStore *from, guint limit)
{
  g_autoptr (GError) error = NULL;
  guint pages = 0;

  for (;;)
    {
      g_autoptr (GHashTable) vector = pv_ledger_version_vector (to, &error);
      g_autoptr (GArray) people = pv_batch_people_wanted (to, 100, &error);
      g_autoptr (PvBatch) batch = pv_batch_collect (from, vector, limit, pv_replica_keeps_people (to), people, &error);
      g_autoptr (GHashTable) wanted = NULL;
      g_autoptr (GHashTable) last = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      PvMergeStats stats;

      g_assert_no_error (error);
      g_assert_nonnull (batch);
      for (guint i = 0; i < batch->records->len; i++)
        {
          const PvRecord *record = batch->records->pdata[i];
          g_hash_table_insert (last, GUINT_TO_POINTER (record->device_id), g_memdup2 (&record->seq, sizeof record->seq));
        }
      for (guint i = 0; i < batch->heads->len; i++)
        {
          const PvHead *head = &g_array_index (batch->heads, PvHead, i);
          guint64 *seq = g_hash_table_lookup (last, GUINT_TO_POINTER (head->device_id));

          if (seq != NULL)
            g_assert_cmpuint (head->seq, ==, *seq);
          g_hash_table_remove (last, GUINT_TO_POINTER (head->device_id));
        }
      g_assert_cmpuint (g_hash_table_size (last), ==, 0);
      g_assert_true (pv_batch_apply (to, batch, &stats, &wanted, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (stats.refused_authors, ==, 0);
      g_assert_cmpuint (g_hash_table_size (wanted), ==, 0);
      pages++;
      if (!batch->more)
        return pages;
      g_assert_cmpuint (stats.applied, >, 0);
    }
}

/* Records travel in small pages, and a replica relays another author's
 * records page by page up to heads that author signed: a gate that got the
 * admin's records in pages of 7 passes them on in pages of 3, and the
 * copies end equal, personal data included where the role allows it. */
static void
test_pages (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-pages-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  gint64 clock, gc, dc, ec;
  g_autoptr (PvStore) admin = test_create_event (dir, &clock);
  g_autoptr (PvStore) gate = NULL, desk = NULL, desk2 = NULL;
  PvIssueRequest request = { .category = "Season pass", .day = -1, .name = "Ravi", .phone = "+91 98100 00000" };
  g_autofree char *a = NULL, *b = NULL;
  g_autofree char *c = NULL, *d = NULL;

  gc = dc = ec = clock;
  gate = test_add_device (admin, dir, PV_ROLE_GATE, "gate-1", &gc);
  desk = test_add_device (admin, dir, PV_ROLE_DESK, "desk-1", &dc);
  desk2 = test_add_device (admin, dir, PV_ROLE_DESK, "desk-2", &ec);
  for (guint i = 0; i < 40; i++)
    {
      g_autoptr (GPtrArray) issued = pv_tickets_issue (i % 2 ? admin : desk, &request, &error);
      g_assert_no_error (error);
      clock += G_USEC_PER_SEC;
      dc += G_USEC_PER_SEC;
    }
  g_assert_cmpuint (pull_pages (admin, desk, 7), >, 2);
  g_assert_cmpuint (pull_pages (gate, admin, 7), >, 2);
  g_assert_cmpuint (pull_pages (desk2, gate, 3), >, 2);
  a = test_digest (admin, FALSE);
  b = test_digest (desk2, FALSE);
  g_assert_cmpstr (a, ==, b);
  c = test_digest (admin, TRUE);
  d = test_digest (desk2, TRUE);
  g_assert_cmpstr (c, ==, d);
  g_assert_cmpint (test_query_int (gate, "SELECT count(*) FROM people"), ==, 0);
  /* The gate had no names to pass on; the desk asks for them elsewhere. */
  g_assert_cmpint (test_query_int (desk2, "SELECT count(*) FROM people_wanted"), ==, 40);
  g_assert_cmpuint (pull_pages (desk2, admin, 5), ==, 1);
  g_assert_cmpint (test_query_int (desk2, "SELECT count(*) FROM people_wanted"), ==, 0);
  g_assert_cmpint (test_query_int (desk2, "SELECT count(*) FROM people WHERE name = 'Ravi'"), ==, 40);

  g_assert_finalize_object (g_steal_pointer (&gate));
  g_assert_finalize_object (g_steal_pointer (&desk));
  g_assert_finalize_object (g_steal_pointer (&desk2));
  g_assert_finalize_object (g_steal_pointer (&admin));
  test_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *path = g_strdup_printf ("/merge/converges/%u", i);
      g_test_add_data_func (path, GUINT_TO_POINTER (i * 7919u), test_converges);
    }
  g_test_add_func ("/merge/offline-double", test_offline_double);
  g_test_add_func ("/merge/gate-keeps-no-personal-data", test_gate_keeps_no_personal_data);
  g_test_add_func ("/merge/pages", test_pages);
  return g_test_run ();
}
