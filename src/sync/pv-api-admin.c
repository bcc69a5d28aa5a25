/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-admin.c: the admin API's calls (see the header). Each builds its
 * request, makes one pv_api_call_async (), and reads the hub's JSON into
 * its struct here, so the paths and member names of the admin API are
 * spelled in this file alone on a device's side. */
#include "config.h"

#include "pv-api-admin.h"

#include "pv-api-client.h"
#include "pv-api-private.h"
#include "pv-wire.h"

/* A change the hub agreed to, as the answer to a call that returns only
 * whether it did. */
static gpointer
read_agreed (JsonObject *answer, GError **error)
{
  return GINT_TO_POINTER (TRUE);
}

static const PvApiShape AGREED = { read_agreed, NULL };

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

/* A volunteer as the hub lists one; NULL when a member it always gives
 * is missing, or any is of another type, so that no export or page
 * shows half a volunteer. */
static gpointer
read_volunteer (JsonObject *object)
{
  PvApiVolunteer *volunteer;
  JsonObject *last = pv_json_member_object (object, "last_sign_in");

  if (!pv_json_member_of_type (object, "id", G_TYPE_INT64) || !pv_json_member_string (object, "name")
      || !pv_json_member_string (object, "role") || !_pv_api_member_may_be (object, "phone", G_TYPE_STRING)
      || !_pv_api_member_may_be (object, "active", G_TYPE_BOOLEAN)
      || !_pv_api_member_may_be (object, "added_at", G_TYPE_INT64))
    return NULL;
  /* Never signed in: null or left out (G_TYPE_NONE: no value allowed). */
  if (last == NULL && !_pv_api_member_may_be (object, "last_sign_in", G_TYPE_NONE))
    return NULL;
  if (last != NULL
      && (!pv_json_member_of_type (last, "at", G_TYPE_INT64) || !_pv_api_member_may_be (last, "device", G_TYPE_INT64)
          || !_pv_api_member_may_be (last, "device_name", G_TYPE_STRING)))
    return NULL;
  volunteer = g_new0 (PvApiVolunteer, 1);
  volunteer->id = _pv_api_int_member (object, "id", 0);
  volunteer->name = _pv_api_dup_string_member (object, "name");
  volunteer->phone = _pv_api_dup_string_member (object, "phone");
  volunteer->role = _pv_api_dup_string_member (object, "role");
  volunteer->active = _pv_api_bool_member (object, "active", TRUE);
  volunteer->added_at = _pv_api_int_member (object, "added_at", 0);
  if (last != NULL)
    {
      volunteer->last_sign_in_at = _pv_api_int_member (last, "at", 0);
      volunteer->last_sign_in_device = (guint) CLAMP (_pv_api_int_member (last, "device", 0), 0, G_MAXUINT16);
      volunteer->last_sign_in_device_name = _pv_api_dup_string_member (last, "device_name");
    }
  return volunteer;
}

static gpointer
read_volunteers (JsonObject *answer, GError **error)
{
  return _pv_api_read_list (answer, "volunteers", read_volunteer, (GDestroyNotify) pv_api_volunteer_free, error);
}

GPtrArray *
pv_api_volunteers_read (JsonNode *answer, GError **error)
{
  if (answer == NULL || !JSON_NODE_HOLDS_OBJECT (answer))
    return _pv_api_made_no_sense (error);
  return read_volunteers (json_node_get_object (answer), error);
}

static const PvApiShape VOLUNTEERS = { read_volunteers, (GDestroyNotify) g_ptr_array_unref };

void
pv_api_volunteers_list_async (PvStore *store,
                              SoupSession *session,
                              guint bound_ms,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  _pv_api_typed_call (store, session, NULL, "/api/v1/volunteers", NULL, bound_ms, &VOLUNTEERS, pv_api_volunteers_list_async,
                      cancellable, callback, user_data);
}

GPtrArray *
pv_api_volunteers_list_finish (GAsyncResult *result, GError **error)
{
  return _pv_api_typed_finish (result, pv_api_volunteers_list_async, error);
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
  sign_in->at = _pv_api_int_member (object, "at", 0);
  sign_in->volunteer = _pv_api_int_member (object, "volunteer", 0);
  sign_in->name = _pv_api_dup_string_member (object, "name");
  sign_in->phone = _pv_api_dup_string_member (object, "phone");
  sign_in->device = (guint) CLAMP (_pv_api_int_member (object, "device", 0), 0, G_MAXUINT16);
  sign_in->device_name = _pv_api_dup_string_member (object, "device_name");
  return sign_in;
}

static gpointer
read_sign_ins (JsonObject *answer, GError **error)
{
  return _pv_api_read_list (answer, "sign_ins", read_sign_in, (GDestroyNotify) pv_api_sign_in_free, error);
}

static const PvApiShape SIGN_INS = { read_sign_ins, (GDestroyNotify) g_ptr_array_unref };

