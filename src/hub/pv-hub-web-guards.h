/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-web-guards.h: the guards of the hub's public doors. Forms carry a
 * token signed together with the browser's form cookie (CSRF); a link to a
 * ticket is a signed token naming it until it expires, so a ticket's code
 * never appears in a URL. Requests are limited by token buckets, one per
 * key (a client, a network, a phone, a WhatsApp sender), the least
 * recently used forgotten first beyond a table's size; a table of wrong
 * guesses uses the same entries for strikes and lockouts. Every function
 * takes the time it is asked at (tokens: real seconds; buckets: monotonic
 * µs). */
#pragma once

#include <libsoup/soup.h>
#include <sodium.h>

G_BEGIN_DECLS

#define PV_WEB_KEY_SIZE crypto_auth_hmacsha256_KEYBYTES
/* How long a form's token is taken, in seconds. */
#define PV_WEB_FORM_LIFETIME_S (2 * 60 * 60)

/* @data as base64url without padding. */
char *pv_web_base64url (const guint8 *data, gsize len);

/* A form's token: when it was made (@now_s), signed with @key together
 * with the browser's form cookie @nonce, so a page elsewhere can neither
 * make one nor use ours. */
char *pv_web_form_token (const guint8 *key, const char *nonce, gint64 now_s);
/* Whether @text is a token made for @nonce, at most
 * PV_WEB_FORM_LIFETIME_S ago (and not more than a minute ahead). */
gboolean pv_web_form_token_ok (const guint8 *key, const char *nonce, const char *text, gint64 now_s);

/* A link to ticket @issuer-@serial, good until @expires_s. */
char *pv_web_ticket_token (const guint8 *key, guint16 issuer, guint32 serial, gint64 expires_s);
/* The ticket @text names, when it is ours and not expired at @now_s. */
gboolean pv_web_ticket_token_parse (const guint8 *key,
                                    const char *text,
                                    gint64 now_s,
                                    guint16 *out_issuer,
                                    guint32 *out_serial);

typedef struct _PvWebBucket PvWebBucket;

/* A table of token buckets. Embedded where it is used; the fields are the
 * guards' own. */
typedef struct
{
  GHashTable *buckets; /* key → PvWebBucket */
  GQueue order;        /* PvWebBucket, the least recently used first */
  double per_us;       /* tokens added per µs */
  double burst;
  guint max_entries;
  /* Guesses: */
  guint free_strikes;
  gint64 lock_us, lock_max_us, forget_us;
} PvWebLimit;

/* @per_minute tokens a minute, @burst at once, for each of at most
 * @max_entries keys. */
void pv_web_limit_init (PvWebLimit *limit, double per_minute, double burst, guint max_entries);
/* The same table at another rate; buckets already made keep their tokens. */
void pv_web_limit_set_rate (PvWebLimit *limit, double per_minute, double burst);
/* A table of wrong guesses: @free_strikes in a row cost nothing, each
 * after locks the key out, @lock_us the first time, twice as long each
 * next, at most @lock_max_us; @forget_us after the last they are forgotten. */
void pv_web_limit_init_guesses (PvWebLimit *limit,
                                guint free_strikes,
                                gint64 lock_us,
                                gint64 lock_max_us,
                                gint64 forget_us,
                                guint max_entries);
void pv_web_limit_clear (PvWebLimit *limit);

/* Takes a token from each of @n (at most 4) buckets, @keys[i]'s in
 * @limits[i] (each limit once), or from none: a refusal by one costs the
 * others nothing. FALSE with the longest wait among those that refused. */
gboolean pv_web_limits_take (PvWebLimit *const *limits,
                             const char *const *keys,
                             guint n,
                             gint64 now,
                             gint64 *out_wait_us);
/* Takes a token from @key's bucket; FALSE with the wait for the next one. */
gboolean pv_web_limit_take (PvWebLimit *limit, const char *key, gint64 now, gint64 *out_wait_us);

typedef enum
{
  PV_WEB_TAKEN,
  PV_WEB_REFUSED_TELL, /* refused, the first time since the bucket was full */
  PV_WEB_REFUSED,      /* refused again: told already */
} PvWebTake;

/* Takes a token from @key's bucket, saying whether a refusal is the first
 * since the bucket was last full (the one to tell the asker about). */
PvWebTake pv_web_limit_take_or_tell (PvWebLimit *limit, const char *key, gint64 now);

/* How long @key is still locked out of guessing (0: it may guess). */
gint64 pv_web_guess_wait (PvWebLimit *limit, const char *key, gint64 now);
/* A wrong guess checked for @key; never one made while it is locked out,
 * which is refused unchecked. */
void pv_web_guess_strike (PvWebLimit *limit, const char *key, gint64 now);
/* The right guess: @key's wrong ones before it are forgiven. */
void pv_web_guess_forgive (PvWebLimit *limit, const char *key);

/* Who is asking, as the limits count them (each taken): the client (an
 * IPv6 one by its /64), its network (an IPv4 /24, an IPv6 /48) and the
 * guesser (an IPv6 one by its /48). */
void pv_web_client_keys (SoupServerMessage *msg, char **out_client, char **out_network, char **out_guesser);

G_END_DECLS
