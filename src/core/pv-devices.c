/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-devices.c: the event's birth (key pair, configuration, first admin
 * device) and the enrolment and revocation of devices — the offline
 * precursor of pairing with a hub. */
#include "config.h"

#include "pv-devices.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "pv-batch.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-hlc.h"
#include "pv-keys.h"
#include "pv-ledger.h"
#include "pv-store-private.h"

#define EVENT_SECRET "event-secret-key"
#define GATE_META "gate"
/* Certificates outlive the event by a week, for late exports and audits. */
#define CERT_GRACE_DAYS 7

static gboolean
read_event_secret (PvStore *store, guint8 out[PV_SECRET_KEY_SIZE], GError **error)
{
  g_autoptr (GBytes) secret = pv_store_get_secret (store, EVENT_SECRET);

  if (secret == NULL || g_bytes_get_size (secret) != PV_SECRET_KEY_SIZE)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED,
                   "%s does not hold the event key: enrol devices from the device that created the event",
                   pv_store_get_path (store));
      return FALSE;
    }
  memcpy (out, g_bytes_get_data (secret, NULL), PV_SECRET_KEY_SIZE);
  return TRUE;
}

gboolean
pv_devices_is_hub_file (PvStore *store)
{
  g_autoptr (GBytes) event_secret = pv_store_get_secret (store, EVENT_SECRET);
  g_autofree char *url = NULL;

  /* Paired and added replicas never hold the event's key; the file that
   * does is the event's first, and once pravesh-hub has served from it,
   * it holds the address the hub wrote. */
  if (event_secret == NULL)
    return FALSE;
  url = pv_store_dup_meta_string (store, PV_META_HUB_URL);
  return url != NULL;
}

static gint64
cert_valid_until (PvEvent *event)
{
  return pv_event_time_of (event, (int) pv_event_get_n_days (event) + CERT_GRACE_DAYS, 0);
}

static PvDeviceCert *
make_cert (PvEvent *event, const guint8 event_sk[PV_SECRET_KEY_SIZE], guint16 id, PvRole role,
           const char *name, gint64 now, const guint8 pk[PV_PUBLIC_KEY_SIZE])
{
  PvDeviceCert *cert = pv_device_cert_new (pv_event_get_id (event), id, role, name, now,
                                           cert_valid_until (event), pk);
  pv_device_cert_sign (cert, event_sk);
  return cert;
}

gboolean
pv_devices_create_event (PvStore *store, PvEvent *event, const char *device_name, GError **error)
{
  guint8 event_pk[PV_PUBLIC_KEY_SIZE], event_sk[PV_SECRET_KEY_SIZE];
  guint8 device_pk[PV_PUBLIC_KEY_SIZE], device_sk[PV_SECRET_KEY_SIZE];
  g_autoptr (PvDeviceCert) cert = NULL;
  gboolean ok;

  if (pv_ledger_count (store) > 0 || pv_store_get_device_id (store) != 0)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_EXISTS, "%s already holds an event",
                   pv_store_get_path (store));
      return FALSE;
    }
  pv_keypair_generate (event_pk, event_sk);
  pv_keypair_generate (device_pk, device_sk);
  pv_event_set_public_key (event, event_pk);
  cert = make_cert (event, event_sk, 1, PV_ROLE_ADMIN,
                    device_name && *device_name ? device_name : "Admin",
                    pv_store_now (store), device_pk);

  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  ok = pv_store_set_secret (store, EVENT_SECRET, event_sk, sizeof event_sk, error)
       && pv_store_set_secret (store, PV_STORE_DEVICE_SECRET, device_sk, sizeof device_sk, error)
       && pv_store_set_meta_int (store, "device-id", 1, error)
       && pv_store_set_meta_int (store, "event-id", pv_event_get_id (event), error)
       && pv_ledger_append (store, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (event), NULL, error)
       && pv_ledger_append (store, PV_RECORD_DEVICE_ENROLLED, pv_device_cert_to_variant (cert), NULL, error)
       && pv_store_commit (store, error);
  sodium_memzero (event_sk, sizeof event_sk);
  sodium_memzero (device_sk, sizeof device_sk);
  if (!ok && pv_store_in_transaction (store))
    pv_store_rollback (store);
  return ok;
}

