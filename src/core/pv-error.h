/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-error.h: the error domain of Pravesh core. Codes name what a person (or a
 * calling program) can do about the failure, the message says exactly what. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PV_ERROR (pv_error_quark ())

typedef enum
{
  PV_ERROR_MALFORMED,       /* input does not parse: fix the input */
  PV_ERROR_INVALID,         /* parses, but breaks a rule (bad value, bad flag) */
  PV_ERROR_NOT_FOUND,       /* a named thing (category, ticket, device) is absent */
  PV_ERROR_EXISTS,          /* creating something that is already there */
  PV_ERROR_SIGNATURE,       /* a signature or certificate does not verify */
  PV_ERROR_WRONG_EVENT,     /* data belongs to another event */
  PV_ERROR_CHAIN,           /* a record does not continue its device's hash chain */
  PV_ERROR_FORK,            /* two different records claim one (device, seq) */
  PV_ERROR_PERMISSION,      /* this device's role may not do that */
  PV_ERROR_STORE,           /* the SQLite file failed: disk, lock, corruption */
  PV_ERROR_NOT_INITIALIZED, /* the store holds no event yet */
} PvError;

GQuark pv_error_quark (void);

G_END_DECLS
