/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-admin.c: the control room's admin API (see the header). The route
 * table has checked the path, the method and that the caller is an admin
 * device before a handler here runs; each reads its body, asks core and
 * answers. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "pv-devices.h"
#include "pv-error.h"
#include "pv-hub-admin.h"
#include "pv-hub-private.h"
#include "pv-pairing.h"
#include "pv-store-watch.h"
#include "pv-store.h"
#include "pv-sync-server.h"
#include "pv-ticket-code.h"
#include "pv-tickets.h"
#include "pv-volunteers.h"
#include "pv-wire.h"

/* Typed members: FALSE when absent or of another JSON type. */
static gboolean
member_string (JsonObject *root, const char *name, const char **out)
{
  JsonNode *node = pv_json_member_of_type (root, name, G_TYPE_STRING);

  return node && (*out = json_node_get_string (node), TRUE);
}

static gboolean
member_int (JsonObject *root, const char *name, gint64 *out)
{
  JsonNode *node = pv_json_member_of_type (root, name, G_TYPE_INT64);

  return node && (*out = json_node_get_int (node), TRUE);
}

static gboolean
member_bool (JsonObject *root, const char *name, gboolean *out)
{
  JsonNode *node = pv_json_member_of_type (root, name, G_TYPE_BOOLEAN);

  return node && (*out = json_node_get_boolean (node), TRUE);
}

static void
add_int_or_null (JsonBuilder *builder, const char *name, gboolean known, gint64 value)
{
  json_builder_set_member_name (builder, name);
  if (known)
    json_builder_add_int_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
reply_builder (SoupServerMessage *msg, JsonBuilder *builder)
{
  g_autoptr (GBytes) bytes = pv_json_builder_to_bytes (builder);

  pv_sync_reply_json (msg, bytes);
}

/* A store failure is the hub's trouble, not the asker's. */
static guint
status_for_error (const GError *error)
{
  if (error->domain != PV_ERROR)
    return SOUP_STATUS_SERVICE_UNAVAILABLE;
  switch (error->code)
    {
    case PV_ERROR_MALFORMED:
    case PV_ERROR_INVALID:
      return SOUP_STATUS_UNPROCESSABLE_ENTITY;
    case PV_ERROR_NOT_FOUND:
      return SOUP_STATUS_NOT_FOUND;
    case PV_ERROR_EXISTS:
      return SOUP_STATUS_CONFLICT;
    case PV_ERROR_PERMISSION:
      return SOUP_STATUS_FORBIDDEN;
    default:
      return SOUP_STATUS_SERVICE_UNAVAILABLE;
    }
}

/* GET: every enrolled device, the hub and revoked ones included, with what
 * the hub last heard from each. */
void
pv_hub_admin_devices (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  gint64 now = g_get_real_time ();

  if (!(devices = pv_devices_list (hub->store, &error)))
    return pv_sync_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  pv_sync_server_update_contacts (hub->sync);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "now", now);
  json_builder_set_member_name (builder, "devices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < devices->len; i++)
    {
      const PvDeviceStatus *d = devices->pdata[i];
      PvDeviceContact contact = { .behind = -1, .pending = -1 };
      gboolean called = pv_sync_server_lookup_contact (hub->sync, d->id, &contact);
      /* Last seen, as "pravesh-ctl device list" says it: its last call here
       * or its newest record (which may have come by a peer), whichever is
       * later; a record from a clock running fast does not count. */
      gint64 last_seen = MAX (d->last_seen, called ? contact.seen : 0);

      /* The hub is up: it is answering. */
      if (d->this_device)
        {
          last_seen = now;
          contact.behind = contact.pending = 0;
          contact.has_skew = TRUE;
          contact.skew_ms = 0;
          contact.url = hub->url;
        }
      json_builder_begin_object (builder);
      pv_json_add_int (builder, "id", d->id);
      pv_json_add_string (builder, "name", d->name);
      pv_json_add_string (builder, "role", d->role);
      /* The hub itself, which no admin may revoke. */
      pv_json_add_bool (builder, "hub", d->this_device);
      pv_json_add_bool (builder, "revoked", d->revoked);
      add_int_or_null (builder, "revoked_at", d->revoked, d->revoked_at);
      pv_json_add_string (builder, "revoke_reason", d->revoked ? d->revoke_reason : NULL);
      add_int_or_null (builder, "last_seen", last_seen > 0, last_seen);
      add_int_or_null (builder, "behind", contact.behind >= 0, contact.behind);
      add_int_or_null (builder, "pending", contact.pending >= 0, contact.pending);
      add_int_or_null (builder, "skew_ms", contact.has_skew, contact.skew_ms);
      pv_json_add_string (builder, "url", contact.url);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

#define MAX_REASON 200

/* {"device": 3, "reason": "Stolen laptop"}: a revocation record in the
 * hub's ledger, which sync takes to every replica. */
void
pv_hub_admin_revoke (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  const PvTokenInfo *who = &call->who;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  const PvDeviceInfo *device;
  const char *reason_text;
  JsonObject *root;
  gint64 id;

  if (!(root = pv_hub_small_json_body (msg, parser, "Expected {\"device\": 3, \"reason\": \"Stolen laptop\"}")))
    return;
  if (!member_int (root, "device", &id) || !member_string (root, "reason", &reason_text))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected {\"device\": 3, \"reason\": \"Stolen laptop\"}: a device id and a reason");
  reason = g_strstrip (g_strdup (reason_text));
  if (id < 1 || id > G_MAXUINT16 || !(device = pv_store_lookup_device (hub->store, (guint16) id)))
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such device");
  if (id == pv_store_get_device_id (hub->store))
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "That is the hub itself, which cannot be revoked");
  if (id == who->device_id)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "That is the device you are using; revoke it from another admin device");
  if (*reason == '\0' || g_utf8_strlen (reason, -1) > MAX_REASON)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "Say why the device is revoked, in at most 200 characters");
  /* Revoked already: that revocation stands, and a retry is answered alike. */
  if (device->revoked_at == G_MAXINT64)
    {
      if (!pv_devices_revoke (hub->store, (guint16) id, reason, &error))
        return pv_sync_reply_error (msg, status_for_error (error), error->message);
      /* Live sessions pass the record on, and end the revoked device's. */
      pv_store_watch_notify (hub->watch);
      g_message ("Device %u revoked by device %u", (guint) id, who->device_id);
    }
  /* Revoking reloads the device cache: look it up again. */
  device = pv_store_lookup_device (hub->store, (guint16) id);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "device", id);
  pv_json_add_int (builder, "revoked_at", device ? device->revoked_at : 0);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

