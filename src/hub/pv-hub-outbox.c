/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-outbox.c: the outbox worker (see the header). It runs on the
 * hub's main loop: it claims due rows a few at a time — no more than the
 * channel's token bucket and the free request slots allow, so a crash
 * leaves few rows half-done — and sends each with an async SoupSession
 * call, writing the outcome to the row as soon as the answer comes. A
 * rate-limit answer pauses the whole channel, except WhatsApp's limit on
 * messages to one person, which delays that message alone; other
 * retryable failures wait out an exponential backoff on the row alone. */
#include "config.h"

#include "pv-hub-outbox.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-hub-config.h"
#include "pv-outbox.h"
#include "pv-qr.h"
#include "pv-store.h"
#include "pv-tickets.h"
#include "pv-wire.h"

/* Sections: settings; what a day may spend; sending one message
 * (WhatsApp, SMS); the pump; life. */

#define DEFAULT_GRAPH_URL "https://graph.facebook.com/v21.0"
#define QR_MODULE_PX 10
/* A bucket holds a tenth of a second's messages: the rate is kept over any
 * second, not just on average. */
#define BURST_SECONDS 0.1
/* Rate-limit pauses without Retry-After: 1 s, doubling while they go on. */
#define RATE_LIMIT_PAUSE_US (1 * G_USEC_PER_SEC)
#define RATE_LIMIT_PAUSE_MAX_US (60 * G_USEC_PER_SEC)
/* WhatsApp takes about one message every 6 s to one person ("pair rate
 * limit", error 131056); a message over it waits that long, others go on. */
#define PAIR_LIMIT_WAIT_US (6 * G_USEC_PER_SEC)
/* How long shutting down waits for the requests in flight. */
#define DRAIN_US (3 * G_USEC_PER_SEC)
/* Of a provider's error answer, what is kept as the reason. */
#define MAX_REASON 300
/* [outbox] countries, daily-limit: the event's own country (phones are
 * read as Indian when written without a code, pv_normalize_phone ()), and
 * about a day of the paid messages a fair of a million visitors sends
 * (codes to find tickets again, desks' tickets by SMS, volunteers' codes)
 * with room to spare, so a day's loss to an abuser stays a known sum. */
#define DEFAULT_COUNTRIES "+91"
#define DEFAULT_DAILY_LIMIT 20000
#define MAX_LIMIT 10000000
/* The longest prefix the settings take: a calling code and an area. */
#define MAX_PREFIX_DIGITS 7

typedef enum
{
  CHANNEL_WHATSAPP,
  CHANNEL_SMS,
  N_CHANNELS
} ChannelId;

/* A destination prefix's paid messages today, and its budget. */
typedef struct
{
  guint64 n[PV_OUTBOX_N_SPENDS];
  gint64 limit;
  gboolean own_limit; /* named in [outbox] prefix-limits */
  /* The log said so today: */
  gboolean told_refused, told_spent;
} Spend;

/* [outbox] prefix-limits: a prefix with a budget of its own. */
typedef struct
{
  char *prefix;
  gint64 limit;
} PrefixLimit;

typedef struct
{
  const char *name;
  gboolean configured;
  gboolean told_unconfigured; /* the one log line said so */
  double rate;                /* messages per second */
  double tokens;
  double burst;
  gint64 refilled_at;
  gint64 paused_until;
  guint rate_limits; /* in a row, for the pause's length */
  guint in_flight;
  /* WhatsApp */
  char *graph_url;
  char *phone_number_id;
  char *access_token;
  char *template_name; /* for tickets */
  char *code_template; /* for one-time codes */
  char *template_language;
  /* SMS */
  char *url_template;
  char *method;
  char *auth_name;
  char *auth_value;
  char *body_template;
  char *content_type;
  char *from;
} Channel;

struct _PvHubOutbox
{
  const PvHubContext *hub;
  SoupSession *session;
  GCancellable *cancellable;
  Channel channels[N_CHANNELS];
  PvOutboxBackoff backoff;
  gint64 poll_us;
  guint concurrency;
  guint in_flight;
  GList *jobs; /* Job, those in flight */
  gulong changed_id;
  guint timer_id;
  gint64 timer_at;
  guint idle_id;
  gboolean stopping;
  PvHubOutboxWindowFunc window_func;
  gpointer window_data;
  /* since the start, for /metrics */
  guint64 sent, retried, failed, rate_limited;
  /* What paid messages may go where: the settings, */
  char **countries;         /* "+91", …; NULL: anywhere */
  char *countries_text;     /* "+91, +977", or "any" */
  GPtrArray *prefix_limits; /* PrefixLimit, the longest prefixes first */
  gint64 daily_limit, prefix_daily_limit;
  /* and what today (the event's date) spent so far. */
  char *day;
  GHashTable *spend; /* prefix → Spend */
  guint64 day_sent;  /* every prefix's */
  gboolean told_daily;
};

typedef enum
{
  OUTCOME_SENT,
  OUTCOME_RETRY,      /* a server or network failure: back off and try again */
  OUTCOME_RATE_LIMIT, /* the provider asks us to slow down */
  OUTCOME_PAIR_LIMIT, /* WhatsApp: too many messages to this one person */
  OUTCOME_WINDOW,     /* WhatsApp: outside the 24-hour window */
  OUTCOME_PERMANENT,  /* it will not go better next time */
} Outcome;

typedef enum
{
  STEP_UPLOAD,
  STEP_SEND,
  STEP_TEMPLATE,
} Step;

typedef struct
{
  PvHubOutbox *self; /* NULL once the worker stopped without it */
  Channel *channel;
  PvOutboxMessage *message;
  char *code; /* a ticket's */
  char *serial_text;
  Step step;
  gboolean charged; /* counted as a paid message already */
  GCancellable *cancellable;
} Job;

static void schedule_pump (PvHubOutbox *self);
static void job_step (Job *job);

/* ---- settings ---- */

/* "+91", "+1416": a + and one to MAX_PREFIX_DIGITS digits, not starting
 * with 0 (no calling code does). */
static gboolean
is_prefix (const char *text)
{
  gsize digits = strlen (text) - 1;

  return text[0] == '+' && digits >= 1 && digits <= MAX_PREFIX_DIGITS && text[1] != '0'
         && strspn (text + 1, "0123456789") == digits;
}

/* A list as people write one: separated by ";" or ",", and by spaces too
 * unless @spaced (whose items may hold spaces, dropped: "+977 = 200"). */
static GStrv
config_list (GKeyFile *config, const char *group, const char *key, const char *fallback, gboolean spaced)
{
  g_autofree char *text = pv_hub_config_string (config, group, key, fallback);
  g_auto (GStrv) parts = g_strsplit_set (text ? text : "", spaced ? ";," : ";, \t", -1);
  GPtrArray *list = g_ptr_array_new ();

  for (guint i = 0; parts[i]; i++)
    {
      GString *item = g_string_new (NULL);

      for (const char *c = parts[i]; *c; c++)
        if (!g_ascii_isspace (*c))
          g_string_append_c (item, *c);
      if (item->len > 0)
        g_ptr_array_add (list, g_string_free (item, FALSE));
      else
        g_string_free (item, TRUE);
    }
  g_ptr_array_add (list, NULL);
  return (GStrv) g_ptr_array_free (list, FALSE);
}

static int
longest_first (gconstpointer a, gconstpointer b)
{
  const PrefixLimit *x = *(PrefixLimit *const *) a, *y = *(PrefixLimit *const *) b;

  return (int) strlen (y->prefix) - (int) strlen (x->prefix);
}

static void
prefix_limit_free (PrefixLimit *limit)
{
  g_free (limit->prefix);
  g_free (limit);
}

