/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web.c: the hub's public web pages (see the header). Everything is
 * answered on the hub's one thread. Registrations that arrive together are
 * issued in one transaction and answered after its single commit, as online
 * admissions are: a crowd registering costs one fsync per group, and no
 * visitor sees a ticket that is not durable. */
#include "config.h"

#include <cairo.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-hub-config.h"
#include "pv-hub-web.h"
#include "pv-hub-words.h"
#include "pv-i18n.h"
#include "pv-outbox.h"
#include "pv-qr.h"
#include "pv-store.h"
#include "pv-sync-server.h"
#include "pv-ticket-code.h"
#include "pv-tickets.h"
#include "pv-visitor-codes.h"

#define GROUP "web"
#define RESOURCES "/in/pravesh/hub/"
/* The largest form: a name of 80 Devanagari letters percent-encoded is
 * under 1 KiB. */
#define MAX_FORM_BODY (8 * 1024)
#define FORM_LIFETIME_S (2 * 60 * 60)
#define KEY_NAME "web-key"
#define KEY_SIZE crypto_auth_hmacsha256_KEYBYTES
#define MAC_SIZE 16
#define NONCE_SIZE 16
/* As many as a ticket keeps (see pv-tickets.h). */
#define NAME_MAX_CHARS PV_TICKET_NAME_MAX_CHARS
#define PHONE_MAX_BYTES 32
/* 8 px a module: a version-6 symbol with its quiet zone is 392 px wide,
 * scaled by the page to the screen's width. */
#define QR_MODULE_PX 8
#define PNG_MODULE_PX 12
#define MAX_GROUP 256
/* Defaults of [web] limit-entries and remembered-forms. */
#define DEFAULT_LIMIT_ENTRIES 50000
#define DEFAULT_REMEMBERED_FORMS 20000
/* Defaults of the limits on new tickets (see the header for why). */
#define DEFAULT_NETWORK_TICKETS_PER_MINUTE 300
#define DEFAULT_NETWORK_TICKETS_BURST 600
#define DEFAULT_TICKETS_PER_MINUTE 30000
#define DEFAULT_TICKETS_BURST 30000
/* Wrong codes to find tickets again, per client (an IPv6 one by its /48):
 * a few are free (a typo, a code misread), then each wrong code checked
 * locks the client out twice as long as the last, from 30 s to an hour; an
 * hour without one forgets them. A try while locked out is refused
 * unchecked and counts for nothing: behind a carrier's or a venue's shared
 * address, a stranger hammering must not keep everyone locked out, nor
 * real users trying again make the wait longer. Per phone and client 3
 * are free, so with the waits one client makes at most 7 guesses in a
 * code's five minutes, short of the 10 that spend it
 * (PV_VISITOR_CODE_FAILURES): a stranger cannot spend the owner's code.
 * Per client whatever the phone, 10: guessing at many phones is slowed as
 * well. */
#define GUESSES_FREE_PER_PHONE 3
#define GUESSES_FREE 10
#define GUESS_LOCK_US (30 * G_USEC_PER_SEC)
#define GUESS_LOCK_MAX_US (G_GINT64_CONSTANT (60 * 60) * G_USEC_PER_SEC)
#define GUESS_FORGET_US (G_GINT64_CONSTANT (60 * 60) * G_USEC_PER_SEC)
#define MAX_SHOWN_TICKETS 20
#define FORM_COOKIE "pv_form"
#define LANG_COOKIE "pv_lang"

/* Content-Security-Policy: no script at all, styles and images from here,
 * forms post here, never framed. */
#define CSP                                                                                            \
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
  "base-uri 'none'"

/* A table of token buckets, one per key (a client, a network, a phone),
 * the least recently used forgotten first beyond max_entries. A table that
 * counts wrong guesses (limit_init_guesses ()) uses the same entries for
 * strikes and lockouts instead of tokens. */
typedef struct
{
  GHashTable *buckets; /* key → Bucket */
  GQueue order;        /* Bucket, the least recently used first */
  double per_us;       /* tokens added per µs */
  double burst;
  guint max_entries;
  /* Guesses: */
  guint free_strikes;
  gint64 lock_us, lock_max_us, forget_us;
} Limit;

typedef struct
{
  double tokens;
  gint64 at; /* monotonic µs */
  /* Guesses: wrong ones in a row, the last one's time, locked out until */
  guint strikes;
  gint64 struck_at, locked_until;
  char *key;  /* owned; the table's key too */
  GList link; /* in Limit.order */
} Bucket;

struct _PvHubWeb
{
  const PvHubContext *hub;
  PvHubOutbox *outbox;
  guint8 key[KEY_SIZE];
  GHashTable *templates; /* name → text, leading comments dropped */
  Limit pages, posts, phones;
  Limit networks, tickets; /* new tickets: per network, and all together (one key) */
  Limit guesses, guessers; /* wrong codes: per phone and client, per client */
  gint64 link_lifetime_s;
  char **categories;      /* open to self-registration; NULL: all */
  char *whatsapp_chat;    /* "https://wa.me/919810000000?text=", or NULL */
  char *code_channel;     /* NULL: no channel can send a code to just anyone */
  GQueue pending;         /* Registration */
  GHashTable *submitted;  /* key → Submitted */
  GQueue submitted_order; /* Submitted, the oldest first */
  guint max_submitted;
  guint flush_id;
  GBytes *css;
};

typedef struct
{
  PvHubWeb *self;
  SoupServerMessage *msg;
  char *path;
  const char *lang; /* "en" or "hi" */
  char *switch_href;
  char *nonce; /* the form cookie: the browser's, or a new one sent with the answer */
  gboolean send_nonce;
  gboolean send_lang;
  gboolean deferred; /* answered later, by whoever took it */
} Request;

static const char *const languages[] = { "en", "hi" };

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

static PvWebMarkup *
markup_copy (PvWebMarkup *self)
{
  PvWebMarkup *copy = pv_web_markup_new ();

  g_string_append_len (copy->html, self->html->str, self->html->len);
  return copy;
}

static GBytes *
markup_free_to_bytes (PvWebMarkup *self)
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
  PvHubWeb *web;
  const char *lang;
  GHashTable *values; /* name → Value */
};

static guint
lang_index (const char *lang)
{
  return g_strcmp0 (lang, "hi") == 0 ? 1 : 0;
}

PvWebVars *
pv_web_vars_new (PvHubWeb *web, const char *lang)
{
  PvWebVars *self = g_new0 (PvWebVars, 1);

  self->web = web;
  self->lang = languages[lang_index (lang)];
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) value_free);
  return self;
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

static void
vars_int (PvWebVars *self, const char *name, gint64 value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  pv_web_vars_text (self, name, text);
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
          if ((text = pv_hub_word (vars->lang, name + 2)) == NULL)
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
template_text (PvHubWeb *web, const char *name)
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

  fill_into (vars, template_text (vars->web, template_name), TRUE, self->html);
  return self;
}

/* Word @key (pv-hub-words.c) in @vars' language, filled with @vars. */
static PvWebMarkup *
say (PvWebVars *vars, const char *key)
{
  PvWebMarkup *self = pv_web_markup_new ();
  const char *text = pv_hub_word (vars->lang, key);

  if (text == NULL)
    g_warning ("A page asks for the string “%s”, which pv-hub-words.c lacks", key);
  else
    fill_into (vars, text, TRUE, self->html);
  return self;
}

/* The same as plain text: for a message to a phone, or a value that is
 * escaped where it is then put. */
static char *
say_plain (PvWebVars *vars, const char *key)
{
  GString *out = g_string_new (NULL);
  const char *text = pv_hub_word (vars->lang, key);

  if (text == NULL)
    g_warning ("A message asks for the string “%s”, which pv-hub-words.c lacks", key);
  else
    fill_into (vars, text, FALSE, out);
  return g_string_free (out, FALSE);
}

/* ---- Tokens: forms (CSRF) and links to a ticket ---- */

static void
mac (PvHubWeb *self, const char *purpose, const guint8 *data, gsize len, const char *bound, guint8 out[MAC_SIZE])
{
  crypto_auth_hmacsha256_state state;
  guint8 full[crypto_auth_hmacsha256_BYTES];

  crypto_auth_hmacsha256_init (&state, self->key, sizeof self->key);
  crypto_auth_hmacsha256_update (&state, (const guint8 *) purpose, strlen (purpose) + 1);
  crypto_auth_hmacsha256_update (&state, data, len);
  if (bound)
    crypto_auth_hmacsha256_update (&state, (const guint8 *) bound, strlen (bound) + 1);
  crypto_auth_hmacsha256_final (&state, full);
  memcpy (out, full, MAC_SIZE);
}

