/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-template.h: the template engine of the hub's web pages. Pages
 * are made from templates in data/hub/ (a GResource) by one function,
 * pv_hub_web_fill (), which HTML-escapes every value it is given as text;
 * the only markup it inserts as it is comes from its own results or from
 * pv_web_markup_qr (), so nothing a visitor typed reaches a page raw. The
 * words are pv-hub-words.c's, in the visitor's language from po/. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PV_WEB_N_LANGUAGES 2

/* "en", "hi": the languages pages are in, English first (the fallback). */
extern const char *const pv_web_languages[PV_WEB_N_LANGUAGES];

/* The index of @lang in pv_web_languages: English for anything else. */
guint pv_web_lang_index (const char *lang);

/* The templates, read when first used. */
typedef struct _PvWebTemplates PvWebTemplates;

/* Warns of the words a language's catalogue lacks (English is read
 * instead); never fails today, but may when templates are checked. */
PvWebTemplates *pv_web_templates_new (GError **error);
void pv_web_templates_free (PvWebTemplates *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvWebTemplates, pv_web_templates_free)

/* Word @key of pv-hub-words.c in @lang, or a default category's name as
 * "category:NAME"; NULL when unknown (or a category's untranslated). */
const char *pv_web_templates_lookup (PvWebTemplates *self, const char *lang, const char *key);

/* HTML that is safe to put in a page as it is: only pv_hub_web_fill () and
 * pv_web_markup_qr () make it. */
typedef struct _PvWebMarkup PvWebMarkup;

PvWebMarkup *pv_web_markup_new (void);
/* Appends @part (taken) to @self. */
void pv_web_markup_append (PvWebMarkup *self, PvWebMarkup *part);
const char *pv_web_markup_get_html (PvWebMarkup *self);
PvWebMarkup *pv_web_markup_copy (PvWebMarkup *self);
/* The HTML of @self (taken) as bytes to answer with. */
GBytes *pv_web_markup_free_to_bytes (PvWebMarkup *self);
void pv_web_markup_free (PvWebMarkup *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvWebMarkup, pv_web_markup_free)

/* The QR symbol of @code as an inline <svg> (no XML declaration), hidden
 * from screen readers: the element around it names it. */
PvWebMarkup *pv_web_markup_qr (const char *code, GError **error);

/* The values a template is filled with, in a page's language ("en" or
 * "hi"): {{name}} is the value set for name, {{t.KEY}} the word KEY of
 * pv-hub-words.c in that language. */
typedef struct _PvWebVars PvWebVars;

PvWebVars *pv_web_vars_new (PvWebTemplates *templates, const char *lang);
/* Empty values for the same templates, in @other's language. */
PvWebVars *pv_web_vars_new_like (PvWebVars *other);
/* Text, HTML-escaped where it is put (in an element or an attribute). */
void pv_web_vars_text (PvWebVars *self, const char *name, const char *text);
/* A number, as text. */
void pv_web_vars_int (PvWebVars *self, const char *name, gint64 value);
/* Markup (taken), put as it is. */
void pv_web_vars_markup (PvWebVars *self, const char *name, PvWebMarkup *markup);
/* "en" or "hi". */
const char *pv_web_vars_get_lang (PvWebVars *self);
/* Word @key in @self's language, unfilled, or NULL. */
const char *pv_web_vars_lookup (PvWebVars *self, const char *key);
void pv_web_vars_free (PvWebVars *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvWebVars, pv_web_vars_free)

/* Fills the template data/hub/@template_name with @vars. A name a template
 * uses but @vars lacks is a bug: it is logged and left empty. */
PvWebMarkup *pv_hub_web_fill (const char *template_name, PvWebVars *vars);

/* Word @key in @vars' language, filled with @vars, as markup; or as
 * plain text, for a message to a phone or a value that is escaped where it
 * is then put. A key pv-hub-words.c lacks is logged. */
PvWebMarkup *pv_web_say (PvWebVars *vars, const char *key);
char *pv_web_say_plain (PvWebVars *vars, const char *key);

G_END_DECLS
