/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-token.h: the bearer tokens every sync and API call carries. A device
 * signs its own with its device key, so any replica that holds the
 * device's certificate — the hub, or a peer gate with the hub gone — can
 * check it without asking anyone, and revoking the device in the ledger
 * ends its access everywhere the revocation reaches. Tokens live minutes:
 * a stolen one is soon worthless. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* How long a token is good for, and how far ahead a token's expiry may lie
 * (its lifetime plus clock skew) before it is refused as implausible. */
#define PV_TOKEN_LIFETIME (G_GINT64_CONSTANT (10 * 60) * G_USEC_PER_SEC)
#define PV_TOKEN_MAX_AHEAD (PV_TOKEN_LIFETIME + G_GINT64_CONSTANT (5 * 60) * G_USEC_PER_SEC)

typedef struct
{
  guint32 event_id;
  guint16 device_id;
  PvRole role;       /* from the device's certificate, not the token */
  gint64 expires_at; /* µs since the epoch */
} PvTokenInfo;

/* Tokens are made out to one server — the base URL the device calls — so a
 * server that receives one (a peer gate) cannot pass it on to another (the
 * hub). The audience is 8 bytes of BLAKE2b of the URL, trailing slashes
 * left out. */
#define PV_TOKEN_AUDIENCE_SIZE 8
void pv_token_audience (const char *url, guint8 out[PV_TOKEN_AUDIENCE_SIZE]);

/* "PVT1." base64url(payload) "." base64url(signature), where the payload is
 * 23 bytes, big-endian: version 1, event id (u32), device id (u16), expiry
 * (i64 µs), audience (8 bytes), and the signature the device key's Ed25519
 * over "PVT1" and the payload. @now is the clock to count from (the hub's,
 * when known); @audience the URL of the server it is for. */
char *pv_token_new (PvStore *store, gint64 now, const char *audience, GError **error);

/* The same from the parts, for a caller that keeps the key itself (a sync
 * client signing while another thread writes to the store). */
char *pv_token_sign (guint32 event_id,
                     guint16 device,
                     const guint8 secret_key[PV_SECRET_KEY_SIZE],
                     gint64 now,
                     const char *audience);

/* What every refusal of a well-formed token says, whatever the reason. */
#define PV_TOKEN_REFUSED                                                                     \
  "The token is not accepted here: check this device's clock and the server's address, and " \
  "that the device is enrolled here and not revoked"

/* Checks @token against @store at @now: well formed (else
 * PV_ERROR_MALFORMED), of this event, signed by a device this replica
 * holds a certificate for, made out to one of @audiences (@n_audiences
 * tags of PV_TOKEN_AUDIENCE_SIZE bytes: the URLs this server answers at),
 * not expired, not revoked, certificate in force. Else PV_ERROR_PERMISSION
 * with PV_TOKEN_REFUSED for every reason alike, so that the error can go
 * back to the caller as it is without telling a device id that exists
 * from one that does not; the reason is logged at debug level. */
gboolean pv_token_verify (PvStore *store,
                          const char *token,
                          gint64 now,
                          const guint8 *audiences,
                          guint n_audiences,
                          PvTokenInfo *out,
                          GError **error);

G_END_DECLS