/* [outbox] countries, daily-limit, prefix-daily-limit, prefix-limits. */
static gboolean
read_spending (PvHubOutbox *self, GKeyFile *config, GError **error)
{
  g_auto (GStrv) countries = config_list (config, "outbox", "countries", DEFAULT_COUNTRIES, FALSE);
  g_auto (GStrv) limits = config_list (config, "outbox", "prefix-limits", NULL, TRUE);
  double number;

  if (countries[0] == NULL)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                "[outbox] countries: name the calling codes messages may go to, like +91 "
                                "(or * for anywhere)"),
           FALSE;
  if (g_str_equal (countries[0], "*") && countries[1] == NULL)
    self->countries_text = g_strdup ("any");
  else
    {
      for (guint i = 0; countries[i]; i++)
        if (!is_prefix (countries[i]))
          return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                              "[outbox] countries: “%s” is not a calling code like +91 (or * alone, for anywhere)",
                              countries[i]),
                 FALSE;
      self->countries = g_steal_pointer (&countries);
      self->countries_text = g_strjoinv (", ", self->countries);
    }

  if (!pv_hub_config_number (config, "outbox", "daily-limit", DEFAULT_DAILY_LIMIT, 0, MAX_LIMIT, &number, error))
    return FALSE;
  self->daily_limit = (gint64) number;
  if (!pv_hub_config_number (config, "outbox", "prefix-daily-limit", number, 0, MAX_LIMIT, &number, error))
    return FALSE;
  self->prefix_daily_limit = (gint64) number;

  self->prefix_limits = g_ptr_array_new_with_free_func ((GDestroyNotify) prefix_limit_free);
  for (guint i = 0; limits[i]; i++)
    {
      const char *equals = strchr (limits[i], '=');
      g_autofree char *prefix = equals ? g_strndup (limits[i], (gsize) (equals - limits[i])) : NULL;
      guint64 limit = 0;
      PrefixLimit *entry;

      if (prefix == NULL || !is_prefix (prefix)
          || !g_ascii_string_to_unsigned (equals + 1, 10, 0, MAX_LIMIT, &limit, NULL))
        return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                            "[outbox] prefix-limits: “%s” is not a prefix and a day's budget, like +9190=500",
                            limits[i]),
               FALSE;
      entry = g_new0 (PrefixLimit, 1);
      entry->prefix = g_steal_pointer (&prefix);
      entry->limit = (gint64) limit;
      g_ptr_array_add (self->prefix_limits, entry);
    }
  g_ptr_array_sort (self->prefix_limits, longest_first);
  return TRUE;
}

static gboolean
read_settings (PvHubOutbox *self, GKeyFile *config, GError **error)
{
  Channel *wa = &self->channels[CHANNEL_WHATSAPP], *sms = &self->channels[CHANNEL_SMS];
  g_autofree char *graph_url = pv_hub_config_string (config, "whatsapp", "graph-url", DEFAULT_GRAPH_URL);
  g_autofree char *auth = pv_hub_config_string (config, "sms", "auth-header", NULL);
  double number;

  wa->name = PV_DELIVERY_WHATSAPP;
  sms->name = PV_DELIVERY_SMS;

  /* [outbox] */
  if (!pv_hub_config_number (config, "outbox", "poll-seconds", 5, 0.05, 3600, &number, error))
    return FALSE;
  self->poll_us = (gint64) (number * G_USEC_PER_SEC);
  if (!pv_hub_config_number (config, "outbox", "max-attempts", 8, 1, 1000, &number, error))
    return FALSE;
  self->backoff.max_attempts = (guint) number;
  if (!pv_hub_config_number (config, "outbox", "base-backoff-ms", 2000, 1, 3600000, &number, error))
    return FALSE;
  self->backoff.base_us = (gint64) (number * 1000);
  if (!pv_hub_config_number (config, "outbox", "max-backoff-ms", 600000, 1, 86400000, &number, error))
    return FALSE;
  self->backoff.cap_us = MAX ((gint64) (number * 1000), self->backoff.base_us);
  if (!pv_hub_config_number (config, "outbox", "concurrency", 16, 1, 256, &number, error))
    return FALSE;
  self->concurrency = (guint) number;
  if (!pv_hub_config_number (config, "outbox", "timeout-seconds", 30, 1, 600, &number, error))
    return FALSE;
  g_object_set (self->session, "timeout", (guint) number, NULL);
  if (!read_spending (self, config, error))
    return FALSE;

  /* [whatsapp] */
  if (!g_str_has_prefix (graph_url, "http://") && !g_str_has_prefix (graph_url, "https://"))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[whatsapp] graph-url = %s: not an http(s) URL", graph_url),
           FALSE;
  while (g_str_has_suffix (graph_url, "/"))
    graph_url[strlen (graph_url) - 1] = '\0';
  wa->graph_url = g_steal_pointer (&graph_url);
  wa->phone_number_id = pv_hub_config_string (config, "whatsapp", "phone-number-id", NULL);
  wa->access_token = pv_hub_config_string (config, "whatsapp", "access-token", NULL);
  wa->template_name = pv_hub_config_string (config, "whatsapp", "ticket-template", NULL);
  wa->code_template = pv_hub_config_string (config, "whatsapp", "code-template", NULL);
  wa->template_language = pv_hub_config_string (config, "whatsapp", "template-language", "en");
  if (!pv_hub_config_number (config, "whatsapp", "messages-per-second", 80, 0.01, 10000, &wa->rate, error))
    return FALSE;
  wa->configured = wa->phone_number_id != NULL && wa->access_token != NULL;
  if (wa->phone_number_id != NULL && strpbrk (wa->phone_number_id, "/?#% ") != NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[whatsapp] phone-number-id = %s: not an id",
                        wa->phone_number_id),
           FALSE;

  /* [sms] */
  sms->url_template = pv_hub_config_string (config, "sms", "url-template", NULL);
  sms->method = pv_hub_config_string (config, "sms", "method", "GET");
  sms->body_template = pv_hub_config_string (config, "sms", "body-template", NULL);
  sms->content_type = pv_hub_config_string (config, "sms", "content-type", "application/x-www-form-urlencoded");
  sms->from = pv_hub_config_string (config, "sms", "from", "");
  if (!pv_hub_config_number (config, "sms", "messages-per-second", 10, 0.01, 10000, &sms->rate, error))
    return FALSE;
  sms->configured = sms->url_template != NULL;
  if (sms->url_template != NULL && !g_str_has_prefix (sms->url_template, "http://")
      && !g_str_has_prefix (sms->url_template, "https://"))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[sms] url-template = %s: not an http(s) URL",
                        sms->url_template),
           FALSE;
  if (g_ascii_strcasecmp (sms->method, "GET") != 0 && g_ascii_strcasecmp (sms->method, "POST") != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[sms] method = %s: GET or POST", sms->method), FALSE;
  for (char *c = sms->method; *c; c++)
    *c = g_ascii_toupper (*c);
  if (auth != NULL)
    {
      const char *colon = strchr (auth, ':');

      if (colon == NULL || colon == auth)
        return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                    "[sms] auth-header: give “Name: value”, e.g. “Authorization: Bearer …”"),
               FALSE;
      sms->auth_name = g_strstrip (g_strndup (auth, (gsize) (colon - auth)));
      sms->auth_value = g_strstrip (g_strdup (colon + 1));
    }

  for (guint i = 0; i < N_CHANNELS; i++)
    {
      Channel *c = &self->channels[i];

      c->burst = MAX (1.0, c->rate * BURST_SECONDS);
      c->tokens = c->burst;
      c->refilled_at = g_get_monotonic_time ();
    }
  return TRUE;
}

static void
channel_clear (Channel *c)
{
  g_free (c->graph_url);
  g_free (c->phone_number_id);
  g_free (c->access_token);
  g_free (c->template_name);
  g_free (c->code_template);
  g_free (c->template_language);
  g_free (c->url_template);
  g_free (c->method);
  g_free (c->auth_name);
  g_free (c->auth_value);
  g_free (c->body_template);
  g_free (c->content_type);
  g_free (c->from);
}

