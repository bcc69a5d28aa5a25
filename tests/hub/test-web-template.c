/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-web-template.c: the hub pages' template engine — every value given
 * as text is HTML-escaped wherever a template puts it (each name of each
 * template in data/hub/), a name a template lacks or a word pv-hub-words.c
 * lacks is logged and left empty, and words are looked up in English or
 * Hindi, English for any other language. */
#include <gio/gio.h>
#include <string.h>

#include "pv-hub-web-template.h"

#define HOSTILE "<b x='1' y=\"2\">&amp;</b>"
#define ESCAPED "&lt;b x=&#39;1&#39; y=&quot;2&quot;&gt;&amp;amp;&lt;/b&gt;"

/* Warnings logged while a test looks, instead of ending the program. */
static GString *warnings;

static GLogWriterOutput
write_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (warnings != NULL && (level & G_LOG_LEVEL_WARNING))
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_str_equal (fields[i].key, "MESSAGE"))
          g_string_append_printf (warnings, "%s\n", (const char *) fields[i].value);
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static PvWebTemplates *
templates_new (void)
{
  g_autoptr (GError) error = NULL;
  PvWebTemplates *templates = pv_web_templates_new (&error);

  g_assert_no_error (error);
  g_assert_nonnull (templates);
  return templates;
}

/* The {{names}} @text uses, strings ("t.") left out. */
static GPtrArray *
names_in (const char *text)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (const char *p = strstr (text, "{{"); p != NULL; p = strstr (p, "{{"))
    {
      const char *close = strstr (p + 2, "}}");
      char *name;

      g_assert_nonnull (close);
      name = g_strndup (p + 2, close - p - 2);
      if (g_str_has_prefix (name, "t."))
        g_free (name);
      else
        g_ptr_array_add (names, name);
      p = close + 2;
    }
  return names;
}

/* Each template filled with every name it uses set to hostile text: the
 * text appears only escaped, never as it is. */
static void
test_every_var_escaped (void)
{
  g_autoptr (PvWebTemplates) templates = templates_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) files = g_resources_enumerate_children ("/in/pravesh/hub", G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  guint filled = 0, escaped = 0;

  g_assert_no_error (error);
  for (guint i = 0; files[i]; i++)
    {
      g_autofree char *path = g_strconcat ("/in/pravesh/hub/", files[i], NULL);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GPtrArray) names = NULL;

      if (!g_str_has_suffix (files[i], ".html"))
        continue;
      bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      g_assert_no_error (error);
      names = names_in (g_bytes_get_data (bytes, NULL));
      for (guint lang = 0; lang < PV_WEB_N_LANGUAGES; lang++)
        {
          g_autoptr (PvWebVars) vars = pv_web_vars_new (templates, pv_web_languages[lang]);
          g_autoptr (PvWebMarkup) page = NULL;
          const char *html;

          for (guint n = 0; n < names->len; n++)
            pv_web_vars_text (vars, names->pdata[n], HOSTILE);
          page = pv_hub_web_fill (files[i], vars);
          html = pv_web_markup_get_html (page);
          g_assert_null (strstr (html, "<b "));
          g_assert_null (strstr (html, HOSTILE));
          if (names->len > 0)
            {
              g_assert_nonnull (strstr (html, ESCAPED));
              escaped++;
            }
          filled++;
        }
    }
  /* The pages are there to be checked. */
  g_assert_cmpuint (filled, >=, 2 * 20);
  g_assert_cmpuint (escaped, >=, 2 * 15);
}

static void
test_text_and_markup (void)
{
  g_autoptr (PvWebTemplates) templates = templates_new ();
  g_autoptr (PvWebVars) vars = pv_web_vars_new (templates, "en");
  g_autoptr (PvWebVars) inner = pv_web_vars_new_like (vars);
  g_autoptr (PvWebMarkup) page = NULL;
  g_autoptr (PvWebMarkup) link = NULL;
  const char *html;

  /* Markup made by the engine goes in as it is, text never. */
  pv_web_vars_text (inner, "heading", "A & B");
  pv_web_vars_text (inner, "href", "/x?a=1&b=\"2\"");
  pv_web_vars_markup (inner, "text", pv_web_markup_new ());
  pv_web_vars_markup (inner, "link", pv_web_say (inner, "back_home"));
  link = pv_hub_web_fill ("message.html", inner);
  pv_web_vars_text (vars, "heading", "<i>not markup</i>");
  pv_web_vars_text (vars, "href", "/");
  pv_web_vars_markup (vars, "text", pv_web_markup_copy (link));
  pv_web_vars_int (vars, "link", -42);
  page = pv_hub_web_fill ("message.html", vars);
  html = pv_web_markup_get_html (page);
  g_assert_nonnull (strstr (html, pv_web_markup_get_html (link)));
  g_assert_nonnull (strstr (html, "A &amp; B"));
  g_assert_nonnull (strstr (html, "/x?a=1&amp;b=&quot;2&quot;"));
  g_assert_nonnull (strstr (html, "&lt;i&gt;not markup&lt;/i&gt;"));
  g_assert_nonnull (strstr (html, "-42"));
  g_assert_null (strstr (html, "<i>"));
}

