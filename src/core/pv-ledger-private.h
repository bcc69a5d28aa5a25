/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ledger-private.h: the ledger's reading helpers that the merge engine
 * (pv-batch.c) shares; not for use outside core. */
#pragma once

#include "pv-ledger.h"

G_BEGIN_DECLS

/* The newest record of @device: its seq (0 when none), hash (zeros) and
 * time stamp (0), when @out_hlc is not NULL. */
gboolean _pv_ledger_chain_head (PvStore *store,
                                guint16 device,
                                guint64 *out_seq,
                                guint8 out_hash[PV_HASH_SIZE],
                                PvHlc *out_hlc,
                                GError **error);

/* The hash held for (device, seq): @out_held FALSE when none. */
gboolean _pv_ledger_held_hash (PvStore *store,
                               guint16 device,
                               guint64 seq,
                               guint8 out_hash[PV_HASH_SIZE],
                               gboolean *out_held,
                               GError **error);

/* pv_ledger_apply(), where @checked says the record's hash and body were
 * checked already (by a batch's parser). */
gboolean _pv_ledger_apply_record (PvStore *store,
                                  const PvRecord *record,
                                  gboolean checked,
                                  gboolean *out_new,
                                  GError **error);

/* This device's signature over its record (@seq, @hash). */
gboolean _pv_ledger_sign_head_at (PvStore *store,
                                  guint64 seq,
                                  const guint8 hash[PV_HASH_SIZE],
                                  PvHead *out,
                                  GError **error);

G_END_DECLS
