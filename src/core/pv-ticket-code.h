/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ticket-code.h: the ticket code a QR holds — "PV1:" + Base45 of a 20-byte
 * payload and the issuing device's Ed25519 signature over it. No personal
 * data is inside; the code is 130 characters, within QR version 6-M. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TICKET_CODE_PREFIX "PV1:"
#define PV_TICKET_CODE_MAX_LEN 154
#define PV_TICKET_FORMAT_VERSION 1
#define PV_TICKET_PAYLOAD_SIZE 20
/* Day byte of a ticket whose category does not name one day. */
#define PV_TICKET_DAY_NONE 0xFF

/* Payload layout, big-endian:
 *   0  u8   format version (1)
 *   1  u32  event id
 *   5  u16  issuing device id
 *   7  u32  serial (per issuing device)
 *  11  u8   category id
 *  12  u8   event day index, or PV_TICKET_DAY_NONE
 *  13  u16  party size (people admitted by one scan)
 *  15  u8   flags (reserved, 0)
 *  16  u32  issued at, seconds since the Unix epoch
 * followed by a 64-byte signature over the domain tag "PV1T" and the payload. */
struct _PvTicket
{
  guint8 version;
  guint32 event_id;
  guint16 issuer;
  guint32 serial;
  guint8 category;
  guint8 day;
  guint16 party;
  guint8 flags;
  guint32 issued_at;
  guint8 payload[PV_TICKET_PAYLOAD_SIZE]; /* exactly the signed bytes */
  guint8 signature[PV_SIGNATURE_SIZE];
};

/* Fills @ticket->payload from the fields, signs it and returns the code. */
char *pv_ticket_sign (PvTicket *ticket,
                      const guint8 secret_key[PV_SECRET_KEY_SIZE]);

/* Parses a code into @out without checking the signature. Fails with
 * PV_ERROR_MALFORMED and a precise message: missing prefix, too long, bad
 * Base45 at a position, wrong payload length, unsupported version, zero
 * party. @len < 0 means NUL-terminated. */
gboolean pv_ticket_parse (const char *code,
                          gssize len,
                          PvTicket *out,
                          GError **error);

/* TRUE when @public_key signed exactly @ticket->payload. */
gboolean pv_ticket_verify_signature (const PvTicket *ticket,
                                     const guint8 public_key[PV_PUBLIC_KEY_SIZE]);

/* "3-000145": issuing device, dash, serial; what people read and type. */
char *pv_ticket_format_serial (guint16 issuer, guint32 serial);
gboolean pv_ticket_parse_serial (const char *text,
                                 guint16 *out_issuer,
                                 guint32 *out_serial,
                                 GError **error);

G_END_DECLS
