/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-frame.h: one video frame as the scanner hands it on — pixels in a
 * GBytes with their geometry and the time it was captured — so the UI can
 * wrap a preview frame in a GdkMemoryTexture and the decoder can read a
 * gray one, with no GStreamer types crossing the boundary. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  PV_FRAME_GRAY8, /* one byte a pixel */
  PV_FRAME_RGBA,  /* four bytes a pixel, R G B A in memory order */
} PvFrameFormat;

typedef struct
{
  PvFrameFormat format;
  int width;
  int height;
  int stride;         /* bytes from one row to the next, ≥ width × bpp */
  GBytes *data;       /* height × stride bytes */
  gint64 captured_at; /* g_get_monotonic_time() when the frame was taken */
} PvFrame;

#define PV_TYPE_FRAME (pv_frame_get_type ())
GType pv_frame_get_type (void) G_GNUC_CONST;

/* Takes a reference to @data. */
PvFrame *pv_frame_new (PvFrameFormat format, int width, int height, int stride,
                       GBytes *data, gint64 captured_at);
PvFrame *pv_frame_ref (PvFrame *frame);
void pv_frame_unref (PvFrame *frame);
/* A GRAY8 frame with packed rows (stride = width), as ZBar wants them: a
 * converted copy, or @frame itself with a new reference if it is one already. */
PvFrame *pv_frame_to_packed_gray (PvFrame *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvFrame, pv_frame_unref)

G_END_DECLS
