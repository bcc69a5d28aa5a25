/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-qr.h: renders a ticket code as a QR symbol (libqrencode, error
 * correction M, alphanumeric mode) to a Cairo surface, PNG or SVG, always
 * with the four-module quiet zone scanners need. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

#define PV_QR_QUIET_ZONE 4

/* Returns the QR version libqrencode chose for @text, or 0 with @error. */
int pv_qr_version (const char *text, GError **error);

/* An image surface (CAIRO_FORMAT_RGB24, black on white) with @module_px
 * pixels per module, quiet zone included. */
cairo_surface_t *pv_qr_render (const char *text, int module_px, GError **error);

/* Draws the symbol, quiet zone included, into the square (x, y, size) of @cr. */
gboolean pv_qr_draw (cairo_t *cr,
                     const char *text,
                     double x,
                     double y,
                     double size,
                     GError **error);

gboolean pv_qr_write_png (const char *text,
                          const char *path,
                          int module_px,
                          GError **error);
/* A self-contained SVG document; modules drawn as one path, crisp edges. */
char *pv_qr_to_svg (const char *text, int module_px, GError **error);
gboolean pv_qr_write_svg (const char *text,
                          const char *path,
                          int module_px,
                          GError **error);

G_END_DECLS
