/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-sign-in.c: the volunteers' sign-in calls (see the header). Each
 * builds its request, makes one pv_api_call_async (), and reads the hub's
 * JSON into its result here, so the paths and member names of sign-in are
 * spelled in this file alone on a device's side. */
#include "config.h"

#include "pv-api-sign-in.h"

#include "pv-api-client.h"
#include "pv-api-private.h"
#include "pv-wire.h"

/* Asking for a code */

typedef struct
{
  PvApiCodeWay way;
  char *channel;
} CodeAsked;

static void
code_asked_free (CodeAsked *asked)
{
  g_free (asked->channel);
  g_free (asked);
}

/* Every hub says "sent": one that says how it sent the code is believed
 * either way; one that says it sent without saying how is from before it
 * told, and said so whether it could send or not. */
static gpointer
read_code_asked (JsonObject *answer, GError **error)
{
  JsonNode *sent = pv_json_member_of_type (answer, "sent", G_TYPE_BOOLEAN);
  const char *channel = pv_json_member_string (answer, "channel");
  CodeAsked *asked;

  if (sent == NULL || !_pv_api_member_may_be (answer, "channel", G_TYPE_STRING))
    return _pv_api_made_no_sense (error);
  asked = g_new0 (CodeAsked, 1);
  if (!json_node_get_boolean (sent))
    asked->way = PV_API_CODE_NOT_SENT;
  else if (channel != NULL)
    {
      asked->way = PV_API_CODE_SENT;
      asked->channel = g_strdup (channel);
    }
  else
    asked->way = PV_API_CODE_NOT_KNOWN;
  return asked;
}

static const PvApiShape CODE_ASKED = { read_code_asked, (GDestroyNotify) code_asked_free };

/* {"phone": @phone} and, when given, {"code": @code}. */
static JsonBuilder *
sign_in_body (const char *phone, const char *code)
{
  JsonBuilder *body = json_builder_new ();

  json_builder_begin_object (body);
  pv_json_add_string (body, "phone", phone);
  if (code != NULL)
    pv_json_add_string (body, "code", code);
  json_builder_end_object (body);
  return body;
}

void
pv_api_sign_in_request_code_async (PvStore *store,
                                   SoupSession *session,
                                   const char *phone,
                                   guint bound_ms,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (JsonBuilder) body = sign_in_body (phone, NULL);

  _pv_api_typed_call (store, session, NULL, "/api/v1/otp", body, bound_ms, &CODE_ASKED,
                      pv_api_sign_in_request_code_async, cancellable, callback, user_data);
}

gboolean
pv_api_sign_in_request_code_finish (GAsyncResult *result, PvApiCodeWay *out_way, char **out_channel, GError **error)
{
  CodeAsked *asked = _pv_api_typed_finish (result, pv_api_sign_in_request_code_async, error);

  if (asked == NULL)
    return FALSE;
  if (out_way != NULL)
    *out_way = asked->way;
  if (out_channel != NULL)
    *out_channel = g_steal_pointer (&asked->channel);
  code_asked_free (asked);
  return TRUE;
}

/* Giving it back */

void
pv_api_signed_in_free (PvApiSignedIn *signed_in)
{
  if (signed_in == NULL)
    return;
  g_free (signed_in->name);
  g_free (signed_in->role);
  g_free (signed_in);
}

static gpointer
read_signed_in (JsonObject *answer, GError **error)
{
  PvApiSignedIn *signed_in;

  if (!pv_json_member_of_type (answer, "volunteer", G_TYPE_INT64) || !pv_json_member_string (answer, "name")
      || !pv_json_member_string (answer, "role"))
    return _pv_api_made_no_sense (error);
  signed_in = g_new0 (PvApiSignedIn, 1);
  signed_in->volunteer = _pv_api_int_member (answer, "volunteer", 0);
  signed_in->name = _pv_api_dup_string_member (answer, "name");
  signed_in->role = _pv_api_dup_string_member (answer, "role");
  signed_in->device = (guint) CLAMP (_pv_api_int_member (answer, "device", 0), 0, G_MAXUINT16);
  return signed_in;
}

static const PvApiShape SIGNED_IN = { read_signed_in, (GDestroyNotify) pv_api_signed_in_free };

void
pv_api_sign_in_verify_async (PvStore *store,
                             SoupSession *session,
                             const char *phone,
                             const char *code,
                             guint bound_ms,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (JsonBuilder) body = sign_in_body (phone, code);

  g_return_if_fail (code != NULL);
  _pv_api_typed_call (store, session, NULL, "/api/v1/otp/verify", body, bound_ms, &SIGNED_IN,
                      pv_api_sign_in_verify_async, cancellable, callback, user_data);
}

PvApiSignedIn *
pv_api_sign_in_verify_finish (GAsyncResult *result, GError **error)
{
  return _pv_api_typed_finish (result, pv_api_sign_in_verify_async, error);
}
