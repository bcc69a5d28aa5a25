/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-tickets.h: issuing tickets on this device (signed offline, recorded in
 * the ledger, personal data kept apart), finding them again — by serial,
 * phone or name, as a desk volunteer types into one box — with their scans
 * at the gates, revoking them, and asking the hub to send one to its
 * visitor. */
#pragma once

#include <glib.h>

#include "pv-records.h"
#include "pv-ticket-code.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_MAX_BULK_ISSUE 1000000
/* The longest name a ticket keeps, in bytes of UTF-8: 200 is 200 Latin
 * letters but only about 66 Devanagari ones (3 bytes each) or 50 emoji (4).
 * Forms that take a name check it against this as well as a count of
 * characters. */
#define PV_TICKET_NAME_MAX_BYTES 200
/* What a person is told: as many characters as always fit in those bytes
 * (Devanagari takes 3 a character); 4-byte ones (emoji) still meet the
 * byte limit sooner. */
#define PV_TICKET_NAME_MAX_CHARS (PV_TICKET_NAME_MAX_BYTES / 3)

typedef struct
{
  const char *category; /* name, case-insensitive */
  int day;              /* event day index, or -1 when the category decides */
  guint party;          /* 0 means 1 */
  guint count;          /* 0 means 1 */
  const char *name;     /* optional */
  const char *phone;    /* optional */
  const char *channel;  /* "desk", "web", "whatsapp", "import"; NULL = "desk" */
} PvIssueRequest;

typedef struct
{
  PvTicket ticket;
  char *code;
  char *serial; /* "3-000145" */
} PvIssuedTicket;

void pv_issued_ticket_free (PvIssuedTicket *issued);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvIssuedTicket, pv_issued_ticket_free)

/* Normalises a phone number to "+" and digits (8 to 15 digits; a 10-digit
 * number, or 11 with a leading 0, gets India's +91; a leading "00", the
 * international prefix, is "+"), so one number has one key however it is
 * written. PV_ERROR_INVALID for anything else, and for "+0…": no country
 * code starts with 0. */
char *pv_normalize_phone (const char *phone, GError **error);

/* Issues @request->count tickets in one transaction. Returns an array of
 * PvIssuedTicket, or NULL with PV_ERROR_INVALID / NOT_FOUND / PERMISSION. */
GPtrArray *pv_tickets_issue (PvStore *store, const PvIssueRequest *request, GError **error);

gboolean pv_tickets_revoke (PvStore *store,
                            guint16 issuer,
                            guint32 serial,
                            const char *reason,
                            GError **error);

/* What this replica knows of one ticket. A gate holds no names or phones,
 * and any replica may hold a revocation (or scans) of a ticket whose issue
 * record has not reached it yet. */
typedef struct
{
  guint16 issuer;
  guint32 serial;
  char *serial_text; /* "3-000145" */
  gboolean known;    /* the issue record is here; the fields below need it */
  guint8 category;   /* category id */
  guint8 day;        /* event day index, or PV_TICKET_DAY_NONE */
  guint16 party;
  char *channel;    /* "desk", "web", "whatsapp", "import" */
  gint64 issued_at; /* µs */
  char *code;
  gboolean revoked;
  gint64 revoked_at; /* µs */
  char *revoke_reason;
  char *name;  /* NULL when not given or not held here */
  char *phone; /* normalised; NULL when not given or not held here */
} PvTicketInfo;

void pv_ticket_info_clear (PvTicketInfo *info);
void pv_ticket_info_free (PvTicketInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PvTicketInfo, pv_ticket_info_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvTicketInfo, pv_ticket_info_free)

/* Fills @out, overwriting it, with what this replica holds of ticket
 * @issuer-@serial; the caller clears it after. TRUE with @out->known FALSE
 * when that is nothing of its issue; FALSE (and @out cleared) only on a
 * store error. */
