/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ticket-code.c: turns a ticket into the text its QR holds and back. The
 * parser runs for every scan at every gate and reads whatever the camera saw,
 * so it trusts no byte, never reads past the given length, and on success
 * allocates nothing; the signature check is separate so the caller can pick
 * the issuing device's key from the parsed issuer first. */
#include "config.h"

#include "pv-ticket-code.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "pv-base45.h"
#include "pv-error.h"

/* Signatures over tickets must never be mistaken for signatures over anything
 * else a device key signs (ledger records, say); the tag separates them. */
#define TICKET_DOMAIN_TAG "PV1T"
#define TICKET_DOMAIN_TAG_LEN 4

#define PREFIX_LEN (sizeof PV_TICKET_CODE_PREFIX - 1)
#define BINARY_LEN (PV_TICKET_PAYLOAD_SIZE + PV_SIGNATURE_SIZE)
/* 84 bytes make 42 Base45 triplets: 4 + 126 = 130 characters. */
#define CODE_LEN (PREFIX_LEN + (BINARY_LEN / 2) * 3 + (BINARY_LEN % 2) * 2)

G_STATIC_ASSERT (PV_SIGNATURE_SIZE == crypto_sign_BYTES);
G_STATIC_ASSERT (PV_PUBLIC_KEY_SIZE == crypto_sign_PUBLICKEYBYTES);
G_STATIC_ASSERT (CODE_LEN <= PV_TICKET_CODE_MAX_LEN);

static inline void
put_u16 (guint8 *p,
         guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xFF;
}

static inline void
put_u32 (guint8 *p,
         guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xFF;
  p[2] = (v >> 8) & 0xFF;
  p[3] = v & 0xFF;
}

static inline guint16
get_u16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static inline guint32
get_u32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16)
         | ((guint32) p[2] << 8) | (guint32) p[3];
}

static void
encode_payload (const PvTicket *ticket,
                guint8 payload[PV_TICKET_PAYLOAD_SIZE])
{
  payload[0] = ticket->version;
  put_u32 (payload + 1, ticket->event_id);
  put_u16 (payload + 5, ticket->issuer);
  put_u32 (payload + 7, ticket->serial);
  payload[11] = ticket->category;
  payload[12] = ticket->day;
  put_u16 (payload + 13, ticket->party);
  payload[15] = ticket->flags;
  put_u32 (payload + 16, ticket->issued_at);
}

static void
decode_payload (const guint8 payload[PV_TICKET_PAYLOAD_SIZE],
                PvTicket *ticket)
{
  ticket->version = payload[0];
  ticket->event_id = get_u32 (payload + 1);
  ticket->issuer = get_u16 (payload + 5);
  ticket->serial = get_u32 (payload + 7);
  ticket->category = payload[11];
  ticket->day = payload[12];
  ticket->party = get_u16 (payload + 13);
  ticket->flags = payload[15];
  ticket->issued_at = get_u32 (payload + 16);
  memcpy (ticket->payload, payload, PV_TICKET_PAYLOAD_SIZE);
}

/* Builds "PV1T" || payload on the stack: the hot path must not allocate. */
static void
signed_message (const guint8 payload[PV_TICKET_PAYLOAD_SIZE],
                guint8 message[TICKET_DOMAIN_TAG_LEN + PV_TICKET_PAYLOAD_SIZE])
{
  memcpy (message, TICKET_DOMAIN_TAG, TICKET_DOMAIN_TAG_LEN);
  memcpy (message + TICKET_DOMAIN_TAG_LEN, payload, PV_TICKET_PAYLOAD_SIZE);
}

/* Only failing codes get here. Base45 counts positions from its own first
 * character, but people count from the start of the code they hold, so the
 * fault is located again in the terms of the whole code. With the length
 * already right, a bad character or a triplet above 65535 are the only
 * faults there can be. */
