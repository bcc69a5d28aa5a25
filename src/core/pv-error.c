/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-error.c: registers the PV_ERROR quark. */
#include "pv-error.h"

/* clang-format off */
G_DEFINE_QUARK (pv-error-quark, pv_error)
/* clang-format on */
