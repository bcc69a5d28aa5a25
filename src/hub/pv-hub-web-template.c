/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-template.c: the web pages' template engine (see the header):
 * markup that is safe as it is, the values a template is filled with, the
 * one place text is HTML-escaped, and the words of pv-hub-words.c in the
 * page's language. It knows nothing of requests or the store, so a
 * test fills templates without a server. */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "pv-error.h"
#include "pv-hub-web-template.h"
#include "pv-hub-words.h"
#include "pv-i18n.h"
#include "pv-qr.h"

#define RESOURCES "/in/pravesh/hub/"
/* 8 px a module: a version-6 symbol with its quiet zone is 392 px wide,
 * scaled by the page to the screen's width. */
#define QR_MODULE_PX 8

const char *const pv_web_languages[PV_WEB_N_LANGUAGES] = { "en", "hi" };

struct _PvWebTemplates
{
  GHashTable *templates; /* name → text, leading comments dropped */
};

/* ---- Markup ---- */

struct _PvWebMarkup
{
  GString *html;
};

PvWebMarkup *
pv_web_markup_new (void)
{
  PvWebMarkup *self = g_new0 (PvWebMarkup, 1);

  self->html = g_string_new (NULL);
  return self;
}

void
pv_web_markup_append (PvWebMarkup *self, PvWebMarkup *part)
{
  g_string_append_len (self->html, part->html->str, part->html->len);
  pv_web_markup_free (part);
}

const char *
pv_web_markup_get_html (PvWebMarkup *self)
{
  return self->html->str;
}

void
pv_web_markup_free (PvWebMarkup *self)
{
  if (self == NULL)
    return;
  g_string_free (self->html, TRUE);
  g_free (self);
}

PvWebMarkup *
pv_web_markup_copy (PvWebMarkup *self)
{
  PvWebMarkup *copy = pv_web_markup_new ();

  g_string_append_len (copy->html, self->html->str, self->html->len);
  return copy;
}

GBytes *
pv_web_markup_free_to_bytes (PvWebMarkup *self)
{
  GBytes *bytes = g_string_free_to_bytes (self->html);

  g_free (self);
  return bytes;
}

PvWebMarkup *
pv_web_markup_qr (const char *code, GError **error)
{
  g_autofree char *svg = pv_qr_to_svg (code, QR_MODULE_PX, error);
  PvWebMarkup *self;
  const char *start;

  if (svg == NULL)
    return NULL;
  /* Inline, the XML declaration goes; the figure around it is what a
   * screen reader announces. */
  if ((start = strstr (svg, "<svg ")) == NULL)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED, "The QR code's SVG has no <svg> element"),
           NULL;
  self = pv_web_markup_new ();
  g_string_append (self->html, "<svg aria-hidden=\"true\" focusable=\"false\" ");
  g_string_append (self->html, start + strlen ("<svg "));
  return self;
}

/* ---- Filling templates ---- */

typedef struct
{
  char *text;
  PvWebMarkup *markup;
} Value;

static void
value_free (Value *value)
{
  g_free (value->text);
  pv_web_markup_free (value->markup);
  g_free (value);
}

struct _PvWebVars
{
  PvWebTemplates *templates;
  const char *lang;
  GHashTable *values; /* name → Value */
};

guint
pv_web_lang_index (const char *lang)
{
  return g_strcmp0 (lang, "hi") == 0 ? 1 : 0;
}

PvWebVars *
pv_web_vars_new (PvWebTemplates *templates, const char *lang)
{
  PvWebVars *self = g_new0 (PvWebVars, 1);

  self->templates = templates;
  self->lang = pv_web_languages[pv_web_lang_index (lang)];
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) value_free);
  return self;
}

PvWebVars *
pv_web_vars_new_like (PvWebVars *other)
{
  return pv_web_vars_new (other->templates, other->lang);
}

void
pv_web_vars_text (PvWebVars *self, const char *name, const char *text)
{
  Value *value = g_new0 (Value, 1);

  value->text = g_strdup (text ? text : "");
  g_hash_table_replace (self->values, g_strdup (name), value);
}

void
pv_web_vars_markup (PvWebVars *self, const char *name, PvWebMarkup *markup)
{
  Value *value = g_new0 (Value, 1);

  value->markup = markup ? markup : pv_web_markup_new ();
  g_hash_table_replace (self->values, g_strdup (name), value);
}

void
pv_web_vars_free (PvWebVars *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->values);
  g_free (self);
}

void
pv_web_vars_int (PvWebVars *self, const char *name, gint64 value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  pv_web_vars_text (self, name, text);
}

const char *
pv_web_vars_get_lang (PvWebVars *self)
{
  return self->lang;
}

const char *
pv_web_vars_lookup (PvWebVars *self, const char *key)
{
  return pv_web_templates_lookup (self->templates, self->lang, key);
}

/* The one place text becomes HTML: in an element or a quoted attribute,
 * none of & < > " ' keeps its meaning. */
