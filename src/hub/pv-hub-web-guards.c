/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-guards.c: what stands between the public and the hub's pages
 * (see the header): signed tokens for forms (CSRF) and for links to a
 * ticket, and token buckets that limit requests and count wrong guesses.
 * Each takes the time it is asked at, so a test can move the clock. */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "pv-hub-web-guards.h"
#include "pv-listener.h"

#define MAC_SIZE 16

struct _PvWebBucket
{
  double tokens;
  gint64 at; /* monotonic µs */
  /* Guesses: wrong ones in a row, the last one's time, locked out until */
  guint strikes;
  gint64 struck_at, locked_until;
  char *key;     /* owned; the table's key too */
  gboolean told; /* refused, and said so, since the bucket was last full */
  GList link;    /* in PvWebLimit.order */
};

/* ---- Tokens: forms (CSRF) and links to a ticket ---- */

static void
mac (const guint8 *key, const char *purpose, const guint8 *data, gsize len, const char *bound, guint8 out[MAC_SIZE])
{
  crypto_auth_hmacsha256_state state;
  guint8 full[crypto_auth_hmacsha256_BYTES];

  crypto_auth_hmacsha256_init (&state, key, PV_WEB_KEY_SIZE);
  crypto_auth_hmacsha256_update (&state, (const guint8 *) purpose, strlen (purpose) + 1);
  crypto_auth_hmacsha256_update (&state, data, len);
  if (bound)
    crypto_auth_hmacsha256_update (&state, (const guint8 *) bound, strlen (bound) + 1);
  crypto_auth_hmacsha256_final (&state, full);
  memcpy (out, full, MAC_SIZE);
}

char *
pv_web_base64url (const guint8 *data, gsize len)
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
char *
pv_web_form_token (const guint8 *key, const char *nonce, gint64 now_s)
{
  guint8 token[8 + MAC_SIZE];

  put_be (token, (guint64) now_s, 8);
  mac (key, "form", token, 8, nonce, token + 8);
  return pv_web_base64url (token, sizeof token);
}

gboolean
pv_web_form_token_ok (const guint8 *key, const char *nonce, const char *text, gint64 now_s)
{
  guint8 token[8 + MAC_SIZE], expected[MAC_SIZE];
  gint64 made;

  if (nonce == NULL || !unbase64url (text, token, sizeof token))
    return FALSE;
  made = (gint64) get_be (token, 8);
  mac (key, "form", token, 8, nonce, expected);
  return sodium_memcmp (expected, token + 8, MAC_SIZE) == 0 && made <= now_s + 60
         && now_s - made <= PV_WEB_FORM_LIFETIME_S;
}

char *
pv_web_ticket_token (const guint8 *key, guint16 issuer, guint32 serial, gint64 expires_s)
{
  guint8 token[2 + 4 + 8 + MAC_SIZE];

  put_be (token, issuer, 2);
  put_be (token + 2, serial, 4);
  put_be (token + 6, (guint64) expires_s, 8);
  mac (key, "ticket", token, 14, NULL, token + 14);
  return pv_web_base64url (token, sizeof token);
}

gboolean
pv_web_ticket_token_parse (const guint8 *key, const char *text, gint64 now_s, guint16 *out_issuer,
                           guint32 *out_serial)
{
  guint8 token[2 + 4 + 8 + MAC_SIZE], expected[MAC_SIZE];

  if (!unbase64url (text, token, sizeof token))
    return FALSE;
  mac (key, "ticket", token, 14, NULL, expected);
  if (sodium_memcmp (expected, token + 14, MAC_SIZE) != 0 || (gint64) get_be (token + 6, 8) < now_s)
    return FALSE;
  *out_issuer = (guint16) get_be (token, 2);
  *out_serial = (guint32) get_be (token + 2, 4);
  return TRUE;
}

/* ---- Rate limits: token buckets ---- */

void
pv_web_limit_init (PvWebLimit *limit, double per_minute, double burst, guint max_entries)
{
  limit->buckets = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&limit->order);
  limit->per_us = per_minute / (60.0 * G_USEC_PER_SEC);
  limit->burst = burst;
  limit->max_entries = MAX (max_entries, 1);
}

void
pv_web_limit_set_rate (PvWebLimit *limit, double per_minute, double burst)
{
  limit->per_us = per_minute / (60.0 * G_USEC_PER_SEC);
  limit->burst = burst;
}