#define MAX_INVITE_HOURS (30 * 24)

/* {"role": "gate", "name": "Gate 5", "gate": "Gate 5", "hours": 24} → a
 * one-time pairing code that points devices at this hub ("gate" optional:
 * the gate a gate station stands at). */
void
pv_hub_admin_invite (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  const PvTokenInfo *who = &call->who;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL, *text = NULL;
  PvPairingCode code = { 0 };
  const char *role_text, *name_text, *gate_text = NULL;
  gint64 hours = 24;
  JsonObject *root;
  PvRole role;

  if (!(root = pv_hub_small_json_body (msg, parser, "Expected {\"role\": \"gate\", \"name\": \"Gate 5\", \"hours\": 24}")))
    return;
  if (!member_string (root, "role", &role_text) || !member_string (root, "name", &name_text)
      || (json_object_has_member (root, "hours") && !member_int (root, "hours", &hours))
      || (json_object_has_member (root, "gate") && !member_string (root, "gate", &gate_text)))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected {\"role\": \"gate\", \"name\": \"Gate 5\", \"hours\": 24}: "
                                "role, name and gate (optional) are strings, hours (optional) a whole number");
  if (!pv_role_from_string (role_text, &role, NULL) || role == PV_ROLE_HUB)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "A device is invited as gate, desk or admin");
  if (hours < 1 || hours > MAX_INVITE_HOURS)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "An invitation holds for 1 to 720 hours (30 days)");
  name = g_strstrip (g_strdup (name_text));
  if (!pv_invite_create (hub->store, role, name, gate_text, hours * 3600 * G_USEC_PER_SEC, hub->url,
                         hub->pinned ? hub->fingerprint : NULL, &code, &error))
    return pv_sync_reply_error (msg, status_for_error (error), error->message);
  text = pv_pairing_code_format (&code);
  g_message ("Device %u invited a %s device", who->device_id, pv_role_to_string (role));
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "code", text);
  pv_json_add_string (builder, "role", pv_role_to_string (role));
  pv_json_add_string (builder, "name", name);
  if (code.gate != NULL)
    pv_json_add_string (builder, "gate", code.gate);
  pv_json_add_int (builder, "expires", code.expires_at);
  json_builder_end_object (builder);
  pv_pairing_code_clear (&code);
  reply_builder (msg, builder);
}