static void
append_escaped (GString *out, const char *text)
{
  g_autofree char *valid = g_utf8_validate (text, -1, NULL) ? NULL : g_utf8_make_valid (text, -1);

  for (const char *p = valid ? valid : text; *p; p++)
    switch (*p)
      {
      case '&':
        g_string_append (out, "&amp;");
        break;
      case '<':
        g_string_append (out, "&lt;");
        break;
      case '>':
        g_string_append (out, "&gt;");
        break;
      case '"':
        g_string_append (out, "&quot;");
        break;
      case '\'':
        g_string_append (out, "&#39;");
        break;
      default:
        g_string_append_c (out, *p);
      }
}

const char *
pv_web_templates_lookup (PvWebTemplates *self, const char *lang, const char *key)
{
  lang = pv_web_languages[pv_web_lang_index (lang)];
  /* The default categories' names are translated as the app shows them;
   * an event's own keep the name it gave them. */
  if (g_str_has_prefix (key, "category:"))
    {
      const char *name = key + strlen ("category:");
      const char *text = pv_i18n_lookup (lang, NULL, name);

      /* English is the name itself, which must outlive @key. */
      return text == name ? g_intern_string (name) : text;
    }
  return pv_hub_word (lang, key);
}

/* Fills @tmpl into @out: escaped for a page when @html, else as plain text
 * for a message to a phone (where markup has no business). */
static void
fill_into (PvWebVars *vars, const char *tmpl, gboolean html, GString *out)
{
  const char *p = tmpl;

  while (*p)
    {
      const char *open = strstr (p, "{{"), *close;
      g_autofree char *name = NULL;
      const char *text = NULL;
      Value *value;

      if (open == NULL || (close = strstr (open + 2, "}}")) == NULL)
        {
          g_string_append (out, p);
          break;
        }
      g_string_append_len (out, p, open - p);
      name = g_strndup (open + 2, close - open - 2);
      p = close + 2;
      if (g_str_has_prefix (name, "t."))
        {
          if ((text = pv_web_templates_lookup (vars->templates, vars->lang, name + 2)) == NULL)
            g_warning ("A page asks for the string “%s”, which pv-hub-words.c lacks", name + 2);
        }
      else if ((value = g_hash_table_lookup (vars->values, name)) == NULL)
        g_warning ("A page asks for “%s”, which was not given", name);
      else if (value->markup && html)
        g_string_append_len (out, value->markup->html->str, value->markup->html->len);
      else if (value->markup)
        g_warning ("Markup “%s” in a plain text message", name);
      else
        text = value->text;
      if (text && html)
        append_escaped (out, text);
      else if (text)
        g_string_append (out, text);
    }
}

static const char *
template_text (PvWebTemplates *web, const char *name)
{
  const char *text = g_hash_table_lookup (web->templates, name);
  g_autofree char *path = NULL;
  g_autoptr (GBytes) bytes = NULL;
  const char *start;

  if (text)
    return text;
  path = g_strconcat (RESOURCES, name, NULL);
  if ((bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL)) == NULL)
    {
      g_warning ("No template %s", name);
      return "";
    }
  /* The licence and the note on what a template is for stay in the
   * source; visitors get the page. */
  start = g_bytes_get_data (bytes, NULL);
  while (g_str_has_prefix (start, "<!--") && strstr (start, "-->"))
    {
      start = strstr (start, "-->") + 3;
      while (*start == '\n')
        start++;
    }
  /* Nor the file's last newline, where a template is put inside a line. */
  text = g_strdup (start);
  if (g_str_has_suffix (text, "\n"))
    ((char *) text)[strlen (text) - 1] = '\0';
  g_hash_table_insert (web->templates, g_strdup (name), (char *) text);
  return text;
}

PvWebMarkup *
pv_hub_web_fill (const char *template_name, PvWebVars *vars)
{
  PvWebMarkup *self = pv_web_markup_new ();

  fill_into (vars, template_text (vars->templates, template_name), TRUE, self->html);
  return self;
}

/* Word @key (pv-hub-words.c) in @vars' language, filled with @vars. */
PvWebMarkup *
pv_web_say (PvWebVars *vars, const char *key)
{
  PvWebMarkup *self = pv_web_markup_new ();
  const char *text = pv_web_templates_lookup (vars->templates, vars->lang, key);

  if (text == NULL)
    g_warning ("A page asks for the string “%s”, which pv-hub-words.c lacks", key);
  else
    fill_into (vars, text, TRUE, self->html);
  return self;
}

/* The same as plain text: for a message to a phone, or a value that is
 * escaped where it is then put. */
char *
pv_web_say_plain (PvWebVars *vars, const char *key)
{
  GString *out = g_string_new (NULL);
  const char *text = pv_web_templates_lookup (vars->templates, vars->lang, key);

  if (text == NULL)
    g_warning ("A message asks for the string “%s”, which pv-hub-words.c lacks", key);
  else
    fill_into (vars, text, FALSE, out);
  return g_string_free (out, FALSE);
}

PvWebTemplates *
pv_web_templates_new (GError **error)
{
  g_autoptr (PvWebTemplates) self = g_new0 (PvWebTemplates, 1);

  self->templates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* Said once at the start, not at each page a Hindi reader opens. */
  for (guint l = 1; l < PV_WEB_N_LANGUAGES; l++)
    pv_hub_words_check (pv_web_languages[l]);
  return g_steal_pointer (&self);
}

void
pv_web_templates_free (PvWebTemplates *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->templates, g_hash_table_unref);
  g_free (self);
}
