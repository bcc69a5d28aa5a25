/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-keys.h: Ed25519 key pairs, device roles and device certificates (the
 * event key's signature over a device's id, role, name, validity and public
 * key), which let any replica verify any ticket offline. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

const char *pv_role_to_string (PvRole role);
/* Accepts "gate", "desk", "admin", "hub"; PV_ERROR_INVALID otherwise. */
gboolean pv_role_from_string (const char *text, PvRole *out_role, GError **error);
/* Desks, admins and the hub issue tickets; gates only admit. */
gboolean pv_role_can_issue (PvRole role);

/* Aborts if libsodium cannot initialise: nothing works without it. */
void pv_crypto_init (void);

void pv_keypair_generate (guint8 public_key[PV_PUBLIC_KEY_SIZE],
                          guint8 secret_key[PV_SECRET_KEY_SIZE]);

struct _PvDeviceCert
{
  guint32 event_id;
  guint16 device_id;
  PvRole role;
  char *name;
  gint64 valid_from;  /* µs since the Unix epoch */
  gint64 valid_until; /* µs since the Unix epoch */
  guint8 public_key[PV_PUBLIC_KEY_SIZE];
  guint8 signature[PV_SIGNATURE_SIZE]; /* by the event key */
};

PvDeviceCert *pv_device_cert_new (guint32 event_id,
                                  guint16 device_id,
                                  PvRole role,
                                  const char *name,
                                  gint64 valid_from,
                                  gint64 valid_until,
                                  const guint8 public_key[PV_PUBLIC_KEY_SIZE]);
PvDeviceCert *pv_device_cert_copy (const PvDeviceCert *cert);
void pv_device_cert_free (PvDeviceCert *cert);

void pv_device_cert_sign (PvDeviceCert *cert,
                          const guint8 event_secret_key[PV_SECRET_KEY_SIZE]);
/* PV_ERROR_SIGNATURE when the event key did not sign exactly these fields. */
gboolean pv_device_cert_verify (const PvDeviceCert *cert,
                                const guint8 event_public_key[PV_PUBLIC_KEY_SIZE],
                                GError **error);

/* Serialised form inside ledger records: "(uqssxxayay)" — event id, device
 * id, role name, device name, valid from, valid until, public key, signature. */
#define PV_DEVICE_CERT_VARIANT_TYPE "(uqssxxayay)"
GVariant *pv_device_cert_to_variant (const PvDeviceCert *cert);
PvDeviceCert *pv_device_cert_new_from_variant (GVariant *variant, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvDeviceCert, pv_device_cert_free)

G_END_DECLS
