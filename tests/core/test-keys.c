/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-keys.c: device roles, key pairs and device certificates. A certificate
 * is what lets a gate trust a desk it has never met, so every field must be
 * covered by the signature and a certificate arriving from another replica
 * must be refused unless it is well formed. */
#include <string.h>

#include "pv-error.h"
#include "pv-keys.h"

typedef struct
{
  guint8 event_pk[PV_PUBLIC_KEY_SIZE];
  guint8 event_sk[PV_SECRET_KEY_SIZE];
  guint8 device_pk[PV_PUBLIC_KEY_SIZE];
  guint8 device_sk[PV_SECRET_KEY_SIZE];
} Keys;

static void
keys_init (Keys *keys)
{
  pv_keypair_generate (keys->event_pk, keys->event_sk);
  pv_keypair_generate (keys->device_pk, keys->device_sk);
}

static PvDeviceCert *
make_signed_cert (const Keys *keys)
{
  PvDeviceCert *cert;

  cert = pv_device_cert_new (0xA1B2C3D4, 7, PV_ROLE_DESK, "Desk 2 — गेट",
                             G_GINT64_CONSTANT (1700000000000000),
                             G_GINT64_CONSTANT (1700864000000000),
                             keys->device_pk);
  pv_device_cert_sign (cert, keys->event_sk);

  return cert;
}

