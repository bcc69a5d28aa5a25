/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-demo-source.h: the camera's "demo:" source, internal to the scanner. An
 * appsrc that plays a live 1280×720 camera pointed at a phone showing ticket
 * codes in turn: the phone drifts, tilts and leans a little, the light is
 * dim and the sensor noisy, so the whole gate can be shown (and the decoder
 * tested end to end) with no webcam. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define PV_DEMO_WIDTH 1280
#define PV_DEMO_HEIGHT 720
#define PV_DEMO_FPS 15
/* How long each code stays on the phone. */
#define PV_DEMO_CODE_SECONDS 4

typedef struct _PvDemoSource PvDemoSource;

PvDemoSource *pv_demo_source_new (void);
PvDemoSource *pv_demo_source_ref (PvDemoSource *self);
void pv_demo_source_unref (PvDemoSource *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvDemoSource, pv_demo_source_unref)

/* A live appsrc (BGRx on little-endian machines, the layout of
 * CAIRO_FORMAT_RGB24) producing PV_DEMO_FPS frames a second from its own
 * streaming thread. It holds a reference to @self. */
GstElement *pv_demo_source_create_element (PvDemoSource *self);

/* The codes shown in turn, from the first, starting now; NULL or empty shows
 * the phone with a blank screen, a code "" shows nobody in front of the
 * camera for its turn. Callable from any thread. */
void pv_demo_source_set_codes (PvDemoSource *self, const char *const *codes);

/* Wakes a streaming thread waiting for the next frame time and makes it push
 * nothing more, so that setting the pipeline to NULL does not wait a frame. */
void pv_demo_source_stop (PvDemoSource *self);

/* Renders frame @frame_no into @pixels (PV_DEMO_WIDTH × PV_DEMO_HEIGHT,
 * CAIRO_FORMAT_RGB24 layout). What the element does for each frame, here so
 * tests and benchmarks can time it and look at it. Not thread-safe against
 * a running element of the same source. */
void pv_demo_source_render (PvDemoSource *self, guint64 frame_no, guint8 *pixels, int stride);

G_END_DECLS
