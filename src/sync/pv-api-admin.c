/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-admin.c: the admin API's calls (see the header). Each builds its
 * request, makes one pv_api_call_async (), and reads the hub's JSON into
 * its struct here, so the paths and member names of the admin API are
 * spelled in this file alone on a device's side. */
#include "config.h"

#include "pv-api-admin.h"

#include <glib/gi18n-lib.h>

#include "pv-api-client.h"
#include "pv-error.h"
#include "pv-wire.h"

/* Reading an answer */

/* An integer member, or @fallback when it is absent, null or no integer. */
static gint64
int_member (JsonObject *object, const char *name, gint64 fallback)
{
  JsonNode *node = pv_json_member_of_type (object, name, G_TYPE_INT64);

  return node ? json_node_get_int (node) : fallback;
}

static gboolean
bool_member (JsonObject *object, const char *name, gboolean fallback)
{
  JsonNode *node = pv_json_member_of_type (object, name, G_TYPE_BOOLEAN);

  return node ? json_node_get_boolean (node) : fallback;
}

static char *
dup_string_member (JsonObject *object, const char *name)
{
  return g_strdup (pv_json_member_string (object, name));
}

static gpointer
made_no_sense (GError **error)
{
  g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("The hub’s answer made no sense"));
  return NULL;
}

/* What one call makes of the hub's answer: its result, or NULL and
 * @error. */
typedef gpointer (*ReadAnswer) (JsonObject *answer, GError **error);

typedef struct
{
  ReadAnswer read;
  GDestroyNotify free_result;
} Shape;

/* Every element of the array @name in @answer, each an object read by
 * @read_element (NULL: the answer makes no sense), into an array freed
 * with @free_element. */
static GPtrArray *
read_list (JsonObject *answer,
           const char *name,
           gpointer (*read_element) (JsonObject *element),
           GDestroyNotify free_element,
           GError **error)
{
  JsonArray *array = pv_json_member_array (answer, name);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (free_element);

  if (array == NULL)
    return made_no_sense (error);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *element = pv_json_element_object (array, i);
      gpointer item = element ? read_element (element) : NULL;

      if (item == NULL)
        return made_no_sense (error);
      g_ptr_array_add (list, item);
    }
  return g_steal_pointer (&list);
}

/* One call */

static void
answered_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  const Shape *shape = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = pv_api_call_finish (result, &error);
  gpointer read;

  if (answer == NULL)
    return g_task_return_error (task, g_steal_pointer (&error));
  if (!(read = shape->read (json_node_get_object (answer), &error)))
    return g_task_return_error (task, g_steal_pointer (&error));
  g_task_return_pointer (task, read, shape->free_result);
}

/* Calls @path with @body (NULL: a GET); the answer read as @shape says. */
static void
call (PvStore *store,
      SoupSession *session,
      const char *path,
      JsonBuilder *body,
      guint bound_ms,
      const Shape *shape,
      gpointer source_tag,
      GCancellable *cancellable,
      GAsyncReadyCallback callback,
      gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, (gpointer) shape, NULL);
  pv_api_call_async (store, session, NULL, path, body, bound_ms, cancellable, answered_cb, task);
}

