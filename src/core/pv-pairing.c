/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-pairing.c: pairing codes and the hub's invitations (see the header). */
#include "config.h"

#include "pv-pairing.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "pv-base45.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-store-private.h"

#define CODE_VERSION 1
#define FLAG_PINNED 1
#define FLAG_GATE 2
#define MAX_URL 256

void
pv_pairing_code_clear (PvPairingCode *code)
{
  g_clear_pointer (&code->url, g_free);
  g_clear_pointer (&code->gate, g_free);
  sodium_memzero (code->secret, sizeof code->secret);
}

char *
pv_pairing_code_format (const PvPairingCode *code)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree char *text = NULL;
  gsize gate_len = code->gate ? strlen (code->gate) : 0;
  guint8 head[2] = { CODE_VERSION, (code->pinned ? FLAG_PINNED : 0) | (gate_len > 0 ? FLAG_GATE : 0) };

  g_return_val_if_fail (gate_len <= PV_GATE_NAME_MAX_BYTES, NULL);
  g_byte_array_append (bytes, head, sizeof head);
  g_byte_array_append (bytes, code->secret, sizeof code->secret);
  if (code->pinned)
    g_byte_array_append (bytes, code->fingerprint, sizeof code->fingerprint);
  if (gate_len > 0)
    {
      guint8 len = (guint8) gate_len;
      g_byte_array_append (bytes, &len, 1);
      g_byte_array_append (bytes, (const guint8 *) code->gate, (guint) gate_len);
    }
  g_byte_array_append (bytes, (const guint8 *) code->url, (guint) strlen (code->url));
  text = pv_base45_encode (bytes->data, bytes->len);
  sodium_memzero (bytes->data, bytes->len);
  return g_strconcat (PV_PAIRING_PREFIX, text, NULL);
}

static gboolean
refuse (GError **error, const char *why)
{
  g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("Not a pairing code: %s"), why);
  return FALSE;
}

gboolean
pv_pairing_code_parse (const char *text, PvPairingCode *out, GError **error)
{
  guint8 data[2 + PV_PAIRING_SECRET_SIZE + PV_FINGERPRINT_SIZE + 1 + PV_GATE_NAME_MAX_BYTES + MAX_URL];
  g_autoptr (GUri) uri = NULL;
  gsize len = 0, at;

  memset (out, 0, sizeof *out);
  if (text == NULL || !g_str_has_prefix (text, PV_PAIRING_PREFIX))
    return refuse (error, "it does not begin with “" PV_PAIRING_PREFIX "”");
  if (!pv_base45_decode_into (text + strlen (PV_PAIRING_PREFIX), -1, data, sizeof data, &len, error))
    return FALSE;
  if (len < 2 || data[0] != CODE_VERSION || (data[1] & ~(FLAG_PINNED | FLAG_GATE)) != 0)
    return refuse (error, "unknown version");
  out->pinned = (data[1] & FLAG_PINNED) != 0;
  at = 2 + PV_PAIRING_SECRET_SIZE + (out->pinned ? PV_FINGERPRINT_SIZE : 0);
  if (len <= at)
    return refuse (error, "too short");
  memcpy (out->secret, data + 2, PV_PAIRING_SECRET_SIZE);
  if (out->pinned)
    memcpy (out->fingerprint, data + 2 + PV_PAIRING_SECRET_SIZE, PV_FINGERPRINT_SIZE);
  if ((data[1] & FLAG_GATE) != 0)
    {
      gsize gate_len = data[at];

      if (gate_len == 0 || gate_len > PV_GATE_NAME_MAX_BYTES || len <= at + 1 + gate_len)
        {
          sodium_memzero (data, sizeof data);
          pv_pairing_code_clear (out);
          return refuse (error, "its gate is garbled");
        }
      out->gate = g_strndup ((const char *) data + at + 1, gate_len);
      at += 1 + gate_len;
      if (strlen (out->gate) != gate_len || !g_utf8_validate (out->gate, -1, NULL))
        {
          sodium_memzero (data, sizeof data);
          pv_pairing_code_clear (out);
          return refuse (error, "its gate is garbled");
        }
    }
  out->url = g_strndup ((const char *) data + at, len - at);
  sodium_memzero (data, sizeof data);
  if (strlen (out->url) != len - at || !g_utf8_validate (out->url, -1, NULL)
      || !(uri = g_uri_parse (out->url, G_URI_FLAGS_NONE, NULL))
      || (g_strcmp0 (g_uri_get_scheme (uri), out->pinned ? "https" : "http") != 0))
    {
      pv_pairing_code_clear (out);
      return refuse (error, "its hub address is not an http(s) URL");
    }
  return TRUE;
}

static void
secret_digest (const guint8 secret[PV_PAIRING_SECRET_SIZE], guint8 out[crypto_generichash_BYTES])
{
  crypto_generichash (out, crypto_generichash_BYTES, secret, PV_PAIRING_SECRET_SIZE, (const guint8 *) "PVINVITE", 8);
}