static char *
base64url (const guint8 *data, gsize len)
{
  gsize size = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *text = g_malloc (size);

  return sodium_bin2base64 (text, size, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Exactly @len bytes from base64url @text, or FALSE. */
static gboolean
unbase64url (const char *text, guint8 *out, gsize len)
{
  gsize got = 0;

  return text != NULL && strlen (text) == sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1
         && sodium_base642bin (out, len, text, strlen (text), NULL, &got, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
              == 0
         && got == len;
}

static void
put_be (guint8 *out, guint64 value, guint bytes)
{
  for (guint i = 0; i < bytes; i++)
    out[i] = (guint8) (value >> (8 * (bytes - 1 - i)));
}

static guint64
get_be (const guint8 *in, guint bytes)
{
  guint64 value = 0;

  for (guint i = 0; i < bytes; i++)
    value = value << 8 | in[i];
  return value;
}

/* A form's token: when it was made, signed together with the browser's
 * form cookie, so a page elsewhere can neither make one nor use ours. */
static char *
form_token (PvHubWeb *self, const char *nonce)
{
  guint8 token[8 + MAC_SIZE];

  put_be (token, (guint64) (g_get_real_time () / G_USEC_PER_SEC), 8);
  mac (self, "form", token, 8, nonce, token + 8);
  return base64url (token, sizeof token);
}

static gboolean
form_token_ok (PvHubWeb *self, const char *nonce, const char *text)
{
  guint8 token[8 + MAC_SIZE], expected[MAC_SIZE];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, made;

  if (nonce == NULL || !unbase64url (text, token, sizeof token))
    return FALSE;
  made = (gint64) get_be (token, 8);
  mac (self, "form", token, 8, nonce, expected);
  return sodium_memcmp (expected, token + 8, MAC_SIZE) == 0 && made <= now + 60 && now - made <= FORM_LIFETIME_S;
}

/* A link to ticket @issuer-@serial, good until it expires: the code itself
 * never travels in a URL (logs, histories, shared screenshots). */
static char *
ticket_token (PvHubWeb *self, guint16 issuer, guint32 serial)
{
  guint8 token[2 + 4 + 8 + MAC_SIZE];

  put_be (token, issuer, 2);
  put_be (token + 2, serial, 4);
  put_be (token + 6, (guint64) (g_get_real_time () / G_USEC_PER_SEC + self->link_lifetime_s), 8);
  mac (self, "ticket", token, 14, NULL, token + 14);
  return base64url (token, sizeof token);
}

static gboolean
ticket_token_parse (PvHubWeb *self, const char *text, guint16 *out_issuer, guint32 *out_serial)
{
  guint8 token[2 + 4 + 8 + MAC_SIZE], expected[MAC_SIZE];

  if (!unbase64url (text, token, sizeof token))
    return FALSE;
  mac (self, "ticket", token, 14, NULL, expected);
  if (sodium_memcmp (expected, token + 14, MAC_SIZE) != 0
      || (gint64) get_be (token + 6, 8) < g_get_real_time () / G_USEC_PER_SEC)
    return FALSE;
  *out_issuer = (guint16) get_be (token, 2);
  *out_serial = (guint32) get_be (token + 2, 4);
  return TRUE;
}

static gboolean
load_key (PvHubWeb *self, GError **error)
{
  g_autoptr (GBytes) key = pv_store_get_secret (self->hub->store, KEY_NAME);

  if (key != NULL && g_bytes_get_size (key) == KEY_SIZE)
    {
      memcpy (self->key, g_bytes_get_data (key, NULL), KEY_SIZE);
      return TRUE;
    }
  /* Made once and kept: forms and links survive a restart. */
  crypto_auth_hmacsha256_keygen (self->key);
  return pv_store_set_secret (self->hub->store, KEY_NAME, self->key, KEY_SIZE, error);
}

/* ---- Rate limits: token buckets ---- */

static void
limit_init (Limit *limit, double per_minute, double burst, guint max_entries)
{
  limit->buckets = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&limit->order);
  limit->per_us = per_minute / (60.0 * G_USEC_PER_SEC);
  limit->burst = burst;
  limit->max_entries = MAX (max_entries, 1);
}

/* A table of wrong guesses: @free_strikes in a row cost nothing, each
 * after locks the key out, @lock_us the first time, twice as long each
 * next, at most @lock_max_us; @forget_us after the last they are forgotten. */
static void
limit_init_guesses (Limit *limit, guint free_strikes, gint64 lock_us, gint64 lock_max_us, gint64 forget_us,
                    guint max_entries)
{
  /* Tokens are not taken here: the buckets stay full. */
  limit_init (limit, 1.0, 1.0, max_entries);
  limit->free_strikes = free_strikes;
  limit->lock_us = lock_us;
  limit->lock_max_us = lock_max_us;
  limit->forget_us = forget_us;
}

static void
limit_drop (Limit *limit, Bucket *bucket)
{
  g_hash_table_remove (limit->buckets, bucket->key);
  g_queue_unlink (&limit->order, &bucket->link);
  g_free (bucket->key);
  g_free (bucket);
}

static void
limit_clear (Limit *limit)
{
  while (limit->order.head != NULL)
    limit_drop (limit, limit->order.head->data);
  g_clear_pointer (&limit->buckets, g_hash_table_unref);
}

/* Whether forgetting @bucket now changes nothing: its tokens have filled
 * up again, and it holds no lockout nor strikes still remembered. */
static gboolean
bucket_idle (Limit *limit, Bucket *bucket, gint64 now)
{
  return bucket->tokens + (double) (now - bucket->at) * limit->per_us >= limit->burst
         && now >= bucket->locked_until && (bucket->strikes == 0 || now - bucket->struck_at > limit->forget_us);
}

/* Makes room for a new key. Buckets that have filled up again say nothing
 * and go first, the least recently used ones, as many as are found there;
 * when the table is still full, the least recently used goes all the same
 * (its bucket has had the longest to fill). Never all at once: a flood of
 * new addresses costs the quietest their count, not the busy ones theirs,
 * and the work is a few buckets, not the table. */
static void
limit_make_room (Limit *limit, gint64 now)
{
  while (limit->order.head != NULL)
    {
      Bucket *oldest = limit->order.head->data;

      if (!bucket_idle (limit, oldest, now) && limit->order.length < limit->max_entries)
        break;
      limit_drop (limit, oldest);
    }
}

/* @key's bucket, made when there is none, marked the most recently used
 * and its tokens brought up to @now. */
static Bucket *
limit_bucket (Limit *limit, const char *key, gint64 now)
{
  Bucket *bucket = g_hash_table_lookup (limit->buckets, key);

  if (bucket == NULL)
    {
      limit_make_room (limit, now);
      bucket = g_new0 (Bucket, 1);
      bucket->tokens = limit->burst;
      bucket->at = now;
      bucket->key = g_strdup (key);
      bucket->link.data = bucket;
      g_hash_table_insert (limit->buckets, bucket->key, bucket);
    }
  else
    g_queue_unlink (&limit->order, &bucket->link);
  g_queue_push_tail_link (&limit->order, &bucket->link);
  bucket->tokens = MIN (limit->burst, bucket->tokens + (double) (now - bucket->at) * limit->per_us);
  bucket->at = now;
  return bucket;
}

/* Takes a token from each of @n buckets, @keys[i]'s in @limits[i] (each
 * limit once), or from none: a refusal by one costs the others nothing.
 * FALSE with the longest wait among those that refused. */
static gboolean
limits_take (Limit *const *limits, const char *const *keys, guint n, gint64 *out_wait_us)
{
  gint64 now = g_get_monotonic_time (), wait = 0;
  Bucket *buckets[4];

  g_return_val_if_fail (n <= G_N_ELEMENTS (buckets), FALSE);
  for (guint i = 0; i < n; i++)
    buckets[i] = limit_bucket (limits[i], keys[i], now);
  for (guint i = 0; i < n; i++)
    if (buckets[i]->tokens < 1.0)
      wait = MAX (wait, (gint64) ((1.0 - buckets[i]->tokens) / limits[i]->per_us) + 1);
  if (wait > 0)
    {
      *out_wait_us = wait;
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    buckets[i]->tokens -= 1.0;
  return TRUE;
}

/* Takes a token from @key's bucket; FALSE with the wait for the next one. */
static gboolean
limit_take (Limit *limit, const char *key, gint64 *out_wait_us)
{
  return limits_take (&limit, &key, 1, out_wait_us);
}

/* How long @key is still locked out of guessing (0: it may guess). */
static gint64
guess_wait (Limit *limit, const char *key, gint64 now)
{
  Bucket *bucket = g_hash_table_lookup (limit->buckets, key);

  return bucket != NULL && bucket->locked_until > now ? bucket->locked_until - now : 0;
}

/* A wrong code checked for @key. Never a try while @key is locked out:
 * that is refused unchecked (guess_wait ()), as it proves nothing and
 * may be someone else behind the same address. */
static void
guess_strike (Limit *limit, const char *key, gint64 now)
{
  Bucket *bucket = limit_bucket (limit, key, now);

  if (now - bucket->struck_at > limit->forget_us)
    bucket->strikes = 0;
  bucket->strikes++;
  bucket->struck_at = now;
  if (bucket->strikes > limit->free_strikes)
    {
      guint doublings = MIN (bucket->strikes - limit->free_strikes - 1, 20);

      bucket->locked_until = MAX (bucket->locked_until, now + MIN (limit->lock_us << doublings, limit->lock_max_us));
    }
}

/* The right code: @key's wrong ones before it are forgiven. */
static void
guess_forgive (Limit *limit, const char *key)
{
  Bucket *bucket = g_hash_table_lookup (limit->buckets, key);

  if (bucket != NULL)
    limit_drop (limit, bucket);
}

/* Who is asking, as the limits count them: the address, an IPv6 client by
 * its /64 (which one household may fill with addresses); the network it
 * is in, for the limits on new tickets: an IPv4 address by its /24, an
 * IPv6 one by its /48 (a site's allocation), so one machine with many
 * addresses counts once; and the guesser, for wrong codes: the address,
 * an IPv6 client by its /48 too, as a phone or a machine can take a new
 * /64 whenever it likes, and each would bring its free guesses. */
static void
client_keys (SoupServerMessage *msg, char **out_client, char **out_network, char **out_guesser)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  *out_client = pv_address_key (remote, 32, 64);
  *out_network = pv_address_key (remote, 24, 48);
  *out_guesser = pv_address_key (remote, 32, 48);
}

/* ---- Requests and answers ---- */

static char *
cookie (SoupServerMessage *msg, const char *name)
{
  const char *header = soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Cookie");
  g_auto (GStrv) parts = NULL;
  gsize len = strlen (name);

  if (header == NULL)
    return NULL;
  parts = g_strsplit_set (header, ";,", 64);
  for (guint i = 0; parts[i]; i++)
    {
      const char *part = g_strstrip (parts[i]);

      if (strncmp (part, name, len) == 0 && part[len] == '=')
        return g_strdup (part + len + 1);
    }
  return NULL;
}

/* The language asked for: ?lang= (remembered), the cookie, then the
 * browser's Accept-Language in order of preference; English otherwise. */
static const char *
choose_language (Request *r, GHashTable *query)
{
  const char *asked = query ? g_hash_table_lookup (query, "lang") : NULL;
  g_autofree char *remembered = cookie (r->msg, LANG_COOKIE);
  const char *header;
  GSList *list;
  const char *found = NULL;

  for (guint l = 0; l < G_N_ELEMENTS (languages); l++)
    if (g_strcmp0 (asked, languages[l]) == 0)
      {
        r->send_lang = TRUE;
        return languages[l];
      }
  for (guint l = 0; l < G_N_ELEMENTS (languages); l++)
    if (g_strcmp0 (remembered, languages[l]) == 0)
      return languages[l];
  header = soup_message_headers_get_list (soup_server_message_get_request_headers (r->msg), "Accept-Language");
  if (header == NULL)
    return "en";
  list = soup_header_parse_quality_list (header, NULL);
  for (GSList *l = list; l && !found; l = l->next)
    for (guint i = 0; i < G_N_ELEMENTS (languages) && !found; i++)
      if (g_ascii_strncasecmp (l->data, languages[i], 2) == 0
          && (((char *) l->data)[2] == '\0' || ((char *) l->data)[2] == '-'))
        found = languages[i];
  soup_header_free_list (list);
  return found ? found : "en";
}

static gboolean
is_base64url (const char *text, gsize len)
{
  if (text == NULL || strlen (text) != len)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static Request *
request_new (PvHubWeb *self, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  Request *r = g_new0 (Request, 1);
  const char *token = query ? g_hash_table_lookup (query, "t") : NULL;
  const char *other;

  r->self = self;
  r->msg = g_object_ref (msg);
  r->path = g_strdup (path);
  r->lang = choose_language (r, query);
  r->nonce = cookie (msg, FORM_COOKIE);
  if (!is_base64url (r->nonce, sodium_base64_ENCODED_LEN (NONCE_SIZE, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1))
    {
      guint8 nonce[NONCE_SIZE];

      randombytes_buf (nonce, sizeof nonce);
      g_free (r->nonce);
      r->nonce = base64url (nonce, sizeof nonce);
      r->send_nonce = TRUE;
    }
  /* The switch leads to the same page in the other language: a ticket's
   * page keeps its link; a form's answer becomes the empty form. */
  other = lang_index (r->lang) == 0 ? "hi" : "en";
  if (g_str_equal (path, "/ticket/view") && is_base64url (token, 40))
    r->switch_href = g_strdup_printf ("/ticket/view?t=%s&lang=%s", token, other);
  else if (g_str_equal (path, "/") || g_str_equal (path, "/register") || g_str_equal (path, "/ticket"))
    r->switch_href = g_strdup_printf ("%s?lang=%s", path, other);
  else
    r->switch_href = g_strdup_printf ("/?lang=%s", other);
  return r;
}

static void
request_free (Request *r)
{
  g_object_unref (r->msg);
  g_free (r->path);
  g_free (r->switch_href);
  g_free (r->nonce);
  g_free (r);
}

static PvWebVars *
page_vars (Request *r)
{
  return pv_web_vars_new (r->self, r->lang);
}

static void
set_common_headers (Request *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (r->msg);
  const char *secure = soup_server_is_https (r->self->hub->server) ? "; Secure" : "";

  soup_message_headers_replace (headers, "Content-Security-Policy", CSP);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");
  soup_message_headers_replace (headers, "Cross-Origin-Opener-Policy", "same-origin");
  if (r->send_nonce)
    {
      g_autofree char *value = g_strdup_printf (FORM_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", r->nonce,
                                                secure);
      soup_message_headers_append (headers, "Set-Cookie", value);
    }
  if (r->send_lang)
    {
      /* Lax: a visitor arriving by a link from elsewhere keeps the choice. */
      g_autofree char *value = g_strdup_printf (LANG_COOKIE "=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax%s",
                                                r->lang, secure);
      soup_message_headers_append (headers, "Set-Cookie", value);
    }
}

static const char *
event_name (PvHubWeb *self)
{
  PvEvent *event = pv_store_get_event (self->hub->store, NULL);

  return event ? pv_event_get_name (event) : "Pravesh";
}

/* Answers @status with @content (taken) in the page's frame. */
static void
reply_page (Request *r, guint status, const char *title, PvWebMarkup *content)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autoptr (GBytes) page = NULL;
  const char *event = event_name (r->self);
  g_autofree char *full_title = g_str_equal (title, event) ? g_strdup (title) : g_strdup_printf ("%s · %s", title, event);

  pv_web_vars_text (vars, "title", full_title);
  pv_web_vars_text (vars, "event", event);
  pv_web_vars_text (vars, "lang", r->lang);
  pv_web_vars_text (vars, "switch_lang", lang_index (r->lang) == 0 ? "hi" : "en");
  pv_web_vars_text (vars, "switch_href", r->switch_href);
  pv_web_vars_markup (vars, "content", content);
  page = markup_free_to_bytes (pv_hub_web_fill ("layout.html", vars));
  set_common_headers (r);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Cache-Control", "no-store");
  soup_server_message_set_status (r->msg, status, NULL);
  soup_server_message_set_response (r->msg, "text/html; charset=utf-8", SOUP_MEMORY_COPY, g_bytes_get_data (page, NULL),
                                    g_bytes_get_size (page));
}

/* A page that says one thing, with a way on. */
static void
reply_message (Request *r, guint status, const char *title_key, PvWebMarkup *text, const char *href,
               const char *link_key)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *title = say_plain (vars, title_key);

  pv_web_vars_text (vars, "heading", title);
  pv_web_vars_markup (vars, "text", text);
  pv_web_vars_text (vars, "href", href);
  pv_web_vars_markup (vars, "link", say (vars, link_key));
  reply_page (r, status, title, pv_hub_web_fill ("message.html", vars));
}

static void
reply_said (Request *r, guint status, const char *title_key, const char *text_key, const char *href,
            const char *link_key)
{
  g_autoptr (PvWebVars) vars = page_vars (r);

  reply_message (r, status, title_key, say (vars, text_key), href, link_key);
}

static void
reply_not_found (Request *r)
{
  reply_said (r, SOUP_STATUS_NOT_FOUND, "e404_title", "e404_text", "/", "back_home");
}

static void
reply_bad_form (Request *r)
{
  reply_said (r, SOUP_STATUS_BAD_REQUEST, "e400_title", "e400_text", r->path, "fill_again");
}

static void
reply_forbidden (Request *r)
{
  reply_said (r, SOUP_STATUS_FORBIDDEN, "e403_title", "e403_text", r->path, "fill_again");
}

/* 429, with Retry-After and, in words, how long to wait and until when. */
static void
reply_too_many (Request *r, gint64 wait_us)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *seconds_text = NULL, *wait = NULL, *until = NULL;
  gint64 seconds = MAX (1, (wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  gint64 at = g_get_real_time () + seconds * G_USEC_PER_SEC;

  seconds_text = g_strdup_printf ("%" G_GINT64_FORMAT, seconds);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Retry-After", seconds_text);
  if (seconds < 120)
    vars_int (vars, "n", seconds);
  else
    vars_int (vars, "n", (seconds + 59) / 60);
  wait = say_plain (vars, seconds < 120 ? "wait_seconds" : "wait_minutes");
  /* The minute it may be tried again, rounded up, on the event's clock. */
  until = event ? pv_event_format_time (event, at + 59 * G_USEC_PER_SEC, "%H:%M") : g_strdup ("");
  pv_web_vars_text (vars, "wait", wait);
  pv_web_vars_text (vars, "time", until);
  reply_message (r, 429 /* Too Many Requests */, "e429_title", say (vars, "e429_text"), "/", "back_home");
}

static void
reply_redirect (Request *r, const char *location)
{
  set_common_headers (r);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Cache-Control", "no-store");
  /* Relative, so it holds behind a proxy and whatever Host was sent. */
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Location", location);
  soup_server_message_set_status (r->msg, SOUP_STATUS_SEE_OTHER, NULL);
}

/* Whether @text is urlencoded as a form should be: every % starts an
 * escape of two hex digits, and none of them a NUL. libsoup's decoder cuts
 * a value at an escaped NUL ("A%00B" would be "A") and silently drops a
 * field with a broken escape: either would be read as something other
 * than what was sent. */
static gboolean
form_escapes_ok (const char *text)
{
  for (const char *p = strchr (text, '%'); p != NULL; p = strchr (p + 1, '%'))
    if (!g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]) || (p[1] == '0' && p[2] == '0'))
      return FALSE;
  return TRUE;
}

/* The form's fields, or NULL after answering 400: only a urlencoded body,
 * no NUL (raw or escaped), no broken escape, every name and value valid
 * UTF-8. Every form the pages take is read here. */
static GHashTable *
read_form (Request *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (r->msg);
  const char *type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (r->msg));
  g_autoptr (GHashTable) form = NULL;
  g_autofree char *text = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gsize size;

  text = g_strndup (g_bytes_get_data (body, &size), g_bytes_get_size (body));
  if (g_strcmp0 (type, "application/x-www-form-urlencoded") != 0 || size > MAX_FORM_BODY || strlen (text) != size
      || !form_escapes_ok (text))
    {
      reply_bad_form (r);
      return NULL;
    }
  form = soup_form_decode (text);
  g_hash_table_iter_init (&iter, form);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_utf8_validate (key, -1, NULL) || !g_utf8_validate (value, -1, NULL))
      {
        reply_bad_form (r);
        return NULL;
      }
  return g_steal_pointer (&form);
}

