/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-image.h: reads an image file (PNG, JPEG, WebP, BMP, TIFF, …; GIF when
 * gstreamer1.0-libav is installed) into a frame through GStreamer's
 * decoders, so pravesh-ctl scan and the tests need no other image library. */
#pragma once

#include <glib.h>

#include "pv-frame.h"

G_BEGIN_DECLS

#define PV_IMAGE_MAX_PIXELS 40000000
#define PV_IMAGE_MAX_SIDE 16384

/* Starts GStreamer once per process (leaving a program that did so itself
 * alone) and lets decodebin use gdkpixbufdec for BMP, TIFF and PNM; the
 * camera's file: source calls it too, so both read the same files. */
gboolean pv_image_init_gstreamer (GError **error);

/* The first frame of @path as packed GRAY8, or NULL with a GError naming
 * the file and what went wrong. */
PvFrame *pv_image_load_gray (const char *path, GError **error);

G_END_DECLS
