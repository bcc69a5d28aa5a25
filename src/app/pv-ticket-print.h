/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ticket-print.h: the visitor's ticket as the registration desk prints
 * it — on an A6 card or an 80 mm thermal receipt — with the event, a QR
 * code big enough for a cheap gate webcam, what the ticket is for and how
 * many people it admits. The layout is plain Cairo and Pango, so tests and
 * exports can draw it on any surface; printing goes through
 * GtkPrintOperation without blocking the desk. */
#pragma once

#include <cairo.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  PV_PAPER_A6,
  PV_PAPER_RECEIPT_80MM,
} PvPaper;

typedef struct
{
  const char *event_name; /* "National Book Fair" */
  const char *venue;      /* may be NULL */
  const char *code;       /* the PV1:… ticket code the QR holds */
  const char *serial;     /* "3-000145" */
  const char *category;   /* "School group" */
  const char *day_text;   /* "Day 3 of 9 · Mon 30 Nov 2026", "Any one day", "Every day" */
  guint party;            /* people the ticket admits; shown big when > 1 */
  const char *name;       /* visitor or group name, may be NULL */
} PvTicketCard;

/* Page size in points for @paper: A6 is 105 × 148 mm portrait; the 80 mm
 * receipt is 80 mm wide (about 72 mm printable) and as tall as @card's
 * layout needs. */
void pv_ticket_print_page_size (PvPaper paper,
                                const PvTicketCard *card,
                                double *width_pt,
                                double *height_pt);

/* Draws the ticket into (0, 0, @width_pt, @height_pt) of @cr, in points,
 * black on white (thermal printers have no grey). A larger area gets the
 * ticket at its own size, centred at the top; a smaller one shrinks the
 * QR, and FALSE with PV_ERROR_INVALID when even that does not fit. */
gboolean pv_ticket_print_draw (cairo_t *cr,
                               PvPaper paper,
                               const PvTicketCard *card,
                               double width_pt,
                               double height_pt,
                               GError **error);

/* Prints one page through GtkPrintOperation (asynchronously: this returns
 * at once), offering @paper in the print dialog, where the volunteer may
 * choose another printer or paper; the printer chosen is remembered for
 * the next ticket. @card is copied. A failure is logged with g_warning().
 * @parent may be NULL. */
void pv_ticket_print (GtkWindow *parent, PvPaper paper, const PvTicketCard *card);

G_END_DECLS
