/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-desk-page.h: the registration desk — a walk-in form that issues a
 * signed ticket offline in one keystroke, the ticket shown large enough to
 * photograph, printed or sent, and a search that finds a visitor again,
 * with every scan of the ticket at the gates. The control room uses it
 * without the form, to look tickets up, revoke them and send them again. */
#pragma once

#include <adwaita.h>

#include "pv-store-watch.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_DESK_PAGE (pv_desk_page_get_type ())
G_DECLARE_FINAL_TYPE (PvDeskPage, pv_desk_page, PV, DESK_PAGE, AdwBin)

/* A desk issuing on @store, telling @watch (may be NULL) of what it writes. */
GtkWidget *pv_desk_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings);
/* The same page for the control room: search, the ticket, its scans and
 * what can be done with it; no walk-in form. */
GtkWidget *pv_desk_page_new_lookup (PvStore *store, PvStoreWatch *watch, GSettings *settings);

/* Shows ticket @issuer-@serial (as when its row in the results is
 * clicked); FALSE when its issue record is not on this replica. */
gboolean pv_desk_page_show_ticket (PvDeskPage *self, guint16 issuer, guint32 serial);

/* The ticket on show (NULL when none) and the widget that draws its QR,
 * for tests and for the print preview. */
const char *pv_desk_page_get_code (PvDeskPage *self);
GtkWidget *pv_desk_page_get_qr (PvDeskPage *self);
/* Puts the keyboard in the form's first field, or in the search. */
void pv_desk_page_focus_form (PvDeskPage *self);
void pv_desk_page_focus_search (PvDeskPage *self);
/* Chooses @category (when not NULL) and puts the keyboard in People. */
void pv_desk_page_focus_party (PvDeskPage *self, const char *category);
/* The list of recent or found tickets (rows are AdwActionRows). */
GtkListBox *pv_desk_page_get_results (PvDeskPage *self);
/* The scans of the ticket on show (rows are AdwActionRows, titled "Entry ·
 * Gate 2", with the time and device in the subtitle). */
GtkListBox *pv_desk_page_get_history (PvDeskPage *self);
/* What the page says beside the ticket about sending it ("Waiting for the
 * hub to send it by WhatsApp …"), NULL when it says nothing; and whether
 * it offers to send it by @channel ("whatsapp", "sms"). */
const char *pv_desk_page_get_delivery (PvDeskPage *self);
gboolean pv_desk_page_offers (PvDeskPage *self, const char *channel);

G_END_DECLS
