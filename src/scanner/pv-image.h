/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-image.h: reads an image file (PNG, JPEG, WebP, BMP, TIFF, …; GIF when
 * gstreamer1.0-libav is installed) into a frame through GStreamer's
 * decoders, so pravesh-ctl scan and the tests need no other image library. */
#pragma once

#include <glib.h>

#include "pv-frame.h"

G_BEGIN_DECLS

/* The first frame of @path as packed GRAY8, or NULL with a GError naming
 * the file and what went wrong. */
PvFrame *pv_image_load_gray (const char *path, GError **error);

G_END_DECLS