gboolean
pv_invite_create (PvStore *store, PvRole role, const char *name, const char *gate, gint64 lifetime,
                  const char *url, const guint8 *fingerprint, PvPairingCode *out, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree char *canonical = NULL;
  sqlite3_stmt *stmt;
  guint8 digest[crypto_generichash_BYTES];
  gint64 now = pv_store_now (store);

  memset (out, 0, sizeof *out);
  if (url == NULL || strlen (url) > MAX_URL || !(uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL))
      || g_strcmp0 (g_uri_get_scheme (uri), fingerprint ? "https" : "http") != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "The hub's address “%s” is not an %s URL of at most %u bytes", url ? url : "",
                        fingerprint ? "https" : "http", MAX_URL),
           FALSE;
  if (name == NULL || *name == '\0' || strlen (name) > 64 || !g_utf8_validate (name, -1, NULL))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, _ ("A device needs a name of 1 to 64 characters")),
           FALSE;
  if (role != PV_ROLE_GATE && role != PV_ROLE_DESK && role != PV_ROLE_ADMIN)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                "A device is invited as a gate, a desk or an admin; the hub is made with its event"),
           FALSE;
  if (lifetime <= 0 || lifetime > G_GINT64_CONSTANT (30 * 24 * 60 * 60) * G_USEC_PER_SEC)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, _ ("An invitation holds for up to 30 days")), FALSE;
  if (pv_store_get_device_id (store) == 0)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED, "This store has no event"), FALSE;
  /* A desk admits nobody: a gate for it would be a mistake in the making. */
  if (gate != NULL && role == PV_ROLE_DESK)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                _ ("A desk stands at no gate: give a gate for a gate station or a control room")),
           FALSE;
  if (gate != NULL && !(canonical = pv_devices_check_gate (store, gate, error)))
    return FALSE;

  randombytes_buf (out->secret, sizeof out->secret);
  secret_digest (out->secret, digest);
  stmt = pv_store_prepare (store,
                           "INSERT INTO invites (secret_digest, role, name, created_at, expires_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, digest, sizeof digest, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, pv_role_to_string (role), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int64 (stmt, 5, now + lifetime);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  out->url = g_strdup (url);
  out->gate = g_steal_pointer (&canonical);
  out->expires_at = now + lifetime;
  out->pinned = fingerprint != NULL;
  if (fingerprint)
    memcpy (out->fingerprint, fingerprint, PV_FINGERPRINT_SIZE);
  return TRUE;
}

gboolean
pv_invite_redeem (PvStore *store, const guint8 secret[PV_PAIRING_SECRET_SIZE],
                  const guint8 public_key[PV_PUBLIC_KEY_SIZE], guint16 *out_device_id, PvRole *out_role,
                  GError **error)
{
  g_autofree char *name = NULL, *role_text = NULL;
  sqlite3_stmt *stmt;
  guint8 digest[crypto_generichash_BYTES];
  gint64 expires_at = 0, now = pv_store_now (store);
  gboolean found = FALSE, used = FALSE;
  guint16 id = 0;
  PvRole role;

  secret_digest (secret, digest);
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  stmt = pv_store_prepare (store,
                           "SELECT role, name, expires_at, used_at IS NOT NULL, device_id FROM invites "
                           "WHERE secret_digest = ?1",
                           error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_blob (stmt, 1, digest, sizeof digest, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      found = TRUE;
      role_text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      expires_at = sqlite3_column_int64 (stmt, 2);
      used = sqlite3_column_int (stmt, 3) != 0;
      id = (guint16) sqlite3_column_int (stmt, 4);
    }
  sqlite3_reset (stmt);
  /* The same device asking again (its answer was lost on the way) gets the
   * same enrolment; anybody else gets nothing. */
  if (found && used && id != 0 && pv_store_lookup_device (store, id) != NULL
      && sodium_memcmp (pv_store_lookup_device (store, id)->public_key, public_key, PV_PUBLIC_KEY_SIZE) == 0
      && pv_role_from_string (role_text, &role, NULL))
    {
      pv_store_commit (store, NULL);
      if (out_device_id)
        *out_device_id = id;
      if (out_role)
        *out_role = role;
      return TRUE;
    }
  /* One message for all three: a guesser learns nothing from it. */
  if (!found || used || expires_at <= now)
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_PERMISSION,
                           _ ("This pairing code is not valid: it was used, it expired, or it never was"));
      goto fail;
    }
  if (!pv_role_from_string (role_text, &role, error) || !pv_devices_enroll (store, role, name, public_key, &id, error))
    goto fail;
  stmt = pv_store_prepare (store, "UPDATE invites SET used_at = ?2, device_id = ?3 WHERE secret_digest = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_blob (stmt, 1, digest, sizeof digest, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, now);
  sqlite3_bind_int (stmt, 3, id);
  if (!pv_store_step_done (store, stmt, error) || !pv_store_commit (store, error))
    goto fail;
  if (out_device_id)
    *out_device_id = id;
  if (out_role)
    *out_role = role;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}