static Channel *
find_channel (PvHubOutbox *self, const char *name)
{
  for (guint i = 0; i < N_CHANNELS; i++)
    if (g_strcmp0 (self->channels[i].name, name) == 0)
      return &self->channels[i];
  return NULL;
}

/* ---- what a day may spend ---- */

/* The budget @phone's paid messages count against: the longest prefix of
 * [outbox] prefix-limits it starts with, else its calling code. */
static char *
budget_prefix (PvHubOutbox *self, const char *phone)
{
  char *code;

  for (guint i = 0; i < self->prefix_limits->len; i++)
    {
      PrefixLimit *entry = self->prefix_limits->pdata[i];

      if (g_str_has_prefix (phone, entry->prefix))
        return g_strdup (entry->prefix);
    }
  code = pv_outbox_calling_code (phone);
  return code ? code : g_strdup ("?");
}

static Spend *
spend_for (PvHubOutbox *self, const char *prefix)
{
  Spend *spend = g_hash_table_lookup (self->spend, prefix);

  if (spend != NULL)
    return spend;
  spend = g_new0 (Spend, 1);
  spend->limit = self->prefix_daily_limit;
  for (guint i = 0; i < self->prefix_limits->len; i++)
    {
      PrefixLimit *entry = self->prefix_limits->pdata[i];

      if (g_str_equal (entry->prefix, prefix))
        {
          spend->limit = entry->limit;
          spend->own_limit = TRUE;
        }
    }
  g_hash_table_insert (self->spend, g_strdup (prefix), spend);
  return spend;
}

static gboolean
sends_to (PvHubOutbox *self, const char *phone)
{
  for (guint i = 0; self->countries != NULL && self->countries[i] != NULL; i++)
    if (g_str_has_prefix (phone, self->countries[i]))
      return TRUE;
  return self->countries == NULL;
}

/* The event's date now, in its own time zone: a fair's day ends at its
 * midnight, wherever the hub's clock is set. */
static char *
today (PvHubOutbox *self)
{
  PvEvent *event = pv_store_get_event (self->hub->store, NULL);
  gint64 now = pv_store_now (self->hub->store);
  g_autoptr (GDateTime) utc = NULL;

  if (event != NULL)
    return pv_event_format_time (event, now, "%Y-%m-%d");
  utc = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
  return g_date_time_format (utc, "%Y-%m-%d");
}

/* Makes the counts today's, from what the store kept of the day: at the
 * start (a restart forgets nothing the day spent) and at the event's
 * midnight. One small read a day; nothing else here touches the store. */
static void
roll_day (PvHubOutbox *self)
{
  g_autofree char *day = today (self);
  g_autoptr (GHashTable) stored = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer key, value;

  if (g_strcmp0 (day, self->day) == 0)
    return;
  if (!(stored = pv_outbox_spend_read (self->hub->store, day, &error)))
    {
      /* The old day's counts go on until the store answers. */
      g_message ("Outbox: cannot read what %s spent: %s", day, error->message);
      return;
    }
  g_free (self->day);
  self->day = g_steal_pointer (&day);
  g_hash_table_remove_all (self->spend);
  self->day_sent = 0;
  self->told_daily = FALSE;
  g_hash_table_iter_init (&iter, stored);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Spend *spend = spend_for (self, key);

      memcpy (spend->n, value, sizeof spend->n);
      self->day_sent += spend->n[PV_OUTBOX_SPEND_SENT];
    }
  /* What the settings name shows in /metrics from the day's start; a
   * country too short to name a calling code ("+8") has no budget of its
   * own to show, its numbers' are by their codes. */
  for (guint i = 0; self->countries != NULL && self->countries[i] != NULL; i++)
    {
      g_autofree char *prefix = budget_prefix (self, self->countries[i]);

      if (!g_str_equal (prefix, "?"))
        spend_for (self, prefix);
    }
  for (guint i = 0; i < self->prefix_limits->len; i++)
    spend_for (self, ((PrefixLimit *) self->prefix_limits->pdata[i])->prefix);
}

/* Whether a paid message to @phone may go now; *@out_prefix (optional)
 * is the budget it counts against. */
static PvHubOutboxReach
judge (PvHubOutbox *self, const char *phone, char **out_prefix)
{
  g_autofree char *prefix = budget_prefix (self, phone);
  PvHubOutboxReach reach = PV_HUB_OUTBOX_SENDS;
  Spend *spend;

  roll_day (self);
  spend = spend_for (self, prefix);
  if (!sends_to (self, phone))
    reach = PV_HUB_OUTBOX_NOT_ALLOWED;
  else if ((gint64) spend->n[PV_OUTBOX_SPEND_SENT] >= spend->limit || (gint64) self->day_sent >= self->daily_limit)
    reach = PV_HUB_OUTBOX_OVER_BUDGET;
  if (out_prefix != NULL)
    *out_prefix = g_steal_pointer (&prefix);
  return reach;
}

/* ---- sending one message ---- */

static void
job_free (Job *job)
{
  pv_outbox_message_free (job->message);
  g_free (job->code);
  g_free (job->serial_text);
  g_clear_object (&job->cancellable);
  g_free (job);
}

/* What the logs call a message: its id, kind and channel, and the last
 * digits of the phone only. */
static char *
describe (const PvOutboxMessage *m)
{
  g_autofree char *masked = pv_outbox_mask_phone (m->recipient);

  return g_strdup_printf ("message %" G_GINT64_FORMAT " (%s %s to %s)", m->id, m->channel,
                          pv_outbox_kind_to_string (m->kind), masked);
}

/* The job is over: the row says how. */
static void
job_done (Job *job)
{
  PvHubOutbox *self = job->self;

  if (self != NULL)
    {
      self->jobs = g_list_remove (self->jobs, job);
      self->in_flight--;
      job->channel->in_flight--;
      schedule_pump (self);
    }
  job_free (job);
}

static void
log_store_error (const PvOutboxMessage *m, GError *error)
{
  g_autofree char *what = describe (m);

  g_message ("Outbox: cannot record the outcome of %s: %s", what, error->message);
}

static void
finish_sent (Job *job, const char *provider_id)
{
  PvHubOutbox *self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = describe (job->message);
  Channel *c = job->channel;

  c->rate_limits = 0;
  self->sent++;
  if (!pv_outbox_mark_sent (self->hub->store, job->message->id, provider_id, &error))
    log_store_error (job->message, error);
  else
    g_debug ("Outbox: %s sent", what);
  job_done (job);
}

static void
finish_failed (Job *job, const char *reason, gboolean retryable)
{
  PvHubOutbox *self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = describe (job->message);
  g_autofree char *said = pv_outbox_mask_digits (reason);
  PvOutboxStatus status = PV_OUTBOX_FAILED;
  gint64 next = 0;

  if (!pv_outbox_mark_failed (self->hub->store, job->message->id, reason, retryable, &self->backoff, &status, &next,
                              &error))
    log_store_error (job->message, error);
  else if (status == PV_OUTBOX_QUEUED)
    {
      self->retried++;
      g_message ("Outbox: %s failed (%s); retry %u in %.1f s", what, said, job->message->attempts + 1,
                 (double) (next - pv_store_now (self->hub->store)) / G_USEC_PER_SEC);
    }
  else
    {
      self->failed++;
      g_message ("Outbox: %s failed for good after %u attempts: %s", what, job->message->attempts + 1, said);
    }
  job_done (job);
}

/* The provider asks us to slow down: the channel pauses (as long as it
 * said, else a second, doubling while it goes on) and the message waits
 * without a failure counted against it. */
