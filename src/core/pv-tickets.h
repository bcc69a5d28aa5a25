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
