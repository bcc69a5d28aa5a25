/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-i18n.h: where the programs find their translations, and the words
 * of the event's own defaults (category names) in the reader's language. */
#pragma once

#include <glib.h>

#include "pv-event.h"

G_BEGIN_DECLS

void pv_i18n_init (void);
const char *pv_i18n_locale_dir (void);
const char *pv_category_get_label (const PvCategory *category);

G_END_DECLS