static void
finish_rate_limited (Job *job, const char *reason, gint64 retry_after_us)
{
  PvHubOutbox *self = job->self;
  Channel *c = job->channel;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = describe (job->message);
  g_autofree char *said = pv_outbox_mask_digits (reason);
  gint64 pause = RATE_LIMIT_PAUSE_US, now = pv_store_now (self->hub->store);

  for (guint i = 0; i < c->rate_limits && pause < RATE_LIMIT_PAUSE_MAX_US; i++)
    pause *= 2;
  pause = MIN (pause, RATE_LIMIT_PAUSE_MAX_US);
  pause = MAX (pause, retry_after_us);
  c->rate_limits++;
  self->rate_limited++;
  if (now + pause > c->paused_until)
    {
      c->paused_until = now + pause;
      g_message ("Outbox: %s is rate-limited (%s); pausing the %s channel for %.1f s", what, said, c->name,
                 (double) pause / G_USEC_PER_SEC);
    }
  c->tokens = 0;
  if (!pv_outbox_requeue (self->hub->store, job->message->id, c->paused_until, reason, &error))
    log_store_error (job->message, error);
  job_done (job);
}

/* WhatsApp's limit on messages to one person: this message waits (as long
 * as it was told, else PAIR_LIMIT_WAIT_US) with no failure counted; the
 * channel, and every other visitor's messages, go on. */
static void
finish_pair_limited (Job *job, const char *reason, gint64 retry_after_us)
{
  PvHubOutbox *self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = describe (job->message);
  gint64 wait = MAX (PAIR_LIMIT_WAIT_US, retry_after_us);

  self->rate_limited++;
  g_message ("Outbox: %s is over WhatsApp's limit of messages to one person; it waits %.1f s", what,
             (double) wait / G_USEC_PER_SEC);
  if (!pv_outbox_requeue (self->hub->store, job->message->id, pv_store_now (self->hub->store) + wait, reason, &error))
    log_store_error (job->message, error);
  job_done (job);
}

/* Retry-After: seconds, or an HTTP date; 0 when absent or past. */
static gint64
retry_after (SoupMessage *msg)
{
  const char *value = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After");
  guint64 seconds;

  if (value == NULL)
    return 0;
  if (g_ascii_string_to_unsigned (value, 10, 0, 86400, &seconds, NULL))
    return (gint64) seconds * G_USEC_PER_SEC;
  {
    g_autoptr (GDateTime) when = soup_date_time_new_from_http_string (value);
    gint64 delta = when ? g_date_time_to_unix (when) * G_USEC_PER_SEC - g_get_real_time () : 0;

    return CLAMP (delta, 0, (gint64) 86400 * G_USEC_PER_SEC);
  }
}

/* A reason short enough to keep and show, valid UTF-8, on one line. */
static char *
clip_reason (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text ? text : "", -1);
  GString *out = g_string_new (NULL);

  for (const char *p = valid; *p && g_utf8_strlen (out->str, -1) < MAX_REASON; p = g_utf8_next_char (p))
    {
      gunichar ch = g_utf8_get_char (p);

      g_string_append_unichar (out, g_unichar_iscntrl (ch) ? ' ' : ch);
    }
  return g_string_free (out, FALSE);
}

/* Parses a JSON object reply; NULL when it is not one. */
static JsonObject *
reply_object (JsonParser *parser, GBytes *body)
{
  gsize len = 0;
  const char *data = body ? g_bytes_get_data (body, &len) : NULL;
  JsonNode *root;

  if (data == NULL || len == 0 || !json_parser_load_from_data (parser, data, (gssize) len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

/* How an answer of the Graph API turns out, by the HTTP status and the
 * error's code (Meta's advice: act on the code, not the message). */
static Outcome
graph_outcome (guint status, JsonObject *reply, char **out_reason)
{
  JsonObject *error = reply && json_object_has_member (reply, "error")
                          && JSON_NODE_HOLDS_OBJECT (json_object_get_member (reply, "error"))
                        ? json_object_get_object_member (reply, "error")
                        : NULL;
  gint64 code = error ? json_object_get_int_member_with_default (error, "code", 0) : 0;
  const char *message = pv_json_member_string (error, "message");
  JsonObject *data = error && json_object_has_member (error, "error_data")
                         && JSON_NODE_HOLDS_OBJECT (json_object_get_member (error, "error_data"))
                       ? json_object_get_object_member (error, "error_data")
                       : NULL;
  const char *details = pv_json_member_string (data, "details");
  g_autofree char *text = NULL;

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    return OUTCOME_SENT;
  text = g_strdup_printf ("HTTP %u%s%s%s%s", status, message ? ": " : "", message ? message : "",
                          details ? ": " : "", details ? details : "");
  *out_reason = clip_reason (text);
  switch (code)
    {
    case 4:      /* application request limit */
    case 80007:  /* the business account's rate limit */
    case 130429: /* the number's throughput */
      return OUTCOME_RATE_LIMIT;
    case 131056: /* too many messages to one customer: that customer's alone */
      return OUTCOME_PAIR_LIMIT;
    case 131047: /* more than 24 hours since the customer wrote */
      return OUTCOME_WINDOW;
    case 1:      /* unknown error */
    case 2:      /* service temporarily unavailable */
    case 131000: /* something went wrong */
    case 131016: /* service overloaded */
    case 133004: /* server temporarily unavailable */
      return OUTCOME_RETRY;
    default:
      break;
    }
  if (status == 429)
    return OUTCOME_RATE_LIMIT;
  if (status >= 500 || status == 408)
    return OUTCOME_RETRY;
  return OUTCOME_PERMANENT;
}

/* A POST to the Graph API's @endpoint for the sending number, with the
 * token; @form the multipart body, else none yet. NULL when the settings
 * do not make a URL. */
static SoupMessage *
graph_message (Job *job, const char *endpoint, SoupMultipart *form)
{
  Channel *c = job->channel;
  g_autofree char *url = g_strdup_printf ("%s/%s/%s", c->graph_url, c->phone_number_id, endpoint);
  g_autofree char *bearer = g_strconcat ("Bearer ", c->access_token, NULL);
  SoupMessage *msg;

  if (!g_uri_is_valid (url, G_URI_FLAGS_NONE, NULL))
    return NULL;
  msg = form ? soup_message_new_from_multipart (url, form) : soup_message_new ("POST", url);
  if (msg != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  return msg;
}

/* A template message's opening, up to its list of components. */
static void
begin_template (JsonBuilder *builder, const char *name, const char *language)
{
  pv_json_add_string (builder, "type", "template");
  json_builder_set_member_name (builder, "template");
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "name", name);
  json_builder_set_member_name (builder, "language");
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "code", language);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "components");
  json_builder_begin_array (builder);
}

static void
end_template (JsonBuilder *builder)
{
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

/* A component whose one parameter is @text ({{1}}); @sub_type for a button. */
static void
add_text_component (JsonBuilder *builder, const char *type, const char *sub_type, const char *text)
{
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "type", type);
  if (sub_type != NULL)
    {
      pv_json_add_string (builder, "sub_type", sub_type);
      pv_json_add_string (builder, "index", "0");
    }
  json_builder_set_member_name (builder, "parameters");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "type", "text");
  pv_json_add_string (builder, "text", text);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

/* The JSON of a message to the job's recipient: text, image or template. */
static GBytes *
whatsapp_body (Job *job)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *opaque = g_strdup_printf ("pv-outbox:%" G_GINT64_FORMAT, job->message->id);
  const PvOutboxMessage *m = job->message;
  gsize len;
  char *text;

  json_builder_begin_object (builder);
  pv_json_add_string (builder, "messaging_product", "whatsapp");
  pv_json_add_string (builder, "recipient_type", "individual");
  /* The wa_id form, digits only, as webhooks name the customer. */
  pv_json_add_string (builder, "to", m->recipient[0] == '+' ? m->recipient + 1 : m->recipient);
  /* Comes back in the status webhooks: tells our messages apart even if the
   * provider's id were lost. */
  pv_json_add_string (builder, "biz_opaque_callback_data", opaque);
  if (job->step == STEP_TEMPLATE && m->kind == PV_OUTBOX_CODE)
    {
      /* An authentication template: the code in the body's {{1}} and in
       * its copy-code button, as Meta requires of one. */
      begin_template (builder, job->channel->code_template, job->channel->template_language);
      add_text_component (builder, "body", NULL, m->otp);
      add_text_component (builder, "button", "url", m->otp);
      end_template (builder);
    }
  else if (job->step == STEP_TEMPLATE)
    {
      /* The ticket template: its QR as the IMAGE header, the serial as
       * the body's {{1}}. */
      begin_template (builder, job->channel->template_name, job->channel->template_language);
      json_builder_begin_object (builder);
      pv_json_add_string (builder, "type", "header");
      json_builder_set_member_name (builder, "parameters");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      pv_json_add_string (builder, "type", "image");
      json_builder_set_member_name (builder, "image");
      json_builder_begin_object (builder);
      pv_json_add_string (builder, "id", m->media_id);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      add_text_component (builder, "body", NULL, job->serial_text);
      end_template (builder);
    }
  else if (m->kind == PV_OUTBOX_TICKET)
    {
      pv_json_add_string (builder, "type", "image");
      json_builder_set_member_name (builder, "image");
      json_builder_begin_object (builder);
      pv_json_add_string (builder, "id", m->media_id);
      pv_json_add_string (builder, "caption", m->body);
      json_builder_end_object (builder);
    }
  else
    {
      pv_json_add_string (builder, "type", "text");
      json_builder_set_member_name (builder, "text");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "preview_url");
      json_builder_add_boolean_value (builder, FALSE);
      pv_json_add_string (builder, "body", m->body);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);
  return g_bytes_new_take (text, len);
}

