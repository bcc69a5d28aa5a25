/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-volunteers-page.h: the control room's volunteers — adding one (name,
 * phone, role), deactivating one, and who signed in where and when. The
 * volunteers and their phones live at the hub only, so the page asks it;
 * with the hub out of reach it says so and keeps what it last saw. */
#pragma once

#include <adwaita.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_VOLUNTEERS_PAGE (pv_volunteers_page_get_type ())
G_DECLARE_FINAL_TYPE (PvVolunteersPage, pv_volunteers_page, PV, VOLUNTEERS_PAGE, AdwBin)

GtkWidget *pv_volunteers_page_new (PvStore *store);

/* Asks the hub for the volunteers and the sign-ins again. */
void pv_volunteers_page_reload (PvVolunteersPage *self);
/* Adds a volunteer as the form does (the form's fields are used when
 * @name is NULL). */
void pv_volunteers_page_add (PvVolunteersPage *self, const char *name, const char *phone, const char *role);
/* The lists' rows (AdwActionRows), for tests. */
GtkListBox *pv_volunteers_page_get_list (PvVolunteersPage *self);
GtkListBox *pv_volunteers_page_get_sign_ins (PvVolunteersPage *self);
/* How many answers from the hub the page has shown, and the last thing it
 * said, for tests. */
guint pv_volunteers_page_get_n_loads (PvVolunteersPage *self);
const char *pv_volunteers_page_get_status (PvVolunteersPage *self);

G_END_DECLS