gboolean pv_tickets_lookup (PvStore *store,
                            guint16 issuer,
                            guint32 serial,
                            PvTicketInfo *out,
                            GError **error);

/* The tickets a desk's search box finds for @text, newest first, at most
 * @limit (element-type PvTicketInfo; empty when none or @limit is 0):
 *  - a serial ("3-145", "3-000145") or a whole ticket code;
 *  - a phone number, written any way pv_normalize_phone() takes;
 *  - the last 4 or more digits of a phone, as a visitor reads them out
 *    (unless the text reads as a serial: "1-3145" is not "…3145");
 *  - part of a name, ignoring case and Unicode normal form ("asha" finds
 *    "Asha Verma", and either spelling of "क़" finds the other).
 * Every reading that fits is tried and the results pooled. Only tickets
 * whose issue record is here are found; a gate, which holds no people,
 * finds by serial only. Serials and phones are index seeks; a name is
 * looked for in every person held. */
GPtrArray *pv_tickets_search (PvStore *store,
                              const char *text,
                              guint limit,
                              GError **error);

/* The newest tickets issued by device @issuer (a desk's "recent
 * registrations"), newest first — by serial, which a device counts up,
 * whatever its clock said — at most @limit (element-type PvTicketInfo). */
GPtrArray *pv_tickets_recent (PvStore *store, guint16 issuer, guint limit, GError **error);

/* One scan of a ticket at a gate, as the control room follows it up. */
typedef struct
{
  guint16 device_id; /* the gate device that recorded it */
  guint64 seq;       /* of its record */
  gint64 at;         /* µs, the gate's clock */
  int day;           /* event day index */
  char *gate;
  char *device_name; /* NULL when the device's enrolment is not here */
  guint party;       /* people admitted or leaving */
  gboolean is_exit;
  gboolean offline;   /* decided from the gate's own replica */
  gboolean is_double; /* an entry beyond the ticket's allowance, found after sync */
  gboolean is_void;   /* by a device after its revocation: counts for nothing */
} PvScanInfo;

void pv_scan_info_free (PvScanInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvScanInfo, pv_scan_info_free)

/* Every entry and exit scan of ticket @issuer-@serial this replica holds,
 * in the canonical order that decides which entry counted (element-type
 * PvScanInfo; empty when it was never scanned or is unknown here). */
GPtrArray *pv_tickets_history (PvStore *store, guint16 issuer, guint32 serial, GError **error);

/* A request to send a ticket to its visitor, from the ledger, with where the
 * hub's outbox has got with it. */
typedef struct
{
  guint16 requested_by; /* device */
  guint64 seq;          /* of its record */
  guint16 issuer;
  guint32 serial;
  char *channel;
  gint64 requested_at; /* µs */
  char *status;        /* "queued"; only the hub's outbox moves it on, on the hub */
} PvDelivery;

void pv_delivery_free (PvDelivery *delivery);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvDelivery, pv_delivery_free)

/* Asks the hub to send ticket @issuer-@serial to its visitor by @channel
 * (PV_DELIVERY_WHATSAPP or PV_DELIVERY_SMS): a ledger record, so it reaches
 * the hub by sync whenever this device is next online. The record names the
 * ticket only; the hub sends to the phone it holds. Refused with
 * PV_ERROR_PERMISSION on a device that is not a desk, admin or hub;
 * PV_ERROR_INVALID for an unknown channel or a revoked ticket;
 * PV_ERROR_NOT_FOUND when the ticket is not known here or, on a replica
 * that holds people, its visitor gave no phone number. */
gboolean pv_tickets_request_delivery (PvStore *store,
                                      guint16 issuer,
                                      guint32 serial,
                                      const char *channel,
                                      GError **error);

/* The requests to send ticket @issuer-@serial, oldest first (element-type
 * PvDelivery). */
GPtrArray *pv_tickets_list_deliveries (PvStore *store,
                                       guint16 issuer,
                                       guint32 serial,
                                       GError **error);

G_END_DECLS
