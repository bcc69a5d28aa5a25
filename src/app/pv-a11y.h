/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-a11y.h: names for screen readers where GTK gives none of its own —
 * icon-only buttons, search entries, the rows of a list. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void pv_a11y_set_label (GtkWidget *widget, const char *label);
void pv_a11y_set_labelled_by (GtkWidget *widget, GtkWidget *label);
void pv_a11y_label_search_entries (GtkWidget *root, const char *label);
void pv_a11y_name_icon_buttons (GtkWidget *root);

G_END_DECLS
