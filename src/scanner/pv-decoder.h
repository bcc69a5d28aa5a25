/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-decoder.h: QR decoding with ZBar, off the UI thread. A frame that
 * yields nothing gets further passes within a time budget (those measured to
 * pay off, see pv-decoder.c: half scale, darkened, darkened and doubled). The same code held in front of the camera
 * is reported once, and again only after it has been out of sight for the
 * hold-off; a different code at once. pravesh-ctl scan uses the same passes
 * through pv_decoder_decode(). */
#pragma once

#include <glib-object.h>

#include "pv-frame.h"

G_BEGIN_DECLS

#define PV_DECODER_DEFAULT_HOLD_OFF_MS 3000
#define PV_DECODER_DEFAULT_BUDGET_US (60 * 1000)

typedef struct
{
  char *text;       /* what the symbol holds */
  const char *pass; /* name of the pass that found it: "plain", "half", … */
  gint64 decode_us; /* time spent on the frame, all passes */
} PvDecodeResult;

void pv_decode_result_free (PvDecodeResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvDecodeResult, pv_decode_result_free)

#define PV_TYPE_DECODER (pv_decoder_get_type ())
G_DECLARE_FINAL_TYPE (PvDecoder, pv_decoder, PV, DECODER, GObject)

PvDecoder *pv_decoder_new (void);

/* Decodes one frame (any format; converted to packed GRAY8 as needed) on the
 * calling thread, trying further passes while nothing is found and
 * @budget_us (0: all passes) allows. Returns every distinct symbol found
 * (element-type PvDecodeResult), empty when none. Thread-safe. */
GPtrArray *pv_decoder_decode (PvDecoder *self, PvFrame *frame, gint64 budget_us);

/* The worker: frames submitted are decoded on a thread of the decoder's own
 * with its own GMainContext; "code" is emitted on the main context that was
 * the thread-default when pv_decoder_start() was called. */
void pv_decoder_start (PvDecoder *self);
void pv_decoder_stop (PvDecoder *self);
/* Hands a frame to the worker; FALSE (the frame is dropped) while the worker
 * is still busy with the previous one. Callable from any thread. */
gboolean pv_decoder_submit (PvDecoder *self, PvFrame *frame);

guint pv_decoder_get_hold_off_ms (PvDecoder *self);
void pv_decoder_set_hold_off_ms (PvDecoder *self, guint hold_off_ms);
gint64 pv_decoder_get_budget_us (PvDecoder *self);
void pv_decoder_set_budget_us (PvDecoder *self, gint64 budget_us);

/* Signal "code" (const char *text, gint64 captured_at, gint64 decode_us):
 * a code read from a submitted frame, after the hold-off filter.
 * Counters for the benchmark and the UI: frames submitted, dropped while
 * busy, decoded. */
void pv_decoder_get_counts (PvDecoder *self, guint64 *submitted, guint64 *dropped, guint64 *decoded);

G_END_DECLS
