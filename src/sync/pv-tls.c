/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-tls.c: the TLS policy, certificate fingerprints and pinning (see the
 * header). */
#include "pv-tls.h"

#include <sodium.h>

/* TLS 1.2 and 1.3 only, AEAD suites with forward secrecy, the server's
 * order first (GnuTLS priority syntax, as glib-networking takes it). */
#define TLS_PRIORITY                                                                                     \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
  "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

void
pv_tls_policy_init (void)
{
  g_setenv ("G_TLS_GNUTLS_PRIORITY", TLS_PRIORITY, FALSE);
}

void
pv_tls_fingerprint (GTlsCertificate *certificate, guint8 out[PV_FINGERPRINT_SIZE])
{
  g_autoptr (GByteArray) der = NULL;

  G_STATIC_ASSERT (PV_FINGERPRINT_SIZE == crypto_hash_sha256_BYTES);
  g_object_get (certificate, "certificate", &der, NULL);
  crypto_hash_sha256 (out, der ? der->data : NULL, der ? der->len : 0);
}

static gboolean
accept_pinned (SoupMessage *msg, GTlsCertificate *certificate, GTlsCertificateFlags errors, gpointer pin)
{
  guint8 seen[PV_FINGERPRINT_SIZE];

  pv_tls_fingerprint (certificate, seen);
  return sodium_memcmp (seen, pin, sizeof seen) == 0;
}

void
pv_tls_pin_certificate (SoupMessage *msg, const guint8 fingerprint[PV_FINGERPRINT_SIZE])
{
  g_signal_connect_data (msg, "accept-certificate", G_CALLBACK (accept_pinned),
                         g_memdup2 (fingerprint, PV_FINGERPRINT_SIZE), (GClosureNotify) (void (*) (void)) g_free, 0);
}
