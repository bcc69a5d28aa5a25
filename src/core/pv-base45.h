/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-base45.h: Base45 (RFC 9285), the encoding that keeps a ticket code inside
 * the QR alphanumeric character set. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Length of the Base45 text for @len bytes (without a terminator). */
gsize pv_base45_encoded_len (gsize len);

/* Returns a newly allocated, NUL-terminated Base45 string. */
char *pv_base45_encode (const guint8 *data, gsize len);

/* Decodes @len characters of @text (or up to NUL when @len < 0) into @out,
 * which holds @out_cap bytes. Fails with PV_ERROR_MALFORMED naming the
 * position of the first bad character, a dangling single character, a
 * triplet above 65535 or a pair above 255, and output that would not fit.
 * Never reads @text past @len nor writes @out past @out_cap. */
gboolean pv_base45_decode_into (const char *text,
                                gssize len,
                                guint8 *out,
                                gsize out_cap,
                                gsize *out_len,
                                GError **error);

/* Allocating variant of pv_base45_decode_into(). */
GBytes *pv_base45_decode (const char *text, gssize len, GError **error);

G_END_DECLS
