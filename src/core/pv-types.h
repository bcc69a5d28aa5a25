/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-types.h: forward declarations and small enums shared by every core module,
 * so headers can name each other's types without including each other. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PvStore PvStore;
typedef struct _PvEvent PvEvent;
typedef struct _PvCategory PvCategory;
typedef struct _PvTicket PvTicket;
typedef struct _PvDeviceCert PvDeviceCert;
typedef struct _PvRecord PvRecord;
typedef struct _PvDecision PvDecision;

/* Hybrid logical clock time stamp: wall milliseconds << 16 | counter. */
typedef guint64 PvHlc;

/* Ed25519 sizes, repeated here so headers need not include sodium.h. */
#define PV_PUBLIC_KEY_SIZE 32
#define PV_SECRET_KEY_SIZE 64
#define PV_SIGNATURE_SIZE 64
#define PV_HASH_SIZE 32

typedef enum
{
  PV_ROLE_GATE = 1,
  PV_ROLE_DESK = 2,
  PV_ROLE_ADMIN = 3,
  PV_ROLE_HUB = 4,
} PvRole;

G_END_DECLS