static cairo_status_t
append_png (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static GBytes *
render_png (const char *code, GError **error)
{
  cairo_surface_t *surface = pv_qr_render (code, QR_MODULE_PX, error);
  GByteArray *png;
  cairo_status_t status;

  if (surface == NULL)
    return NULL;
  png = g_byte_array_new ();
  status = cairo_surface_write_to_png_stream (surface, append_png, png);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_byte_array_unref (png);
      return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "Cannot write the ticket's image: %s",
                          cairo_status_to_string (status)),
             NULL;
    }
  return g_byte_array_free_to_bytes (png);
}

/* The approved template @m may go as on WhatsApp, NULL when there is none
 * for its kind (a free-form text has none). */
static const char *
template_for (const Channel *c, const PvOutboxMessage *m)
{
  switch (m->kind)
    {
    case PV_OUTBOX_TICKET:
      return c->template_name;
    case PV_OUTBOX_CODE:
      return c->code_template;
    case PV_OUTBOX_TEXT:
    default:
      return NULL;
    }
}

/* Whether @m goes as a template rather than free-form: WhatsApp said so
 * after taking it once (by_template); the visitor's 24-hour window is
 * closed, as the bot knows it; or, with nobody to know (the webhook is
 * off), whenever there is a template, since a visitor who never wrote —
 * at the web page, at a desk — is reached by nothing else. */
static gboolean
goes_by_template (PvHubOutbox *self, const Channel *c, const PvOutboxMessage *m)
{
  if (m->by_template)
    return TRUE;
  if (self->window_func != NULL)
    return self->window_func (m->recipient, self->window_data);
  return template_for (c, m) != NULL;
}

/* Whether the job can take the template route, saying why not in the log. */
static gboolean
can_use_template (Job *job)
{
  g_autofree char *what = NULL;

  if (template_for (job->channel, job->message) != NULL)
    return TRUE;
  what = describe (job->message);
  g_message ("Outbox: %s is outside the 24-hour customer-service window and %s", what,
             job->message->kind == PV_OUTBOX_TICKET ? "no template is set ([whatsapp] ticket-template): it cannot be sent"
             : job->message->kind == PV_OUTBOX_CODE ? "no template is set ([whatsapp] code-template): it cannot be sent"
                                                    : "only a template may be sent then: it cannot be sent");
  return FALSE;
}

static void
whatsapp_answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *reason = NULL;
  JsonObject *reply;
  Outcome outcome;

  if (job->self == NULL)
    return job_free (job);
  if (body == NULL)
    {
      g_autofree char *text = g_strdup_printf ("no answer: %s", error->message);
      return finish_failed (job, text, TRUE);
    }
  reply = reply_object (parser, body);
  outcome = graph_outcome (soup_message_get_status (msg), reply, &reason);
  if (outcome == OUTCOME_SENT && job->step == STEP_UPLOAD)
    {
      const char *media = pv_json_member_string (reply, "id");
      g_autoptr (GError) store_error = NULL;

      if (media == NULL)
        return finish_failed (job, "the media upload's answer has no id", TRUE);
      g_free (job->message->media_id);
      job->message->media_id = g_strdup (media);
      /* Kept, so a retry sends the image without uploading it again. */
      if (!pv_outbox_set_media (job->self->hub->store, job->message->id, media, &store_error))
        log_store_error (job->message, store_error);
      job->step = goes_by_template (job->self, job->channel, job->message) ? STEP_TEMPLATE : STEP_SEND;
      if (job->step == STEP_TEMPLATE && !can_use_template (job))
        return finish_failed (job, "outside the 24-hour window, and no template to send instead", FALSE);
      return job_step (job);
    }
  if (outcome == OUTCOME_SENT)
    {
      JsonArray *messages = reply && json_object_has_member (reply, "messages")
                                && JSON_NODE_HOLDS_ARRAY (json_object_get_member (reply, "messages"))
                              ? json_object_get_array_member (reply, "messages")
                              : NULL;
      JsonNode *first = messages && json_array_get_length (messages) > 0 ? json_array_get_element (messages, 0) : NULL;
      const char *id = first && JSON_NODE_HOLDS_OBJECT (first) ? pv_json_member_string (json_node_get_object (first), "id")
                                                               : NULL;

      return finish_sent (job, id);
    }
  if (outcome == OUTCOME_WINDOW && job->step == STEP_SEND)
    {
      if (!can_use_template (job))
        return finish_failed (job, reason, FALSE);
      job->step = STEP_TEMPLATE;
      return job_step (job);
    }
  if (outcome == OUTCOME_RATE_LIMIT)
    return finish_rate_limited (job, reason, retry_after (msg));
  if (outcome == OUTCOME_PAIR_LIMIT)
    return finish_pair_limited (job, reason, retry_after (msg));
  return finish_failed (job, reason, outcome == OUTCOME_RETRY);
}

static void
whatsapp_step (Job *job)
{
  PvHubOutbox *self = job->self;
  g_autoptr (SoupMessage) msg = NULL;

  if (job->step == STEP_UPLOAD)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) png = render_png (job->code, &error);
      g_autofree char *filename = g_strdup_printf ("ticket-%s.png", job->serial_text);
      SoupMultipart *form;

      if (png == NULL)
        return finish_failed (job, error->message, FALSE);
      form = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
      soup_multipart_append_form_string (form, "messaging_product", "whatsapp");
      soup_multipart_append_form_string (form, "type", "image/png");
      soup_multipart_append_form_file (form, "file", filename, "image/png", png);
      msg = graph_message (job, "media", form);
      soup_multipart_free (form);
    }
  else
    {
      g_autoptr (GBytes) body = whatsapp_body (job);

      msg = graph_message (job, "messages", NULL);
      if (msg != NULL)
        soup_message_set_request_body_from_bytes (msg, "application/json", body);
    }
  if (msg == NULL)
    return finish_failed (job, "[whatsapp] graph-url or phone-number-id does not make a URL", FALSE);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, job->cancellable, whatsapp_answered, job);
}