static void
set_base45_error (GError **error,
                  const char *code,
                  gsize n,
                  GError *base45_error)
{
  static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  gsize i;

  for (i = PREFIX_LEN; i < n; i++)
    {
      guchar c = (guchar) code[i];

      if (memchr (alphabet, c, sizeof alphabet - 1) != NULL)
        continue;

      /* Printable ASCII is quoted as is, anything else by value, so the
       * message stays valid UTF-8 whatever the camera read. */
      if (c < 0x80 && g_ascii_isprint (c))
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                     "Character '%c' at position %" G_GSIZE_FORMAT " is not Base45",
                     c, i);
      else
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                     "Byte 0x%02X at position %" G_GSIZE_FORMAT " is not Base45",
                     c, i);
      g_error_free (base45_error);
      return;
    }

  for (i = PREFIX_LEN; i + 3 <= n; i += 3)
    {
      gsize v0 = (const char *) memchr (alphabet, code[i], sizeof alphabet - 1) - alphabet;
      gsize v1 = (const char *) memchr (alphabet, code[i + 1], sizeof alphabet - 1) - alphabet;
      gsize v2 = (const char *) memchr (alphabet, code[i + 2], sizeof alphabet - 1) - alphabet;
      gsize value = v0 + v1 * 45 + v2 * 45 * 45;

      if (value > 0xFFFF)
        {
          g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                       "Base45 triplet \"%.3s\" at position %" G_GSIZE_FORMAT
                       " stands for %" G_GSIZE_FORMAT ", above 65535",
                       code + i, i, value);
          g_error_free (base45_error);
          return;
        }
    }

  g_propagate_error (error, base45_error);
}

/* The version is always set to PV_TICKET_FORMAT_VERSION, the only one this
 * code writes; a ticket admitting nobody is refused because no gate would
 * accept its code. */
char *
pv_ticket_sign (PvTicket *ticket,
                const guint8 secret_key[PV_SECRET_KEY_SIZE])
{
  guint8 message[TICKET_DOMAIN_TAG_LEN + PV_TICKET_PAYLOAD_SIZE];
  guint8 binary[BINARY_LEN];
  g_autofree char *text = NULL;

  g_return_val_if_fail (ticket != NULL, NULL);
  g_return_val_if_fail (ticket->party >= 1, NULL);
  g_return_val_if_fail (secret_key != NULL, NULL);

  ticket->version = PV_TICKET_FORMAT_VERSION;
  encode_payload (ticket, ticket->payload);

  signed_message (ticket->payload, message);
  crypto_sign_detached (ticket->signature, NULL, message, sizeof message,
                        secret_key);

  memcpy (binary, ticket->payload, PV_TICKET_PAYLOAD_SIZE);
  memcpy (binary + PV_TICKET_PAYLOAD_SIZE, ticket->signature, PV_SIGNATURE_SIZE);
  text = pv_base45_encode (binary, sizeof binary);

  return g_strconcat (PV_TICKET_CODE_PREFIX, text, NULL);
}

gboolean
pv_ticket_parse (const char *code,
                 gssize len,
                 PvTicket *out,
                 GError **error)
{
  guint8 binary[BINARY_LEN];
  g_autoptr (GError) local_error = NULL;
  gsize n;
  gsize binary_len = 0;
  guint16 party;

  g_return_val_if_fail (code != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Bounded: a NUL-terminated string is never scanned beyond the longest
   * code, however long it is. */
  if (len < 0)
    {
      n = 0;
      while (n <= PV_TICKET_CODE_MAX_LEN && code[n] != '\0')
        n++;
    }
  else
    {
      n = (gsize) len;
    }

  if (n < PREFIX_LEN || memcmp (code, PV_TICKET_CODE_PREFIX, PREFIX_LEN) != 0)
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                           "Ticket code must start with " PV_TICKET_CODE_PREFIX);
      return FALSE;
    }

  if (n > PV_TICKET_CODE_MAX_LEN)
    {
      if (len < 0)
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                     "Ticket code is longer than %d characters",
                     PV_TICKET_CODE_MAX_LEN);
      else
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                     "Ticket code is %" G_GSIZE_FORMAT " characters long, longer than %d",
                     n, PV_TICKET_CODE_MAX_LEN);
      return FALSE;
    }

  /* "PV1:" fixes the format, and with it the exact length. */
  if (n != CODE_LEN)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Ticket code is %" G_GSIZE_FORMAT " characters long; a "
                   "version %d code has exactly %d (cut off or extended?)",
                   n, PV_TICKET_FORMAT_VERSION, (int) CODE_LEN);
      return FALSE;
    }

  if (!pv_base45_decode_into (code + PREFIX_LEN, (gssize) (n - PREFIX_LEN),
                              binary, sizeof binary, &binary_len, &local_error))
    {
      set_base45_error (error, code, n, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (binary_len != BINARY_LEN)
    {
      /* Unreachable with the length checked above, but the signature must
       * never be read from bytes that were not decoded. */
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Ticket code holds %" G_GSIZE_FORMAT " bytes, expected %d",
                   binary_len, (int) BINARY_LEN);
      return FALSE;
    }

  if (binary[0] != PV_TICKET_FORMAT_VERSION)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Ticket format version %u is not supported (expected %d)",
                   binary[0], PV_TICKET_FORMAT_VERSION);
      return FALSE;
    }

  party = get_u16 (binary + 13);
  if (party == 0)
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                           "Ticket admits nobody (party size 0)");
      return FALSE;
    }

  /* @out is only written once the whole code is known good. */
  decode_payload (binary, out);
  memcpy (out->signature, binary + PV_TICKET_PAYLOAD_SIZE, PV_SIGNATURE_SIZE);

  return TRUE;
}