/* A table of wrong guesses: @free_strikes in a row cost nothing, each
 * after locks the key out, @lock_us the first time, twice as long each
 * next, at most @lock_max_us; @forget_us after the last they are forgotten. */
void
pv_web_limit_init_guesses (PvWebLimit *limit, guint free_strikes, gint64 lock_us, gint64 lock_max_us, gint64 forget_us,
                           guint max_entries)
{
  /* Tokens are not taken here: the buckets stay full. */
  pv_web_limit_init (limit, 1.0, 1.0, max_entries);
  limit->free_strikes = free_strikes;
  limit->lock_us = lock_us;
  limit->lock_max_us = lock_max_us;
  limit->forget_us = forget_us;
}

static void
limit_drop (PvWebLimit *limit, PvWebBucket *bucket)
{
  g_hash_table_remove (limit->buckets, bucket->key);
  g_queue_unlink (&limit->order, &bucket->link);
  g_free (bucket->key);
  g_free (bucket);
}

void
pv_web_limit_clear (PvWebLimit *limit)
{
  while (limit->order.head != NULL)
    limit_drop (limit, limit->order.head->data);
  g_clear_pointer (&limit->buckets, g_hash_table_unref);
}

/* Whether forgetting @bucket now changes nothing: its tokens have filled
 * up again, and it holds no lockout nor strikes still remembered. */
static gboolean
bucket_idle (PvWebLimit *limit, PvWebBucket *bucket, gint64 now)
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
limit_make_room (PvWebLimit *limit, gint64 now)
{
  while (limit->order.head != NULL)
    {
      PvWebBucket *oldest = limit->order.head->data;

      if (!bucket_idle (limit, oldest, now) && limit->order.length < limit->max_entries)
        break;
      limit_drop (limit, oldest);
    }
}

/* @key's bucket, made when there is none, marked the most recently used
 * and its tokens brought up to @now. */
static PvWebBucket *
limit_bucket (PvWebLimit *limit, const char *key, gint64 now)
{
  PvWebBucket *bucket = g_hash_table_lookup (limit->buckets, key);

  if (bucket == NULL)
    {
      limit_make_room (limit, now);
      bucket = g_new0 (PvWebBucket, 1);
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
gboolean
pv_web_limits_take (PvWebLimit *const *limits, const char *const *keys, guint n, gint64 now, gint64 *out_wait_us)
{
  gint64 wait = 0;
  PvWebBucket *buckets[4];

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
gboolean
pv_web_limit_take (PvWebLimit *limit, const char *key, gint64 now, gint64 *out_wait_us)
{
  return pv_web_limits_take (&limit, &key, 1, now, out_wait_us);
}

PvWebTake
pv_web_limit_take_or_tell (PvWebLimit *limit, const char *key, gint64 now)
{
  PvWebBucket *bucket = limit_bucket (limit, key, now);

  /* Told again only after a quiet spell long enough to fill the bucket. */
  if (bucket->tokens >= limit->burst)
    bucket->told = FALSE;
  if (bucket->tokens >= 1.0)
    {
      bucket->tokens -= 1.0;
      return PV_WEB_TAKEN;
    }
  if (bucket->told)
    return PV_WEB_REFUSED;
  bucket->told = TRUE;
  return PV_WEB_REFUSED_TELL;
}

/* How long @key is still locked out of guessing (0: it may guess). */
gint64
pv_web_guess_wait (PvWebLimit *limit, const char *key, gint64 now)
{
  PvWebBucket *bucket = g_hash_table_lookup (limit->buckets, key);

  return bucket != NULL && bucket->locked_until > now ? bucket->locked_until - now : 0;
}

/* A wrong code checked for @key. Never a try while @key is locked out:
 * that is refused unchecked (pv_web_guess_wait ()), as it proves nothing and
 * may be someone else behind the same address. */
void
pv_web_guess_strike (PvWebLimit *limit, const char *key, gint64 now)
{
  PvWebBucket *bucket = limit_bucket (limit, key, now);

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
void
pv_web_guess_forgive (PvWebLimit *limit, const char *key)
{
  PvWebBucket *bucket = g_hash_table_lookup (limit->buckets, key);

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
void
pv_web_client_keys (SoupServerMessage *msg, char **out_client, char **out_network, char **out_guesser)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  *out_client = pv_address_key (remote, 32, 64);
  *out_network = pv_address_key (remote, 24, 48);
  *out_guesser = pv_address_key (remote, 32, 48);
}
