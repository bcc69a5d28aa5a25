/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-pairing.c: pairing codes and the hub's invitations — a code that
 * names the gate its station stands at carries it whole, codes made before
 * gates were carried still read, a gate the event lacks (or one for a desk)
 * is refused in words with no invitation stored, and a replica keeps its
 * own gate, refusing one its event has not. */
#include <string.h>

#include "pv-base45.h"
#include "pv-pairing.h"
#include "test-util.h"

#define HUB_URL "http://10.0.0.2:8470/"

static gint64
count_invites (PvStore *store)
{
  return test_query_int (store, "SELECT count(*) FROM invites");
}

static void
test_gate_carried (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  PvPairingCode code = { 0 }, read = { 0 };
  guint8 fingerprint[PV_FINGERPRINT_SIZE];

  memset (fingerprint, 0xab, sizeof fingerprint);
  /* Typed as a person might: the event's spelling is what travels. */
  g_assert_true (pv_invite_create (f->admin, PV_ROLE_GATE, "Gate 2 laptop", " gate 2", PV_INVITE_LIFETIME,
                                   "https://10.0.0.2:8470/", fingerprint, &code, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (code.gate, ==, "Gate 2");
  text = pv_pairing_code_format (&code);
  g_assert_true (g_str_has_prefix (text, PV_PAIRING_PREFIX));

  g_assert_true (pv_pairing_code_parse (text, &read, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (read.gate, ==, "Gate 2");
  g_assert_cmpstr (read.url, ==, "https://10.0.0.2:8470/");
  g_assert_true (read.pinned);
  g_assert_cmpmem (read.fingerprint, sizeof read.fingerprint, fingerprint, sizeof fingerprint);
  g_assert_cmpmem (read.secret, sizeof read.secret, code.secret, sizeof code.secret);
  pv_pairing_code_clear (&read);
  pv_pairing_code_clear (&code);

  /* Without a gate the code is as it always was. */
  g_assert_true (pv_invite_create (f->admin, PV_ROLE_DESK, "Desk 1", NULL, PV_INVITE_LIFETIME, HUB_URL, NULL, &code,
                                   &error));
  g_free (text);
  text = pv_pairing_code_format (&code);
  g_assert_true (pv_pairing_code_parse (text, &read, &error));
  g_assert_null (read.gate);
  g_assert_cmpstr (read.url, ==, HUB_URL);
  pv_pairing_code_clear (&read);
  pv_pairing_code_clear (&code);
  g_assert_cmpint (count_invites (f->admin), ==, 2);
}

/* A code laid out as before gates were carried: version 1, flags 0, the
 * secret, the URL. Devices given one still pair, and ask for their gate. */
static void
test_old_code (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree char *body = NULL, *text = NULL;
  guint8 head[2] = { 1, 0 }, secret[PV_PAIRING_SECRET_SIZE];
  PvPairingCode read = { 0 };

  memset (secret, 0x5a, sizeof secret);
  g_byte_array_append (bytes, head, sizeof head);
  g_byte_array_append (bytes, secret, sizeof secret);
  g_byte_array_append (bytes, (const guint8 *) HUB_URL, strlen (HUB_URL));
  body = pv_base45_encode (bytes->data, bytes->len);
  text = g_strconcat (PV_PAIRING_PREFIX, body, NULL);
  g_assert_true (pv_pairing_code_parse (text, &read, &error));
  g_assert_no_error (error);
  g_assert_null (read.gate);
  g_assert_false (read.pinned);
  g_assert_cmpstr (read.url, ==, HUB_URL);
  g_assert_cmpmem (read.secret, sizeof read.secret, secret, sizeof secret);
  pv_pairing_code_clear (&read);

  /* The gate flag with a gate that runs past the code: refused. */
  head[1] = 2;
  g_byte_array_set_size (bytes, 0);
  g_byte_array_append (bytes, head, sizeof head);
  g_byte_array_append (bytes, secret, sizeof secret);
  g_byte_array_append (bytes, (const guint8[]){ 200 }, 1);
  g_byte_array_append (bytes, (const guint8 *) HUB_URL, strlen (HUB_URL));
  g_free (body);
  g_free (text);
  body = pv_base45_encode (bytes->data, bytes->len);
  text = g_strconcat (PV_PAIRING_PREFIX, body, NULL);
  g_assert_false (pv_pairing_code_parse (text, &read, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_assert_null (read.gate);
  g_assert_null (read.url);
}

static void
test_bad_gate (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PvPairingCode code = { 0 };

  g_assert_false (pv_invite_create (f->admin, PV_ROLE_GATE, "Gate 9 laptop", "Gate 9", PV_INVITE_LIFETIME, HUB_URL,
                                    NULL, &code, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "There is no gate “Gate 9”; the event has Gate 1, Gate 2, Gate 3");
  g_assert_null (code.url);
  g_clear_error (&error);

  g_assert_false (pv_invite_create (f->admin, PV_ROLE_DESK, "Desk 1", "Gate 1", PV_INVITE_LIFETIME, HUB_URL, NULL,
                                    &code, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "A desk stands at no gate"));
  g_clear_error (&error);

  g_assert_false (pv_invite_create (f->admin, PV_ROLE_GATE, "Gate laptop", "", PV_INVITE_LIFETIME, HUB_URL, NULL,
                                    &code, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_assert_cmpint (count_invites (f->admin), ==, 0);
}

/* The replica's own gate: kept as the event spells it, a wrong one refused
 * with nothing changed. */
static void
test_station_gate (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-a", &f->clock);
  g_autofree char *known = NULL, *after = NULL;

  g_assert_null (pv_devices_dup_gate (gate));
  g_assert_true (pv_devices_set_gate (gate, "GATE 3", &error));
  g_assert_no_error (error);
  known = pv_devices_dup_gate (gate);
  g_assert_cmpstr (known, ==, "Gate 3");

  g_assert_false (pv_devices_set_gate (gate, "Hall 7", &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "There is no gate “Hall 7”; the event has Gate 1, Gate 2, Gate 3");
  after = pv_devices_dup_gate (gate);
  g_assert_cmpstr (after, ==, "Gate 3");
  /* Each replica its own: the admin's knows none. */
  g_assert_null (pv_devices_dup_gate (f->admin));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  TEST_ADD ("/pairing/gate-carried", test_gate_carried);
  TEST_ADD ("/pairing/old-code", test_old_code);
  TEST_ADD ("/pairing/bad-gate", test_bad_gate);
  TEST_ADD ("/pairing/station-gate", test_station_gate);
  return g_test_run ();
}
