/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-frame.c: the refcounted, immutable video frame the scanner hands to the
 * UI and to the decoder, and its conversion to the packed GRAY8 rows ZBar
 * reads. GStreamer pads GRAY8 rows to a multiple of four bytes and cameras
 * give RGBA for the preview, so every path into the decoder goes through
 * pv_frame_to_packed_gray(). */
#include "config.h"

#include <string.h>

#include "pv-frame.h"

/* The public struct comes first, so a PvFrame * is also a PvFrameReal *. */
typedef struct
{
  PvFrame frame;
  gatomicrefcount ref_count;
} PvFrameReal;

G_DEFINE_BOXED_TYPE (PvFrame, pv_frame, pv_frame_ref, pv_frame_unref)

static int
bytes_per_pixel (PvFrameFormat format)
{
  return format == PV_FRAME_RGBA ? 4 : 1;
}

PvFrame *
pv_frame_new (PvFrameFormat format, int width, int height, int stride, GBytes *data,
              gint64 captured_at)
{
  PvFrameReal *real;
  int bpp = bytes_per_pixel (format);

  g_return_val_if_fail (format == PV_FRAME_GRAY8 || format == PV_FRAME_RGBA, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail (width <= G_MAXINT / bpp && stride >= width * bpp, NULL);
  g_return_val_if_fail (data != NULL, NULL);
  /* The last row need not carry its padding: some producers cut it off. */
  g_return_val_if_fail (g_bytes_get_size (data)
                          >= (gsize) stride * (gsize) (height - 1) + (gsize) (width * bpp),
                        NULL);

  real = g_new0 (PvFrameReal, 1);
  g_atomic_ref_count_init (&real->ref_count);
  real->frame.format = format;
  real->frame.width = width;
  real->frame.height = height;
  real->frame.stride = stride;
  real->frame.data = g_bytes_ref (data);
  real->frame.captured_at = captured_at;
  return &real->frame;
}

PvFrame *
pv_frame_ref (PvFrame *frame)
{
  PvFrameReal *real = (PvFrameReal *) frame;

  g_return_val_if_fail (frame != NULL, NULL);
  g_atomic_ref_count_inc (&real->ref_count);
  return frame;
}

void
pv_frame_unref (PvFrame *frame)
{
  PvFrameReal *real = (PvFrameReal *) frame;

  g_return_if_fail (frame != NULL);
  if (g_atomic_ref_count_dec (&real->ref_count))
    {
      g_bytes_unref (frame->data);
      g_free (real);
    }
}

/* A frame is immutable, so a GRAY8 frame whose rows are already packed is
 * returned as itself with a new reference instead of being copied: the
 * decoder calls this on every camera frame. */
PvFrame *
pv_frame_to_packed_gray (PvFrame *frame)
{
  const guint8 *src;
  guint8 *dst;
  int w, h;

  g_return_val_if_fail (frame != NULL, NULL);

  if (frame->format == PV_FRAME_GRAY8 && frame->stride == frame->width)
    return pv_frame_ref (frame);

  w = frame->width;
  h = frame->height;
  src = g_bytes_get_data (frame->data, NULL);
  dst = g_malloc ((gsize) w * (gsize) h);

  if (frame->format == PV_FRAME_GRAY8)
    {
      for (int y = 0; y < h; y++)
        memcpy (dst + (gsize) y * w, src + (gsize) y * frame->stride, w);
    }
  else
    {
      /* BT.601 luma in 8.8 fixed point (77 + 150 + 29 = 256), the weights
       * camera sensors and ZBar's own converters use; alpha is ignored, as
       * camera frames are opaque. */
      for (int y = 0; y < h; y++)
        {
          const guint8 *s = src + (gsize) y * frame->stride;
          guint8 *d = dst + (gsize) y * w;

          for (int x = 0; x < w; x++, s += 4)
            d[x] = (guint8) ((77 * s[0] + 150 * s[1] + 29 * s[2] + 128) >> 8);
        }
    }

  {
    g_autoptr (GBytes) bytes = g_bytes_new_take (dst, (gsize) w * (gsize) h);

    return pv_frame_new (PV_FRAME_GRAY8, w, h, w, bytes, frame->captured_at);
  }
}
