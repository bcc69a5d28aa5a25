/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-wedge.c: the keyboard-wedge parser. A USB scanner "types" a whole code
 * in a few tens of milliseconds and ends it with Enter or Tab, while a person
 * at the gate laptop types a key every hundred milliseconds or more; timing
 * alone tells them apart, so no key is ever taken for a scan unless it came
 * in a burst. The ticket check here is structural only (pv_ticket_parse):
 * admission checks the signature later with the issuer's key. */
#include "pv-wedge.h"

#include <string.h>

#include "pv-decoder.h"
#include "pv-ticket-code.h"

/* Nothing a scanner sends is longer than a few hundred characters (an EAN is
 * 13, our codes are 130, a long Code 128 a few dozen); a stuck key or a
 * misbehaving device must not grow the buffer without bound. */
#define MAX_BURST_LEN 1024

struct _PvWedge
{
  gint64 max_gap_us;
  gint64 hold_off_us;
  gsize min_length;

  /* The burst in progress, letters already uppercased. */
  GString *burst;
  gint64 last_key_us;

  /* The last ticket code reported as PV_WEDGE_CODE, for the hold-off. */
  char *last_code;
  gint64 last_code_us;
};

PvWedge *
pv_wedge_new (void)
{
  PvWedge *self = g_new0 (PvWedge, 1);

  self->max_gap_us = (gint64) PV_WEDGE_DEFAULT_MAX_GAP_MS * 1000;
  self->hold_off_us = (gint64) PV_DECODER_DEFAULT_HOLD_OFF_MS * 1000;
  self->min_length = PV_WEDGE_DEFAULT_MIN_LENGTH;
  self->burst = g_string_sized_new (PV_TICKET_CODE_MAX_LEN + 1);
  return self;
}

void
pv_wedge_free (PvWedge *self)
{
  if (self == NULL)
    return;
  g_string_free (self->burst, TRUE);
  g_free (self->last_code);
  g_free (self);
}

void
pv_wedge_set_max_gap_ms (PvWedge *self, guint max_gap_ms)
{
  g_return_if_fail (self != NULL);
  self->max_gap_us = (gint64) max_gap_ms * 1000;
}

void
pv_wedge_set_hold_off_ms (PvWedge *self, guint hold_off_ms)
{
  g_return_if_fail (self != NULL);
  self->hold_off_us = (gint64) hold_off_ms * 1000;
}

static void
set_out (char **out_text, char *text)
{
  if (out_text)
    *out_text = text;
  else
    g_free (text);
}

/* A key that came too long after the previous one was typed by a person (or
 * the scanner stalled): what came before it is not a scan. Equal time stamps
 * and a clock that steps back (toolkits report key times in whole ms) count
 * as fast. */
static gboolean
is_slow (PvWedge *self, gint64 time_us)
{
  return self->burst->len > 0 && time_us - self->last_key_us > self->max_gap_us;
}

PvWedgeEvent
pv_wedge_feed_char (PvWedge *self, gunichar c, gint64 time_us, char **out_text)
{
  g_return_val_if_fail (self != NULL, PV_WEDGE_NONE);

  if (out_text)
    *out_text = NULL;

  /* Some toolkits and scanner setups deliver the terminator as a character
   * rather than as a key; it means the same. */
  if (c == '\r' || c == '\n' || c == '\t')
    return pv_wedge_feed_end (self, time_us, out_text);
  /* Other control characters (a scanner's AIM prefix, say) carry no text and
   * must not break or extend a burst. */
  if (g_unichar_iscntrl (c) || !g_unichar_validate (c))
    return PV_WEDGE_NONE;

  /* The slow key itself starts the next burst: a genuine scan that begins
   * right after a person's stray key is not lost. */
  if (is_slow (self, time_us))
    g_string_truncate (self->burst, 0);
  self->last_key_us = time_us;

  if (self->burst->len >= MAX_BURST_LEN)
    return PV_WEDGE_NONE;

  /* Base45 has only capital letters, digits and " $%*+-./:". A scanner set
   * to the wrong case (Caps Lock on, or a layout that swaps shift) types the
   * letters in lower case, so letters are read case-insensitively by
   * uppercasing them; nothing else about a wrong layout can be undone
   * without knowing which layout it was. */
  if (c < 0x80)
    c = (gunichar) g_ascii_toupper ((char) c);
  g_string_append_unichar (self->burst, c);
  return PV_WEDGE_NONE;
}

/* The ticket code inside @text: all of it, or, when a person's key landed
 * just before the scanner started (within the gap, so it joined the burst),
 * the part from the code prefix on. */
static const char *
find_ticket_code (const char *text)
{
  PvTicket ticket;
  const char *p;

  if (pv_ticket_parse (text, -1, &ticket, NULL))
    return text;
  p = strstr (text, PV_TICKET_CODE_PREFIX);
  if (p != NULL && p != text && pv_ticket_parse (p, -1, &ticket, NULL))
    return p;
  return NULL;
}

PvWedgeEvent
pv_wedge_feed_end (PvWedge *self, gint64 time_us, char **out_text)
{
  g_autofree char *text = NULL;
  const char *code;

  g_return_val_if_fail (self != NULL, PV_WEDGE_NONE);

  if (out_text)
    *out_text = NULL;

  /* Enter long after the last key is a person pressing it, whatever came
   * before; a scanner sends its terminator as fast as the rest. */
  if (self->burst->len == 0 || is_slow (self, time_us))
    {
      g_string_truncate (self->burst, 0);
      return PV_WEDGE_NONE;
    }

  text = g_string_free (g_steal_pointer (&self->burst), FALSE);
  self->burst = g_string_sized_new (PV_TICKET_CODE_MAX_LEN + 1);

  /* A few fast keys and Enter are a person's chord, not a scan. */
  if (g_utf8_strlen (text, -1) < (glong) self->min_length)
    return PV_WEDGE_NONE;

  code = find_ticket_code (text);
  if (code == NULL)
    {
      set_out (out_text, g_steal_pointer (&text));
      return PV_WEDGE_NOT_A_TICKET;
    }

  /* The hold-off counts from the scan that was reported, not from the last
   * repeat: a person who keeps pulling the trigger gets a fresh verdict every
   * hold-off, and admission tells them the ticket is already in. */
  if (self->last_code != NULL
      && strcmp (self->last_code, code) == 0
      && time_us - self->last_code_us < self->hold_off_us)
    {
      set_out (out_text, g_strdup (code));
      return PV_WEDGE_REPEAT;
    }

  g_free (self->last_code);
  self->last_code = g_strdup (code);
  self->last_code_us = time_us;
  set_out (out_text, g_strdup (code));
  return PV_WEDGE_CODE;
}
