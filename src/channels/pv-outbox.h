/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-outbox.h: the hub's outbox — every message to a visitor's or a
 * volunteer's phone (a WhatsApp text, a ticket as a QR image, an SMS) is a
 * row in the hub's SQLite before anything is sent, so a crash or a
 * restart loses none; the hub's worker (src/hub/pv-hub-outbox.c) sends
 * them with retries and keeps each one's status for the control room.
 *
 * A row's life: queued (due from its next attempt time) → sending (claimed
 * by the worker) → sent (the provider took it) → delivered → read (the
 * provider's status reports); or failed (given up, with the reason), or
 * held (never sent unless an admin retries it). A row left in sending by
 * a crash is queued again at the next start: delivery is at least once,
 * and only a message whose answer the crash cut off can go out twice. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

typedef enum
{
  PV_OUTBOX_TEXT,   /* @body as it is */
  PV_OUTBOX_TICKET, /* the ticket's QR as an image, @body its caption (SMS: the text and the code) */
  PV_OUTBOX_CODE,   /* a one-time code: @body says it in words, @otp is the code alone (for a template) */
} PvOutboxKind;

typedef enum
{
  PV_OUTBOX_QUEUED,
  PV_OUTBOX_SENDING,
  PV_OUTBOX_SENT,
  PV_OUTBOX_DELIVERED,
  PV_OUTBOX_READ,
  PV_OUTBOX_FAILED,
  PV_OUTBOX_HELD,
  PV_OUTBOX_N_STATUSES
} PvOutboxStatus;

/* "queued", "sending", …, as stored (and "text", "ticket", "code"). */
const char *pv_outbox_status_to_string (PvOutboxStatus status);
gboolean pv_outbox_status_from_string (const char *text, PvOutboxStatus *out_status);
const char *pv_outbox_kind_to_string (PvOutboxKind kind);

/* Queues a message to @recipient (a normalised phone, "+919876543210")
 * on @channel ("whatsapp" or "sms"). For PV_OUTBOX_TICKET, @issuer and
 * @serial name a ticket this store holds. @out_id (optional) gets the
 * row's id. Does not send: the worker does (call pv_hub_outbox_kick () in
 * the hub, or let it find the row at its next look).
 * PV_ERROR_INVALID for an unknown channel, a recipient that is not a
 * normalised phone, or an empty text. */
gboolean pv_outbox_enqueue (PvStore *store,
                            const char *channel,
                            const char *recipient,
                            PvOutboxKind kind,
                            const char *body,
                            guint16 issuer,
                            guint32 serial,
                            gint64 *out_id,
                            GError **error);

/* Queues one-time code @otp (4 to 10 digits) to @recipient on @channel, as
 * pv_outbox_enqueue () does a text: @body is what SMS and a free-form
 * WhatsApp message say; a WhatsApp template (to a phone that has not
 * written to us) carries @otp alone. PV_ERROR_INVALID as above, and for an
 * @otp that is not digits. */
gboolean pv_outbox_enqueue_code (PvStore *store,
                                 const char *channel,
                                 const char *recipient,
                                 const char *body,
                                 const char *otp,
                                 gint64 *out_id,
                                 GError **error);

/* One row of the outbox. Times are µs since the epoch, 0 when none. */
typedef struct
{
  gint64 id;
  char *channel;
  char *recipient;
  PvOutboxKind kind;
  char *body;
  guint16 issuer; /* PV_OUTBOX_TICKET only */
  guint32 serial;
  PvOutboxStatus status;
  guint attempts; /* failed tries so far */
  gint64 created_at;
  gint64 updated_at;
  gint64 next_attempt_at; /* queued: not before */
  gint64 sent_at;
  char *last_error;        /* NULL when none */
  char *provider_id;       /* the provider's message id once sent, else NULL */
  char *media_id;          /* an uploaded image's id, else NULL */
  guint16 delivery_device; /* the delivery request it carries out, 0 when none */
  guint64 delivery_seq;
  char *otp;            /* PV_OUTBOX_CODE only */
  gboolean by_template; /* it goes as the channel's approved template, whatever the window */
  gboolean sign_in;     /* a volunteer's sign-in code (pv_volunteers_request_code () alone queues them) */
} PvOutboxMessage;

void pv_outbox_message_free (PvOutboxMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvOutboxMessage, pv_outbox_message_free)

/* The messages of @channel due at @now (queued, next attempt not after
 * @now), oldest first, at most @limit, marked sending in one transaction
 * (element-type PvOutboxMessage; empty when none). */
GPtrArray *pv_outbox_claim (PvStore *store, const char *channel, gint64 now, guint limit, GError **error);

/* The earliest next attempt among @channel's queued messages (@channel
 * NULL: any channel's), or G_MAXINT64 when none is queued. */
gint64 pv_outbox_next_due (PvStore *store, const char *channel, GError **error);

/* The provider took message @id: sent, with its id for the status
 * reports that follow (may be NULL when the provider gives none). */
gboolean pv_outbox_mark_sent (PvStore *store, gint64 id, const char *provider_id, GError **error);

/* Remembers the media id an image of message @id was uploaded as. */
gboolean pv_outbox_set_media (PvStore *store, gint64 id, const char *media_id, GError **error);

/* How long failures wait. The n-th retry (n = attempts after the failure,
 * from 1) waits base·2^(n-1), at most @cap_us, of which a random part (up
 * to half) is taken off so that messages failed together do not come back
 * together; the waits never shrink from one retry to the next. */
typedef struct
{
  guint max_attempts; /* give up after this many failures (≥ 1) */
  gint64 base_us;
  gint64 cap_us;
} PvOutboxBackoff;

/* The wait before retry @attempt (from 1) under @backoff, jitter drawn
 * from @random (0 ≤ @random < 1). */
gint64 pv_outbox_backoff_delay (const PvOutboxBackoff *backoff, guint attempt, double random);

/* Sending message @id failed with @reason. When @retryable and it has
 * failed fewer than @backoff->max_attempts times, it is queued again
 * after the backoff (*@out_status PV_OUTBOX_QUEUED, *@out_next the time);
 * otherwise it is failed for good (PV_OUTBOX_FAILED). */
gboolean pv_outbox_mark_failed (PvStore *store,
                                gint64 id,
                                const char *reason,
                                gboolean retryable,
                                const PvOutboxBackoff *backoff,
                                PvOutboxStatus *out_status,
                                gint64 *out_next,
                                GError **error);

/* Puts message @id back in the queue, due at @not_before, without
 * counting a failure: the provider asked us to slow down, or the worker
 * stopped before sending it. @reason (may be NULL) is kept as the last
 * error. */
gboolean pv_outbox_requeue (PvStore *store, gint64 id, gint64 not_before, const char *reason, GError **error);

/* A provider's report on the message it knows as @provider_id (a WhatsApp
 * "statuses" webhook: sent, delivered, read or failed). A status never goes
 * back (read stays read when a late "delivered" arrives) and failed
 * replaces only sent; @reason is kept with failed. *@out_found (optional)
 * says whether such a message is here; an unknown id is no error. */
gboolean pv_outbox_update_status (PvStore *store,
                                  const char *provider_id,
                                  PvOutboxStatus status,
                                  const char *reason,
                                  gboolean *out_found,
                                  GError **error);

/* The message the provider knows as @provider_id, or NULL — with no
 * error — when there is none. */
PvOutboxMessage *pv_outbox_find_by_provider (PvStore *store, const char *provider_id, GError **error);

/* The provider took message @id (sent) and then reported that it could
 * not be delivered as it was, but would be as an approved template
 * (WhatsApp's error 131047: the visitor's 24-hour window had closed): it
 * is queued again, due now, to go as the template from now on
 * (by_template), without a failure counted; @reason is kept.
 * PV_ERROR_NOT_FOUND when there is no such message, PV_ERROR_INVALID when
 * it is not sent or went as a template already (so a template that fails
 * the same way is not sent for ever). */
gboolean pv_outbox_requeue_by_template (PvStore *store, gint64 id, const char *reason, GError **error);

/* At the worker's start: the messages a crash left in sending are queued
 * again (their answer never came; see above). *@out_count (optional) is
 * how many. */
gboolean pv_outbox_recover (PvStore *store, guint *out_count, GError **error);

/* An admin asks for message @id to be sent again (a failed or held one):
 * queued, due now, its failures forgotten. PV_ERROR_NOT_FOUND when there
 * is no such message, PV_ERROR_INVALID when it is not failed or held. */
gboolean pv_outbox_retry (PvStore *store, gint64 id, GError **error);

/* The newest messages first, those with @status only when @status is not
 * NULL ("queued", "failed"…; PV_ERROR_INVALID for another word), at most
 * @limit (0: all) (element-type PvOutboxMessage). */
GPtrArray *pv_outbox_list (PvStore *store, const char *status, guint limit, GError **error);

/* The body of the newest message for @phone (written any way
 * pv_normalize_phone () takes): a volunteer's sign-in code, read by hand
 * where no provider sends them. NULL with PV_ERROR_NOT_FOUND when there is
 * none, PV_ERROR_INVALID for a bad phone. */
char *pv_outbox_newest (PvStore *store, const char *phone, GError **error);

/* How many messages are in each status: kept as they change (by triggers
 * of the outbox table, whoever writes it), so the cost is seven rows read,
 * whatever the outbox holds, and nothing written. */
gboolean pv_outbox_count (PvStore *store, guint64 counts[PV_OUTBOX_N_STATUSES], GError **error);

/* Message @id (being sent, or queued) is held — not sent unless an admin
 * retries it (pv_outbox_retry ()) — with @reason kept as its last error:
 * the day's budget for it was spent. PV_ERROR_NOT_FOUND when there is no
 * such message. */
gboolean pv_outbox_hold (PvStore *store, gint64 id, const char *reason, GError **error);

/* The country calling code @phone (normalised, "+447700900123", or a
 * prefix of one such as "+91" or "+1416") starts with, by ITU-T E.164's
 * assignments ("+44"; "+1" for every country of the North American plan),
 * or NULL when @phone is not "+" and digits, or too short to tell ("+8"). */
char *pv_outbox_calling_code (const char *phone);

/* What became of a paid message (an SMS, a WhatsApp template) the worker
 * was about to send, as the day's spending counts it. */
typedef enum
{
  PV_OUTBOX_SPEND_SENT,        /* handed to the provider */
  PV_OUTBOX_SPEND_OVER_BUDGET, /* held: the day's budget was spent */
  PV_OUTBOX_SPEND_NOT_ALLOWED, /* failed: a country the fair does not send to */
  PV_OUTBOX_N_SPENDS
} PvOutboxSpend;

/* "sent", "over-budget", "not-allowed", as stored. */
const char *pv_outbox_spend_to_string (PvOutboxSpend spend);

/* Counts one paid message to @prefix ("+91") with @spend on @day (the
 * event's date in its time zone, "2026-12-05"), durably: a restart does
 * not forget what a day spent. */
gboolean pv_outbox_spend_add (PvStore *store, const char *day, const char *prefix, PvOutboxSpend spend, GError **error);

/* What @day spent, per prefix: prefix → guint64[PV_OUTBOX_N_SPENDS]
 * (empty when nothing yet), NULL on a store error. */
GHashTable *pv_outbox_spend_read (PvStore *store, const char *day, GError **error);

/* Turns the delivery requests still queued (the desks' "send this
 * ticket", arrived by sync) into outbox messages, each exactly once: a
 * ticket message to the phone the hub holds for the ticket's visitor,
 * captioned with its serial, category and day. A request whose ticket has
 * not arrived yet waits; one for a revoked ticket, a visitor with no
 * phone, or a channel this hub does not know (a newer desk's, say) is
 * failed with the reason, so none waits for ever. A request's status then
 * follows its message's: "pending" while it waits in the outbox, then
 * "sent", "delivered", "read" or "failed" (a trigger of the outbox table
 * keeps them together).
 * *@out_queued (optional) is how many messages were queued. */
gboolean pv_outbox_take_deliveries (PvStore *store, guint *out_queued, GError **error);

/* "Pravesh ticket 3-000145 · General · 2026-12-05 · 2 people" for a ticket
 * this store holds; NULL with PV_ERROR_NOT_FOUND when it holds none. */
char *pv_outbox_ticket_caption (PvStore *store, guint16 issuer, guint32 serial, GError **error);

/* The messages that carry out the delivery requests of ticket
 * @issuer-@serial (desks' "send this ticket"), oldest first (element-type
 * PvOutboxMessage; empty when none yet): read through the requests, so
 * the cost is that ticket's few rows, whatever the outbox holds. */
GPtrArray *pv_outbox_list_for_ticket (PvStore *store, guint16 issuer, guint32 serial, GError **error);

/* Why message @message failed or is held, as a word a device turns into a
 * volunteer's words: "no-phone", "revoked", "not-reachable" (the number
 * cannot get such messages), "window" (a WhatsApp visitor who has not
 * written lately, and no template), "country", "budget", "setup" (the
 * provider refused the hub's own settings), "channel" (one this hub does
 * not send by), else "refused". Never the phone or the provider's text. */
const char *pv_outbox_failure_kind (const PvOutboxMessage *message);

/* "…3210": a phone for logs, which never show one whole. */
char *pv_outbox_mask_phone (const char *phone);
/* @text with every run of seven digits or more cut to its last four: a
 * provider's error, which may name the phone, fit for a log. */
char *pv_outbox_mask_digits (const char *text);

G_END_DECLS
