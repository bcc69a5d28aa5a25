/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-pairing.h: pairing a new device with a hub. The hub's admin makes an
 * invitation; its pairing code (shown as a QR) carries the hub's URL, the
 * SHA-256 fingerprint of its TLS certificate, a one-time secret and, for a
 * gate station, the gate it will stand at. The
 * device makes its own key pair and presents the secret with its public
 * key; the hub enrols it. The secret is good once, for a limited time. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_PAIRING_PREFIX "PVPAIR:"
#define PV_PAIRING_SECRET_SIZE 16
#define PV_FINGERPRINT_SIZE 32
/* As hex, without the NUL (meta "tls-fingerprint" and "hub-fingerprint"). */
#define PV_FINGERPRINT_HEX_SIZE (PV_FINGERPRINT_SIZE * 2)
/* How long an invitation holds unless said otherwise. */
#define PV_INVITE_LIFETIME (G_GINT64_CONSTANT (24 * 60 * 60) * G_USEC_PER_SEC)

typedef struct
{
  char *url;                               /* "https://10.0.0.2:8470/" */
  gboolean pinned;                         /* a TLS fingerprint follows */
  guint8 fingerprint[PV_FINGERPRINT_SIZE]; /* SHA-256 of the hub's certificate (DER) */
  guint8 secret[PV_PAIRING_SECRET_SIZE];
  char *gate;        /* the gate the device stands at, or NULL: it asks */
  gint64 expires_at; /* µs: set by pv_invite_create(), not carried in the code */
} PvPairingCode;

void pv_pairing_code_clear (PvPairingCode *code);

/* "PVPAIR:" and Base45 (QR alphanumeric) of: version 1, flags (1: pinned,
 * 2: a gate follows), the secret, the fingerprint when pinned, the gate's
 * length in bytes and its name in UTF-8 when there is one, then the URL in
 * UTF-8. Codes made before gates were carried (no flag 2) stay valid. */
char *pv_pairing_code_format (const PvPairingCode *code);
/* PV_ERROR_MALFORMED with the reason for anything else. */
gboolean pv_pairing_code_parse (const char *text, PvPairingCode *out, GError **error);

/* Makes an invitation in the hub's @store for a device of @role (gate,
 * desk or admin) named @name, standing at @gate (one of the event's gates,
 * for a gate or a control room; NULL: the device asks on first open), good
 * for @lifetime µs, and fills @out (its URL and fingerprint copied from
 * @url and @fingerprint, NULL for plain HTTP; its gate spelt as the event
 * spells it; its expiry). PV_ERROR_INVALID, in words, for a bad role,
 * name, gate, lifetime or URL; nothing is stored then. */
gboolean pv_invite_create (PvStore *store,
                           PvRole role,
                           const char *name,
                           const char *gate,
                           gint64 lifetime,
                           const char *url,
                           const guint8 *fingerprint,
                           PvPairingCode *out,
                           GError **error);

/* Uses the invitation whose secret is @secret to enrol a device with
 * @public_key, in one transaction: PV_ERROR_PERMISSION when there is no
 * such invitation, it expired, or it was used. */
gboolean pv_invite_redeem (PvStore *store,
                           const guint8 secret[PV_PAIRING_SECRET_SIZE],
                           const guint8 public_key[PV_PUBLIC_KEY_SIZE],
                           guint16 *out_device_id,
                           PvRole *out_role,
                           GError **error);

G_END_DECLS
