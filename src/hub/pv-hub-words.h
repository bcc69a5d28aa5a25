/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-words.h: the words of the hub's public web pages and of the
 * messages it sends from them, by the keys templates name ({{t.KEY}}),
 * each translated in po/ like every other string and read in the
 * visitor's language (see doc/architecture.md, "Translations"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The text of @key in @lang: the translation, or the English when the
 * catalogue lacks it; NULL for a key no page has. */
const char *pv_hub_word (const char *lang, const char *key);

/* Warns, naming each, of the words @lang's catalogue lacks (a visitor
 * would read them in English), and returns how many. */
guint pv_hub_words_check (const char *lang);

G_END_DECLS