static void
test_roles (void)
{
  static const struct
  {
    PvRole role;
    const char *name;
    gboolean can_issue;
  } cases[] = {
    { PV_ROLE_GATE, "gate", FALSE },
    { PV_ROLE_DESK, "desk", TRUE },
    { PV_ROLE_ADMIN, "admin", TRUE },
    { PV_ROLE_HUB, "hub", TRUE },
  };
  static const char *const bad[] = { "", "Gate", "GATE", "gate ", " gate", "gat", "gates", "volunteer", "\xff" };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PvRole role = 0;

      g_assert_cmpstr (pv_role_to_string (cases[i].role), ==, cases[i].name);
      g_assert_true (pv_role_from_string (cases[i].name, &role, &error));
      g_assert_no_error (error);
      g_assert_cmpint (role, ==, cases[i].role);
      g_assert_cmpint (pv_role_can_issue (cases[i].role), ==, cases[i].can_issue);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      PvRole role = PV_ROLE_HUB;

      g_assert_false (pv_role_from_string (bad[i], &role, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_cmpint (role, ==, PV_ROLE_HUB);
    }

  g_assert_null (pv_role_to_string (0));
  g_assert_null (pv_role_to_string (5));
  g_assert_false (pv_role_can_issue (0));
}

static void
test_keypair (void)
{
  guint8 pk1[PV_PUBLIC_KEY_SIZE], sk1[PV_SECRET_KEY_SIZE];
  guint8 pk2[PV_PUBLIC_KEY_SIZE], sk2[PV_SECRET_KEY_SIZE];

  pv_keypair_generate (pk1, sk1);
  pv_keypair_generate (pk2, sk2);

  /* Two fresh key pairs are never equal; libsodium keeps the public key in
   * the second half of the secret one. */
  g_assert_true (memcmp (pk1, pk2, sizeof pk1) != 0);
  g_assert_cmpmem (sk1 + 32, 32, pk1, sizeof pk1);
  g_assert_cmpmem (sk2 + 32, 32, pk2, sizeof pk2);
}

static void
test_cert_sign_verify (void)
{
  Keys keys;
  g_autoptr (PvDeviceCert) cert = NULL;
  g_autoptr (PvDeviceCert) copy = NULL;
  g_autoptr (GError) error = NULL;

  keys_init (&keys);
  cert = make_signed_cert (&keys);

  g_assert_true (pv_device_cert_verify (cert, keys.event_pk, &error));
  g_assert_no_error (error);

  /* A copy is deep and verifies as well. */
  copy = pv_device_cert_copy (cert);
  g_assert_true (copy->name != cert->name);
  g_assert_cmpstr (copy->name, ==, cert->name);
  g_assert_true (pv_device_cert_verify (copy, keys.event_pk, NULL));

  /* The device's own key is not the event key. */
  g_assert_false (pv_device_cert_verify (cert, keys.device_pk, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_SIGNATURE);
}

static void
assert_cert_fails (const PvDeviceCert *cert,
                   const Keys *keys,
                   const char *what)
{
  g_autoptr (GError) error = NULL;

  if (pv_device_cert_verify (cert, keys->event_pk, &error))
    g_error ("Certificate still verifies after changing %s", what);
  g_assert_error (error, PV_ERROR, PV_ERROR_SIGNATURE);
}

static void
test_cert_every_field (void)
{
  Keys keys;
  g_autoptr (PvDeviceCert) cert = NULL;

  keys_init (&keys);
  cert = make_signed_cert (&keys);

/* clang-format off */
#define CHANGED(what, stmt) \
  G_STMT_START { \
    g_autoptr(PvDeviceCert) c = pv_device_cert_copy (cert); \
    stmt; \
    assert_cert_fails (c, &keys, what); \
  } G_STMT_END
  /* clang-format on */

  CHANGED ("event id", c->event_id ^= 1);
  CHANGED ("event id high byte", c->event_id ^= 0x80000000u);
  CHANGED ("device id", c->device_id ^= 1);
  CHANGED ("device id high byte", c->device_id ^= 0x8000);
  CHANGED ("role to gate", c->role = PV_ROLE_GATE);
  CHANGED ("role to admin", c->role = PV_ROLE_ADMIN);
  CHANGED ("role to hub", c->role = PV_ROLE_HUB);
  CHANGED ("name", c->name[0] ^= 1);
  CHANGED ("name truncated", c->name[strlen (c->name) - 1] = '\0');
  CHANGED ("name extended", { g_free (c->name); c->name = g_strconcat (cert->name, "x", NULL); });
  CHANGED ("name emptied", c->name[0] = '\0');
  CHANGED ("valid from", c->valid_from += 1);
  CHANGED ("valid from sign", c->valid_from = -c->valid_from);
  CHANGED ("valid until", c->valid_until += 1);
  CHANGED ("valid until high bits", c->valid_until ^= G_GINT64_CONSTANT (1) << 62);
  CHANGED ("valid from/until swapped", { gint64 t = c->valid_from; c->valid_from = c->valid_until; c->valid_until = t; });

  for (gsize i = 0; i < PV_PUBLIC_KEY_SIZE; i++)
    CHANGED ("public key", c->public_key[i] ^= 0x01);
  for (gsize i = 0; i < PV_SIGNATURE_SIZE; i++)
    CHANGED ("signature", c->signature[i] ^= 0x01);

#undef CHANGED
}

static void
test_cert_empty_name (void)
{
  Keys keys;
  g_autoptr (PvDeviceCert) a = NULL;
  g_autoptr (PvDeviceCert) b = NULL;

  keys_init (&keys);

  /* An empty name is a name like any other, and Ed25519 signs
   * deterministically, so the same fields give the same signature. */
  a = pv_device_cert_new (1, 2, PV_ROLE_GATE, "", 0, 0, keys.device_pk);
  b = pv_device_cert_new (1, 2, PV_ROLE_GATE, "", 0, 0, keys.device_pk);
  pv_device_cert_sign (a, keys.event_sk);
  pv_device_cert_sign (b, keys.event_sk);
  g_assert_true (pv_device_cert_verify (a, keys.event_pk, NULL));
  g_assert_cmpmem (a->signature, sizeof a->signature, b->signature, sizeof b->signature);

  /* A NUL-only difference cannot exist in a C string, but one control
   * byte must count. */
  g_free (b->name);
  b->name = g_strdup ("\x01");
  g_assert_false (pv_device_cert_verify (b, keys.event_pk, NULL));
}

static void
test_variant_round_trip (void)
{
  Keys keys;
  g_autoptr (PvDeviceCert) cert = NULL;
  g_autoptr (PvDeviceCert) back = NULL;
  g_autoptr (PvDeviceCert) back2 = NULL;
  g_autoptr (GVariant) variant = NULL;
  g_autoptr (GVariant) from_bytes = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  keys_init (&keys);
  cert = make_signed_cert (&keys);

  variant = g_variant_ref_sink (pv_device_cert_to_variant (cert));
  g_assert_cmpstr (g_variant_get_type_string (variant), ==, PV_DEVICE_CERT_VARIANT_TYPE);

  back = pv_device_cert_new_from_variant (variant, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpuint (back->event_id, ==, cert->event_id);
  g_assert_cmpuint (back->device_id, ==, cert->device_id);
  g_assert_cmpint (back->role, ==, cert->role);
  g_assert_cmpstr (back->name, ==, cert->name);
  g_assert_cmpint (back->valid_from, ==, cert->valid_from);
  g_assert_cmpint (back->valid_until, ==, cert->valid_until);
  g_assert_cmpmem (back->public_key, sizeof back->public_key, cert->public_key, sizeof cert->public_key);
  g_assert_cmpmem (back->signature, sizeof back->signature, cert->signature, sizeof cert->signature);
  g_assert_true (pv_device_cert_verify (back, keys.event_pk, NULL));

  /* Through the bytes that go into a ledger record and back, as another
   * replica would read them. */
  bytes = g_variant_get_data_as_bytes (variant);
  from_bytes = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (PV_DEVICE_CERT_VARIANT_TYPE),
                                                             bytes, FALSE));
  back2 = pv_device_cert_new_from_variant (from_bytes, &error);
  g_assert_no_error (error);
  g_assert_true (pv_device_cert_verify (back2, keys.event_pk, NULL));

  /* A floating variant is consumed, as by g_variant_get(). */
  g_clear_pointer (&back2, pv_device_cert_free);
  back2 = pv_device_cert_new_from_variant (pv_device_cert_to_variant (cert), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back2->name, ==, cert->name);
}

static void
assert_variant_rejected (GVariant *variant,
                         const char *message_part)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (variant);
  g_autoptr (GError) error = NULL;
  g_autoptr (PvDeviceCert) cert = NULL;

  cert = pv_device_cert_new_from_variant (owned, &error);
  g_assert_null (cert);
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  if (strstr (error->message, message_part) == NULL)
    g_error ("\"%s\" not in \"%s\"", message_part, error->message);
}

