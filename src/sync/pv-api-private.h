/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-private.h: what the typed calls of the hub's API share — one
 * pv_api_call_async () whose JSON answer is read into a struct before the
 * caller sees it, and the readers of members that a hub's answer may hold;
 * not for use outside sync. An answer without the shape a hub gives is
 * PV_ERROR_MALFORMED, "The hub’s answer made no sense". */
#pragma once

#include <json-glib/json-glib.h>

#include "pv-api-client.h"

G_BEGIN_DECLS

/* What one call makes of the hub's answer: its result, or NULL and
 * @error. */
typedef gpointer (*PvApiReadAnswer) (JsonObject *answer, GError **error);

typedef struct
{
  PvApiReadAnswer read;
  GDestroyNotify free_result;
} PvApiShape;

/* pv_api_call_async () of @path with @body (NULL: a GET); its answer read
 * as @shape says, for _pv_api_typed_finish () with the same @source_tag. */
void _pv_api_typed_call (PvStore *store,
                         SoupSession *session,
                         const char *hub_url,
                         const char *path,
                         JsonBuilder *body,
                         guint bound_ms,
                         const PvApiShape *shape,
                         gpointer source_tag,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
/* What @shape's reader made, transfer full; NULL with @error. */
gpointer _pv_api_typed_finish (GAsyncResult *result, gpointer source_tag, GError **error);

/* Sets PV_ERROR_MALFORMED; NULL, to return. */
gpointer _pv_api_made_no_sense (GError **error);

/* Whether member @name of @object is absent, null, or a value of @type:
 * an optional member a hub may leave out, but not send as another type. */
gboolean _pv_api_member_may_be (JsonObject *object, const char *name, GType type);
/* An integer member, or @fallback when it is absent, null or no integer. */
gint64 _pv_api_int_member (JsonObject *object, const char *name, gint64 fallback);
gboolean _pv_api_bool_member (JsonObject *object, const char *name, gboolean fallback);
/* A copy of a string member; NULL when it is absent, null or no string. */
char *_pv_api_dup_string_member (JsonObject *object, const char *name);

/* Every element of the array @name in @answer, each an object read by
 * @read_element (NULL: the answer makes no sense), into an array freed
 * with @free_element. */
GPtrArray *_pv_api_read_list (JsonObject *answer,
                              const char *name,
                              gpointer (*read_element) (JsonObject *element),
                              GDestroyNotify free_element,
                              GError **error);

G_END_DECLS
