/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-web-guards.c: the guards of the hub's public doors — a form's token
 * (CSRF) taken for its own cookie only, for two hours; a link's token
 * naming its ticket until it expires; token buckets that refuse with the
 * wait, all or none, forgetting the quietest first; wrong guesses locking
 * a key out twice as long each time; a sender told once to slow down. */
#include <string.h>

#include "pv-hub-web-guards.h"

#define NOW 1765000000 /* s */
#define NONCE "a-form-cookie-of-the-browser"
#define MINUTE (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)

static void
make_key (guint8 key[PV_WEB_KEY_SIZE], guint8 seed)
{
  memset (key, seed, PV_WEB_KEY_SIZE);
}

static void
test_form_token (void)
{
  guint8 key[PV_WEB_KEY_SIZE], other[PV_WEB_KEY_SIZE];
  g_autofree char *token = NULL;
  g_autofree char *tampered = NULL;

  make_key (key, 1);
  make_key (other, 2);
  token = pv_web_form_token (key, NONCE, NOW);
  g_assert_true (pv_web_form_token_ok (key, NONCE, token, NOW));
  g_assert_true (pv_web_form_token_ok (key, NONCE, token, NOW + PV_WEB_FORM_LIFETIME_S));
  /* Expired; made in the future (a clock set back more than a minute). */
  g_assert_false (pv_web_form_token_ok (key, NONCE, token, NOW + PV_WEB_FORM_LIFETIME_S + 1));
  g_assert_true (pv_web_form_token_ok (key, NONCE, token, NOW - 60));
  g_assert_false (pv_web_form_token_ok (key, NONCE, token, NOW - 61));
  /* Another browser's cookie, none, another key, a changed token, none. */
  g_assert_false (pv_web_form_token_ok (key, "another-cookie", token, NOW));
  g_assert_false (pv_web_form_token_ok (key, NULL, token, NOW));
  g_assert_false (pv_web_form_token_ok (other, NONCE, token, NOW));
  tampered = g_strdup (token);
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  g_assert_false (pv_web_form_token_ok (key, NONCE, tampered, NOW));
  g_assert_false (pv_web_form_token_ok (key, NONCE, NULL, NOW));
  g_assert_false (pv_web_form_token_ok (key, NONCE, "", NOW));
  /* base64url, no padding: fit for a form field and a URL. */
  for (const char *p = token; *p; p++)
    g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');
}

static void
test_ticket_token (void)
{
  guint8 key[PV_WEB_KEY_SIZE], other[PV_WEB_KEY_SIZE];
  g_autofree char *token = NULL;
  g_autofree char *tampered = NULL;
  guint16 issuer = 0;
  guint32 serial = 0;

  make_key (key, 1);
  make_key (other, 2);
  token = pv_web_ticket_token (key, 3, 145, NOW + 3600);
  /* 40 characters: what a ticket page's link is checked for. */
  g_assert_cmpuint (strlen (token), ==, 40);
  g_assert_true (pv_web_ticket_token_parse (key, token, NOW, &issuer, &serial));
  g_assert_cmpuint (issuer, ==, 3);
  g_assert_cmpuint (serial, ==, 145);
  g_assert_true (pv_web_ticket_token_parse (key, token, NOW + 3600, &issuer, &serial));
  g_assert_false (pv_web_ticket_token_parse (key, token, NOW + 3601, &issuer, &serial));
  g_assert_false (pv_web_ticket_token_parse (other, token, NOW, &issuer, &serial));
  tampered = g_strdup (token);
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  g_assert_false (pv_web_ticket_token_parse (key, tampered, NOW, &issuer, &serial));
  g_assert_false (pv_web_ticket_token_parse (key, "short", NOW, &issuer, &serial));
  /* A form's token is no link, nor the other way round. */
  g_assert_false (pv_web_form_token_ok (key, NONCE, token, NOW));
}

static void
test_bucket (void)
{
  PvWebLimit limit;
  gint64 now = 1000 * G_USEC_PER_SEC, wait = 0;

  /* 60 a minute, 3 at once. */
  pv_web_limit_init (&limit, 60, 3, 100);
  for (guint i = 0; i < 3; i++)
    g_assert_true (pv_web_limit_take (&limit, "10.0.0.1", now, &wait));
  g_assert_false (pv_web_limit_take (&limit, "10.0.0.1", now, &wait));
  /* The next token in a second. */
  g_assert_cmpint (wait, >, G_USEC_PER_SEC - 10);
  g_assert_cmpint (wait, <=, G_USEC_PER_SEC + 1);
  /* Others have their own. */
  g_assert_true (pv_web_limit_take (&limit, "10.0.0.2", now, &wait));
  g_assert_false (pv_web_limit_take (&limit, "10.0.0.1", now + G_USEC_PER_SEC / 2, &wait));
  g_assert_true (pv_web_limit_take (&limit, "10.0.0.1", now + 2 * G_USEC_PER_SEC, &wait));
  /* Filled again after a quiet spell, no more than the burst. */
  for (guint i = 0; i < 3; i++)
    g_assert_true (pv_web_limit_take (&limit, "10.0.0.1", now + 10 * MINUTE, &wait));
  g_assert_false (pv_web_limit_take (&limit, "10.0.0.1", now + 10 * MINUTE, &wait));
  pv_web_limit_clear (&limit);
}

