/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-tls.h: the TLS every Pravesh process speaks, client or server: the
 * process-wide policy (versions and suites), a certificate's SHA-256
 * fingerprint (what a pairing code pins and a hub announces), and trusting
 * exactly one such certificate for an outgoing message. Shared by the
 * device's clients in sync and by the hub, so it lives in neither. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "pv-pairing.h"

G_BEGIN_DECLS

/* Restricts TLS, for everything this process does, to TLS 1.2 and newer
 * with AEAD suites and forward secrecy. Call at the start of main, before
 * any TLS is used; an administrator's own G_TLS_GNUTLS_PRIORITY wins. */
void pv_tls_policy_init (void);

/* The SHA-256 of @certificate's DER bytes: what a pairing code pins. */
void pv_tls_fingerprint (GTlsCertificate *certificate, guint8 out[PV_FINGERPRINT_SIZE]);
/* Makes @msg trust exactly the certificate whose SHA-256 is @fingerprint
 * (a hub's self-signed one), whatever the system's authorities say. */
void pv_tls_pin_certificate (SoupMessage *msg, const guint8 fingerprint[PV_FINGERPRINT_SIZE]);

G_END_DECLS
