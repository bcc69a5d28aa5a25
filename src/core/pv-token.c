/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-token.c: signing and checking device bearer tokens (see the header). */
#include "pv-token.h"

#include <sodium.h>
#include <string.h>

#include "pv-devices.h"
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
  if (!pv_devices_get_secret_key (store, sk, error))
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

gboolean
pv_token_verify (PvStore *store,
                 const char *token,
                 gint64 now,
                 const guint8 *audiences,
                 guint n_audiences,
                 PvTokenInfo *out,
                 GError **error)
{
  gboolean for_us = FALSE;
  guint8 payload[PAYLOAD_SIZE], message[4 + PAYLOAD_SIZE], signature[PV_SIGNATURE_SIZE];
  const PvDeviceInfo *device;
  const char *dot;
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

  if (out->event_id != event_id)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, "The token is for event %08x, not this one",
                        out->event_id),
           FALSE;
  device = pv_store_lookup_device (store, out->device_id);
  signed_message (payload, message);
  if (device == NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "Device %u is not known here (yet): sync with the hub first", out->device_id),
           FALSE;
  if (crypto_sign_verify_detached (signature, message, sizeof message, device->public_key) != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, "The token is not signed by device %u",
                        out->device_id),
           FALSE;
  /* A token made out to another server (a peer it was sent to, say) is
   * no good here. */
  if (!for_us)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, "The token of device %u is made out to another server",
                        out->device_id),
           FALSE;
  if (out->expires_at <= now)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "The token of device %u has expired (is its clock right?)", out->device_id),
           FALSE;
  if (out->expires_at - now > PV_TOKEN_MAX_AHEAD)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "The token of device %u expires too far ahead (is its clock right?)", out->device_id),
           FALSE;
  if (device->revoked_at <= now)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, "Device %u is revoked", out->device_id), FALSE;
  if (now < device->valid_from || now >= device->valid_until)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, "The certificate of device %u is not in force",
                        out->device_id),
           FALSE;
  out->role = device->role;
  return TRUE;
}