static GVariant *
make_variant (const char *role,
              gsize public_key_len,
              gsize signature_len)
{
  guint8 zeros[128] = { 0 };

  return g_variant_new ("(uqssxx@ay@ay)", 1, 2, role, "Gate 1",
                        G_GINT64_CONSTANT (0), G_GINT64_CONSTANT (1),
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, zeros, public_key_len, 1),
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, zeros, signature_len, 1));
}

static void
test_variant_malformed (void)
{
  g_autoptr (PvDeviceCert) ok = NULL;
  g_autoptr (GVariant) good = g_variant_ref_sink (make_variant ("gate", 32, 64));

  /* The builder itself makes a valid certificate... */
  ok = pv_device_cert_new_from_variant (good, NULL);
  g_assert_nonnull (ok);
  g_assert_cmpint (ok->role, ==, PV_ROLE_GATE);

  /* ...and each single fault breaks it. */
  assert_variant_rejected (make_variant ("gate", 31, 64), "public key of 31 bytes");
  assert_variant_rejected (make_variant ("gate", 33, 64), "public key of 33 bytes");
  assert_variant_rejected (make_variant ("gate", 0, 64), "public key of 0 bytes");
  assert_variant_rejected (make_variant ("gate", 32, 63), "signature of 63 bytes");
  assert_variant_rejected (make_variant ("gate", 32, 65), "signature of 65 bytes");
  assert_variant_rejected (make_variant ("gate", 32, 0), "signature of 0 bytes");
  assert_variant_rejected (make_variant ("Gate", 32, 64), "Unknown device role \"Gate\"");
  assert_variant_rejected (make_variant ("", 32, 64), "Unknown device role");
  assert_variant_rejected (make_variant ("root", 32, 64), "Unknown device role");
  assert_variant_rejected (g_variant_new ("(uqss)", 1, 2, "gate", "x"), "has type (uqss)");
  assert_variant_rejected (g_variant_new_string ("gate"), "has type s");
  assert_variant_rejected (g_variant_new ("(uussxxayay)", 1, 2, "gate", "x",
                                          G_GINT64_CONSTANT (0), G_GINT64_CONSTANT (0),
                                          NULL, NULL),
                           "expected " PV_DEVICE_CERT_VARIANT_TYPE);
}

static void
test_variant_garbage_bytes (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);

  /* Another replica may send anything. Whatever the bytes, parsing them as a
   * certificate must either work or fail cleanly, never crash. */
  for (guint round = 0; round < 2000; round++)
    {
      guint8 data[160];
      gsize len = g_rand_int_range (rand, 0, sizeof data + 1);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GVariant) variant = NULL;
      g_autoptr (PvDeviceCert) cert = NULL;
      g_autoptr (GError) error = NULL;

      for (gsize i = 0; i < len; i++)
        data[i] = g_rand_int_range (rand, 0, 256);

      bytes = g_bytes_new (data, len);
      variant = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (PV_DEVICE_CERT_VARIANT_TYPE),
                                                              bytes, FALSE));
      cert = pv_device_cert_new_from_variant (variant, &error);
      if (cert == NULL)
        g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
      else
        g_assert_nonnull (pv_role_to_string (cert->role));
    }
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  pv_crypto_init ();

  g_test_add_func ("/keys/roles", test_roles);
  g_test_add_func ("/keys/keypair", test_keypair);
  g_test_add_func ("/keys/cert/sign-verify", test_cert_sign_verify);
  g_test_add_func ("/keys/cert/every-field", test_cert_every_field);
  g_test_add_func ("/keys/cert/empty-name", test_cert_empty_name);
  g_test_add_func ("/keys/variant/round-trip", test_variant_round_trip);
  g_test_add_func ("/keys/variant/malformed", test_variant_malformed);
  g_test_add_func ("/keys/variant/garbage-bytes", test_variant_garbage_bytes);

  return g_test_run ();
}