void
pv_api_sign_ins_list_async (PvStore *store,
                            SoupSession *session,
                            guint bound_ms,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  _pv_api_typed_call (store, session, NULL, "/api/v1/volunteers/sign-ins", NULL, bound_ms, &SIGN_INS, pv_api_sign_ins_list_async,
                      cancellable, callback, user_data);
}

GPtrArray *
pv_api_sign_ins_list_finish (GAsyncResult *result, GError **error)
{
  return _pv_api_typed_finish (result, pv_api_sign_ins_list_async, error);
}

static gpointer
read_added (JsonObject *answer, GError **error)
{
  JsonNode *id = pv_json_member_of_type (answer, "id", G_TYPE_INT64);

  return id ? g_memdup2 (&(gint64){ json_node_get_int (id) }, sizeof (gint64)) : _pv_api_made_no_sense (error);
}

static const PvApiShape ADDED = { read_added, g_free };

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
  _pv_api_typed_call (store, session, NULL, "/api/v1/volunteers", body, bound_ms, &ADDED, pv_api_volunteer_add_async, cancellable,
                      callback, user_data);
}

gboolean
pv_api_volunteer_add_finish (GAsyncResult *result, gint64 *out_id, GError **error)
{
  g_autofree gint64 *id = _pv_api_typed_finish (result, pv_api_volunteer_add_async, error);

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
  _pv_api_typed_call (store, session, NULL, "/api/v1/volunteers/deactivate", body, bound_ms, &AGREED,
                      pv_api_volunteer_set_active_async, cancellable, callback, user_data);
}

gboolean
pv_api_volunteer_set_active_finish (GAsyncResult *result, GError **error)
{
  return _pv_api_typed_finish (result, pv_api_volunteer_set_active_async, error) != NULL;
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
  gint64 id = _pv_api_int_member (object, "id", -1);
  PvApiDevice *device;

  if (id < 0 || id > G_MAXUINT16)
    return NULL;
  device = g_new0 (PvApiDevice, 1);
  device->id = (guint) id;
  device->name = _pv_api_dup_string_member (object, "name");
  device->role = _pv_api_dup_string_member (object, "role");
  device->is_hub = _pv_api_bool_member (object, "hub", FALSE);
  device->revoked = _pv_api_bool_member (object, "revoked", FALSE);
  device->revoked_at = _pv_api_int_member (object, "revoked_at", 0);
  device->revoke_reason = _pv_api_dup_string_member (object, "revoke_reason");
  device->last_seen = _pv_api_int_member (object, "last_seen", 0);
  device->behind = _pv_api_int_member (object, "behind", -1);
  device->pending = _pv_api_int_member (object, "pending", -1);
  device->has_skew = pv_json_member_of_type (object, "skew_ms", G_TYPE_INT64) != NULL;
  device->skew_ms = _pv_api_int_member (object, "skew_ms", 0);
  device->url = _pv_api_dup_string_member (object, "url");
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
  GPtrArray *devices = _pv_api_read_list (answer, "devices", read_device, (GDestroyNotify) pv_api_device_free, error);
  DeviceList *list;

  if (devices == NULL)
    return NULL;
  list = g_new0 (DeviceList, 1);
  list->devices = devices;
  list->now = _pv_api_int_member (answer, "now", 0);
  return list;
}

static const PvApiShape DEVICES = { read_devices, (GDestroyNotify) device_list_free };

void
pv_api_devices_list_async (PvStore *store,
                           SoupSession *session,
                           guint bound_ms,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  _pv_api_typed_call (store, session, NULL, "/api/v1/devices", NULL, bound_ms, &DEVICES, pv_api_devices_list_async, cancellable,
                      callback, user_data);
}

GPtrArray *
pv_api_devices_list_finish (GAsyncResult *result, gint64 *out_now, GError **error)
{
  DeviceList *list = _pv_api_typed_finish (result, pv_api_devices_list_async, error);
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
  _pv_api_typed_call (store, session, NULL, "/api/v1/devices/revoke", body, bound_ms, &AGREED, pv_api_device_revoke_async,
                      cancellable, callback, user_data);
}

gboolean
pv_api_device_revoke_finish (GAsyncResult *result, GError **error)
{
  return _pv_api_typed_finish (result, pv_api_device_revoke_async, error) != NULL;
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
    return _pv_api_made_no_sense (error);
  invitation = g_new0 (PvApiInvitation, 1);
  invitation->code = g_strdup (code);
  invitation->role = _pv_api_dup_string_member (answer, "role");
  invitation->name = _pv_api_dup_string_member (answer, "name");
  invitation->gate = _pv_api_dup_string_member (answer, "gate");
  invitation->expires = _pv_api_int_member (answer, "expires", 0);
  return invitation;
}

static const PvApiShape INVITATION = { read_invitation, (GDestroyNotify) pv_api_invitation_free };

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
  _pv_api_typed_call (store, session, NULL, "/api/v1/invite", body, bound_ms, &INVITATION, pv_api_invite_async, cancellable, callback,
                      user_data);
}

PvApiInvitation *
pv_api_invite_finish (GAsyncResult *result, GError **error)
{
  return _pv_api_typed_finish (result, pv_api_invite_async, error);
}