/* A refusal by one bucket costs the others nothing. */
static void
test_all_or_none (void)
{
  PvWebLimit phones, everyone;
  PvWebLimit *const limits[] = { &phones, &everyone };
  gint64 now = 1000 * G_USEC_PER_SEC, wait = 0;

  pv_web_limit_init (&phones, 1, 1, 100);
  pv_web_limit_init (&everyone, 1, 2, 1);
  g_assert_true (pv_web_limits_take (limits, (const char *const[]){ "+911", "all" }, 2, now, &wait));
  /* The phone has none left: the shared bucket keeps its token. */
  g_assert_false (pv_web_limits_take (limits, (const char *const[]){ "+911", "all" }, 2, now, &wait));
  g_assert_cmpint (wait, >, 59 * G_USEC_PER_SEC);
  g_assert_true (pv_web_limits_take (limits, (const char *const[]){ "+912", "all" }, 2, now, &wait));
  g_assert_false (pv_web_limits_take (limits, (const char *const[]){ "+913", "all" }, 2, now, &wait));
  pv_web_limit_clear (&phones);
  pv_web_limit_clear (&everyone);
}

/* Beyond its size a table forgets the least recently used key first,
 * never everyone's at once. */
static void
test_forgets_quietest (void)
{
  PvWebLimit limit;
  gint64 now = 1000 * G_USEC_PER_SEC, wait = 0;

  pv_web_limit_init (&limit, 1, 1, 2);
  g_assert_true (pv_web_limit_take (&limit, "a", now, &wait));
  g_assert_true (pv_web_limit_take (&limit, "b", now, &wait));
  g_assert_false (pv_web_limit_take (&limit, "a", now, &wait));
  /* "c" comes: "b", used least recently, goes; "a" is still counted. */
  g_assert_true (pv_web_limit_take (&limit, "c", now, &wait));
  g_assert_false (pv_web_limit_take (&limit, "a", now, &wait));
  g_assert_cmpuint (g_hash_table_size (limit.buckets), ==, 2);
  pv_web_limit_clear (&limit);
}

static void
test_guesses (void)
{
  PvWebLimit guesses;
  gint64 now = 1000 * G_USEC_PER_SEC, lock = 30 * G_USEC_PER_SEC;

  pv_web_limit_init_guesses (&guesses, 3, lock, 4 * lock, 60 * MINUTE, 100);
  /* Three wrong guesses are free. */
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, 0);
      pv_web_guess_strike (&guesses, "client", now);
    }
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, 0);
  /* Then 30 s, 60 s, 120 s, and no more than the most. */
  pv_web_guess_strike (&guesses, "client", now);
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, lock);
  now += lock;
  pv_web_guess_strike (&guesses, "client", now);
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, 2 * lock);
  now += 2 * lock;
  pv_web_guess_strike (&guesses, "client", now);
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, 4 * lock);
  now += 4 * lock;
  pv_web_guess_strike (&guesses, "client", now);
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, 4 * lock);
  /* Someone else is not locked out. */
  g_assert_cmpint (pv_web_guess_wait (&guesses, "other", now), ==, 0);
  /* The right code forgives. */
  pv_web_guess_forgive (&guesses, "client");
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, 0);
  pv_web_guess_strike (&guesses, "client", now);
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now), ==, 0);
  /* An hour without one forgets them. */
  pv_web_guess_strike (&guesses, "client", now);
  pv_web_guess_strike (&guesses, "client", now);
  pv_web_guess_strike (&guesses, "client", now + 61 * MINUTE);
  g_assert_cmpint (pv_web_guess_wait (&guesses, "client", now + 61 * MINUTE), ==, 0);
  pv_web_limit_clear (&guesses);
}

/* A WhatsApp sender over its limit: told once, then not answered; told
 * again only once its bucket has filled up. */
static void
test_take_or_tell (void)
{
  PvWebLimit senders;
  gint64 now = 1000 * G_USEC_PER_SEC;

  pv_web_limit_init (&senders, 4, 2, 100);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_TAKEN);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_TAKEN);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_REFUSED_TELL);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_REFUSED);
  /* A token back (15 s), not yet full: answered, not told anew. */
  now += 15 * G_USEC_PER_SEC;
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_TAKEN);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_REFUSED);
  /* Full again: told again when over. */
  now += MINUTE;
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_TAKEN);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_TAKEN);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_REFUSED_TELL);
  /* The rate can change; what is counted stays. */
  pv_web_limit_set_rate (&senders, 60, 1);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now), ==, PV_WEB_REFUSED);
  g_assert_cmpint (pv_web_limit_take_or_tell (&senders, "wa", now + G_USEC_PER_SEC), ==, PV_WEB_TAKEN);
  pv_web_limit_clear (&senders);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/web-guards/form-token", test_form_token);
  g_test_add_func ("/web-guards/ticket-token", test_ticket_token);
  g_test_add_func ("/web-guards/bucket", test_bucket);
  g_test_add_func ("/web-guards/all-or-none", test_all_or_none);
  g_test_add_func ("/web-guards/forgets-quietest", test_forgets_quietest);
  g_test_add_func ("/web-guards/guesses", test_guesses);
  g_test_add_func ("/web-guards/take-or-tell", test_take_or_tell);
  return g_test_run ();
}
