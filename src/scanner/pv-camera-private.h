/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-camera-private.h: what the scanner's tests may reach inside PvCamera.
 * The pipeline is exposed so a test can post the error a camera pulled out
 * mid-frame would raise, and watch the real recovery path run; the branch
 * description lets the scanner benchmark build the camera's own pipeline
 * around an appsrc, and the frame wrapping lets it hand frames on exactly as
 * the camera does. */
#pragma once

#include <gst/gst.h>

#include "pv-camera.h"

G_BEGIN_DECLS

/* The running pipeline, or NULL when there is none (stopped, lost). */
GstElement *_pv_camera_get_pipeline (PvCamera *self);

/* What PvCamera puts after its source: "videoconvert name=pv_convert ! tee
 * name=pv_tee", then with @preview the RGBA branch ending in the appsink
 * pv_preview, with @decode the GRAY8 branch through the queue
 * pv_decode_queue to the appsink pv_decode. Each branch has a leaky queue
 * of one frame and a sink that neither syncs nor waits. Free with g_free().
 * The scanner benchmark builds its replica of the camera from it. */
char *_pv_camera_branches_description (gboolean preview, gboolean decode);

/* Wraps the first plane of a sample's buffer as a frame without copying:
 * the frame keeps the buffer mapped. NULL when the sample has no video. */
PvFrame *_pv_camera_frame_from_sample (GstSample *sample, PvFrameFormat format, gint64 captured_at);

G_END_DECLS