static guint16
next_device_id (PvStore *store, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT coalesce(max(id), 0) + 1 FROM devices", error);
  gint64 id = 0;

  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (id <= 0 || id > G_MAXUINT16)
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "No device ids are left");
      return 0;
    }
  return (guint16) id;
}

gboolean
pv_devices_enroll (PvStore *store, PvRole role, const char *name, const guint8 public_key[PV_PUBLIC_KEY_SIZE],
                   guint16 *out_device_id, GError **error)
{
  guint8 event_sk[PV_SECRET_KEY_SIZE];
  g_autoptr (PvDeviceCert) cert = NULL;
  g_autofree char *clean = g_strstrip (g_strdup (name ? name : ""));
  PvEvent *event;
  guint16 id;
  gboolean ok;

  if (*clean == '\0' || strlen (clean) > 64 || !g_utf8_validate (clean, -1, NULL))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                _ ("A device needs a name of 1 to 64 characters")),
           FALSE;
  if (!(event = pv_store_get_event (store, error)) || !read_event_secret (store, event_sk, error))
    return FALSE;
  if (!pv_store_begin (store, TRUE, error))
    {
      sodium_memzero (event_sk, sizeof event_sk);
      return FALSE;
    }
  ok = (id = next_device_id (store, error)) != 0;
  if (ok)
    {
      cert = make_cert (event, event_sk, id, role, clean, pv_store_now (store), public_key);
      ok = pv_ledger_append (store, PV_RECORD_DEVICE_ENROLLED, pv_device_cert_to_variant (cert), NULL, error)
           && pv_store_commit (store, error);
    }
  sodium_memzero (event_sk, sizeof event_sk);
  if (!ok)
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      return FALSE;
    }
  if (out_device_id)
    *out_device_id = id;
  return TRUE;
}

gboolean
pv_devices_join (const char *path, guint32 event_id, guint16 device_id, const guint8 secret_key[PV_SECRET_KEY_SIZE],
                 GError **error)
{
  g_autoptr (PvStore) replica = NULL;
  gboolean ok;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return g_set_error (error, PV_ERROR, PV_ERROR_EXISTS,
                        "%s exists already; a new device needs a new file", path),
           FALSE;
  if (!(replica = pv_store_open (path, error)))
    return FALSE;
  ok = pv_store_begin (replica, TRUE, error) && pv_store_set_meta_int (replica, "device-id", device_id, error)
       && pv_store_set_meta_int (replica, "event-id", event_id, error)
       && pv_store_set_secret (replica, PV_STORE_DEVICE_SECRET, secret_key, PV_SECRET_KEY_SIZE, error)
       && pv_store_commit (replica, error);
  if (!ok && pv_store_in_transaction (replica))
    pv_store_rollback (replica);
  return ok;
}

gboolean
pv_devices_add (PvStore *store, PvRole role, const char *name, const char *path,
                guint16 *out_device_id, GError **error)
{
  guint8 pk[PV_PUBLIC_KEY_SIZE], sk[PV_SECRET_KEY_SIZE];
  g_autoptr (PvStore) replica = NULL;
  g_autofree char *clean = g_strstrip (g_strdup (name ? name : ""));
  PvEvent *event;
  guint16 id;
  gboolean ok;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return g_set_error (error, PV_ERROR, PV_ERROR_EXISTS,
                        "%s exists already; a new device needs a new file", path),
           FALSE;
  if (!(event = pv_store_get_event (store, error)))
    return FALSE;
  g_object_ref (event);

  if (!pv_store_begin (store, TRUE, error))
    goto out_fail;
  pv_keypair_generate (pk, sk);
  if (!pv_devices_enroll (store, role, clean, pk, &id, error))
    goto fail;

  /* The new replica starts as a copy of this one, then takes its identity.
   * Only when it is complete does the enrolment here commit. */
  if (!(replica = pv_store_open (path, error)))
    goto fail;
  ok = pv_store_begin (replica, TRUE, error)
       && pv_store_set_meta_int (replica, "device-id", id, error)
       && pv_store_set_meta_int (replica, "event-id", pv_event_get_id (event), error)
       && pv_store_set_secret (replica, PV_STORE_DEVICE_SECRET, sk, sizeof sk, error)
       && pv_store_commit (replica, error);
  /* The merge reads this store through its own connection, which sees the
   * enrolment not yet committed; only a complete replica commits it, so a
   * failure leaves no device enrolled without a replica to hold its key. */
  if (!ok || !pv_batch_merge (replica, store, NULL, error) || !pv_store_commit (store, error))
    goto fail;

  sodium_memzero (sk, sizeof sk);
  g_object_unref (event);
  if (out_device_id)
    *out_device_id = id;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
out_fail:
  sodium_memzero (sk, sizeof sk);
  g_object_unref (event);
  if (replica)
    {
      g_clear_object (&replica);
      static const char *const suffixes[] = { "", "-wal", "-shm" };
      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
          g_unlink (file);
        }
    }
  return FALSE;
}

