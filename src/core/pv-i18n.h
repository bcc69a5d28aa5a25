/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-i18n.h: where the programs find their translations, the words of
 * the event's own defaults (category names) in the reader's language, and
 * translations in a language named per call, for the hub, which answers
 * each visitor in their own language whatever its process's locale. */
#pragma once

#include <glib.h>

#include "pv-event.h"

G_BEGIN_DECLS

void pv_i18n_init (void);
const char *pv_i18n_locale_dir (void);
const char *pv_category_get_label (const PvCategory *category);

/* @msgid (with @context, or NULL) in @lang ("en", "hi", …): read from that
 * language's compiled catalogue under pv_i18n_locale_dir (), the same
 * po/ files the app's gettext uses, whatever the process's locale. English
 * is the source text. Returns NULL when the catalogue is missing or lacks
 * the message; the string is owned by the catalogue, which lives as long as
 * the process. Thread-safe. */
const char *pv_i18n_lookup (const char *lang, const char *context, const char *msgid);
/* The same, falling back to @msgid itself. */
const char *pv_i18n_translate (const char *lang, const char *context, const char *msgid);
/* TRUE when @data is a readable compiled catalogue (.mo): for the tests,
 * which feed it damaged files. @error says what is wrong in words. */
gboolean pv_i18n_check_catalogue (GBytes *data, GError **error);

G_END_DECLS
