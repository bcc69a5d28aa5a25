/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-a11y.c: names for screen readers (see the header). Without one, GTK
 * 4.8 offers AT-SPI the widget's type name, and Orca says "GtkMenuButton,
 * push button" for the main menu. */
#include "config.h"

#include "pv-a11y.h"

/* A GtkMenuButton or a GtkDropDown is operated through the toggle button
 * inside it, which in GTK 4.8 does not take its parent's name: the focus,
 * and what Orca announces, land on that one. */
static GtkWidget *
inner_button (GtkWidget *widget)
{
  if (!GTK_IS_MENU_BUTTON (widget) && !GTK_IS_DROP_DOWN (widget))
    return NULL;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_BUTTON (child))
      return child;
  return NULL;
}

/* Names @widget @label for screen readers; a tooltip is not a name in GTK
 * 4.8, so an icon-only button needs both. */
void
pv_a11y_set_label (GtkWidget *widget, const char *label)
{
  GtkWidget *inner = inner_button (widget);

  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  if (inner != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (inner), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

/* Names @widget by what @label shows, so the two never disagree (a row
 * whose title changes, a translation). */
void
pv_a11y_set_labelled_by (GtkWidget *widget, GtkWidget *label)
{
  gtk_accessible_update_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
}

/* Names every search entry under @root, those inside library widgets
 * too (AdwPreferencesWindow's): a placeholder is not a name in GTK 4.8. */
void
pv_a11y_label_search_entries (GtkWidget *root, const char *label)
{
  if (GTK_IS_SEARCH_ENTRY (root))
    pv_a11y_set_label (root, label);
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    pv_a11y_label_search_entries (child, label);
}

/* Names each icon-only button under @root by its tooltip: libadwaita's
 * own, such as AdwPasswordEntryRow's show-the-text eye, have a tooltip but
 * no name (AT-SPI calls that one "GtkImage, push button"). */
void
pv_a11y_name_icon_buttons (GtkWidget *root)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      const char *tooltip = gtk_widget_get_tooltip_text (child);

      if (GTK_IS_BUTTON (child) && GTK_IS_IMAGE (gtk_button_get_child (GTK_BUTTON (child))) && tooltip != NULL)
        pv_a11y_set_label (child, tooltip);
      pv_a11y_name_icon_buttons (child);
    }
}