/* The posted form if it carries a good token, else NULL after answering. */
static GHashTable *
read_checked_form (Request *r)
{
  g_autoptr (GHashTable) form = read_form (r);

  if (form == NULL)
    return NULL;
  /* A browser without our cookie cannot have had the form from us. */
  if (r->send_nonce || !form_token_ok (r->self, r->nonce, g_hash_table_lookup (form, "csrf")))
    {
      reply_forbidden (r);
      return NULL;
    }
  return g_steal_pointer (&form);
}

/* ---- The event ---- */

static char *
format_hour (guint minutes)
{
  return g_strdup_printf ("%02u:%02u", minutes / 60, minutes % 60);
}

/* Event day @day, "Sat 5 Dec 2026", in @vars' language. */
static char *
format_day (PvWebVars *page, PvEvent *event, int day)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new (page->web, page->lang);
  g_autofree char *iso = pv_event_day_date (event, day);
  g_autofree char *weekday = NULL, *month = NULL;
  g_autoptr (GDate) date = NULL;
  int y = 0, m = 0, d = 0;

  if (sscanf (iso, "%d-%d-%d", &y, &m, &d) != 3 || !g_date_valid_dmy (d, m, y))
    return g_strdup (iso);
  date = g_date_new_dmy (d, m, y);
  weekday = g_strdup_printf ("weekday_%d", g_date_get_weekday (date));
  month = g_strdup_printf ("month_%d", m);
  pv_web_vars_text (vars, "weekday", pv_hub_word (page->lang, weekday));
  pv_web_vars_text (vars, "month", pv_hub_word (page->lang, month));
  vars_int (vars, "day", d);
  vars_int (vars, "year", y);
  return say_plain (vars, "date_format");
}

static const char *
category_name (PvWebVars *vars, const PvCategory *category)
{
  /* The default categories' names are translated as the app shows them;
   * an event's own keep the name it gave them. */
  return *category->name ? pv_i18n_translate (vars->lang, NULL, category->name) : "";
}

/* What a ticket of @category allows, one sentence each (plain text). */
static GPtrArray *
category_allows (PvWebVars *page, const PvCategory *category)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new (page->web, page->lang);
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (lines, say_plain (vars, category->validity == PV_VALIDITY_CHOSEN_DAY    ? "cat_chosen_day"
                                           : category->validity == PV_VALIDITY_ANY_ONE_DAY ? "cat_any_day"
                                                                                           : "cat_every_day"));
  vars_int (vars, "n", category->entries_per_day);
  g_ptr_array_add (lines, say_plain (vars, category->entries_per_day == 0   ? "cat_entries_unlimited"
                                           : category->entries_per_day == 1 ? "cat_entries_one"
                                                                            : "cat_entries_n"));
  if (category->entries_per_day != 0)
    g_ptr_array_add (lines, say_plain (vars, category->reentry ? "cat_reentry" : "cat_no_reentry"));
  vars_int (vars, "n", category->max_party);
  g_ptr_array_add (lines, say_plain (vars, category->max_party <= 1 ? "cat_party_one" : "cat_party_n"));
  if (category->gates != NULL && category->gates[0] != NULL)
    {
      g_autofree char *gates = g_strjoinv (", ", category->gates);
      pv_web_vars_text (vars, "gates", gates);
      g_ptr_array_add (lines, say_plain (vars, "cat_gates"));
    }
  return lines;
}

