/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-base45.c: Base45 as RFC 9285 defines it. Ticket codes use it because its
 * 45 characters are exactly the QR alphanumeric set, which packs 5.5 bits per
 * character instead of the 8 of byte mode. The decoder sits on the gate's hot
 * path and reads untrusted camera input, so it works in place, allocates
 * nothing and checks every character and every bound. */
#include "pv-base45.h"

#include <string.h>

#include "pv-error.h"

static const char b45_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* Value + 1 of each Base45 character, 0 for every other byte, so one table
 * lookup both validates and decodes (lowercase is deliberately absent: RFC
 * 9285 is case-sensitive and QR alphanumeric mode has no lowercase). */
/* clang-format off */
static const guint8 b45_value[256] = {
  ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
  ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12,
  ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16, ['G'] = 17, ['H'] = 18,
  ['I'] = 19, ['J'] = 20, ['K'] = 21, ['L'] = 22, ['M'] = 23, ['N'] = 24,
  ['O'] = 25, ['P'] = 26, ['Q'] = 27, ['R'] = 28, ['S'] = 29, ['T'] = 30,
  ['U'] = 31, ['V'] = 32, ['W'] = 33, ['X'] = 34, ['Y'] = 35, ['Z'] = 36,
  [' '] = 37, ['$'] = 38, ['%'] = 39, ['*'] = 40, ['+'] = 41, ['-'] = 42,
  ['.'] = 43, ['/'] = 44, [':'] = 45,
};
/* clang-format on */

gsize
pv_base45_encoded_len (gsize len)
{
  return (len / 2) * 3 + (len % 2) * 2;
}

char *
pv_base45_encode (const guint8 *data,
                  gsize len)
{
  char *text;
  char *p;
  gsize i;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  /* (len / 2) * 3 must not wrap around. */
  g_return_val_if_fail (len / 2 < (G_MAXSIZE - 3) / 3, NULL);

  text = g_malloc (pv_base45_encoded_len (len) + 1);
  p = text;

  for (i = 0; i + 1 < len; i += 2)
    {
      guint n = ((guint) data[i] << 8) | data[i + 1];

      *p++ = b45_alphabet[n % 45];
      *p++ = b45_alphabet[(n / 45) % 45];
      *p++ = b45_alphabet[n / (45 * 45)];
    }

  if (i < len)
    {
      guint n = data[i];

      *p++ = b45_alphabet[n % 45];
      *p++ = b45_alphabet[n / 45];
    }

  *p = '\0';

  return text;
}

/* Kept out of line: only failing input gets here. Printable ASCII is quoted
 * as is, anything else by value, so the message stays valid UTF-8 whatever
 * the camera read. */
static void
set_bad_character_error (GError **error,
                         guchar c,
                         gsize position)
{
  if (c < 0x80 && g_ascii_isprint (c))
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                 "Character '%c' at position %" G_GSIZE_FORMAT " is not Base45",
                 c, position);
  else
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                 "Byte 0x%02X at position %" G_GSIZE_FORMAT " is not Base45",
                 c, position);
}

gboolean
pv_base45_decode_into (const char *text,
                       gssize len,
                       guint8 *out,
                       gsize out_cap,
                       gsize *out_len,
                       GError **error)
{
  const guchar *s = (const guchar *) text;
  gsize n;
  gsize i;
  gsize o = 0;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL || out_cap == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  n = len < 0 ? strlen (text) : (gsize) len;

  /* Problems are reported in reading order, so the position named is that
   * of the first thing wrong. */
  for (i = 0; i < n; i += 3)
    {
      gsize group = MIN (n - i, 3);
      guint v[3] = { 0, 0, 0 };
      guint value;
      gsize k;

      for (k = 0; k < group; k++)
        {
          guint8 c = b45_value[s[i + k]];

          if (G_UNLIKELY (c == 0))
            {
              set_bad_character_error (error, s[i + k], i + k);
              return FALSE;
            }
          v[k] = c - 1u;
        }

      if (G_UNLIKELY (group == 1))
        {
          g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                       "Base45 text ends in a single character at position %" G_GSIZE_FORMAT
                       "; it must come in pairs or triplets",
                       i);
          return FALSE;
        }

      value = v[0] + v[1] * 45 + v[2] * 45 * 45;

      if (group == 3)
        {
          if (G_UNLIKELY (value > 0xFFFF))
            {
              g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                           "Base45 triplet \"%.3s\" at position %" G_GSIZE_FORMAT
                           " stands for %u, above 65535",
                           (const char *) s + i, i, value);
              return FALSE;
            }
          if (G_UNLIKELY (out_cap - o < 2))
            goto too_long;
          out[o++] = value >> 8;
          out[o++] = value & 0xFF;
        }
      else
        {
          if (G_UNLIKELY (value > 0xFF))
            {
              g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                           "Base45 pair \"%.2s\" at position %" G_GSIZE_FORMAT
                           " stands for %u, above 255",
                           (const char *) s + i, i, value);
              return FALSE;
            }
          if (G_UNLIKELY (out_cap - o < 1))
            goto too_long;
          out[o++] = value;
        }
    }

  if (out_len != NULL)
    *out_len = o;

  return TRUE;

too_long:
  g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
               "Base45 text of %" G_GSIZE_FORMAT " characters decodes to %" G_GSIZE_FORMAT
               " bytes, more than the %" G_GSIZE_FORMAT " expected",
               n, (n / 3) * 2 + (n % 3 == 2), out_cap);
  return FALSE;
}

GBytes *
pv_base45_decode (const char *text,
                  gssize len,
                  GError **error)
{
  g_autofree guint8 *buf = NULL;
  gsize n;
  gsize cap;
  gsize out_len = 0;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  n = len < 0 ? strlen (text) : (gsize) len;
  cap = (n / 3) * 2 + 1;
  buf = g_malloc (cap);

  if (!pv_base45_decode_into (text, (gssize) n, buf, cap, &out_len, error))
    return NULL;

  return g_bytes_new_take (g_steal_pointer (&buf), out_len);
}