/* Text that is not UTF-8 is made valid before it is put in a page. */
static void
test_invalid_utf8 (void)
{
  g_autoptr (PvWebTemplates) templates = templates_new ();
  g_autoptr (PvWebVars) vars = pv_web_vars_new (templates, "en");
  g_autoptr (PvWebMarkup) page = NULL;

  pv_web_vars_text (vars, "heading", "ok\xff<");
  pv_web_vars_text (vars, "href", "/");
  pv_web_vars_text (vars, "text", "");
  pv_web_vars_text (vars, "link", "");
  page = pv_hub_web_fill ("message.html", vars);
  g_assert_true (g_utf8_validate (pv_web_markup_get_html (page), -1, NULL));
  g_assert_nonnull (strstr (pv_web_markup_get_html (page), "ok\xef\xbf\xbd&lt;"));
}

static void
test_unknown_names (void)
{
  g_autoptr (PvWebTemplates) templates = templates_new ();
  g_autoptr (PvWebVars) vars = pv_web_vars_new (templates, "en");
  g_autoptr (PvWebMarkup) page = NULL;
  g_autoptr (PvWebMarkup) said = NULL;
  g_autofree char *plain = NULL;

  warnings = g_string_new (NULL);
  /* "href" and "link" not given: left empty, and said. */
  pv_web_vars_text (vars, "heading", "Heading");
  pv_web_vars_text (vars, "text", "Text");
  page = pv_hub_web_fill ("message.html", vars);
  g_assert_nonnull (strstr (warnings->str, "“href”, which was not given"));
  g_assert_nonnull (strstr (warnings->str, "“link”, which was not given"));
  g_assert_null (strstr (pv_web_markup_get_html (page), "{{"));
  g_assert_nonnull (strstr (pv_web_markup_get_html (page), "Heading"));
  g_string_truncate (warnings, 0);
  said = pv_web_say (vars, "no_such_string");
  g_assert_cmpstr (pv_web_markup_get_html (said), ==, "");
  g_assert_nonnull (strstr (warnings->str, "“no_such_string”, which pv-hub-words.c lacks"));
  g_string_truncate (warnings, 0);
  plain = pv_web_say_plain (vars, "no_such_string");
  g_assert_cmpstr (plain, ==, "");
  g_assert_nonnull (strstr (warnings->str, "“no_such_string”"));
  g_assert_null (pv_web_vars_lookup (vars, "no_such_string"));
  g_string_free (g_steal_pointer (&warnings), TRUE);
}

static gboolean
has_devanagari (const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_utf8_get_char (p) >= 0x0900 && g_utf8_get_char (p) <= 0x097f)
      return TRUE;
  return FALSE;
}

static void
test_languages (void)
{
  g_autoptr (PvWebTemplates) templates = templates_new ();
  const char *en = pv_web_templates_lookup (templates, "en", "e404_title");
  const char *hi = pv_web_templates_lookup (templates, "hi", "e404_title");
  g_autoptr (PvWebVars) fr = pv_web_vars_new (templates, "fr");
  g_autoptr (PvWebVars) vars = pv_web_vars_new (templates, "hi");
  g_autofree char *wait = NULL;

  g_assert_nonnull (en);
  g_assert_nonnull (hi);
  g_assert_cmpstr (en, !=, hi);
  g_assert_false (has_devanagari (en));
  g_assert_true (has_devanagari (hi));
  /* Categories are looked up by name, in both. */
  g_assert_nonnull (pv_web_templates_lookup (templates, "en", "category:One-day"));
  g_assert_true (has_devanagari (pv_web_templates_lookup (templates, "hi", "category:One-day")));
  /* Any other language is English. */
  g_assert_cmpstr (pv_web_vars_get_lang (fr), ==, "en");
  g_assert_cmpstr (pv_web_vars_lookup (fr, "e404_title"), ==, en);
  g_assert_cmpuint (pv_web_lang_index ("hi"), ==, 1);
  g_assert_cmpuint (pv_web_lang_index (NULL), ==, 0);
  /* A string is filled in its language; {{t.KEY}} too. */
  pv_web_vars_int (vars, "n", 7);
  wait = pv_web_say_plain (vars, "wait_seconds");
  g_assert_nonnull (strstr (wait, "7"));
  g_assert_true (has_devanagari (wait));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (write_log, NULL, NULL);
  g_test_add_func ("/web-template/every-var-escaped", test_every_var_escaped);
  g_test_add_func ("/web-template/text-and-markup", test_text_and_markup);
  g_test_add_func ("/web-template/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/web-template/unknown-names", test_unknown_names);
  g_test_add_func ("/web-template/languages", test_languages);
  return g_test_run ();
}