gboolean
pv_devices_revoke (PvStore *store, guint16 device_id, const char *reason, GError **error)
{
  const PvDeviceInfo *device = pv_store_lookup_device (store, device_id);

  if (device == NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("There is no device %u"), device_id),
           FALSE;
  return pv_ledger_append (store, PV_RECORD_DEVICE_REVOKED,
                           g_variant_new ("(qxs)", device_id, pv_store_now (store),
                                          reason && *reason ? reason : "revoked"),
                           NULL, error);
}

void
pv_device_status_free (PvDeviceStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->name);
  g_free (status->role);
  g_free (status->revoke_reason);
  g_free (status);
}

gboolean
pv_devices_foreach_saved_contact (PvStore *store, PvSavedContactFunc func, gpointer user_data, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT device_id, seen_at, held, behind, url, skew_ms, pending "
                                         "FROM device_contacts",
                                         error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvSavedContact contact = {
        .device_id = (guint16) sqlite3_column_int (stmt, 0),
        .seen = sqlite3_column_int64 (stmt, 1),
        .held = sqlite3_column_int64 (stmt, 2),
        .behind = sqlite3_column_int64 (stmt, 3),
        .url = (const char *) sqlite3_column_text (stmt, 4),
        .has_skew = sqlite3_column_type (stmt, 5) != SQLITE_NULL,
        .skew_ms = sqlite3_column_int64 (stmt, 5),
        .pending = sqlite3_column_type (stmt, 6) != SQLITE_NULL ? sqlite3_column_int64 (stmt, 6) : -1,
      };
      func (&contact, user_data);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read what devices said"), FALSE;
  return TRUE;
}

gboolean
pv_devices_save_contact (PvStore *store, const PvSavedContact *contact, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "INSERT INTO device_contacts (device_id, seen_at, held, behind, url, skew_ms, pending) "
                                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (device_id) DO UPDATE SET "
                                         "seen_at = excluded.seen_at, held = excluded.held, behind = excluded.behind, "
                                         "url = excluded.url, skew_ms = excluded.skew_ms, pending = excluded.pending",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, contact->device_id);
  sqlite3_bind_int64 (stmt, 2, contact->seen);
  /* -1: not known (a device that called but never said what it holds). */
  sqlite3_bind_int64 (stmt, 3, contact->held);
  sqlite3_bind_int64 (stmt, 4, contact->behind);
  if (contact->url)
    sqlite3_bind_text (stmt, 5, contact->url, -1, SQLITE_TRANSIENT);
  if (contact->has_skew)
    sqlite3_bind_int64 (stmt, 6, contact->skew_ms);
  if (contact->pending >= 0)
    sqlite3_bind_int64 (stmt, 7, contact->pending);
  return pv_store_step_done (store, stmt, error);
}

/* A record stamped later than this past now came from a clock running
 * fast: it says nothing of when its device was last heard from. */
#define CLOCK_TOLERANCE (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)