static gpointer
finish (GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A change the hub agreed to, as the answer to a call that returns only
 * whether it did. */
static gpointer
read_agreed (JsonObject *answer, GError **error)
{
  return GINT_TO_POINTER (TRUE);
}

static const Shape AGREED = { read_agreed, NULL };

/* Volunteers */

void
pv_api_volunteer_free (PvApiVolunteer *volunteer)
{
  if (volunteer == NULL)
    return;
  g_free (volunteer->name);
  g_free (volunteer->phone);
  g_free (volunteer->role);
  g_free (volunteer->last_sign_in_device_name);
  g_free (volunteer);
}

static gpointer
read_volunteer (JsonObject *object)
{
  PvApiVolunteer *volunteer;
  JsonObject *last = pv_json_member_object (object, "last_sign_in");

  if (!pv_json_member_of_type (object, "id", G_TYPE_INT64))
    return NULL;
  volunteer = g_new0 (PvApiVolunteer, 1);
  volunteer->id = int_member (object, "id", 0);
  volunteer->name = dup_string_member (object, "name");
  volunteer->phone = dup_string_member (object, "phone");
  volunteer->role = dup_string_member (object, "role");
  volunteer->active = bool_member (object, "active", TRUE);
  volunteer->added_at = int_member (object, "added_at", 0);
  if (last != NULL)
    {
      volunteer->last_sign_in_at = int_member (last, "at", 0);
      volunteer->last_sign_in_device_name = dup_string_member (last, "device_name");
    }
  return volunteer;
}

static gpointer
read_volunteers (JsonObject *answer, GError **error)
{
  return read_list (answer, "volunteers", read_volunteer, (GDestroyNotify) pv_api_volunteer_free, error);
}

static const Shape VOLUNTEERS = { read_volunteers, (GDestroyNotify) g_ptr_array_unref };

void
pv_api_volunteers_list_async (PvStore *store,
                              SoupSession *session,
                              guint bound_ms,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  call (store, session, "/api/v1/volunteers", NULL, bound_ms, &VOLUNTEERS, pv_api_volunteers_list_async,
        cancellable, callback, user_data);
}

GPtrArray *
pv_api_volunteers_list_finish (GAsyncResult *result, GError **error)
{
  return finish (result, pv_api_volunteers_list_async, error);
}

void
pv_api_sign_in_free (PvApiSignIn *sign_in)
{
  if (sign_in == NULL)
    return;
  g_free (sign_in->name);
  g_free (sign_in->phone);
  g_free (sign_in->device_name);
  g_free (sign_in);
}

static gpointer
read_sign_in (JsonObject *object)
{
  PvApiSignIn *sign_in;

  if (!pv_json_member_of_type (object, "at", G_TYPE_INT64))
    return NULL;
  sign_in = g_new0 (PvApiSignIn, 1);
  sign_in->at = int_member (object, "at", 0);
  sign_in->volunteer = int_member (object, "volunteer", 0);
  sign_in->name = dup_string_member (object, "name");
  sign_in->phone = dup_string_member (object, "phone");
  sign_in->device = (guint) CLAMP (int_member (object, "device", 0), 0, G_MAXUINT16);
  sign_in->device_name = dup_string_member (object, "device_name");
  return sign_in;
}

static gpointer
read_sign_ins (JsonObject *answer, GError **error)
{
  return read_list (answer, "sign_ins", read_sign_in, (GDestroyNotify) pv_api_sign_in_free, error);
}

static const Shape SIGN_INS = { read_sign_ins, (GDestroyNotify) g_ptr_array_unref };

void
pv_api_sign_ins_list_async (PvStore *store,
                            SoupSession *session,
                            guint bound_ms,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  call (store, session, "/api/v1/volunteers/sign-ins", NULL, bound_ms, &SIGN_INS, pv_api_sign_ins_list_async,
        cancellable, callback, user_data);
}

GPtrArray *
pv_api_sign_ins_list_finish (GAsyncResult *result, GError **error)
{
  return finish (result, pv_api_sign_ins_list_async, error);
}

static gpointer
read_added (JsonObject *answer, GError **error)
{
  JsonNode *id = pv_json_member_of_type (answer, "id", G_TYPE_INT64);

  return id ? g_memdup2 (&(gint64){ json_node_get_int (id) }, sizeof (gint64)) : made_no_sense (error);
}

static const Shape ADDED = { read_added, g_free };

void
pv_api_volunteer_add_async (PvStore *store,
                            SoupSession *session,
                            const char *name,
                            const char *phone,
                            const char *role,
                            guint bound_ms,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (JsonBuilder) body = json_builder_new ();

  json_builder_begin_object (body);
  pv_json_add_string (body, "name", name);
  pv_json_add_string (body, "phone", phone);
  pv_json_add_string (body, "role", role);
  json_builder_end_object (body);
  call (store, session, "/api/v1/volunteers", body, bound_ms, &ADDED, pv_api_volunteer_add_async, cancellable,
        callback, user_data);
}

gboolean
pv_api_volunteer_add_finish (GAsyncResult *result, gint64 *out_id, GError **error)
{
  g_autofree gint64 *id = finish (result, pv_api_volunteer_add_async, error);

  if (id != NULL && out_id != NULL)
    *out_id = *id;
  return id != NULL;
}

void
pv_api_volunteer_set_active_async (PvStore *store,
                                   SoupSession *session,
                                   gint64 id,
                                   gboolean active,
                                   guint bound_ms,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (JsonBuilder) body = json_builder_new ();

  json_builder_begin_object (body);
  pv_json_add_int (body, "id", id);
  pv_json_add_bool (body, "active", active);
  json_builder_end_object (body);
  call (store, session, "/api/v1/volunteers/deactivate", body, bound_ms, &AGREED,
        pv_api_volunteer_set_active_async, cancellable, callback, user_data);
}

gboolean
pv_api_volunteer_set_active_finish (GAsyncResult *result, GError **error)
{
  return finish (result, pv_api_volunteer_set_active_async, error) != NULL;
}

/* Devices */

void
pv_api_device_free (PvApiDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->name);
  g_free (device->role);
  g_free (device->revoke_reason);
  g_free (device->url);
  g_free (device);
}

