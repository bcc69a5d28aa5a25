/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-ticket-code.c: libFuzzer target for the two parsers a camera feeds,
 * pv_ticket_parse() and pv_base45_decode_into(). The input is handed over
 * with its exact length and no terminator, so AddressSanitizer sees any read
 * past it; whatever parses must also survive re-encoding unchanged, because
 * the signature covers bytes, and two spellings of one ticket would let a
 * copied code slip past duplicate detection. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pv-base45.h"
#include "pv-error.h"
#include "pv-ticket-code.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The same bytes the parser should have read, written back from the parsed
 * fields by the documented layout, independently of pv-ticket-code.c. */
static void
encode_fields (const PvTicket *t,
               guint8 payload[PV_TICKET_PAYLOAD_SIZE])
{
  payload[0] = t->version;
  payload[1] = t->event_id >> 24;
  payload[2] = (t->event_id >> 16) & 0xFF;
  payload[3] = (t->event_id >> 8) & 0xFF;
  payload[4] = t->event_id & 0xFF;
  payload[5] = t->issuer >> 8;
  payload[6] = t->issuer & 0xFF;
  payload[7] = t->serial >> 24;
  payload[8] = (t->serial >> 16) & 0xFF;
  payload[9] = (t->serial >> 8) & 0xFF;
  payload[10] = t->serial & 0xFF;
  payload[11] = t->category;
  payload[12] = t->day;
  payload[13] = t->party >> 8;
  payload[14] = t->party & 0xFF;
  payload[15] = t->flags;
  payload[16] = t->issued_at >> 24;
  payload[17] = (t->issued_at >> 16) & 0xFF;
  payload[18] = (t->issued_at >> 8) & 0xFF;
  payload[19] = t->issued_at & 0xFF;
}

static void
check_ticket_parse (const char *text,
                    size_t size)
{
  g_autoptr (GError) error = NULL;
  guint8 binary[PV_TICKET_PAYLOAD_SIZE + PV_SIGNATURE_SIZE];
  guint8 payload[PV_TICKET_PAYLOAD_SIZE];
  g_autofree char *body = NULL;
  PvTicket ticket;

  if (size > G_MAXSSIZE)
    return;

  if (!pv_ticket_parse (text, (gssize) size, &ticket, &error))
    {
      g_assert_nonnull (error);
      g_assert_true (g_error_matches (error, PV_ERROR, PV_ERROR_MALFORMED));
      /* Messages quote what the camera read; they must stay UTF-8. */
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return;
    }
  g_assert_null (error);

  g_assert_cmpuint (size, <=, PV_TICKET_CODE_MAX_LEN);
  g_assert_cmpint (memcmp (text, PV_TICKET_CODE_PREFIX, strlen (PV_TICKET_CODE_PREFIX)), ==, 0);
  g_assert_cmpuint (ticket.version, ==, PV_TICKET_FORMAT_VERSION);
  g_assert_cmpuint (ticket.party, >=, 1);

  /* The fields and the signed payload tell the same story. */
  encode_fields (&ticket, payload);
  g_assert_cmpmem (payload, sizeof payload, ticket.payload, sizeof ticket.payload);

  /* One spelling per ticket: re-encoding gives back the very input. */
  memcpy (binary, ticket.payload, PV_TICKET_PAYLOAD_SIZE);
  memcpy (binary + PV_TICKET_PAYLOAD_SIZE, ticket.signature, PV_SIGNATURE_SIZE);
  body = pv_base45_encode (binary, sizeof binary);
  g_assert_cmpuint (strlen (PV_TICKET_CODE_PREFIX) + strlen (body), ==, size);
  g_assert_cmpmem (body, strlen (body),
                   text + strlen (PV_TICKET_CODE_PREFIX), size - strlen (PV_TICKET_CODE_PREFIX));
}

static void
check_base45 (const char *text,
              size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *back = NULL;
  g_autoptr (GBytes) bytes = NULL;
  guint8 out[128];
  gsize out_len = 0;
  /* Vary the capacity with the input so the "does not fit" path gets
   * exercised as well as the others. */
  gsize cap = size > 0 ? (guint8) text[0] % (sizeof out + 1) : 0;

  if (size > G_MAXSSIZE)
    return;

  if (!pv_base45_decode_into (text, (gssize) size, out, cap, &out_len, &error))
    {
      g_assert_true (g_error_matches (error, PV_ERROR, PV_ERROR_MALFORMED));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return;
    }
  g_assert_null (error);
  g_assert_cmpuint (out_len, <=, cap);

  back = pv_base45_encode (out, out_len);
  g_assert_cmpuint (strlen (back), ==, size);
  g_assert_cmpmem (back, size, text, size);

  /* The allocating decoder agrees with the one that works in place. */
  bytes = pv_base45_decode (text, (gssize) size, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), out, out_len);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t size)
{
  /* libFuzzer hands over a heap copy of exactly @size bytes, so any read
   * past the end hits AddressSanitizer's redzone. */
  const char *text = (const char *) data;

  check_ticket_parse (text, size);
  check_base45 (text, size);

  return 0;
}