GPtrArray *
pv_devices_list (PvStore *store, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT d.id, d.name, d.role, d.revoked_at, d.revoke_reason, "
                                         "       d.valid_from, d.valid_until, c.seen_at, c.behind, "
                                         "       c.pending, c.skew_ms, c.held, "
                                         "       (SELECT hlc FROM records r WHERE r.device_id = d.id "
                                         "        ORDER BY seq DESC LIMIT 1) "
                                         "FROM devices d LEFT JOIN device_contacts c ON c.device_id = d.id "
                                         "ORDER BY d.id",
                                         error);
  g_autoptr (GPtrArray) devices = NULL;
  gint64 now = g_get_real_time ();
  int rc;

  if (stmt == NULL)
    return NULL;
  devices = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_device_status_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvDeviceStatus *device = g_new0 (PvDeviceStatus, 1);
      gboolean contacted = sqlite3_column_type (stmt, 7) != SQLITE_NULL;

      device->id = (guint16) sqlite3_column_int (stmt, 0);
      device->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      device->role = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      device->revoked = sqlite3_column_type (stmt, 3) != SQLITE_NULL;
      device->revoked_at = sqlite3_column_int64 (stmt, 3);
      device->revoke_reason = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      device->valid_from = sqlite3_column_int64 (stmt, 5);
      device->valid_until = sqlite3_column_int64 (stmt, 6);
      device->this_device = device->id == pv_store_get_device_id (store);
      device->last_contact = contacted ? sqlite3_column_int64 (stmt, 7) : 0;
      device->behind = contacted && sqlite3_column_type (stmt, 8) != SQLITE_NULL ? sqlite3_column_int64 (stmt, 8) : -1;
      device->pending = contacted && sqlite3_column_type (stmt, 9) != SQLITE_NULL ? sqlite3_column_int64 (stmt, 9) : -1;
      device->has_skew = sqlite3_column_type (stmt, 10) != SQLITE_NULL;
      device->skew_ms = sqlite3_column_int64 (stmt, 10);
      /* How far behind it was is known only once it said what it held. */
      if (contacted && sqlite3_column_int64 (stmt, 11) < 0)
        device->behind = -1;
      if (sqlite3_column_type (stmt, 12) != SQLITE_NULL)
        device->last_record = pv_hlc_wall_ms ((PvHlc) sqlite3_column_int64 (stmt, 12)) * 1000;
      device->last_seen = MAX (device->last_record <= now + CLOCK_TOLERANCE ? device->last_record : 0,
                               device->last_contact);
      g_ptr_array_add (devices, device);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the devices"), NULL;
  return g_steal_pointer (&devices);
}

/* ---- this station's gate ---- */

char *
pv_devices_check_gate (PvStore *store, const char *gate, GError **error)
{
  PvEvent *event = pv_store_get_event (store, error);
  g_autofree char *trimmed = g_strstrip (g_strdup (gate ? gate : ""));
  const char *found;
  g_autofree char *known = NULL;

  if (event == NULL)
    return NULL;
  if ((found = pv_event_find_gate (event, trimmed)) != NULL)
    return g_strdup (found);
  known = g_strjoinv (", ", (char **) pv_event_get_gates (event));
  if (*known == '\0')
    g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("There is no gate “%s”: the event has no gates yet"), trimmed);
  else
    /* Translators: a gate's name, then the event's gates, "Gate 1, Gate 2". */
    g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("There is no gate “%s”; the event has %s"), trimmed, known);
  return NULL;
}

char *
pv_devices_dup_gate (PvStore *store)
{
  g_autofree char *gate = pv_store_dup_meta_string (store, GATE_META);
  PvEvent *event = pv_store_get_event (store, NULL);
  const char *found = event && gate ? pv_event_find_gate (event, gate) : NULL;

  /* A gate the event has since dropped is no gate: asked again, never
   * replaced by another behind the volunteer's back. */
  return g_strdup (found);
}

gboolean
pv_devices_set_gate (PvStore *store, const char *gate, GError **error)
{
  g_autofree char *canonical = pv_devices_check_gate (store, gate, error);

  return canonical != NULL && pv_store_set_meta_string (store, GATE_META, canonical, error);
}