static gpointer
read_device (JsonObject *object)
{
  gint64 id = int_member (object, "id", -1);
  PvApiDevice *device;

  if (id < 0 || id > G_MAXUINT16)
    return NULL;
  device = g_new0 (PvApiDevice, 1);
  device->id = (guint) id;
  device->name = dup_string_member (object, "name");
  device->role = dup_string_member (object, "role");
  device->is_hub = bool_member (object, "hub", FALSE);
  device->revoked = bool_member (object, "revoked", FALSE);
  device->revoked_at = int_member (object, "revoked_at", 0);
  device->revoke_reason = dup_string_member (object, "revoke_reason");
  device->last_seen = int_member (object, "last_seen", 0);
  device->behind = int_member (object, "behind", -1);
  device->pending = int_member (object, "pending", -1);
  device->has_skew = pv_json_member_of_type (object, "skew_ms", G_TYPE_INT64) != NULL;
  device->skew_ms = int_member (object, "skew_ms", 0);
  device->url = dup_string_member (object, "url");
  return device;
}

typedef struct
{
  GPtrArray *devices;
  gint64 now;
} DeviceList;

static void
device_list_free (DeviceList *list)
{
  g_ptr_array_unref (list->devices);
  g_free (list);
}

static gpointer
read_devices (JsonObject *answer, GError **error)
{
  GPtrArray *devices = read_list (answer, "devices", read_device, (GDestroyNotify) pv_api_device_free, error);
  DeviceList *list;

  if (devices == NULL)
    return NULL;
  list = g_new0 (DeviceList, 1);
  list->devices = devices;
  list->now = int_member (answer, "now", 0);
  return list;
}

static const Shape DEVICES = { read_devices, (GDestroyNotify) device_list_free };

void
pv_api_devices_list_async (PvStore *store,
                           SoupSession *session,
                           guint bound_ms,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  call (store, session, "/api/v1/devices", NULL, bound_ms, &DEVICES, pv_api_devices_list_async, cancellable,
        callback, user_data);
}

GPtrArray *
pv_api_devices_list_finish (GAsyncResult *result, gint64 *out_now, GError **error)
{
  DeviceList *list = finish (result, pv_api_devices_list_async, error);
  GPtrArray *devices;

  if (list == NULL)
    return NULL;
  if (out_now != NULL)
    *out_now = list->now;
  devices = g_steal_pointer (&list->devices);
  g_free (list);
  return devices;
}

void
pv_api_device_revoke_async (PvStore *store,
                            SoupSession *session,
                            guint device,
                            const char *reason,
                            guint bound_ms,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (JsonBuilder) body = json_builder_new ();

  json_builder_begin_object (body);
  pv_json_add_int (body, "device", device);
  pv_json_add_string (body, "reason", reason);
  json_builder_end_object (body);
  call (store, session, "/api/v1/devices/revoke", body, bound_ms, &AGREED, pv_api_device_revoke_async,
        cancellable, callback, user_data);
}

gboolean
pv_api_device_revoke_finish (GAsyncResult *result, GError **error)
{
  return finish (result, pv_api_device_revoke_async, error) != NULL;
}

void
pv_api_invitation_free (PvApiInvitation *invitation)
{
  if (invitation == NULL)
    return;
  g_free (invitation->code);
  g_free (invitation->role);
  g_free (invitation->name);
  g_free (invitation->gate);
  g_free (invitation);
}

static gpointer
read_invitation (JsonObject *answer, GError **error)
{
  const char *code = pv_json_member_string (answer, "code");
  PvApiInvitation *invitation;

  /* Without it the dialog would show a QR that pairs nothing. */
  if (code == NULL || !g_str_has_prefix (code, "PVPAIR:"))
    return made_no_sense (error);
  invitation = g_new0 (PvApiInvitation, 1);
  invitation->code = g_strdup (code);
  invitation->role = dup_string_member (answer, "role");
  invitation->name = dup_string_member (answer, "name");
  invitation->gate = dup_string_member (answer, "gate");
  invitation->expires = int_member (answer, "expires", 0);
  return invitation;
}

static const Shape INVITATION = { read_invitation, (GDestroyNotify) pv_api_invitation_free };

void
pv_api_invite_async (PvStore *store,
                     SoupSession *session,
                     const char *role,
                     const char *name,
                     const char *gate,
                     guint bound_ms,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_autoptr (JsonBuilder) body = json_builder_new ();

  json_builder_begin_object (body);
  pv_json_add_string (body, "role", role);
  pv_json_add_string (body, "name", name);
  /* Left out, not null: the hub reads a null as a gate misnamed. */
  if (gate != NULL)
    pv_json_add_string (body, "gate", gate);
  json_builder_end_object (body);
  call (store, session, "/api/v1/invite", body, bound_ms, &INVITATION, pv_api_invite_async, cancellable, callback,
        user_data);
}

PvApiInvitation *
pv_api_invite_finish (GAsyncResult *result, GError **error)
{
  return finish (result, pv_api_invite_async, error);
}
