/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-token.c: signing and checking device bearer tokens (see the header). */
#include "pv-token.h"

#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-store.h"

#define PREFIX "PVT1."
#define PAYLOAD_SIZE (15 + PV_TOKEN_AUDIENCE_SIZE)
/* base64url without padding: 23 bytes → 31 characters, 64 → 86. */
#define MAX_TOKEN 160

static void
put_be (guint8 *out, guint64 value, guint n)
{
  for (guint i = 0; i < n; i++)
    out[i] = (guint8) (value >> (8 * (n - 1 - i)));
}

static guint64
get_be (const guint8 *in, guint n)
{
  guint64 value = 0;

  for (guint i = 0; i < n; i++)
    value = (value << 8) | in[i];
  return value;
}

static void
signed_message (const guint8 payload[PAYLOAD_SIZE], guint8 out[4 + PAYLOAD_SIZE])
{
  memcpy (out, "PVT1", 4);
  memcpy (out + 4, payload, PAYLOAD_SIZE);
}

static char *
encode (const guint8 *data, gsize len)
{
  gsize size = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *out = g_malloc (size);

  sodium_bin2base64 (out, size, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

static gboolean
decode (const char *text, gsize text_len, guint8 *out, gsize size)
{
  size_t got = 0;
  const char *end = NULL;

  return sodium_base642bin (out, size, text, text_len, NULL, &got, &end,
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING)
           == 0
         && got == size && end == text + text_len;
}

void
pv_token_audience (const char *url, guint8 out[PV_TOKEN_AUDIENCE_SIZE])
{
  gsize len = url ? strlen (url) : 0;

  /* One server, one spelling: "http://h:1/" and "http://h:1" alike. */
  while (len > 0 && url[len - 1] == '/')
    len--;
  crypto_generichash (out, PV_TOKEN_AUDIENCE_SIZE, (const guint8 *) url, len, (const guint8 *) "PVAUD1", 6);
}

char *
pv_token_new (PvStore *store, gint64 now, const char *audience, GError **error)
{
  guint8 sk[PV_SECRET_KEY_SIZE];
  guint32 event_id = (guint32) pv_store_get_meta_int (store, "event-id", 0);
  guint16 device = pv_store_get_device_id (store);
  char *token;

  if (device == 0 || event_id == 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED,
                        "%s has no device identity to sign a token with", pv_store_get_path (store)),
           NULL;
  if (!pv_store_get_device_secret_key (store, sk, error))
    return NULL;
  token = pv_token_sign (event_id, device, sk, now, audience);
  sodium_memzero (sk, sizeof sk);
  return token;
}

char *
pv_token_sign (guint32 event_id, guint16 device, const guint8 sk[PV_SECRET_KEY_SIZE], gint64 now,
               const char *audience)
{
  guint8 payload[PAYLOAD_SIZE], message[4 + PAYLOAD_SIZE], signature[PV_SIGNATURE_SIZE];
  g_autofree char *payload_text = NULL, *signature_text = NULL;

  payload[0] = 1;
  put_be (payload + 1, event_id, 4);
  put_be (payload + 5, device, 2);
  put_be (payload + 7, (guint64) (now + PV_TOKEN_LIFETIME), 8);
  pv_token_audience (audience, payload + 15);
  signed_message (payload, message);
  crypto_sign_detached (signature, NULL, message, sizeof message, sk);
  payload_text = encode (payload, sizeof payload);
  signature_text = encode (signature, sizeof signature);
  return g_strconcat (PREFIX, payload_text, ".", signature_text, NULL);
}

/* A key no device has: a token naming a device this replica does not
 * know is checked against it, so its refusal costs what any other does. */
static const guint8 *
decoy_public_key (void)
{
  static guint8 key[PV_PUBLIC_KEY_SIZE];
  static gsize made = 0;

  if (g_once_init_enter (&made))
    {
      guint8 seed[crypto_sign_SEEDBYTES] = { 0 }, secret[crypto_sign_SECRETKEYBYTES];

      crypto_sign_seed_keypair (key, secret, seed);
      sodium_memzero (secret, sizeof secret);
      g_once_init_leave (&made, 1);
    }
  return key;
}

gboolean
pv_token_verify (PvStore *store,
                 const char *token,
                 gint64 now,
                 const guint8 *audiences,
                 guint n_audiences,
                 PvTokenInfo *out,
                 GError **error)
{
  gboolean for_us = FALSE, signed_by_device;
  guint8 payload[PAYLOAD_SIZE], message[4 + PAYLOAD_SIZE], signature[PV_SIGNATURE_SIZE];
  const PvDeviceInfo *device;
  const char *dot, *reason = NULL;
  guint32 event_id = (guint32) pv_store_get_meta_int (store, "event-id", 0);
  gsize len = token ? strnlen (token, MAX_TOKEN + 1) : 0;

  memset (out, 0, sizeof *out);
  if (len == 0 || len > MAX_TOKEN || !g_str_has_prefix (token, PREFIX)
      || !(dot = strchr (token + strlen (PREFIX), '.'))
      || !decode (token + strlen (PREFIX), (gsize) (dot - token) - strlen (PREFIX), payload, sizeof payload)
      || !decode (dot + 1, len - (gsize) (dot + 1 - token), signature, sizeof signature) || payload[0] != 1)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED, "The bearer token is not a Pravesh token"),
           FALSE;
  out->event_id = (guint32) get_be (payload + 1, 4);
  out->device_id = (guint16) get_be (payload + 5, 2);
  out->expires_at = (gint64) get_be (payload + 7, 8);
  for (guint i = 0; i < n_audiences && !for_us; i++)
    for_us = sodium_memcmp (payload + 15, audiences + i * PV_TOKEN_AUDIENCE_SIZE, PV_TOKEN_AUDIENCE_SIZE) == 0;

  /* Every token that parses costs one signature check, and every refusal
   * reads the same: whoever holds no key learns nothing from the answer,
   * or its time, about which device ids exist here or what became of
   * them. The reason goes to the debug log. */
  device = pv_store_lookup_device (store, out->device_id);
  signed_message (payload, message);
  signed_by_device = crypto_sign_verify_detached (signature, message, sizeof message,
                                                  device ? device->public_key : decoy_public_key ())
                       == 0
                     && device != NULL;
  if (out->event_id != event_id)
    reason = "it is for another event";
  else if (device == NULL)
    reason = "its device is not known here";
  else if (!signed_by_device)
    reason = "it is not signed by its device";
  /* A token made out to another server (a peer it was sent to, say) is
   * no good here. */
  else if (!for_us)
    reason = "it is made out to another server";
  else if (out->expires_at <= now)
    reason = "it has expired";
  else if (out->expires_at - now > PV_TOKEN_MAX_AHEAD)
    reason = "it expires too far ahead";
  else if (device->revoked_at <= now)
    reason = "its device is revoked";
  else if (now < device->valid_from || now >= device->valid_until)
    reason = "its device's certificate is not in force";
  if (reason != NULL)
    {
      g_debug ("Token of device %u refused: %s", out->device_id, reason);
      memset (out, 0, sizeof *out);
      return g_set_error_literal (error, PV_ERROR, PV_ERROR_PERMISSION, PV_TOKEN_REFUSED), FALSE;
    }
  out->role = device->role;
  return TRUE;
}
