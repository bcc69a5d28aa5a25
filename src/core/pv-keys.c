/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-keys.c: device roles, Ed25519 key pairs and device certificates. A
 * certificate is the event key's signature over everything that describes a
 * device; it replicates through the ledger, so any gate can decide offline
 * whether a ticket's issuer was a genuine, issuing device of this event. */
#include "pv-keys.h"

#include <sodium.h>
#include <string.h>

#include "pv-error.h"

/* Separates certificate signatures from every other thing the event key
 * signs, so a signature made for one can never be replayed as the other. */
#define CERT_DOMAIN_TAG "PVC1"
#define CERT_DOMAIN_TAG_LEN 4

G_STATIC_ASSERT (PV_PUBLIC_KEY_SIZE == crypto_sign_PUBLICKEYBYTES);
G_STATIC_ASSERT (PV_SECRET_KEY_SIZE == crypto_sign_SECRETKEYBYTES);
G_STATIC_ASSERT (PV_SIGNATURE_SIZE == crypto_sign_BYTES);

static const struct
{
  PvRole role;
  const char *name;
} roles[] = {
  { PV_ROLE_GATE, "gate" },
  { PV_ROLE_DESK, "desk" },
  { PV_ROLE_ADMIN, "admin" },
  { PV_ROLE_HUB, "hub" },
};

/* Returns NULL for a value outside PvRole, which only a bug or corrupt
 * memory can produce. */
const char *
pv_role_to_string (PvRole role)
{
  for (gsize i = 0; i < G_N_ELEMENTS (roles); i++)
    if (roles[i].role == role)
      return roles[i].name;

  return NULL;
}

gboolean
pv_role_from_string (const char *text,
                     PvRole *out_role,
                     GError **error)
{
  g_autofree char *shown = NULL;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      if (strcmp (text, roles[i].name) == 0)
        {
          if (out_role != NULL)
            *out_role = roles[i].role;
          return TRUE;
        }
    }

  /* The text may come from a command line or another replica; never put
   * invalid UTF-8 into a message. */
  shown = g_utf8_make_valid (text, -1);
  g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
               "Unknown device role \"%s\": expected gate, desk, admin or hub",
               shown);
  return FALSE;
}

gboolean
pv_role_can_issue (PvRole role)
{
  return role == PV_ROLE_DESK || role == PV_ROLE_ADMIN || role == PV_ROLE_HUB;
}

void
pv_crypto_init (void)
{
  /* Returns 1 when already initialised, which is fine: callers need not
   * coordinate who goes first. */
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised; cannot sign or verify anything");
}

void
pv_keypair_generate (guint8 public_key[PV_PUBLIC_KEY_SIZE],
                     guint8 secret_key[PV_SECRET_KEY_SIZE])
{
  g_return_if_fail (public_key != NULL);
  g_return_if_fail (secret_key != NULL);

  /* Key generation needs the random source set up; it is rare enough that
   * making sure here costs nothing. */
  pv_crypto_init ();
  crypto_sign_keypair (public_key, secret_key);
}

PvDeviceCert *
pv_device_cert_new (guint32 event_id,
                    guint16 device_id,
                    PvRole role,
                    const char *name,
                    gint64 valid_from,
                    gint64 valid_until,
                    const guint8 public_key[PV_PUBLIC_KEY_SIZE])
{
  PvDeviceCert *cert;

  g_return_val_if_fail (pv_role_to_string (role) != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  /* The name travels as a GVariant string, which must be UTF-8. */
  g_return_val_if_fail (g_utf8_validate (name, -1, NULL), NULL);
  g_return_val_if_fail (public_key != NULL, NULL);

  cert = g_new0 (PvDeviceCert, 1);
  cert->event_id = event_id;
  cert->device_id = device_id;
  cert->role = role;
  cert->name = g_strdup (name);
  cert->valid_from = valid_from;
  cert->valid_until = valid_until;
  memcpy (cert->public_key, public_key, PV_PUBLIC_KEY_SIZE);

  return cert;
}

PvDeviceCert *
pv_device_cert_copy (const PvDeviceCert *cert)
{
  PvDeviceCert *copy;

  g_return_val_if_fail (cert != NULL, NULL);

  copy = g_memdup2 (cert, sizeof *cert);
  copy->name = g_strdup (cert->name);

  return copy;
}

void
pv_device_cert_free (PvDeviceCert *cert)
{
  if (cert == NULL)
    return;

  g_free (cert->name);
  g_free (cert);
}

static void
put_be (GByteArray *buf,
        guint64 value,
        guint width)
{
  guint8 bytes[8];

  for (guint i = 0; i < width; i++)
    bytes[i] = (value >> (8 * (width - 1 - i))) & 0xFF;

  g_byte_array_append (buf, bytes, width);
}

/* The signed message: the domain tag, then every field in a fixed width,
 * big-endian, the name as a 32-bit length and its bytes. Fixed widths and the
 * explicit length make the encoding unambiguous, so no two different
 * certificates can ever share a signed message. */
static GByteArray *
cert_signed_message (const PvDeviceCert *cert)
{
  gsize name_len = strlen (cert->name);
  GByteArray *buf;

  buf = g_byte_array_sized_new (CERT_DOMAIN_TAG_LEN + 4 + 2 + 1 + 4 + name_len
                                + 8 + 8 + PV_PUBLIC_KEY_SIZE);
  g_byte_array_append (buf, (const guint8 *) CERT_DOMAIN_TAG, CERT_DOMAIN_TAG_LEN);
  put_be (buf, cert->event_id, 4);
  put_be (buf, cert->device_id, 2);
  put_be (buf, (guint8) cert->role, 1);
  put_be (buf, (guint32) name_len, 4);
  g_byte_array_append (buf, (const guint8 *) cert->name, (guint) name_len);
  put_be (buf, (guint64) cert->valid_from, 8);
  put_be (buf, (guint64) cert->valid_until, 8);
  g_byte_array_append (buf, cert->public_key, PV_PUBLIC_KEY_SIZE);

  return buf;
}

void
pv_device_cert_sign (PvDeviceCert *cert,
                     const guint8 event_secret_key[PV_SECRET_KEY_SIZE])
{
  g_autoptr (GByteArray) message = NULL;

  g_return_if_fail (cert != NULL);
  g_return_if_fail (cert->name != NULL);
  /* Beyond 4 GiB the length field would wrap and the encoding stop being
   * unambiguous. */
  g_return_if_fail (strlen (cert->name) <= G_MAXUINT32);
  g_return_if_fail (event_secret_key != NULL);

  message = cert_signed_message (cert);
  crypto_sign_detached (cert->signature, NULL, message->data, message->len,
                        event_secret_key);
}

gboolean
pv_device_cert_verify (const PvDeviceCert *cert,
                       const guint8 event_public_key[PV_PUBLIC_KEY_SIZE],
                       GError **error)
{
  g_autoptr (GByteArray) message = NULL;
  int result;

  g_return_val_if_fail (cert != NULL, FALSE);
  g_return_val_if_fail (cert->name != NULL, FALSE);
  g_return_val_if_fail (event_public_key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  message = cert_signed_message (cert);
  result = crypto_sign_verify_detached (cert->signature, message->data,
                                        message->len, event_public_key);
  if (result != 0)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                   "Certificate of device %u (\"%s\") is not signed by the key of event %u",
                   cert->device_id, cert->name, cert->event_id);
      return FALSE;
    }

  return TRUE;
}