/* The categories a visitor may register for here (borrowed from @event). */
static GPtrArray *
open_categories (PvHubWeb *self, PvEvent *event)
{
  GPtrArray *open = g_ptr_array_new ();

  /* None unless the settings name them: an event's categories include
   * passes (exhibitors, staff) the public must not be able to give
   * themselves. */
  if (self->categories != NULL)
    for (guint i = 0; self->categories[i]; i++)
      {
        const PvCategory *category = pv_event_find_category (event, self->categories[i]);
        if (category)
          g_ptr_array_add (open, (gpointer) category);
      }
  return open;
}

/* The first day a visitor may still choose: today until it closes. */
static int
first_open_day (PvHubWeb *self, PvEvent *event)
{
  gint64 now = pv_store_now (self->hub->store);
  int today = pv_event_day_at (event, now), n = (int) pv_event_get_n_days (event);
  guint open, close;

  if (today < 0)
    return 0;
  if (today >= n)
    return n;
  pv_event_get_hours (event, today, &open, &close);
  return now < pv_event_time_of (event, today, close) ? today : today + 1;
}

static PvWebMarkup *
list_items (PvWebVars *page, GPtrArray *lines)
{
  PvWebMarkup *items = pv_web_markup_new ();

  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr (PvWebVars) vars = pv_web_vars_new (page->web, page->lang);

      pv_web_vars_text (vars, "text", g_ptr_array_index (lines, i));
      pv_web_markup_append (items, pv_hub_web_fill ("list-item.html", vars));
    }
  return items;
}

static void
add_fact (PvWebMarkup *facts, PvWebVars *page, const char *label_key, PvWebMarkup *value)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new (page->web, page->lang);

  pv_web_vars_markup (vars, "label", say (vars, label_key));
  pv_web_vars_markup (vars, "value", value);
  pv_web_markup_append (facts, pv_hub_web_fill ("fact.html", vars));
}

static PvWebMarkup *
hours_text (PvWebVars *page, PvEvent *event)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new (page->web, page->lang);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  guint n = pv_event_get_n_days (event), open0, close0;
  gboolean same = TRUE;

  pv_event_get_hours (event, 0, &open0, &close0);
  for (guint d = 1; d < n; d++)
    {
      guint open, close;
      pv_event_get_hours (event, d, &open, &close);
      same = same && open == open0 && close == close0;
    }
  if (same)
    {
      g_autofree char *open = format_hour (open0), *close = format_hour (close0);
      pv_web_vars_text (vars, "open", open);
      pv_web_vars_text (vars, "close", close);
      return say (vars, "hours_every_day");
    }
  for (guint d = 0; d < n; d++)
    {
      g_autofree char *date = format_day (page, event, (int) d);
      g_autofree char *open_text = NULL, *close_text = NULL;
      guint open, close;

      pv_event_get_hours (event, d, &open, &close);
      open_text = format_hour (open);
      close_text = format_hour (close);
      pv_web_vars_text (vars, "date", date);
      pv_web_vars_text (vars, "open", open_text);
      pv_web_vars_text (vars, "close", close_text);
      g_ptr_array_add (lines, say_plain (vars, "hours_day"));
    }
  pv_web_vars_markup (vars, "items", list_items (page, lines));
  return pv_hub_web_fill ("plain-list.html", vars);
}

/* @text, escaped, where markup is expected. */
static PvWebMarkup *
text_markup (Request *r, const char *text)
{
  g_autoptr (PvWebVars) vars = page_vars (r);

  pv_web_vars_text (vars, "text", text);
  return pv_hub_web_fill ("plain-text.html", vars);
}

static void
handle_index (Request *r)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autoptr (GPtrArray) open = NULL;
  g_autofree char *first = NULL, *last = NULL;
  PvWebMarkup *facts, *categories;
  guint n;

  if (event == NULL)
    return reply_not_found (r);
  n = pv_event_get_n_days (event);
  open = open_categories (r->self, event);
  facts = pv_web_markup_new ();
  first = format_day (vars, event, 0);
  last = format_day (vars, event, (int) n - 1);
  pv_web_vars_text (vars, "first", first);
  pv_web_vars_text (vars, "last", last);
  add_fact (facts, vars, "when", n > 1 ? say (vars, "dates_range") : text_markup (r, first));
  add_fact (facts, vars, "hours", hours_text (vars, event));
  if (pv_event_get_venue (event) && *pv_event_get_venue (event))
    add_fact (facts, vars, "where", text_markup (r, pv_event_get_venue (event)));
  pv_web_vars_markup (vars, "facts", facts);
  if (first_open_day (r->self, event) >= (int) n || open->len == 0)
    {
      g_autoptr (PvWebVars) notice = page_vars (r);
      pv_web_vars_markup (notice, "text", say (notice, open->len == 0 ? "no_categories" : "closed"));
      pv_web_vars_markup (vars, "action", pv_hub_web_fill ("notice.html", notice));
    }
  else
    pv_web_vars_markup (vars, "action", pv_hub_web_fill ("action-register.html", vars));
  categories = pv_web_markup_new ();
  for (guint i = 0; i < open->len; i++)
    {
      const PvCategory *category = g_ptr_array_index (open, i);
      g_autoptr (PvWebVars) item = page_vars (r);
      g_autoptr (GPtrArray) allows = category_allows (vars, category);

      pv_web_vars_text (item, "name", category_name (vars, category));
      pv_web_vars_markup (item, "allows", list_items (vars, allows));
      pv_web_markup_append (categories, pv_hub_web_fill ("category.html", item));
    }
  pv_web_vars_markup (vars, "categories", categories);
  pv_web_vars_markup (vars, "find", pv_hub_web_fill (r->self->code_channel ? "find-link.html" : "find-desk.html", vars));
  pv_web_vars_text (vars, "event", pv_event_get_name (event));
  reply_page (r, SOUP_STATUS_OK, pv_event_get_name (event), pv_hub_web_fill ("index.html", vars));
}

/* ---- Registering ---- */

typedef enum
{
  FIELD_NAME,
  FIELD_PHONE,
  FIELD_CATEGORY,
  FIELD_DAY,
  FIELD_PARTY,
  N_FIELDS
} Field;

static const char *const field_names[N_FIELDS] = { "name", "phone", "category", "day", "party" };

typedef struct
{
  const char *value[N_FIELDS]; /* as sent, borrowed from the form */
  PvWebMarkup *error[N_FIELDS];
  gboolean invalid;
  /* When it is valid: */
  char *name;
  char *phone;
  const PvCategory *category; /* borrowed from the event */
  int day;
  guint party;
} RegisterForm;

static void
register_form_clear (RegisterForm *form)
{
  for (guint f = 0; f < N_FIELDS; f++)
    pv_web_markup_free (form->error[f]);
  g_free (form->name);
  g_free (form->phone);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RegisterForm, register_form_clear)

static void
field_error (RegisterForm *form, Field field, PvWebMarkup *message)
{
  if (form->error[field] != NULL)
    return pv_web_markup_free (message);
  form->error[field] = message;
  form->invalid = TRUE;
}

static void
field_vars (PvWebVars *vars, const char *name, const char *value, PvWebMarkup *error)
{
  g_autofree char *error_name = g_strconcat (name, "_error", NULL);
  g_autofree char *invalid_name = g_strconcat (name, "_invalid", NULL);
  g_autofree char *state_name = g_strconcat (name, "_state", NULL);

  if (value != NULL)
    pv_web_vars_text (vars, name, value);
  pv_web_vars_markup (vars, error_name, error ? markup_copy (error) : NULL);
  pv_web_vars_text (vars, invalid_name, error ? "true" : "false");
  pv_web_vars_text (vars, state_name, error ? " invalid" : "");
}

/* The errors above the form, each a link to its field. */
static PvWebMarkup *
error_summary (PvWebVars *page, PvWebMarkup *const *errors, const char *const *anchors, guint n)
{
  g_autoptr (PvWebVars) vars = pv_web_vars_new (page->web, page->lang);
  PvWebMarkup *items = pv_web_markup_new ();
  gboolean any = FALSE;

  for (guint i = 0; i < n; i++)
    if (errors[i] != NULL)
      {
        g_autoptr (PvWebVars) item = pv_web_vars_new (page->web, page->lang);

        pv_web_vars_text (item, "field", anchors[i]);
        pv_web_vars_markup (item, "message", markup_copy (errors[i]));
        pv_web_markup_append (items, pv_hub_web_fill ("error-link.html", item));
        any = TRUE;
      }
  if (!any)
    {
      pv_web_markup_free (items);
      return pv_web_markup_new ();
    }
  pv_web_vars_markup (vars, "items", items);
  return pv_hub_web_fill ("errors.html", vars);
}

static char *
error_title (PvWebVars *vars, const char *title_key, gboolean invalid)
{
  const char *title = pv_hub_word (vars->lang, title_key);

  return invalid ? g_strdup_printf ("%s: %s", pv_hub_word (vars->lang, "error_prefix"), title)
                 : g_strdup (title);
}

static void
reply_closed (Request *r, gboolean no_categories)
{
  reply_said (r, SOUP_STATUS_OK, "register_title", no_categories ? "no_categories" : "closed", "/", "back_home");
}