gboolean
pv_ticket_verify_signature (const PvTicket *ticket,
                            const guint8 public_key[PV_PUBLIC_KEY_SIZE])
{
  guint8 message[TICKET_DOMAIN_TAG_LEN + PV_TICKET_PAYLOAD_SIZE];
  int result;

  g_return_val_if_fail (ticket != NULL, FALSE);
  g_return_val_if_fail (public_key != NULL, FALSE);

  signed_message (ticket->payload, message);
  result = crypto_sign_verify_detached (ticket->signature, message,
                                        sizeof message, public_key);

  return result == 0;
}

char *
pv_ticket_format_serial (guint16 issuer,
                         guint32 serial)
{
  return g_strdup_printf ("%u-%06" G_GUINT32_FORMAT, (guint) issuer, serial);
}

/* Reads the decimal digits at *@p, advancing it; FALSE when there are none or
 * the number exceeds @max. Written out by hand because strtoul() would also
 * take signs, spaces and hex, none of which belong in a serial. */
static gboolean
read_number (const char **p,
             guint64 max,
             guint64 *out_value)
{
  const char *s = *p;
  guint64 value = 0;

  if (!g_ascii_isdigit (*s))
    return FALSE;

  for (; g_ascii_isdigit (*s); s++)
    {
      value = value * 10 + (guint64) (*s - '0');
      if (value > max)
        return FALSE;
    }

  *p = s;
  *out_value = value;

  return TRUE;
}

gboolean
pv_ticket_parse_serial (const char *text,
                        guint16 *out_issuer,
                        guint32 *out_serial,
                        GError **error)
{
  const char *p = text;
  guint64 issuer;
  guint64 serial;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!read_number (&p, G_MAXUINT16, &issuer))
    {
      if (g_ascii_isdigit (*p))
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                     /* Translators: a serial is typed at the gate or the desk, "3-145". */
                     _ ("The number before the dash in a ticket serial is at most %u"),
                     (guint) G_MAXUINT16);
      else
        g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                             _ ("A ticket serial starts with a number, then a dash, like 3-145"));
      return FALSE;
    }

  if (*p != '-')
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                           _ ("A ticket serial needs a dash after its first number, like 3-145"));
      return FALSE;
    }
  p++;

  if (!read_number (&p, G_MAXUINT32, &serial))
    {
      if (g_ascii_isdigit (*p))
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                     _ ("The number after the dash in a ticket serial is at most %u"), (guint) G_MAXUINT32);
      else
        g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                             _ ("A ticket serial needs a number after the dash, like 3-145"));
      return FALSE;
    }

  if (*p != '\0')
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                           _ ("A ticket serial ends with its second number, like 3-145"));
      return FALSE;
    }

  if (out_issuer != NULL)
    *out_issuer = (guint16) issuer;
  if (out_serial != NULL)
    *out_serial = (guint32) serial;

  return TRUE;
}