/* Returns a floating reference, like g_variant_new(). */
GVariant *
pv_device_cert_to_variant (const PvDeviceCert *cert)
{
  const char *role;

  g_return_val_if_fail (cert != NULL, NULL);
  g_return_val_if_fail (cert->name != NULL, NULL);
  role = pv_role_to_string (cert->role);
  g_return_val_if_fail (role != NULL, NULL);

  return g_variant_new ("(uqssxx@ay@ay)",
                        cert->event_id,
                        cert->device_id,
                        role,
                        cert->name,
                        cert->valid_from,
                        cert->valid_until,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                   cert->public_key,
                                                   PV_PUBLIC_KEY_SIZE, 1),
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                   cert->signature,
                                                   PV_SIGNATURE_SIZE, 1));
}

/* The variant comes from another replica's ledger, so nothing in it is
 * trusted: type, key lengths and role are all checked. Whether the event key
 * signed it is a separate question for pv_device_cert_verify(). Like
 * g_variant_get(), consumes a floating reference. */
PvDeviceCert *
pv_device_cert_new_from_variant (GVariant *variant,
                                 GError **error)
{
  g_autoptr (GVariant) owned = NULL;
  g_autoptr (PvDeviceCert) cert = NULL;
  g_autoptr (GVariant) public_key = NULL;
  g_autoptr (GVariant) signature = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *role_name = NULL;
  const char *name = NULL;
  const guint8 *bytes;
  gsize n_bytes;

  g_return_val_if_fail (variant != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* The strings read below point into the variant's data; hold it. */
  owned = g_variant_ref_sink (variant);

  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE (PV_DEVICE_CERT_VARIANT_TYPE)))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Device certificate has type %s, expected %s",
                   g_variant_get_type_string (variant), PV_DEVICE_CERT_VARIANT_TYPE);
      return NULL;
    }

  cert = g_new0 (PvDeviceCert, 1);
  g_variant_get (variant, "(uq&s&sxx@ay@ay)",
                 &cert->event_id,
                 &cert->device_id,
                 &role_name,
                 &name,
                 &cert->valid_from,
                 &cert->valid_until,
                 &public_key,
                 &signature);
  cert->name = g_strdup (name);

  if (!pv_role_from_string (role_name, &cert->role, &local_error))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Device certificate of device %u: %s",
                   cert->device_id, local_error->message);
      return NULL;
    }

  bytes = g_variant_get_fixed_array (public_key, &n_bytes, 1);
  if (n_bytes != PV_PUBLIC_KEY_SIZE)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Device certificate of device %u has a public key of %" G_GSIZE_FORMAT
                   " bytes, expected %d",
                   cert->device_id, n_bytes, PV_PUBLIC_KEY_SIZE);
      return NULL;
    }
  memcpy (cert->public_key, bytes, PV_PUBLIC_KEY_SIZE);

  bytes = g_variant_get_fixed_array (signature, &n_bytes, 1);
  if (n_bytes != PV_SIGNATURE_SIZE)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Device certificate of device %u has a signature of %" G_GSIZE_FORMAT
                   " bytes, expected %d",
                   cert->device_id, n_bytes, PV_SIGNATURE_SIZE);
      return NULL;
    }
  memcpy (cert->signature, bytes, PV_SIGNATURE_SIZE);

  return g_steal_pointer (&cert);
}