static void
reply_register_form (Request *r, RegisterForm *form, guint status)
{
  static const char *const anchors[N_FIELDS] = { "name", "phone", "category", "day", "party" };
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autoptr (GPtrArray) open = NULL;
  g_autofree char *token = NULL, *title = NULL;
  PvWebMarkup *choices, *days;
  guint party_max = 1;
  int first, n;

  if (event == NULL)
    return reply_not_found (r);
  open = open_categories (r->self, event);
  first = first_open_day (r->self, event);
  n = (int) pv_event_get_n_days (event);
  if (first >= n || open->len == 0)
    return reply_closed (r, open->len == 0);

  token = form_token (r->self, r->nonce);
  pv_web_vars_text (vars, "csrf", token);
  field_vars (vars, "name", form->value[FIELD_NAME] ? form->value[FIELD_NAME] : "", form->error[FIELD_NAME]);
  field_vars (vars, "phone", form->value[FIELD_PHONE] ? form->value[FIELD_PHONE] : "", form->error[FIELD_PHONE]);
  field_vars (vars, "category", NULL, form->error[FIELD_CATEGORY]);
  field_vars (vars, "day", NULL, form->error[FIELD_DAY]);
  field_vars (vars, "party", form->value[FIELD_PARTY] ? form->value[FIELD_PARTY] : "1", form->error[FIELD_PARTY]);

  choices = pv_web_markup_new ();
  for (guint i = 0; i < open->len; i++)
    {
      const PvCategory *category = g_ptr_array_index (open, i);
      g_autoptr (PvWebVars) item = page_vars (r);
      g_autoptr (GPtrArray) allows = category_allows (vars, category);
      g_autofree char *id = g_strdup_printf ("%u", category->id);
      g_autofree char *sentence = NULL;

      g_ptr_array_add (allows, NULL);
      sentence = g_strjoinv (" · ", (char **) allows->pdata);
      pv_web_vars_text (item, "id", id);
      pv_web_vars_text (item, "name", category_name (vars, category));
      pv_web_vars_text (item, "allows", sentence);
      pv_web_vars_text (item, "needs_day", category->validity == PV_VALIDITY_CHOSEN_DAY ? "yes" : "no");
      pv_web_vars_text (item, "party", category->max_party > 1 ? "many" : "one");
      pv_web_vars_text (item, "checked",
                        g_strcmp0 (form->value[FIELD_CATEGORY], id) == 0 || open->len == 1 ? "checked" : "");
      pv_web_markup_append (choices, pv_hub_web_fill ("category-choice.html", item));
      party_max = MAX (party_max, category->max_party);
    }
  pv_web_vars_markup (vars, "categories", choices);
  vars_int (vars, "party_max", form->category ? form->category->max_party : party_max);

  days = pv_web_markup_new ();
  for (int d = first; d < n; d++)
    {
      g_autoptr (PvWebVars) option = page_vars (r);
      g_autofree char *iso = pv_event_day_date (event, d);
      g_autofree char *label = format_day (vars, event, d);

      pv_web_vars_text (option, "value", iso);
      pv_web_vars_text (option, "label", label);
      pv_web_vars_text (option, "selected", g_strcmp0 (form->value[FIELD_DAY], iso) == 0 ? "selected" : "");
      pv_web_markup_append (days, pv_hub_web_fill ("day-option.html", option));
    }
  pv_web_vars_markup (vars, "days", days);
  pv_web_vars_markup (vars, "summary", error_summary (vars, form->error, anchors, N_FIELDS));
  title = error_title (vars, "register_title", form->invalid);
  reply_page (r, status, title, pv_hub_web_fill ("register.html", vars));
}

/* A name as people write them: letters of any script, spaces,
 * punctuation; no control or invisible formatting characters (which could
 * disguise it on a desk's screen), except the joiners Indian scripts
 * need. */
static gboolean
name_chars_ok (const char *name)
{
  for (const char *p = name; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (c);

      if (type == G_UNICODE_CONTROL || type == G_UNICODE_SURROGATE || type == G_UNICODE_UNASSIGNED
          || type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR
          || (type == G_UNICODE_FORMAT && c != 0x200C && c != 0x200D))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_small_number (const char *text, guint max_digits, guint *out)
{
  gsize len = text ? strlen (text) : 0;

  if (len == 0 || len > max_digits)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  *out = (guint) g_ascii_strtoull (text, NULL, 10);
  return TRUE;
}

static PvWebMarkup *
say_error (Request *r, const char *key, guint max)
{
  g_autoptr (PvWebVars) vars = page_vars (r);

  vars_int (vars, "max", max);
  return say (vars, key);
}

/* What to say beside a phone field of @phone (normalised) when the fair
 * sends nothing to its country, else NULL: said before anything is
 * written or queued. */
static PvWebMarkup *
phone_country_error (Request *r, const char *phone)
{
  g_autoptr (PvWebVars) vars = NULL;

  if (pv_hub_outbox_sends_to (r->self->outbox, phone))
    return NULL;
  vars = page_vars (r);
  pv_web_vars_text (vars, "countries", pv_hub_outbox_get_countries (r->self->outbox));
  return say (vars, "err_phone_country");
}

/* Checks the fields into @form; the messages say what to change. */
static void
check_register_form (Request *r, GHashTable *fields, RegisterForm *form)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  g_autoptr (GPtrArray) open = open_categories (r->self, event);
  g_autofree char *trimmed = NULL, *phone = NULL;
  PvWebMarkup *country;
  guint id = 0, party = 0;
  int first = first_open_day (r->self, event);

  for (guint f = 0; f < N_FIELDS; f++)
    form->value[f] = g_hash_table_lookup (fields, field_names[f]);

  trimmed = g_strstrip (g_strdup (form->value[FIELD_NAME] ? form->value[FIELD_NAME] : ""));
  form->name = g_utf8_normalize (trimmed, -1, G_NORMALIZE_NFC);
  if (*form->name == '\0')
    field_error (form, FIELD_NAME, say_error (r, "err_name_missing", 0));
  else if (g_utf8_strlen (form->name, -1) > NAME_MAX_CHARS)
    field_error (form, FIELD_NAME, say_error (r, "err_name_long", 0));
  /* What a ticket keeps is counted in bytes too: 51 emoji (4 bytes
   * each) are more than it takes, and would otherwise fail only at the
   * issue. */
  else if (strlen (form->name) > PV_TICKET_NAME_MAX_BYTES)
    field_error (form, FIELD_NAME, say_error (r, "err_name_bytes", 0));
  else if (!name_chars_ok (form->name))
    field_error (form, FIELD_NAME, say_error (r, "err_name_chars", 0));

  phone = g_strstrip (g_strdup (form->value[FIELD_PHONE] ? form->value[FIELD_PHONE] : ""));
  if (*phone == '\0')
    field_error (form, FIELD_PHONE, say_error (r, "err_phone_missing", 0));
  else if (strlen (form->value[FIELD_PHONE]) > PHONE_MAX_BYTES
           || (form->phone = pv_normalize_phone (form->value[FIELD_PHONE], NULL)) == NULL)
    field_error (form, FIELD_PHONE, say_error (r, "err_phone", 0));
  /* A ticket is sent to, and found again by, its phone: a number the fair
   * sends nothing to is no use, and a door to messages it pays for. */
  else if ((country = phone_country_error (r, form->phone)) != NULL)
    field_error (form, FIELD_PHONE, country);

  if (parse_small_number (form->value[FIELD_CATEGORY], 3, &id))
    for (guint i = 0; i < open->len && !form->category; i++)
      if (((const PvCategory *) g_ptr_array_index (open, i))->id == id)
        form->category = g_ptr_array_index (open, i);
  if (form->category == NULL)
    field_error (form, FIELD_CATEGORY, say_error (r, "err_category", 0));

  form->day = -1;
  if (form->category && form->category->validity == PV_VALIDITY_CHOSEN_DAY)
    {
      const char *day = form->value[FIELD_DAY];

      if (day == NULL || *day == '\0')
        field_error (form, FIELD_DAY, say_error (r, "err_day_missing", 0));
      else if (strlen (day) != 10 || !pv_event_parse_day (event, day, &form->day, NULL) || form->day < first)
        field_error (form, FIELD_DAY, say_error (r, "err_day", 0));
    }

  /* A personal ticket admits one, whatever a hidden field still says. */
  if (form->category && form->category->max_party <= 1)
    party = 1;
  else if (!parse_small_number (form->value[FIELD_PARTY], 4, &party) || party < 1
           || party > (form->category ? form->category->max_party : PV_MAX_PARTY))
    field_error (form, FIELD_PARTY,
                 say_error (r, "err_party", form->category ? form->category->max_party : PV_MAX_PARTY));
  form->party = party;
}

typedef struct
{
  Request *request;
  GPtrArray *repeats; /* Request: the same form sent again meanwhile */
  char *key;          /* in PvHubWeb's submitted */
  char *name;
  char *phone;
  char *category;
  int day;
  guint party;
  GPtrArray *issued;
  GError *error;
} Registration;

/* A form sent before, by its token and fields: a second tap on a slow
 * network, or the browser sending it again, gets the first one's ticket,
 * not a second ticket. Kept in the order they came, and forgotten from the
 * oldest: once their form's token has expired, or when there are more
 * than [web] remembered-forms. */
typedef struct
{
  Registration *pending; /* until it is answered */
  guint16 issuer;
  guint32 serial;
  gint64 at;  /* monotonic µs */
  char *key;  /* owned; the table's key too */
  GList link; /* in PvHubWeb's submitted_order */
} Submitted;

static Submitted *
submitted_add (PvHubWeb *self, char *key)
{
  Submitted *submitted = g_new0 (Submitted, 1);

  submitted->key = key;
  submitted->at = g_get_monotonic_time ();
  submitted->link.data = submitted;
  g_hash_table_insert (self->submitted, submitted->key, submitted);
  g_queue_push_tail_link (&self->submitted_order, &submitted->link);
  return submitted;
}

static void
submitted_remove (PvHubWeb *self, Submitted *submitted)
{
  g_hash_table_remove (self->submitted, submitted->key);
  g_queue_unlink (&self->submitted_order, &submitted->link);
  g_free (submitted->key);
  g_free (submitted);
}

/* Makes room for one more, from the oldest; the work is what is forgotten.
 * One still being issued is kept (its answer finds it), whatever its age:
 * it is answered within a turn of the main loop. */
static void
forget_old_submissions (PvHubWeb *self)
{
  gint64 now = g_get_monotonic_time ();
  GList *l = self->submitted_order.head;

  while (l != NULL)
    {
      Submitted *submitted = l->data;
      GList *next = l->next;

      /* A form's token is no good after its lifetime anyway. */
      if (now - submitted->at <= (gint64) FORM_LIFETIME_S * G_USEC_PER_SEC
          && self->submitted_order.length < self->max_submitted)
        break;
      if (submitted->pending == NULL)
        submitted_remove (self, submitted);
      l = next;
    }
}

static void
registration_free (Registration *reg)
{
  request_free (reg->request);
  g_ptr_array_unref (reg->repeats);
  g_free (reg->key);
  g_free (reg->name);
  g_free (reg->phone);
  g_free (reg->category);
  g_clear_pointer (&reg->issued, g_ptr_array_unref);
  g_clear_error (&reg->error);
  g_free (reg);
}

static GPtrArray *
issue (PvStore *store, Registration *reg, GError **error)
{
  PvIssueRequest request = {
    .category = reg->category,
    .day = reg->day,
    .party = reg->party,
    .name = reg->name,
    .phone = reg->phone,
    .channel = "web",
  };

  return pv_tickets_issue (store, &request, error);
}

static void
reply_to_ticket (Request *r, guint16 issuer, guint32 serial)
{
  g_autofree char *token = ticket_token (r->self, issuer, serial);
  g_autofree char *location = g_strdup_printf ("/ticket/view?t=%s", token);

  reply_redirect (r, location);
}

static void
answer_registration (PvHubWeb *self, Registration *reg)
{
  Submitted *submitted = g_hash_table_lookup (self->submitted, reg->key);

  if (reg->issued != NULL && reg->issued->len == 1)
    {
      PvIssuedTicket *ticket = g_ptr_array_index (reg->issued, 0);

      g_info ("Web registration: ticket %s (%s)", ticket->serial, reg->category);
      submitted->pending = NULL;
      submitted->issuer = ticket->ticket.issuer;
      submitted->serial = ticket->ticket.serial;
      reply_to_ticket (reg->request, ticket->ticket.issuer, ticket->ticket.serial);
      for (guint i = 0; i < reg->repeats->len; i++)
        reply_to_ticket (g_ptr_array_index (reg->repeats, i), ticket->ticket.issuer, ticket->ticket.serial);
    }
  else
    {
      /* Nothing was written. The reason is the store's (or a change of
       * the event since the form was checked), never the visitor's; the
       * same form may be sent again. */
      g_warning ("Web registration failed: %s", reg->error ? reg->error->message : "no ticket");
      submitted_remove (self, submitted);
      reply_said (reg->request, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/register",
                  "fill_again");
      for (guint i = 0; i < reg->repeats->len; i++)
        reply_said (g_ptr_array_index (reg->repeats, i), SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text",
                    "/register", "fill_again");
    }
  soup_server_message_unpause (reg->request->msg);
  for (guint i = 0; i < reg->repeats->len; i++)
    soup_server_message_unpause (((Request *) g_ptr_array_index (reg->repeats, i))->msg);
}

/* Issues every waiting registration in one transaction and commits once;
 * if the group fails, each is tried alone so one bad request costs nobody
 * else their ticket. */
static gboolean
flush_registrations (gpointer user_data)
{
  PvHubWeb *self = user_data;
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  GQueue group = G_QUEUE_INIT;
  gboolean ok, any = FALSE;

  self->flush_id = 0;
  for (guint n = 0; n < MAX_GROUP && !g_queue_is_empty (&self->pending); n++)
    g_queue_push_tail (&group, g_queue_pop_head (&self->pending));
  if (!g_queue_is_empty (&self->pending))
    self->flush_id = g_idle_add_full (G_PRIORITY_HIGH, flush_registrations, self, NULL);

  ok = pv_store_begin (store, TRUE, &error);
  for (GList *l = group.head; ok && l; l = l->next)
    {
      Registration *reg = l->data;
      ok = (reg->issued = issue (store, reg, &error)) != NULL;
    }
  ok = ok && pv_store_commit (store, &error);
  if (!ok)
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      for (GList *l = group.head; l; l = l->next)
        {
          Registration *reg = l->data;
          g_clear_pointer (&reg->issued, g_ptr_array_unref);
          reg->issued = issue (store, reg, &reg->error);
          any = any || reg->issued != NULL;
        }
    }
  if (ok || any)
    pv_store_watch_notify (self->hub->watch);
  for (GList *l = group.head; l; l = l->next)
    {
      answer_registration (self, l->data);
      registration_free (l->data);
    }
  g_queue_clear (&group);
  return G_SOURCE_REMOVE;
}

