/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-fold-private.h: folding text for a name search, and the SQL function
 * a search runs, which the store defines when it opens a file; not for use
 * outside core. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* @text in the form a search compares: compatibility-decomposed and
 * case-folded, so "ASHA" and "asha", or two spellings of one Devanagari
 * letter, become the same bytes. NULL when @text is not UTF-8. */
char *_pv_fold (const char *text);

/* Defines pv_name_contains (NAME, NEEDLE) on @db: 1 when NEEDLE, already
 * folded by _pv_fold(), occurs in NAME folded the same way. */
gboolean _pv_fold_register_sql (sqlite3 *db);

G_END_DECLS
