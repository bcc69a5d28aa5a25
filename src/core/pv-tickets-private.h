/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-tickets-private.h: what the store needs of the tickets module when it
 * opens a file — the SQL function a name search runs — and not for use
 * outside core. */
#pragma once

#include <sqlite3.h>

#include "pv-tickets.h"

G_BEGIN_DECLS

/* @text in the form a search compares: compatibility-decomposed and
 * case-folded, so "ASHA" and "asha", or two spellings of one Devanagari
 * letter, become the same bytes. NULL when @text is not UTF-8. */
char *_pv_tickets_fold (const char *text);

/* Defines pv_name_contains (NAME, NEEDLE) on @db: 1 when NEEDLE, already
 * folded by _pv_tickets_fold(), occurs in NAME folded the same way. */
gboolean _pv_tickets_register_sql (sqlite3 *db);

G_END_DECLS