static void
handle_register (Request *r, const char *client, const char *network)
{
  PvHubWeb *self = r->self;
  g_autoptr (GHashTable) fields = NULL;
  g_auto (RegisterForm) form = { 0 };
  g_autofree char *key = NULL;
  Submitted *submitted;
  Registration *reg;
  gint64 wait;

  if (!g_str_equal (soup_server_message_get_method (r->msg), "POST"))
    return reply_register_form (r, &form, SOUP_STATUS_OK);
  if (!limit_take (&self->posts, client, &wait))
    return reply_too_many (r, wait);
  if ((fields = read_checked_form (r)) == NULL)
    return;
  if (pv_store_get_event (self->hub->store, NULL) == NULL)
    return reply_not_found (r);
  check_register_form (r, fields, &form);
  if (form.invalid)
    return reply_register_form (r, &form, SOUP_STATUS_UNPROCESSABLE_ENTITY);
  /* The token alone is not the key: two tabs opened in the same second
   * share one; the same token with the same fields is the same form. */
  key = g_strdup_printf ("%s\n%s\n%s\n%u\n%d\n%u", (const char *) g_hash_table_lookup (fields, "csrf"), form.name,
                         form.phone, form.category->id, form.day, form.party);
  if ((submitted = g_hash_table_lookup (self->submitted, key)) != NULL && submitted->pending)
    {
      r->deferred = TRUE;
      soup_server_message_pause (r->msg);
      g_ptr_array_add (submitted->pending->repeats, r);
      return;
    }
  if (submitted != NULL)
    return reply_to_ticket (r, submitted->issuer, submitted->serial);
  /* Only a new ticket counts here — not pages, nor the same form again —,
   * per phone, per network and for everyone: each is replicated to every
   * gate, so many addresses (or one with many) must not be able to make
   * them without end. */
  if (!limits_take ((Limit *const[]){ &self->phones, &self->networks, &self->tickets },
                    (const char *const[]){ form.phone, network, "all" }, 3, &wait))
    return reply_too_many (r, wait);

  forget_old_submissions (self);
  reg = g_new0 (Registration, 1);
  reg->request = r;
  reg->repeats = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  reg->key = g_strdup (key);
  submitted = submitted_add (self, g_steal_pointer (&key));
  submitted->pending = reg;
  r->deferred = TRUE;
  reg->name = g_steal_pointer (&form.name);
  reg->phone = g_steal_pointer (&form.phone);
  reg->category = g_strdup (form.category->name);
  reg->day = form.day;
  reg->party = form.party;
  soup_server_message_pause (r->msg);
  g_queue_push_tail (&self->pending, reg);
  /* Runs first in the loop's next turn, once the requests read in this
   * one have queued: they share one commit, and no flood of other
   * requests holds a visitor's ticket back. */
  if (self->flush_id == 0)
    self->flush_id = g_idle_add_full (G_PRIORITY_HIGH, flush_registrations, self, NULL);
}

/* ---- Tickets ---- */

static char *
ticket_valid_text (PvWebVars *vars, PvEvent *event, const PvTicketInfo *info, const PvCategory *category)
{
  if (info->day != PV_TICKET_DAY_NONE)
    return format_day (vars, event, info->day);
  return g_strdup (pv_hub_word (vars->lang, category && category->validity == PV_VALIDITY_ANY_ONE_DAY
                                              ? "valid_any_day"
                                              : "valid_every_day"));
}

static PvWebMarkup *
ticket_card (Request *r, const PvTicketInfo *info, const char *token)
{
  PvEvent *event = pv_store_get_event (r->self->hub->store, NULL);
  const PvCategory *category = pv_event_get_category (event, info->category);
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *valid = ticket_valid_text (vars, event, info, category);

  pv_web_vars_text (vars, "serial", info->serial_text);
  pv_web_vars_text (vars, "category", category ? category_name (vars, category) : "?");
  pv_web_vars_text (vars, "valid", valid);
  vars_int (vars, "party", info->party);
  pv_web_vars_text (vars, "name", info->name && *info->name ? info->name : "—");
  if (info->revoked)
    {
      /* No code to show, save or send: the gates refuse it. */
      g_autoptr (PvWebVars) notice = page_vars (r);
      pv_web_vars_markup (notice, "text", say (notice, "revoked"));
      pv_web_vars_markup (vars, "status", pv_hub_web_fill ("notice.html", notice));
      pv_web_vars_markup (vars, "qr", NULL);
      pv_web_vars_markup (vars, "download", NULL);
      pv_web_vars_markup (vars, "whatsapp", NULL);
      return pv_hub_web_fill ("ticket-card.html", vars);
    }
  {
    g_autoptr (PvWebVars) figure = page_vars (r);
    g_autoptr (PvWebVars) download = page_vars (r);
    g_autoptr (GError) error = NULL;
    g_autofree char *label = NULL;
    PvWebMarkup *qr = pv_web_markup_qr (info->code, &error);

    if (qr == NULL)
      g_warning ("No QR code for ticket %s: %s", info->serial_text, error->message);
    pv_web_vars_text (figure, "serial", info->serial_text);
    label = say_plain (figure, "qr_label");
    pv_web_vars_text (figure, "qr_label", label);
    pv_web_vars_markup (figure, "qr", qr);
    pv_web_vars_markup (vars, "qr", pv_hub_web_fill ("ticket-qr.html", figure));
    pv_web_vars_text (download, "serial", info->serial_text);
    pv_web_vars_text (download, "token", token);
    pv_web_vars_markup (vars, "download", pv_hub_web_fill ("ticket-download.html", download));
  }
  pv_web_vars_markup (vars, "status", NULL);
  /* Not sent from here to the number the form named, which anyone could
   * have typed: the visitor writes to the fair's number from the phone
   * the ticket was issued to, and the bot answers with it (its "ticket"
   * word, prefilled in the chat), so nothing goes to a number that did
   * not ask, and the answer costs nothing inside WhatsApp's window. */
  if (r->self->whatsapp_chat != NULL && info->phone != NULL)
    {
      g_autoptr (PvWebVars) link = page_vars (r);
      g_autofree char *word = g_uri_escape_string (pv_hub_word (r->lang, "whatsapp_word"), NULL, FALSE);
      g_autofree char *href = g_strconcat (r->self->whatsapp_chat, word, NULL);

      pv_web_vars_text (link, "href", href);
      pv_web_vars_markup (vars, "whatsapp", pv_hub_web_fill ("whatsapp-link.html", link));
    }
  else
    pv_web_vars_markup (vars, "whatsapp", NULL);
  return pv_hub_web_fill ("ticket-card.html", vars);
}

static void
reply_tickets (Request *r, PvWebMarkup *cards, guint count)
{
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *heading = g_strdup (pv_hub_word (r->lang, count > 1 ? "tickets_title" : "ticket_title"));

  pv_web_vars_text (vars, "heading", heading);
  if (count == 0)
    {
      g_autoptr (PvWebVars) notice = page_vars (r);
      pv_web_vars_markup (notice, "text", say (notice, "no_tickets"));
      pv_web_vars_markup (vars, "notice", pv_hub_web_fill ("notice.html", notice));
    }
  else
    pv_web_vars_markup (vars, "notice", NULL);
  pv_web_vars_markup (vars, "cards", cards);
  reply_page (r, SOUP_STATUS_OK, heading, pv_hub_web_fill ("ticket.html", vars));
}

static void
reply_link_expired (Request *r)
{
  if (r->self->code_channel == NULL)
    return reply_said (r, SOUP_STATUS_NOT_FOUND, "lookup_title", "link_expired_desk", "/", "back_home");
  reply_said (r, SOUP_STATUS_NOT_FOUND, "lookup_title", "link_expired", "/ticket", "lookup_title");
}

/* The ticket a link names, or FALSE after answering. */
static gboolean
ticket_from_token (Request *r, const char *token, PvTicketInfo *info)
{
  g_autoptr (GError) error = NULL;
  guint16 issuer;
  guint32 serial;

  memset (info, 0, sizeof *info);
  if (!ticket_token_parse (r->self, token, &issuer, &serial))
    return reply_link_expired (r), FALSE;
  if (!pv_tickets_lookup (r->self->hub->store, issuer, serial, info, &error))
    {
      g_warning ("Cannot look up a ticket: %s", error->message);
      reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/", "back_home");
      return FALSE;
    }
  if (!info->known || info->code == NULL)
    return pv_ticket_info_clear (info), reply_link_expired (r), FALSE;
  return TRUE;
}

