/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-camera.h: video capture with GStreamer. One pipeline, one tee: a
 * preview branch hands out RGBA frames for the screen, a decode branch hands
 * GRAY8 frames to a PvDecoder, dropping frames while it is busy. The source
 * is a setting: "auto", a device (the id pv_camera_list_devices() gives),
 * "file:PATH" (an image or video, looped) or "demo:" (ticket codes drawn
 * moving, tilted and noisy, so the app runs with no webcam). A camera pulled
 * out mid-shift is reported and reopened when it comes back. */
#pragma once

#include <glib-object.h>

#include "pv-decoder.h"
#include "pv-frame.h"

G_BEGIN_DECLS

typedef struct
{
  char *name; /* what people see: "HD Webcam C270" */
  char *id;   /* what the setting stores; stable across replugs */
  char *device_class;
} PvCameraInfo;

void pv_camera_info_free (PvCameraInfo *info);
/* Video sources the device monitor sees now (element-type PvCameraInfo). */
GPtrArray *pv_camera_list_devices (void);

typedef enum
{
  PV_CAMERA_STOPPED,
  PV_CAMERA_STARTING,
  PV_CAMERA_PLAYING,
  PV_CAMERA_LOST, /* the device went away; waiting for it to come back */
} PvCameraState;

#define PV_TYPE_CAMERA_STATE (pv_camera_state_get_type ())
GType pv_camera_state_get_type (void) G_GNUC_CONST;

#define PV_TYPE_CAMERA (pv_camera_get_type ())
G_DECLARE_FINAL_TYPE (PvCamera, pv_camera, PV, CAMERA, GObject)

/* @source as described above. @decoder may be NULL (preview only). */
PvCamera *pv_camera_new (const char *source, PvDecoder *decoder);

/* Builds and starts the pipeline; errors (an unknown device, a missing file)
 * come back at once, later ones through the "error" signal. */
gboolean pv_camera_start (PvCamera *self, GError **error);
/* The codes the "demo:" source shows, in turn (a few seconds each). */
void pv_camera_set_demo_codes (PvCamera *self, const char *const *codes);
void pv_camera_stop (PvCamera *self);
PvCameraState pv_camera_get_state (PvCamera *self);
const char *pv_camera_get_source (PvCamera *self);

/* Signals, all on the main context that called pv_camera_start():
 *   "preview-frame" (PvFrame *rgba): the newest preview frame; frames the
 *       main loop did not get to in time are skipped, never queued (a
 *       handler that keeps the frame takes a reference);
 *   "error" (GError *): something went wrong (the device was unplugged…);
 *   notify::state.
 * Property "decode-fps" (guint, default 12, 0: no limit): at most this many
 * frames a second go to the decoder. The decoder's owner starts it. */

G_END_DECLS
