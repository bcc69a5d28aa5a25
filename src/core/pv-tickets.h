/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-tickets.h: issuing tickets on this device (signed offline, recorded in
 * the ledger, personal data kept apart), finding them again and revoking. */
#pragma once

#include <glib.h>

#include "pv-ticket-code.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_MAX_BULK_ISSUE 1000000

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

#define PV_PII_SALT_SIZE 16
#define PV_PII_DIGEST_SIZE 16

/* The salted digest of a visitor's name and phone that a ticket record
 * carries in place of them. */
void pv_tickets_pii_digest (const guint8 salt[PV_PII_SALT_SIZE],
                            const char *name,
                            const char *phone,
                            guint8 out[PV_PII_DIGEST_SIZE]);

/* Normalises a phone number to "+" and digits (8 to 15 digits; a 10-digit
 * number gets India's +91). PV_ERROR_INVALID for anything else. */
char *pv_normalize_phone (const char *phone, GError **error);

/* Issues @request->count tickets in one transaction. Returns an array of
 * PvIssuedTicket, or NULL with PV_ERROR_INVALID / NOT_FOUND / PERMISSION. */
GPtrArray *pv_tickets_issue (PvStore *store, const PvIssueRequest *request, GError **error);

gboolean pv_tickets_revoke (PvStore *store,
                            guint16 issuer,
                            guint32 serial,
                            const char *reason,
                            GError **error);

G_END_DECLS