/* @text escaped for where a template puts it. */
static char *
escape_for (const char *text, gboolean json)
{
  GString *out;

  if (!json)
    return g_uri_escape_string (text, NULL, FALSE);
  out = g_string_new (NULL);
  for (const char *p = text; *p; p++)
    {
      guchar ch = (guchar) *p;

      if (ch == '"' || ch == '\\')
        g_string_append_printf (out, "\\%c", ch);
      else if (ch < 0x20)
        g_string_append_printf (out, "\\u%04x", ch);
      else
        g_string_append_c (out, (char) ch);
    }
  return g_string_free (out, FALSE);
}

/* Fills {to}, {to-digits}, {text} and {from} in @template; other braces
 * stay as they are. */
static char *
expand (const char *template, const char *to, const char *text, const char *from, gboolean json)
{
  const char *names[] = { "{to}", "{to-digits}", "{text}", "{from}" };
  const char *values[] = { to, to[0] == '+' ? to + 1 : to, text, from };
  GString *out = g_string_new (NULL);
  const char *p = template;

  while (*p)
    {
      gboolean matched = FALSE;

      for (guint i = 0; *p == '{' && i < G_N_ELEMENTS (names); i++)
        if (g_str_has_prefix (p, names[i]))
          {
            g_autofree char *escaped = escape_for (values[i], json);

            g_string_append (out, escaped);
            p += strlen (names[i]);
            matched = TRUE;
            break;
          }
      if (!matched)
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

static void
sms_answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *reason = NULL, *text = NULL;
  const char *const id_members[] = { "id", "message_id", "messageId", "sid" };
  guint status;
  JsonObject *reply;

  if (job->self == NULL)
    return job_free (job);
  if (body == NULL)
    {
      reason = g_strdup_printf ("no answer: %s", error->message);
      return finish_failed (job, reason, TRUE);
    }
  status = soup_message_get_status (msg);
  reply = reply_object (parser, body);
  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      for (guint i = 0; i < G_N_ELEMENTS (id_members); i++)
        {
          JsonNode *node = reply ? json_object_get_member (reply, id_members[i]) : NULL;

          if (node && JSON_NODE_HOLDS_VALUE (node))
            {
              text = json_node_get_value_type (node) == G_TYPE_STRING
                       ? g_strdup (json_node_get_string (node))
                       : g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
              break;
            }
        }
      return finish_sent (job, text);
    }
  {
    gsize len = 0;
    const char *data = g_bytes_get_data (body, &len);
    g_autofree char *answer = g_strndup (data ? data : "", MIN (len, 4 * MAX_REASON));

    text = g_strdup_printf ("HTTP %u%s%s", status, *answer ? ": " : "", answer);
    reason = clip_reason (text);
  }
  if (status == 429)
    return finish_rate_limited (job, reason, retry_after (msg));
  finish_failed (job, reason, status >= 500 || status == 408);
}

static void
sms_step (Job *job)
{
  Channel *c = job->channel;
  const PvOutboxMessage *m = job->message;
  /* A ticket by SMS: the caption and the code, which a desk or the web
   * page turns back into the QR. */
  g_autofree char *text = m->kind == PV_OUTBOX_TICKET ? g_strdup_printf ("%s\n%s", m->body, job->code)
                                                      : g_strdup (m->body);
  g_autofree char *url = expand (c->url_template, m->recipient, text, c->from, FALSE);
  gboolean json = strstr (c->content_type, "json") != NULL;
  g_autoptr (SoupMessage) msg = soup_message_new (c->method, url);

  if (msg == NULL)
    return finish_failed (job, "[sms] url-template does not make a URL", FALSE);
  if (c->auth_name != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), c->auth_name, c->auth_value);
  if (g_str_equal (c->method, "POST"))
    {
      const char *template = c->body_template ? c->body_template
                             : json           ? "{\"to\": \"{to}\", \"text\": \"{text}\"}"
                                              : "to={to}&text={text}";
      char *filled = expand (template, m->recipient, text, c->from, json);
      g_autoptr (GBytes) body = g_bytes_new_take (filled, strlen (filled));

      soup_message_set_request_body_from_bytes (msg, c->content_type, body);
    }
  soup_session_send_and_read_async (job->self->session, msg, G_PRIORITY_DEFAULT, job->cancellable, sms_answered, job);
}

/* A paid message that may not go: failed for good (a country the fair
 * does not send to), or held (a budget is spent: an admin may send it on
 * later). The log said so once for the day, not once a message. */
static void
finish_refused (Job *job, const char *reason, gboolean hold)
{
  PvHubOutbox *self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = describe (job->message);
  gboolean ok;

  ok = hold ? pv_outbox_hold (self->hub->store, job->message->id, reason, &error)
            : pv_outbox_mark_failed (self->hub->store, job->message->id, reason, FALSE, &self->backoff, NULL, NULL,
                                     &error);
  if (!ok)
    log_store_error (job->message, error);
  else
    g_debug ("Outbox: %s %s: %s", what, hold ? "held" : "failed", reason);
  job_done (job);
}

/* Whether the job's next step costs money: every SMS, and on WhatsApp a
 * template (a free-form message answers someone who wrote within the
 * day, which costs nothing and reaches only a number that proved itself
 * by writing). */
static gboolean
is_paid (const Job *job)
{
  return job->channel == &job->self->channels[CHANNEL_SMS] || job->step == STEP_TEMPLATE;
}

/* Counts a paid message, and lets it go if its country is one the fair
 * sends to and today's budgets are not spent; otherwise finishes the job
 * (FALSE). Every message passes here whoever queued it — the web, the
 * bot, a desk's request by sync, a volunteer's code —, so no door of the
 * hub can spend what the settings do not allow. */
static gboolean
charge (Job *job)
{
  PvHubOutbox *self = job->self;
  g_autofree char *prefix = NULL, *reason = NULL, *what = describe (job->message);
  g_autoptr (GError) error = NULL;
  PvHubOutboxReach reach = judge (self, job->message->recipient, &prefix);
  PvOutboxSpend outcome;
  Spend *spend = spend_for (self, prefix);
  gboolean *told;

  /* The fair's own people are not held back by what the public spent: a
   * volunteer's sign-in code goes (and counts) whatever the budgets say;
   * its country is checked all the same. The message, not its recipient,
   * is what is exempt: anyone can have a visitor's code or a ticket sent
   * to a volunteer's phone, and those count and are held like any. */
  if (reach == PV_HUB_OUTBOX_OVER_BUDGET && job->message->sign_in)
    reach = PV_HUB_OUTBOX_SENDS;
  outcome = reach == PV_HUB_OUTBOX_SENDS         ? PV_OUTBOX_SPEND_SENT
            : reach == PV_HUB_OUTBOX_NOT_ALLOWED ? PV_OUTBOX_SPEND_NOT_ALLOWED
                                                 : PV_OUTBOX_SPEND_OVER_BUDGET;

  job->charged = TRUE;
  spend->n[outcome]++;
  if (outcome == PV_OUTBOX_SPEND_SENT)
    self->day_sent++;
  if (!pv_outbox_spend_add (self->hub->store, self->day, prefix, outcome, &error))
    g_message ("Outbox: cannot count %s against today's budget: %s", what, error->message);
  if (reach == PV_HUB_OUTBOX_SENDS)
    return TRUE;

  if (reach == PV_HUB_OUTBOX_NOT_ALLOWED)
    {
      reason = g_strdup_printf ("%s is not among the countries this fair sends to ([outbox] countries: %s)", prefix,
                                self->countries_text);
      if (!spend->told_refused)
        {
          spend->told_refused = TRUE;
          g_message ("Outbox: no paid message goes to %s numbers, which [outbox] countries (%s) leaves out: %s and "
                     "any more today fail",
                     prefix, self->countries_text, what);
        }
      finish_refused (job, reason, FALSE);
      return FALSE;
    }
  if ((gint64) spend->n[PV_OUTBOX_SPEND_SENT] >= spend->limit)
    {
      reason = g_strdup_printf ("today's budget of paid messages to %s is spent (%" G_GINT64_FORMAT
                                " a day, [outbox] %s)",
                                prefix, spend->limit, spend->own_limit ? "prefix-limits" : "prefix-daily-limit");
      told = &spend->told_spent;
    }
  else
    {
      reason = g_strdup_printf ("today's budget of paid messages is spent (%" G_GINT64_FORMAT
                                " a day, [outbox] daily-limit)",
                                self->daily_limit);
      told = &self->told_daily;
    }
  if (!*told)
    {
      *told = TRUE;
      g_message ("Outbox: %s: %s and any more today are held (pravesh-ctl outbox --retry sends one on)", reason,
                 what);
    }
  finish_refused (job, reason, TRUE);
  return FALSE;
}

