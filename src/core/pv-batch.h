/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-batch.h: what one replica hands another — ledger records, the signed
 * heads that vouch for them and, for replicas allowed to hold it, the
 * personal data the ticket records carry only a digest of. A batch is
 * collected from a store for what another replica lacks (in pages that end
 * where a signature covers them) and applied by the one merge engine, which
 * a file-to-file merge and the network both use. The wire format lives in
 * the sync layer; nothing here knows of the network. */
#pragma once

#include <glib.h>

#include "pv-ledger.h"

G_BEGIN_DECLS

/* The most records one batch may hold; pages are smaller (see collect). */
#define PV_BATCH_MAX_RECORDS 100000
/* Records per page unless the caller asks otherwise. */
#define PV_BATCH_PAGE 5000

#define PV_PII_SALT_SIZE 16
#define PV_PII_DIGEST_SIZE 16

/* The salted digest of a visitor's name and phone that a ticket record
 * carries in place of them. */
void pv_person_digest (const guint8 salt[PV_PII_SALT_SIZE],
                       const char *name,
                       const char *phone,
                       guint8 out[PV_PII_DIGEST_SIZE]);

/* The personal data of one ticket, kept apart from the ledger. */
typedef struct
{
  guint16 issuer;
  guint32 serial;
  char *name;  /* UTF-8, "" when not given */
  char *phone; /* normalised, "" when not given */
  guint8 salt[PV_PII_SALT_SIZE];
} PvPerson;

PvPerson *pv_person_new (guint16 issuer,
                         guint32 serial,
                         const char *name,
                         const char *phone,
                         const guint8 salt[PV_PII_SALT_SIZE]);
PvPerson *pv_person_copy (const PvPerson *person);
void pv_person_free (PvPerson *person);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvPerson, pv_person_free)

typedef struct
{
  guint32 event_id;
  GPtrArray *records; /* element-type PvRecord, owned */
  GArray *heads;      /* element-type PvHead */
  GPtrArray *people;  /* element-type PvPerson, owned */
  gboolean more;      /* another page follows */
  /* every record's hash and body were checked: set by the wire parsers, so
   * applying does not check them twice (not by collect: a store file may
   * have been edited by hand) */
  gboolean checked;
} PvBatch;

PvBatch *pv_batch_new (guint32 event_id);
void pv_batch_free (PvBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvBatch, pv_batch_free)

/* Each of these copies what it is given. */
void pv_batch_add_record (PvBatch *batch, const PvRecord *record);
void pv_batch_add_head (PvBatch *batch, const PvHead *head);
void pv_batch_add_person (PvBatch *batch, const PvPerson *person);

typedef struct
{
  guint64 applied;
  guint64 duplicates;
  guint64 forks;
  guint64 unsigned_skipped; /* records no author's signature covers yet */
  guint64 people;
  guint64 people_refused; /* personal data no held ticket vouches for */
  /* authors whose records were refused and left out, and why (the first) */
  guint refused_authors;
  char refused_reason[256];
} PvMergeStats;

/* Adds @from's counts to @into (the first reason stays). */
void pv_merge_stats_add (PvMergeStats *into, const PvMergeStats *from);

/* What @store holds beyond @vector (device id → guint64 * highest seq, as
 * pv_ledger_version_vector() gives; NULL for everything), in canonical
 * order, about @limit records (0 for PV_BATCH_PAGE): each author's records
 * run on to the next point its signature covers, so the batch carries one
 * head per author that vouches for all of its records. Heads of authors the
 * vector says are held come too, so a fork below it is seen. Personal data
 * of the batch's tickets comes when @with_people, and of the tickets in
 * @people_wanted (issuer << 32 | serial keys, as pv_batch_people_wanted()
 * gives; may be NULL) this replica holds. @batch->more tells
 * whether more is left. A device id whose vector entry is G_MAXINT64 is
 * left out (the receiver refused it). */
PvBatch *pv_batch_collect (PvStore *store,
                           GHashTable *vector,
                           guint limit,
                           gboolean with_people,
                           GArray *people_wanted,
                           GError **error);

/* Up to @max tickets whose person this replica lacks though their record
 * says there is one (element-type guint64: issuer << 32 | serial). */
GArray *pv_batch_people_wanted (PvStore *store, guint max, GError **error);

/* Applies @batch (which the wire layer has parsed, or a collect made) in one
 * transaction: only records covered by their author's verified head; forks
 * kept as evidence and that author's further records skipped; an author
 * whose head or records do not hold is left out whole (counted in @stats)
 * while the rest applies; personal data only when this replica may hold it
 * and a held ticket's digest vouches for it. When a fork cannot be proved
 * from @batch alone, @out_wanted (if not NULL) gets device id → guint64 *
 * the highest seq to ask for again from, so the next collect includes the
 * evidence. FALSE only when nothing could be applied (another event, a
 * store error). */
gboolean pv_batch_apply (PvStore *store,
                         const PvBatch *batch,
                         PvMergeStats *stats,
                         GHashTable **out_wanted,
                         GError **error);

/* Whether @store's role may hold names and phone numbers (gates may not). */
gboolean pv_replica_keeps_people (PvStore *store);

/* The records a version vector says are held (chains run from 1 up),
 * entries that mean "left out" not counted; saturates at G_MAXINT64. */
gint64 pv_vector_total (GHashTable *vector);

/* Sets each entry of @overlay (device → guint64 *) in @vector (copied);
 * TRUE when that changed anything. */
gboolean pv_vector_overlay (GHashTable *vector, GHashTable *overlay);

/* What a puller adjusts in its vector from page to page, after what
 * pv_batch_apply() said it wants: authors refused or forked are left
 * out for the rest of the pull; a history to prove a fork is asked for once. */
typedef struct _PvPullPlan PvPullPlan;
PvPullPlan *pv_pull_plan_new (void);
void pv_pull_plan_free (PvPullPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvPullPlan, pv_pull_plan_free)
/* To set over the vector of the next request (owned by @plan, valid until
 * the next call). */
GHashTable *pv_pull_plan_next_overlay (PvPullPlan *plan);
/* TRUE when @wanted changed what the next request asks for. */
gboolean pv_pull_plan_update (PvPullPlan *plan, GHashTable *wanted);

/* Applies every record of @other that @store lacks, page by page, plus
 * personal data when @store's role may hold it: collect from @other, apply
 * here, until nothing is left. FALSE only when nothing could be merged. */
gboolean pv_batch_merge (PvStore *store, PvStore *other, PvMergeStats *stats, GError **error);

G_END_DECLS