static void
list_volunteers (PvHub *hub, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = pv_volunteers_list (hub->store, &error);

  if (list == NULL)
    return pv_sync_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "volunteers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < list->len; i++)
    {
      const PvVolunteer *v = &g_array_index (list, PvVolunteer, i);

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "id", v->id);
      pv_json_add_string (builder, "name", v->name);
      pv_json_add_string (builder, "phone", v->phone);
      pv_json_add_string (builder, "role", pv_role_to_string (v->role));
      pv_json_add_bool (builder, "active", v->active);
      pv_json_add_int (builder, "added_at", v->added_at);
      json_builder_set_member_name (builder, "last_sign_in");
      if (v->last_sign_in_at != 0)
        {
          json_builder_begin_object (builder);
          pv_json_add_int (builder, "at", v->last_sign_in_at);
          pv_json_add_int (builder, "device", v->last_sign_in_device);
          pv_json_add_string (builder, "device_name", v->last_sign_in_device_name);
          json_builder_end_object (builder);
        }
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

#define VOLUNTEER_SHAPE "{\"name\": \"Asha\", \"phone\": \"98765 43210\", \"role\": \"desk\"}"

/* GET: every volunteer; POST {"name", "phone", "role"}: one more. */
void
pv_hub_admin_volunteers (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  const PvTokenInfo *who = &call->who;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *phone = NULL;
  const char *name, *phone_text, *role_text = "gate";
  JsonObject *root;
  gint64 id = 0;
  PvRole role;

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") == 0)
    return list_volunteers (hub, msg);
  if (!(root = pv_hub_small_json_body (msg, parser, "Expected " VOLUNTEER_SHAPE)))
    return;
  if (!member_string (root, "name", &name) || !member_string (root, "phone", &phone_text)
      || (json_object_has_member (root, "role") && !member_string (root, "role", &role_text)))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected " VOLUNTEER_SHAPE ": strings, the role gate, desk or admin");
  if (!pv_role_from_string (role_text, &role, NULL) || role == PV_ROLE_HUB)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "A volunteer’s role is gate, desk or admin");
  if (!(phone = pv_normalize_phone (phone_text, &error))
      || !pv_volunteers_add (hub->store, name, phone, role, &id, &error))
    return pv_sync_reply_error (msg, status_for_error (error), error->message);
  g_message ("Device %u added volunteer %" G_GINT64_FORMAT, who->device_id, id);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "id", id);
  pv_json_add_string (builder, "phone", phone);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

/* {"id": 1, "active": false}: a deactivated volunteer signs in nowhere. */
void
pv_hub_admin_deactivate (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  const PvTokenInfo *who = &call->who;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  gboolean active = FALSE;
  JsonObject *root;
  gint64 id;

  if (!(root = pv_hub_small_json_body (msg, parser, "Expected {\"id\": 1, \"active\": false}")))
    return;
  if (!member_int (root, "id", &id)
      || (json_object_has_member (root, "active") && !member_bool (root, "active", &active)))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected {\"id\": 1, \"active\": false}: a volunteer id, and true to reactivate");
  if (!pv_volunteers_set_active (hub->store, id, active, &error))
    return pv_sync_reply_error (msg, status_for_error (error), error->message);
  g_message ("Device %u %s volunteer %" G_GINT64_FORMAT, who->device_id, active ? "reactivated" : "deactivated", id);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "id", id);
  pv_json_add_bool (builder, "active", active);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

/* GET: the newest sign-ins first. */
void
pv_hub_admin_sign_ins (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = NULL;

  if (!(list = pv_volunteers_sign_ins (hub->store, PV_SIGN_INS_MAX, &error)))
    return pv_sync_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sign_ins");
  json_builder_begin_array (builder);
  for (guint i = 0; i < list->len; i++)
    {
      const PvSignIn *s = &g_array_index (list, PvSignIn, i);

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "at", s->at);
      pv_json_add_int (builder, "volunteer", s->volunteer_id);
      pv_json_add_string (builder, "name", s->name);
      pv_json_add_string (builder, "phone", s->phone);
      pv_json_add_int (builder, "device", s->device_id);
      pv_json_add_string (builder, "device_name", s->device_name);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}