/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-camera-private.h: what the scanner's tests may reach inside PvCamera.
 * The pipeline is exposed so a test can post the error a camera pulled out
 * mid-frame would raise, and watch the real recovery path run. */
#pragma once

#include <gst/gst.h>

#include "pv-camera.h"

G_BEGIN_DECLS

/* The running pipeline, or NULL when there is none (stopped, lost). */
GstElement *_pv_camera_get_pipeline (PvCamera *self);

G_END_DECLS