static void
job_step (Job *job)
{
  /* Money is spent here, and nowhere else. */
  if (!job->charged && is_paid (job) && !charge (job))
    return;
  if (job->channel == &job->self->channels[CHANNEL_WHATSAPP])
    whatsapp_step (job);
  else
    sms_step (job);
}

/* Starts sending a claimed message. */
static void
job_start (PvHubOutbox *self, Channel *c, PvOutboxMessage *message)
{
  Job *job = g_new0 (Job, 1);

  job->self = self;
  job->channel = c;
  job->message = message;
  job->cancellable = g_object_ref (self->cancellable);
  self->jobs = g_list_prepend (self->jobs, job);
  self->in_flight++;
  c->in_flight++;

  if (message->kind == PV_OUTBOX_TICKET)
    {
      g_auto (PvTicketInfo) info = { 0 };
      g_autoptr (GError) error = NULL;

      if (!pv_tickets_lookup (self->hub->store, message->issuer, message->serial, &info, &error))
        return finish_failed (job, error->message, TRUE);
      if (!info.known)
        return finish_failed (job, "the ticket is not known here", FALSE);
      if (info.revoked)
        return finish_failed (job, "the ticket is revoked", FALSE);
      job->code = g_strdup (info.code);
      job->serial_text = g_strdup (info.serial_text);
    }
  if (c == &self->channels[CHANNEL_WHATSAPP])
    {
      gboolean closed = goes_by_template (self, c, message);

      if (message->kind == PV_OUTBOX_TICKET && message->media_id == NULL)
        job->step = STEP_UPLOAD; /* then as @closed says */
      else
        job->step = closed ? STEP_TEMPLATE : STEP_SEND;
      if (job->step == STEP_TEMPLATE && !can_use_template (job))
        return finish_failed (job,
                              message->kind == PV_OUTBOX_TEXT
                                ? "outside the 24-hour window: only a template may be sent"
                                : "outside the 24-hour window, and no template to send instead",
                              FALSE);
    }
  job_step (job);
}

/* ---- the pump ---- */

static gboolean
timer_fired (gpointer user_data);

static void
refill (Channel *c)
{
  gint64 now = g_get_monotonic_time ();

  c->tokens = MIN (c->burst, c->tokens + (double) (now - c->refilled_at) * c->rate / G_USEC_PER_SEC);
  c->refilled_at = now;
}

/* Claims what each channel may send now and starts it; sets the timer for
 * the next moment something may be due. */
static void
pump (PvHubOutbox *self)
{
  PvStore *store = self->hub->store;
  gint64 now = pv_store_now (store), mono = g_get_monotonic_time ();
  gint64 wake = mono + self->poll_us;

  if (self->stopping)
    return;
  for (guint i = 0; i < N_CHANNELS; i++)
    {
      Channel *c = &self->channels[i];
      g_autoptr (GPtrArray) claimed = NULL;
      g_autoptr (GError) error = NULL;
      guint room;
      gint64 next;

      if (!c->configured)
        {
          if (!c->told_unconfigured && pv_outbox_next_due (store, c->name, NULL) != G_MAXINT64)
            {
              c->told_unconfigured = TRUE;
              g_message ("Outbox: messages wait for the %s channel, which is not configured (%s); they stay "
                         "queued",
                         c->name,
                         i == CHANNEL_WHATSAPP ? "[whatsapp] phone-number-id and access-token" : "[sms] url-template");
            }
          continue;
        }
      if (c->paused_until > now)
        {
          wake = MIN (wake, mono + (c->paused_until - now));
          continue;
        }
      refill (c);
      room = MIN ((guint) c->tokens, self->concurrency - MIN (self->in_flight, self->concurrency));
      if (room > 0)
        {
          if (!(claimed = pv_outbox_claim (store, c->name, now, room, &error)))
            {
              g_message ("Outbox: cannot read the queue: %s", error->message);
              continue;
            }
          for (guint j = 0; j < claimed->len; j++)
            {
              c->tokens -= 1;
              job_start (self, c, g_steal_pointer (&claimed->pdata[j]));
            }
        }
      if (claimed != NULL && claimed->len < room)
        next = pv_outbox_next_due (store, c->name, NULL);
      else
        next = now; /* maybe more due: when a token or a slot is free */
      if (next == G_MAXINT64)
        continue;
      if (next <= now)
        {
          /* A slot frees when a job ends, which pumps; a token comes in time. */
          if (self->in_flight < self->concurrency && c->tokens < 1)
            wake = MIN (wake, mono + (gint64) ((1 - c->tokens) * G_USEC_PER_SEC / c->rate) + 1);
        }
      else
        wake = MIN (wake, mono + (next - now));
    }
  if (self->timer_id != 0 && self->timer_at <= wake)
    return;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->timer_at = wake;
  self->timer_id = g_timeout_add ((guint) MAX (1, (wake - mono + 999) / 1000), timer_fired, self);
}