static void
handle_view (Request *r, GHashTable *query)
{
  const char *token = query ? g_hash_table_lookup (query, "t") : NULL;
  g_auto (PvTicketInfo) info = { 0 };

  if (!ticket_from_token (r, token, &info))
    return;
  reply_tickets (r, ticket_card (r, &info, token), 1);
}

static cairo_status_t
write_png_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static void
handle_png (Request *r, GHashTable *query)
{
  g_auto (PvTicketInfo) info = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) png = NULL;
  g_autofree char *disposition = NULL;
  cairo_surface_t *surface;

  if (!ticket_from_token (r, query ? g_hash_table_lookup (query, "t") : NULL, &info))
    return;
  /* A link made before the ticket was revoked gives no code to keep. */
  if (info.revoked)
    return reply_said (r, SOUP_STATUS_GONE, "revoked_title", "revoked", "/", "back_home");
  if ((surface = pv_qr_render (info.code, PNG_MODULE_PX, &error)) == NULL)
    {
      g_warning ("No QR code for ticket %s: %s", info.serial_text, error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/", "back_home");
    }
  png = g_byte_array_new ();
  cairo_surface_write_to_png_stream (surface, write_png_cb, png);
  cairo_surface_destroy (surface);
  set_common_headers (r);
  disposition = g_strdup_printf ("attachment; filename=\"ticket-%s.png\"", info.serial_text);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Content-Disposition", disposition);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Cache-Control", "no-store");
  soup_server_message_set_status (r->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (r->msg, "image/png", SOUP_MEMORY_COPY, (const char *) png->data, png->len);
}

/* ---- Finding tickets again ---- */

/* The forms take the error (or NULL) they show. */

static void
reply_lookup_form (Request *r, const char *phone, PvWebMarkup *taken_error, guint status)
{
  static const char *const anchors[] = { "phone" };
  g_autoptr (PvWebMarkup) error = taken_error;
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *csrf = form_token (r->self, r->nonce);
  g_autofree char *title = error_title (vars, "lookup_title", error != NULL);

  pv_web_vars_text (vars, "csrf", csrf);
  field_vars (vars, "phone", phone ? phone : "", error);
  pv_web_vars_markup (vars, "summary", error_summary (vars, &error, anchors, 1));
  reply_page (r, status, title, pv_hub_web_fill ("lookup.html", vars));
}

static void
reply_code_form (Request *r, const char *phone, PvWebMarkup *taken_error, guint status)
{
  static const char *const anchors[] = { "code" };
  g_autoptr (PvWebMarkup) error = taken_error;
  g_autoptr (PvWebVars) vars = page_vars (r);
  g_autofree char *csrf = form_token (r->self, r->nonce);
  g_autofree char *title = error_title (vars, "lookup_title", error != NULL);

  pv_web_vars_text (vars, "csrf", csrf);
  pv_web_vars_text (vars, "phone", phone);
  pv_web_vars_markup (vars, "sent", say (vars, "code_sent"));
  field_vars (vars, "code", NULL, error);
  pv_web_vars_markup (vars, "summary", error_summary (vars, &error, anchors, 1));
  reply_page (r, status, title, pv_hub_web_fill ("lookup-code.html", vars));
}

/* The phone asks for a code: made and queued in one transaction, or, for
 * a phone with no tickets, nothing, with the same answer. */
static void
lookup_request_code (Request *r, const char *phone)
{
  PvHubWeb *self = r->self;
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  g_autofree char *normal = NULL;
  char code[PV_VISITOR_CODE_DIGITS + 1];
  PvWebMarkup *refusal;
  gint64 retry_at = 0;

  if (phone == NULL || strlen (phone) > PHONE_MAX_BYTES || !(normal = pv_normalize_phone (phone, NULL)))
    return reply_lookup_form (r, phone, say_error (r, phone && *phone ? "err_phone" : "err_phone_missing", 0),
                              SOUP_STATUS_UNPROCESSABLE_ENTITY);
  /* The code is a paid message: refused here, nothing counted or queued,
   * when the worker would refuse it (pv-hub-outbox.h). */
  if ((refusal = phone_country_error (r, normal)) != NULL)
    return reply_lookup_form (r, phone, refusal, SOUP_STATUS_UNPROCESSABLE_ENTITY);
  if (pv_hub_outbox_reach (self->outbox, normal) == PV_HUB_OUTBOX_OVER_BUDGET)
    return reply_lookup_form (r, phone, say_error (r, "err_code_budget", 0), SOUP_STATUS_SERVICE_UNAVAILABLE);
  if (!pv_store_begin (store, TRUE, &error) || !pv_visitor_code_request (store, normal, code, &retry_at, &error))
    {
      if (g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION))
        return reply_too_many (r, MAX (retry_at - pv_store_now (store), G_USEC_PER_SEC));
      g_warning ("Cannot make a visitor's code: %s", error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
    }
  if (code[0] != '\0')
    {
      g_autoptr (PvWebVars) vars = page_vars (r);
      g_autofree char *body = NULL;
      gboolean queued;

      pv_web_vars_text (vars, "event", event_name (self));
      pv_web_vars_text (vars, "code", code);
      body = say_plain (vars, "code_message");
      queued = pv_outbox_enqueue_code (store, self->code_channel, normal, body, code, NULL, &error);
      sodium_memzero (code, sizeof code);
      sodium_memzero (body, strlen (body));
      if (!queued)
        {
          pv_store_rollback (store);
          g_warning ("Cannot queue a visitor's code: %s", error->message);
          return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
        }
    }
  if (!pv_store_commit (store, &error))
    {
      g_warning ("Cannot make a visitor's code: %s", error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
    }
  if (self->outbox)
    pv_hub_outbox_kick (self->outbox);
  reply_code_form (r, normal, NULL, SOUP_STATUS_OK);
}

/* The code typed for a phone by @guesser (client_keys ()). Wrong ones
 * count against the code sent (pv-visitor-codes.h) and against the
 * guesser, for this phone and for any: one that guesses is locked out for
 * longer and longer, while the phone's owner, elsewhere, is not touched.
 * While locked out nothing is checked, and nothing counted. */
static void
lookup_verify_code (Request *r, const char *guesser, const char *phone, const char *code)
{
  PvHubWeb *self = r->self;
  PvStore *store = self->hub->store;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = NULL;
  g_autofree char *normal = NULL, *typed = g_strstrip (g_strdup (code ? code : "")), *pair = NULL;
  gint64 now = g_get_monotonic_time (), retry_at = 0, wait;
  PvWebMarkup *cards;
  guint count = 0;

  if (phone == NULL || strlen (phone) > PHONE_MAX_BYTES || !(normal = pv_normalize_phone (phone, NULL)))
    return reply_bad_form (r);
  pair = g_strconcat (normal, " ", guesser, NULL);
  wait = MAX (guess_wait (&self->guesses, pair, now), guess_wait (&self->guessers, guesser, now));
  if (wait > 0)
    return reply_too_many (r, wait);
  if (!pv_visitor_code_verify (store, normal, typed, &retry_at, &error))
    {
      if (retry_at > 0)
        return reply_too_many (r, MAX (retry_at - pv_store_now (store), G_USEC_PER_SEC));
      if (!g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION))
        g_warning ("Cannot check a visitor's code: %s", error->message);
      else
        {
          guess_strike (&self->guesses, pair, now);
          guess_strike (&self->guessers, guesser, now);
        }
      return reply_code_form (r, normal, say_error (r, "err_code", 0), SOUP_STATUS_UNPROCESSABLE_ENTITY);
    }
  guess_forgive (&self->guesses, pair);
  if (!(found = pv_tickets_search (store, normal, MAX_SHOWN_TICKETS * 2, &error)))
    {
      g_warning ("Cannot look up a visitor's tickets: %s", error->message);
      return reply_said (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "e503_title", "e503_text", "/ticket", "fill_again");
    }
  cards = pv_web_markup_new ();
  for (guint i = 0; i < found->len && count < MAX_SHOWN_TICKETS; i++)
    {
      PvTicketInfo *info = g_ptr_array_index (found, i);
      g_autofree char *token = NULL;

      /* The search pools readings (a name may contain the digits): only
       * the tickets issued to this very phone. */
      if (!info->known || info->code == NULL || g_strcmp0 (info->phone, normal) != 0)
        continue;
      token = ticket_token (self, info->issuer, info->serial);
      pv_web_markup_append (cards, ticket_card (r, info, token));
      count++;
    }
  reply_tickets (r, cards, count);
}

static void
handle_lookup (Request *r, const char *client, const char *guesser)
{
  g_autoptr (GHashTable) fields = NULL;
  const char *step;
  gint64 wait;

  /* Nothing can send a visitor the code: the desk finds tickets again. */
  if (r->self->code_channel == NULL)
    return reply_said (r, SOUP_STATUS_OK, "lookup_title", "lookup_desk", "/", "back_home");
  if (!g_str_equal (soup_server_message_get_method (r->msg), "POST"))
    return reply_lookup_form (r, NULL, NULL, SOUP_STATUS_OK);
  if (!limit_take (&r->self->posts, client, &wait))
    return reply_too_many (r, wait);
  if ((fields = read_checked_form (r)) == NULL)
    return;
  step = g_hash_table_lookup (fields, "step");
  if (g_strcmp0 (step, "code") == 0)
    lookup_request_code (r, g_hash_table_lookup (fields, "phone"));
  else if (g_strcmp0 (step, "verify") == 0)
    lookup_verify_code (r, guesser, g_hash_table_lookup (fields, "phone"), g_hash_table_lookup (fields, "code"));
  else
    reply_bad_form (r);
}

/* ---- Dispatch ---- */

static void
reply_css (Request *r)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (r->msg);

  set_common_headers (r);
  soup_message_headers_replace (headers, "Cache-Control", "public, max-age=3600");
  soup_server_message_set_status (r->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (r->msg, "text/css; charset=utf-8", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (r->self->css, NULL), g_bytes_get_size (r->self->css));
}

static void
reply_wrong_method (Request *r, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg), "Allow", allow);
  reply_said (r, SOUP_STATUS_METHOD_NOT_ALLOWED, "e400_title", "e405_text", "/", "back_home");
}

