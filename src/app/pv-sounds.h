/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sounds.h: the verdict sounds of the gate, played through GStreamer
 * from the app's resources, so a volunteer looking at the queue still
 * hears what the screen says. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define PV_TYPE_SOUNDS (pv_sounds_get_type ())
G_DECLARE_FINAL_TYPE (PvSounds, pv_sounds, PV, SOUNDS, GObject)

/* @sink: a gst-launch description of the audio sink, NULL for the
 * system's (autoaudiosink). */
PvSounds *pv_sounds_new (const char *sink);
/* Plays "admit", "refuse", "offline" or "exit", cutting off the one
 * before. A machine without sound is noted once in the log, never an
 * error on screen. */
void pv_sounds_play (PvSounds *self, const char *name);
/* Sounds played to their end, and the one last asked for ("exit"…), for
 * tests. */
guint pv_sounds_get_n_finished (PvSounds *self);
const char *pv_sounds_get_last (PvSounds *self);

G_END_DECLS