static gboolean
timer_fired (gpointer user_data)
{
  PvHubOutbox *self = user_data;

  self->timer_id = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

static gboolean
idle_pump (gpointer user_data)
{
  PvHubOutbox *self = user_data;

  self->idle_id = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_pump (PvHubOutbox *self)
{
  if (self->idle_id == 0 && !self->stopping)
    self->idle_id = g_idle_add (idle_pump, self);
}

/* The desks' requests that came by sync become messages. */
static void
take_deliveries (PvHubOutbox *self)
{
  g_autoptr (GError) error = NULL;
  guint queued = 0;

  if (!pv_outbox_take_deliveries (self->hub->store, &queued, &error))
    g_message ("Outbox: cannot take the delivery requests: %s", error->message);
  else if (queued > 0)
    g_message ("Outbox: %u ticket%s to send for the desks", queued, queued == 1 ? "" : "s");
}

static void
store_changed (PvStoreWatch *watch, gpointer user_data)
{
  PvHubOutbox *self = user_data;

  take_deliveries (self);
  schedule_pump (self);
}

/* ---- life ---- */

PvHubOutbox *
pv_hub_outbox_new (const PvHubContext *hub, GError **error)
{
  g_autoptr (PvHubOutbox) self = g_new0 (PvHubOutbox, 1);
  g_autoptr (GError) local = NULL;
  guint recovered = 0;

  self->hub = hub;
  self->cancellable = g_cancellable_new ();
  self->spend = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->session = soup_session_new_with_options ("user-agent", "pravesh-hub/" PACKAGE_VERSION " ", "max-conns", 64,
                                                 "max-conns-per-host", 32, "idle-timeout", 60, NULL);
  if (!read_settings (self, hub->config, error))
    return NULL;
  if (!pv_outbox_recover (hub->store, &recovered, error))
    return NULL;
  if (recovered > 0)
    g_message ("Outbox: %u message%s cut off by the last stop will be sent again", recovered,
               recovered == 1 ? "" : "s");
  for (guint i = 0; i < N_CHANNELS; i++)
    if (self->channels[i].configured)
      g_message ("Outbox: sending by %s, %g messages a second at most", self->channels[i].name,
                 self->channels[i].rate);
  roll_day (self);
  g_message ("Outbox: paid messages (SMS, WhatsApp templates) go to %s numbers, %" G_GINT64_FORMAT
             " a day at most",
             self->countries ? self->countries_text : "all", self->daily_limit);
  take_deliveries (self);
  self->changed_id = g_signal_connect (hub->watch, "changed", G_CALLBACK (store_changed), self);
  schedule_pump (self);
  return g_steal_pointer (&self);
}

void
pv_hub_outbox_kick (PvHubOutbox *self)
{
  /* Callers need not know whether the hub is still starting or stopping. */
  if (self != NULL)
    schedule_pump (self);
}

gboolean
pv_hub_outbox_is_configured (PvHubOutbox *self, const char *channel)
{
  Channel *c = find_channel (self, channel);

  return c != NULL && c->configured;
}

gboolean
pv_hub_outbox_can_reach_anyone (PvHubOutbox *self, const char *channel, PvOutboxKind kind)
{
  Channel *c = self ? find_channel (self, channel) : NULL;
  PvOutboxMessage probe = { .kind = kind };

  if (c == NULL || !c->configured)
    return FALSE;
  if (c == &self->channels[CHANNEL_SMS])
    return TRUE;
  return template_for (c, &probe) != NULL;
}

gboolean
pv_hub_outbox_resend_by_template (PvHubOutbox *self,
                                  const char *provider_id,
                                  const char *reason,
                                  gboolean *out_requeued,
                                  GError **error)
{
  Channel *c = &self->channels[CHANNEL_WHATSAPP];
  g_autoptr (PvOutboxMessage) m = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *what = NULL;

  *out_requeued = FALSE;
  if (!(m = pv_outbox_find_by_provider (self->hub->store, provider_id, &local)))
    {
      if (local == NULL)
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!g_str_equal (m->channel, c->name) || m->status != PV_OUTBOX_SENT || m->by_template
      || template_for (c, m) == NULL)
    return TRUE;
  if (!pv_outbox_requeue_by_template (self->hub->store, m->id, reason, error))
    return FALSE;
  what = describe (m);
  g_message ("Outbox: %s was refused outside the 24-hour window; it goes again as the template", what);
  *out_requeued = TRUE;
  schedule_pump (self);
  return TRUE;
}

PvHubOutboxReach
pv_hub_outbox_reach (PvHubOutbox *self, const char *phone)
{
  if (self == NULL)
    return PV_HUB_OUTBOX_SENDS;
  return judge (self, phone, NULL);
}

gboolean
pv_hub_outbox_sends_to (PvHubOutbox *self, const char *phone)
{
  return self == NULL || sends_to (self, phone);
}

const char *
pv_hub_outbox_get_countries (PvHubOutbox *self)
{
  return self != NULL ? self->countries_text : "any";
}

void
pv_hub_outbox_set_window_func (PvHubOutbox *self, PvHubOutboxWindowFunc func, gpointer user_data)
{
  self->window_func = func;
  self->window_data = user_data;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Today's paid messages per prefix and what is left of the budgets, from
 * memory: a scrape reads nothing but, once a day, the new day's row. */
static void
write_spend_metrics (PvHubOutbox *self, GString *out)
{
  static const char *const outcomes[PV_OUTBOX_N_SPENDS] = { "sent", "over_budget", "not_allowed" };
  g_autofree gpointer *prefixes = NULL;
  guint n = 0;

  roll_day (self);
  prefixes = g_hash_table_get_keys_as_array (self->spend, &n);
  qsort (prefixes, n, sizeof (gpointer), compare_strings);
  g_string_append (out, "# HELP pravesh_outbox_paid_today Paid messages (SMS, WhatsApp templates) on the event's "
                        "date so far, by destination prefix and outcome: sent, over_budget (held), not_allowed "
                        "(failed: [outbox] countries).\n"
                        "# TYPE pravesh_outbox_paid_today gauge\n");
  for (guint i = 0; i < n; i++)
    {
      Spend *spend = g_hash_table_lookup (self->spend, prefixes[i]);

      for (guint o = 0; o < PV_OUTBOX_N_SPENDS; o++)
        g_string_append_printf (out, "pravesh_outbox_paid_today{prefix=\"%s\",outcome=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                (const char *) prefixes[i], outcomes[o], spend->n[o]);
    }
  g_string_append (out, "# HELP pravesh_outbox_budget_remaining Paid messages today's budgets still allow: all "
                        "together (prefix=\"all\", [outbox] daily-limit) and per destination prefix.\n"
                        "# TYPE pravesh_outbox_budget_remaining gauge\n");
  g_string_append_printf (out, "pravesh_outbox_budget_remaining{prefix=\"all\"} %" G_GINT64_FORMAT "\n",
                          MAX (self->daily_limit - (gint64) self->day_sent, 0));
  for (guint i = 0; i < n; i++)
    {
      Spend *spend = g_hash_table_lookup (self->spend, prefixes[i]);

      g_string_append_printf (out, "pravesh_outbox_budget_remaining{prefix=\"%s\"} %" G_GINT64_FORMAT "\n",
                              (const char *) prefixes[i],
                              MAX (spend->limit - (gint64) spend->n[PV_OUTBOX_SPEND_SENT], 0));
    }
}

void
pv_hub_outbox_write_metrics (PvHubOutbox *self, GString *out)
{
  guint64 counts[PV_OUTBOX_N_STATUSES];

  if (pv_outbox_count (self->hub->store, counts, NULL))
    {
      g_string_append (out, "# HELP pravesh_outbox_messages Messages in the hub's outbox by status.\n"
                            "# TYPE pravesh_outbox_messages gauge\n");
      for (guint i = 0; i < PV_OUTBOX_N_STATUSES; i++)
        g_string_append_printf (out, "pravesh_outbox_messages{status=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                pv_outbox_status_to_string (i), counts[i]);
    }
  write_spend_metrics (self, out);
  g_string_append (out, "# HELP pravesh_outbox_sends_total What the outbox worker's sends came to.\n"
                        "# TYPE pravesh_outbox_sends_total counter\n");
  g_string_append_printf (out,
                          "pravesh_outbox_sends_total{outcome=\"sent\"} %" G_GUINT64_FORMAT "\n"
                          "pravesh_outbox_sends_total{outcome=\"retried\"} %" G_GUINT64_FORMAT "\n"
                          "pravesh_outbox_sends_total{outcome=\"failed\"} %" G_GUINT64_FORMAT "\n"
                          "pravesh_outbox_sends_total{outcome=\"rate_limited\"} %" G_GUINT64_FORMAT "\n",
                          self->sent, self->retried, self->failed, self->rate_limited);
}

static gboolean
drain_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
pv_hub_outbox_free (PvHubOutbox *self)
{
  if (self == NULL)
    return;
  self->stopping = TRUE;
  g_clear_signal_handler (&self->changed_id, self->hub->watch);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  /* Let the answers in flight arrive, for a moment: a message whose answer
   * never comes is sent again at the next start. */
  if (self->in_flight > 0)
    {
      gint64 deadline = g_get_monotonic_time () + DRAIN_US;
      guint tick = g_timeout_add (50, drain_tick, NULL);

      while (self->in_flight > 0 && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
      g_source_remove (tick);
    }
  g_cancellable_cancel (self->cancellable);
  for (GList *l = self->jobs; l != NULL; l = l->next)
    {
      Job *job = l->data;
      g_autoptr (GError) error = NULL;

      /* Its callback comes later, with no worker: it only frees the job. */
      job->self = NULL;
      if (!pv_outbox_requeue (self->hub->store, job->message->id, 0, NULL, &error))
        log_store_error (job->message, error);
    }
  g_clear_pointer (&self->jobs, g_list_free);
  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  for (guint i = 0; i < N_CHANNELS; i++)
    channel_clear (&self->channels[i]);
  g_strfreev (self->countries);
  g_free (self->countries_text);
  g_clear_pointer (&self->prefix_limits, g_ptr_array_unref);
  g_free (self->day);
  g_clear_pointer (&self->spend, g_hash_table_unref);
  g_free (self);
}