static void
handle_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  PvHubWeb *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  gboolean get = g_str_equal (method, "GET") || g_str_equal (method, "HEAD");
  gboolean post = g_str_equal (method, "POST");
  g_autofree char *client = NULL, *network = NULL, *guesser = NULL;
  Request *r;
  gint64 wait;

  /* The machines' paths answer machines. */
  if (g_str_has_prefix (path, "/api/") || g_str_has_prefix (path, "/sync/") || g_str_has_prefix (path, "/webhooks/"))
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such endpoint");
  pv_store_refresh (self->hub->store);
  r = request_new (self, msg, path, query);
  client_keys (msg, &client, &network, &guesser);
  if (!limit_take (&self->pages, client, &wait))
    reply_too_many (r, wait);
  else if (g_str_equal (path, "/static/style.css") && get)
    reply_css (r);
  else if (g_str_equal (path, "/") && get)
    handle_index (r);
  else if (g_str_equal (path, "/register") && (get || post))
    handle_register (r, client, network);
  else if (g_str_equal (path, "/ticket") && (get || post))
    handle_lookup (r, client, guesser);
  else if (g_str_equal (path, "/ticket/view") && get)
    handle_view (r, query);
  else if (g_str_equal (path, "/ticket.png") && get)
    handle_png (r, query);
  else if (g_str_equal (path, "/register") || g_str_equal (path, "/ticket"))
    reply_wrong_method (r, "GET, HEAD, POST");
  else if (g_str_equal (path, "/") || g_str_equal (path, "/ticket/view") || g_str_equal (path, "/ticket.png")
           || g_str_equal (path, "/static/style.css"))
    reply_wrong_method (r, "GET, HEAD");
  else
    reply_not_found (r);
  if (!r->deferred)
    request_free (r);
}

/* ---- Settings ---- */

static gboolean
setting_number (GKeyFile *config, const char *key, gint64 fallback, gint64 max, gint64 *out, GError **error)
{
  guint value;

  if (!pv_hub_config_uint (config, GROUP, key, (guint) fallback, 1, (guint) max, &value, error))
    return FALSE;
  *out = value;
  return TRUE;
}

/* The channel codes to find tickets again go by: @wanted if it can reach
 * a visitor who never wrote to us, else the other one if that can; NULL
 * when neither can (the pages then send visitors to the desk). */
static char *
choose_code_channel (PvHubWeb *self, const char *wanted)
{
  const char *order[] = { wanted ? wanted : PV_DELIVERY_SMS,
                          g_strcmp0 (wanted, PV_DELIVERY_WHATSAPP) == 0 ? PV_DELIVERY_SMS : PV_DELIVERY_WHATSAPP };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (pv_hub_outbox_can_reach_anyone (self->outbox, order[i], PV_OUTBOX_CODE))
      {
        if (wanted != NULL && i > 0)
          g_message ("[" GROUP "] code-channel = %s cannot reach a visitor who never wrote to us; codes to find "
                     "tickets again go by %s",
                     wanted, order[i]);
        return g_strdup (order[i]);
      }
  /* A visitor who registered on this page has not written to the WhatsApp
   * number: outside that 24-hour window WhatsApp takes only approved
   * templates. */
  g_message ("Finding tickets again on the web is off: no channel can send a visitor a code ([sms] url-template, "
             "or [whatsapp] code-template); the pages send visitors to the desk");
  return NULL;
}

/* [web] whatsapp-number: the fair's WhatsApp number, which a ticket's
 * page links a chat with; offered only when the bot is there to answer. */
static gboolean
read_whatsapp_number (PvHubWeb *self, GError **error)
{
  g_autofree char *number = pv_hub_config_string (self->hub->config, GROUP, "whatsapp-number", NULL);
  g_autofree char *normal = number ? pv_normalize_phone (number, NULL) : NULL;
  g_autofree char *secret = pv_hub_config_string (self->hub->config, "whatsapp", "app-secret", NULL);

  if (number == NULL)
    return TRUE;
  if (normal == NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "[" GROUP "] whatsapp-number = %s: not a phone number (the fair's WhatsApp number, like "
                        "+91 98100 00000)",
                        number),
           FALSE;
  if (secret == NULL || !pv_hub_outbox_is_configured (self->outbox, PV_DELIVERY_WHATSAPP))
    {
      g_message ("[" GROUP "] whatsapp-number is set, but the WhatsApp bot cannot answer (it needs [whatsapp] "
                 "app-secret, phone-number-id and access-token): ticket pages do not offer it");
      return TRUE;
    }
  /* wa.me takes the number as digits, and a text to start the chat with. */
  self->whatsapp_chat = g_strdup_printf ("https://wa.me/%s?text=", normal + 1);
  return TRUE;
}

static gboolean
read_settings (PvHubWeb *self, GError **error)
{
  GKeyFile *config = self->hub->config;
  g_autofree char *wanted = NULL;
  gint64 pages, pages_burst, posts, posts_burst, phones, phones_burst, hours, entries, forms;
  gint64 network_tickets, network_burst, tickets, tickets_burst;

  if (!setting_number (config, "requests-per-minute", 600, 1000000, &pages, error)
      || !setting_number (config, "requests-burst", 200, 1000000, &pages_burst, error)
      || !setting_number (config, "posts-per-minute", 60, 1000000, &posts, error)
      || !setting_number (config, "posts-burst", 30, 1000000, &posts_burst, error)
      || !setting_number (config, "phone-per-hour", 10, 1000000, &phones, error)
      || !setting_number (config, "phone-burst", 10, 1000000, &phones_burst, error)
      || !setting_number (config, "ticket-link-hours", 24, 24 * 366, &hours, error)
      || !setting_number (config, "limit-entries", DEFAULT_LIMIT_ENTRIES, 10000000, &entries, error)
      || !setting_number (config, "remembered-forms", DEFAULT_REMEMBERED_FORMS, 10000000, &forms, error)
      || !setting_number (config, "network-tickets-per-minute", DEFAULT_NETWORK_TICKETS_PER_MINUTE, 1000000,
                          &network_tickets, error)
      || !setting_number (config, "network-tickets-burst", DEFAULT_NETWORK_TICKETS_BURST, 1000000, &network_burst,
                          error)
      || !setting_number (config, "tickets-per-minute", DEFAULT_TICKETS_PER_MINUTE, 1000000, &tickets, error)
      || !setting_number (config, "tickets-burst", DEFAULT_TICKETS_BURST, 1000000, &tickets_burst, error))
    return FALSE;
  limit_init (&self->pages, (double) pages, (double) pages_burst, (guint) entries);
  limit_init (&self->posts, (double) posts, (double) posts_burst, (guint) entries);
  limit_init (&self->phones, (double) phones / 60.0, (double) phones_burst, (guint) entries);
  limit_init (&self->networks, (double) network_tickets, (double) network_burst, (guint) entries);
  limit_init (&self->tickets, (double) tickets, (double) tickets_burst, 1);
  limit_init_guesses (&self->guesses, GUESSES_FREE_PER_PHONE, GUESS_LOCK_US, GUESS_LOCK_MAX_US, GUESS_FORGET_US,
                      (guint) entries);
  limit_init_guesses (&self->guessers, GUESSES_FREE, GUESS_LOCK_US, GUESS_LOCK_MAX_US, GUESS_FORGET_US,
                      (guint) entries);
  self->link_lifetime_s = hours * 3600;
  self->max_submitted = (guint) forms;
  if (!read_whatsapp_number (self, error))
    return FALSE;

  if (g_key_file_has_key (config, GROUP, "categories", NULL))
    {
      PvEvent *event = pv_store_get_event (self->hub->store, NULL);

      if (!(self->categories = g_key_file_get_string_list (config, GROUP, "categories", NULL, error)))
        return g_prefix_error (error, "[" GROUP "] categories: "), FALSE;
      for (guint i = 0; self->categories[i]; i++)
        if (!pv_event_find_category (event, g_strstrip (self->categories[i])))
          return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                              "[" GROUP "] categories: the event has no category “%s”", self->categories[i]),
                 FALSE;
    }
  wanted = pv_hub_config_string (config, GROUP, "code-channel", NULL);
  if (wanted != NULL && !g_str_equal (wanted, PV_DELIVERY_SMS) && !g_str_equal (wanted, PV_DELIVERY_WHATSAPP))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[" GROUP "] code-channel: “sms” or “whatsapp”"), FALSE;
  self->code_channel = choose_code_channel (self, wanted);
  return TRUE;
}

PvHubWeb *
pv_hub_web_new (const PvHubContext *hub, PvHubOutbox *outbox, GError **error)
{
  g_autoptr (PvHubWeb) self = g_new0 (PvHubWeb, 1);
  SoupServer *server = hub->server;

  self->hub = hub;
  self->outbox = outbox;
  g_queue_init (&self->pending);
  self->templates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->submitted = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->submitted_order);
  if (!read_settings (self, error) || !load_key (self, error)
      || !(self->css = g_resources_lookup_data (RESOURCES "style.css", G_RESOURCE_LOOKUP_FLAGS_NONE, error)))
    return NULL;
  /* Said once at the start, not at each page a Hindi reader opens. */
  pv_hub_words_check ("hi");

  /* Forms take a small body; every other page none (the catch-all early
   * handler of "/", the sync server's, refuses any). */
  soup_server_add_handler (server, "/", handle_request, self, NULL);
  soup_server_add_early_handler (server, "/register", pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (MAX_FORM_BODY),
                                 NULL);
  soup_server_add_handler (server, "/register", handle_request, self, NULL);
  soup_server_add_early_handler (server, "/ticket", pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (MAX_FORM_BODY),
                                 NULL);
  soup_server_add_handler (server, "/ticket", handle_request, self, NULL);
  soup_server_add_early_handler (server, "/ticket.png", pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (0), NULL);
  soup_server_add_handler (server, "/ticket.png", handle_request, self, NULL);
  soup_server_add_early_handler (server, "/static", pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (0), NULL);
  soup_server_add_handler (server, "/static", handle_request, self, NULL);
  g_message ("Web registration at %s%s", hub->url,
             self->whatsapp_chat ? " (ticket pages lead to a WhatsApp chat that sends the ticket)" : "");
  return g_steal_pointer (&self);
}

void
pv_hub_web_free (PvHubWeb *self)
{
  if (self == NULL)
    return;
  /* Registrations read are issued and answered before leaving. */
  while (!g_queue_is_empty (&self->pending))
    flush_registrations (self);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->css != NULL)
    {
      const char *const paths[] = { "/", "/register", "/ticket", "/ticket.png", "/static" };

      for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
        soup_server_remove_handler (self->hub->server, paths[i]);
    }
  g_clear_pointer (&self->templates, g_hash_table_unref);
  while (self->submitted_order.head != NULL)
    submitted_remove (self, self->submitted_order.head->data);
  g_clear_pointer (&self->submitted, g_hash_table_unref);
  limit_clear (&self->pages);
  limit_clear (&self->posts);
  limit_clear (&self->phones);
  limit_clear (&self->networks);
  limit_clear (&self->tickets);
  limit_clear (&self->guesses);
  limit_clear (&self->guessers);
  g_clear_pointer (&self->css, g_bytes_unref);
  g_strfreev (self->categories);
  g_free (self->whatsapp_chat);
  g_free (self->code_channel);
  sodium_memzero (self->key, sizeof self->key);
  g_free (self);
}
