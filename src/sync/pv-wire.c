/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-wire.c: encoding and strict parsing of sync batches and version
 * vectors (the format is described in pv-wire.h). What arrives here comes
 * from the network, so the parser trusts nothing: sizes are bounded before
 * json-glib sees a byte, every member is checked for type and range before
 * use, and records whose hash does not match their contents are refused at
 * the door, so later layers only ever see well-formed records. */
#include "pv-wire.h"

#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-hlc.h"

/* Sections: encoding; parsing helpers; the parsers. */

/* Encoding */

static void
add_base64 (JsonBuilder *builder, const char *name, const guint8 *data, gsize len)
{
  g_autofree char *text = g_base64_encode (data, len);

  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, text);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

GBytes *
pv_json_to_bytes (JsonNode *root)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);
  return g_bytes_new_take (text, len);
}

GBytes *
pv_json_builder_to_bytes (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  return pv_json_to_bytes (root);
}

static char *
event_to_hex (guint32 event_id)
{
  return g_strdup_printf ("%08x", event_id);
}

GBytes *
pv_batch_to_json (const PvBatch *batch)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *event = NULL;

  g_return_val_if_fail (batch != NULL, NULL);

  event = event_to_hex (batch->event_id);
  json_builder_begin_object (builder);
  add_int (builder, "version", PV_BATCH_VERSION);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);
  json_builder_set_member_name (builder, "more");
  json_builder_add_boolean_value (builder, batch->more);

  json_builder_set_member_name (builder, "records");
  json_builder_begin_array (builder);
  for (guint i = 0; i < batch->records->len; i++)
    {
      const PvRecord *r = g_ptr_array_index (batch->records, i);
      gsize body_len = 0;
      const guint8 *body = g_bytes_get_data (r->body, &body_len);

      json_builder_begin_object (builder);
      add_int (builder, "device", r->device_id);
      add_int (builder, "seq", (gint64) r->seq);
      add_int (builder, "hlc", (gint64) r->hlc);
      add_int (builder, "kind", r->kind);
      add_base64 (builder, "body", body, body_len);
      add_base64 (builder, "prev", r->prev, PV_HASH_SIZE);
      add_base64 (builder, "hash", r->hash, PV_HASH_SIZE);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "heads");
  json_builder_begin_array (builder);
  for (guint i = 0; i < batch->heads->len; i++)
    {
      const PvHead *h = &g_array_index (batch->heads, PvHead, i);

      json_builder_begin_object (builder);
      add_int (builder, "device", h->device_id);
      add_int (builder, "seq", (gint64) h->seq);
      add_base64 (builder, "hash", h->hash, PV_HASH_SIZE);
      add_base64 (builder, "signature", h->signature, PV_SIGNATURE_SIZE);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  if (batch->people->len > 0)
    {
      json_builder_set_member_name (builder, "people");
      json_builder_begin_array (builder);
      for (guint i = 0; i < batch->people->len; i++)
        {
          const PvPerson *p = g_ptr_array_index (batch->people, i);

          json_builder_begin_object (builder);
          add_int (builder, "issuer", p->issuer);
          add_int (builder, "serial", p->serial);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, p->name);
          json_builder_set_member_name (builder, "phone");
          json_builder_add_string_value (builder, p->phone);
          add_base64 (builder, "salt", p->salt, PV_PII_SALT_SIZE);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);

  return pv_json_builder_to_bytes (builder);
}

static gint
compare_devices (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

GBytes *
pv_vector_to_json (guint32 event_id, GHashTable *vector)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *event = event_to_hex (event_id);
  g_autoptr (GArray) devices = g_array_new (FALSE, FALSE, sizeof (guint));
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (vector != NULL, NULL);

  /* Sorted, so one vector always encodes to the same bytes. */
  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint device = GPOINTER_TO_UINT (key);
      g_array_append_val (devices, device);
    }
  g_array_sort (devices, compare_devices);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);
  json_builder_set_member_name (builder, "vector");
  json_builder_begin_object (builder);
  for (guint i = 0; i < devices->len; i++)
    {
      guint device = g_array_index (devices, guint, i);
      const guint64 *seq = g_hash_table_lookup (vector, GUINT_TO_POINTER (device));
      char name[16];

      g_snprintf (name, sizeof name, "%u", device);
      add_int (builder, name, (gint64) *seq);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return pv_json_builder_to_bytes (builder);
}

/* Parsing helpers. Each takes the place of the object it reads from
 * ("records[3]", or "" at the top) for the messages. */

static const char *
describe_node (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_VALUE:
    default:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      return "an integer";
    case G_TYPE_DOUBLE:
      return "a number with a fraction or exponent";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    case G_TYPE_STRING:
      return "a string";
    default:
      return "a value of unknown type";
    }
}

G_GNUC_PRINTF (4, 5)
static void
refuse (GError **error, const char *where, const char *name, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (*where == '\0')
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: %s", name, what);
  else
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s.%s: %s", where, name, what);
}

/* The member @name, or NULL: with an error when it is required. */
static JsonNode *
get_member (JsonObject *object, const char *where, const char *name, gboolean required, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL && required)
    refuse (error, where, name, "missing");
  return node;
}

static gboolean
read_int (JsonObject *object,
          const char *where,
          const char *name,
          gint64 min,
          gint64 max,
          gint64 *out,
          GError **error)
{
  JsonNode *node = get_member (object, where, name, TRUE, error);
  gint64 value;

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      refuse (error, where, name, "expected an integer, found %s", describe_node (node));
      return FALSE;
    }
  value = json_node_get_int (node);
  /* json-glib wraps integers beyond 2^63 round to negative ones, so those
   * land here too. */
  if (value < min || value > max)
    {
      refuse (error, where, name,
              "%" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ")",
              value, min, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static const char *
read_string (JsonObject *object,
             const char *where,
             const char *name,
             gsize max_bytes,
             GError **error)
{
  JsonNode *node = get_member (object, where, name, TRUE, error);
  const char *text;
  gsize len;

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      refuse (error, where, name, "expected a string, found %s", describe_node (node));
      return NULL;
    }
  text = json_node_get_string (node);
  len = strlen (text);
  if (len > max_bytes)
    {
      refuse (error, where, name, "%" G_GSIZE_FORMAT " bytes, at most %" G_GSIZE_FORMAT " allowed",
              len, max_bytes);
      return NULL;
    }
  /* json-glib checks the input, but a lone surrogate escape ("\ud800")
   * decodes to bytes that are not UTF-8. */
  if (!g_utf8_validate (text, (gssize) len, NULL))
    {
      refuse (error, where, name, "not valid UTF-8");
      return NULL;
    }
  return text;
}

/* Decodes standard base64 into @out (room for @capacity bytes) and checks it
 * holds @min to @max bytes. */
static gboolean
read_base64 (JsonObject *object,
             const char *where,
             const char *name,
             gsize min,
             gsize max,
             guint8 *out,
             gsize capacity,
             gsize *out_len,
             GError **error)
{
  const char *text;
  gsize text_len, bin_len = 0;

  /* A little slack past @max so "33 bytes, expected 32" can be told. */
  text = read_string (object, where, name, sodium_base64_ENCODED_LEN (capacity, sodium_base64_VARIANT_ORIGINAL) - 1, error);
  if (text == NULL)
    return FALSE;
  text_len = strlen (text);
  if (text_len % 4 != 0
      || sodium_base642bin (out, capacity, text, text_len, NULL, &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
    {
      refuse (error, where, name, "not canonical base64 (RFC 4648 alphabet, padded, no spaces)");
      return FALSE;
    }
  if (bin_len < min || bin_len > max)
    {
      if (min == max)
        refuse (error, where, name, "%" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT, bin_len, min);
      else
        refuse (error, where, name, "%" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT,
                bin_len, min, max);
      return FALSE;
    }
  *out_len = bin_len;
  return TRUE;
}

static gboolean
read_fixed (JsonObject *object, const char *where, const char *name, guint8 *out, gsize size, GError **error)
{
  guint8 buffer[PV_SIGNATURE_SIZE + 3];
  gsize len = 0;

  g_assert (size + 3 <= sizeof buffer);
  if (!read_base64 (object, where, name, size, size, buffer, size + 3, &len, error))
    return FALSE;
  memcpy (out, buffer, size);
  return TRUE;
}

static gboolean
read_event (JsonObject *object, guint32 *out, GError **error)
{
  const char *text = read_string (object, "", "event", 16, error);
  guint32 value = 0;

  if (text == NULL)
    return FALSE;
  if (strlen (text) != 8)
    {
      refuse (error, "", "event", "expected 8 lowercase hexadecimal digits");
      return FALSE;
    }
  for (guint i = 0; i < 8; i++)
    {
      int digit = g_ascii_xdigit_value (text[i]);

      if (digit < 0 || g_ascii_isupper (text[i]))
        {
          refuse (error, "", "event", "expected 8 lowercase hexadecimal digits");
          return FALSE;
        }
      value = value << 4 | (guint32) digit;
    }
  *out = value;
  return TRUE;
}

/* The array @name with at most @max elements; NULL with no error when it
 * is optional and absent. */
static JsonArray *
read_array (JsonObject *object, const char *name, gboolean required, guint max, GError **error)
{
  JsonNode *node = get_member (object, "", name, required, error);
  JsonArray *array;

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      refuse (error, "", name, "expected an array, found %s", describe_node (node));
      return NULL;
    }
  array = json_node_get_array (node);
  if (json_array_get_length (array) > max)
    {
      refuse (error, "", name, "%u entries, at most %u allowed", json_array_get_length (array), max);
      return NULL;
    }
  return array;
}

static JsonObject *
element_object (JsonArray *array, guint i, const char *name, char *where, gsize where_size, GError **error)
{
  JsonNode *node = json_array_get_element (array, i);

  g_snprintf (where, where_size, "%s[%u]", name, i);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: expected an object, found %s",
                   where, describe_node (node));
      return NULL;
    }
  return json_node_get_object (node);
}

static gboolean
is_json_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* What json-glib 1.6 cannot be trusted with, found before it sees the input:
 * it parses recursively, so a few megabytes of "[[[[" would run it out of
 * stack; it cuts a string at an escaped NUL ("\u0000"), so "a\u0000b"
 * would arrive as "a"; and it takes "{} {}" without complaint, keeping the
 * last value and leaking the others. So: one object, nothing after it but
 * whitespace, bounded depth, no NUL. Brackets inside strings do not count. */
static gboolean
check_raw (const char *data, gsize len, const char *what, GError **error)
{
  gboolean in_string = FALSE;
  guint depth = 0;
  gsize i = 0;

  while (i < len && is_json_space (data[i]))
    i++;
  if (i == len || data[i] != '{')
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: expected a JSON object at the top", what);
      return FALSE;
    }
  for (; i < len; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\' && i + 5 < len && memcmp (data + i + 1, "u0000", 5) == 0)
            {
              g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                           "%s: a string holds a NUL character (\\u0000) at byte %" G_GSIZE_FORMAT,
                           what, i);
              return FALSE;
            }
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > PV_JSON_MAX_DEPTH)
            {
              g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: nested deeper than %u levels",
                           what, PV_JSON_MAX_DEPTH);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && --depth == 0)
        break;
    }
  /* The top-level object closed at @i (or the input ended first, which
   * json-glib reports). */
  for (i++; i < len; i++)
    if (!is_json_space (data[i]))
      {
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                     "%s: trailing data after the JSON object at byte %" G_GSIZE_FORMAT, what, i);
        return FALSE;
      }
  return TRUE;
}

/* Parses @data as one JSON object, within the limits every sync message
 * shares. Returns the parser that owns @out_root. */
static JsonParser *
parse_object (const char *data, gsize len, gsize max_bytes, const char *what, JsonObject **out_root, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (len > max_bytes || len > G_MAXSSIZE)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "%s: %" G_GSIZE_FORMAT " bytes, larger than the limit of %" G_GSIZE_FORMAT " bytes",
                   what, len, max_bytes);
      return NULL;
    }
  if (len == 0 || data == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: empty", what);
      return NULL;
    }
  if (!check_raw (data, len, what, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      /* json-glib may quote the offending bytes, which need not be UTF-8. */
      g_autofree char *message = g_utf8_make_valid (local_error->message, -1);

      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: not valid JSON: %s", what, message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "%s: expected a JSON object at the top, found %s",
                   what, root ? describe_node (root) : "nothing");
      return NULL;
    }
  *out_root = json_node_get_object (root);
  return g_steal_pointer (&parser);
}

/* The parsers */

/* What both framings check of a record once its fields are read: its hash
 * matches its contents, and its body is its kind's type in normal form. */
static gboolean
check_record (const PvRecord *record, const char *where, GError **error)
{
  g_autoptr (GVariant) value = NULL;
  guint8 hash[PV_HASH_SIZE];

  if (pv_record_kind_body_type (record->kind) == NULL)
    {
      refuse (error, where, "kind", "%u is not a record kind this program knows", (guint) record->kind);
      return FALSE;
    }
  /* Integrity before meaning: a record altered on the way is named as such,
   * whatever its body now looks like. */
  pv_record_compute_hash (record, hash);
  if (memcmp (hash, record->hash, PV_HASH_SIZE) != 0)
    {
      refuse (error, where, "hash", "does not match the record's contents");
      return FALSE;
    }
  value = pv_record_dup_body (record, NULL);
  if (value == NULL)
    {
      refuse (error, where, "body", "not a %s body of type %s in normal form", pv_record_kind_to_string (record->kind),
              g_variant_type_peek_string (pv_record_kind_body_type (record->kind)));
      return FALSE;
    }
  return TRUE;
}

/* A device's records come in rising seq order within a batch. */
static gboolean
check_order (GHashTable *last_seq, const PvRecord *record, const char *where, GError **error)
{
  guint64 *last = g_hash_table_lookup (last_seq, GUINT_TO_POINTER (record->device_id));

  if (last == NULL)
    {
      last = g_new (guint64, 1);
      g_hash_table_insert (last_seq, GUINT_TO_POINTER (record->device_id), last);
    }
  else if (record->seq <= *last)
    {
      refuse (error, where, "seq",
              "%" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT " of device %u: "
              "a device's records must come in increasing seq order",
              record->seq, *last, record->device_id);
      return FALSE;
    }
  *last = record->seq;
  return TRUE;
}

static PvRecord *
read_record (JsonObject *object, const char *where, GError **error)
{
  g_autoptr (PvRecord) record = g_new0 (PvRecord, 1);
  g_autofree guint8 *body = NULL;
  gint64 device, seq, hlc, kind;
  gsize body_len = 0;

  if (!read_int (object, where, "device", 1, G_MAXUINT16, &device, error)
      || !read_int (object, where, "seq", 1, G_MAXINT64, &seq, error)
      || !read_int (object, where, "hlc", 0, (gint64) PV_HLC_MAX, &hlc, error)
      || !read_int (object, where, "kind", 0, G_MAXUINT8, &kind, error))
    return NULL;
  record->device_id = (guint16) device;
  record->seq = (guint64) seq;
  record->hlc = (PvHlc) hlc;
  record->kind = (PvRecordKind) kind;

  body = g_malloc (PV_BATCH_MAX_BODY + 3);
  if (!read_base64 (object, where, "body", 0, PV_BATCH_MAX_BODY, body, PV_BATCH_MAX_BODY + 3, &body_len, error))
    return NULL;
  record->body = g_bytes_new (body, body_len);
  if (!read_fixed (object, where, "prev", record->prev, PV_HASH_SIZE, error)
      || !read_fixed (object, where, "hash", record->hash, PV_HASH_SIZE, error))
    return NULL;

  if (!check_record (record, where, error))
    return NULL;
  return g_steal_pointer (&record);
}

static gboolean
read_head (JsonObject *object, const char *where, PvHead *head, GError **error)
{
  gint64 device, seq;

  if (!read_int (object, where, "device", 1, G_MAXUINT16, &device, error)
      || !read_int (object, where, "seq", 1, G_MAXINT64, &seq, error)
      || !read_fixed (object, where, "hash", head->hash, PV_HASH_SIZE, error)
      || !read_fixed (object, where, "signature", head->signature, PV_SIGNATURE_SIZE, error))
    return FALSE;
  head->device_id = (guint16) device;
  head->seq = (guint64) seq;
  return TRUE;
}

static PvPerson *
read_person (JsonObject *object, const char *where, GError **error)
{
  guint8 salt[PV_PII_SALT_SIZE];
  const char *name, *phone;
  gint64 issuer, serial;

  if (!read_int (object, where, "issuer", 1, G_MAXUINT16, &issuer, error)
      || !read_int (object, where, "serial", 1, G_MAXUINT32, &serial, error)
      || !(name = read_string (object, where, "name", PV_PERSON_MAX_NAME, error))
      || !(phone = read_string (object, where, "phone", PV_PERSON_MAX_PHONE, error))
      || !read_fixed (object, where, "salt", salt, PV_PII_SALT_SIZE, error))
    return NULL;
  return pv_person_new ((guint16) issuer, (guint32) serial, name, phone, salt);
}

PvBatch *
pv_batch_new_from_json (const char *data,
                        gsize len,
                        gsize max_bytes,
                        GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GHashTable) last_seq = NULL;
  g_autoptr (GHashTable) head_devices = NULL;
  JsonArray *records, *heads, *people;
  JsonObject *root = NULL;
  JsonNode *more;
  guint32 event_id;
  gint64 version;
  char where[32];

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = parse_object (data, len, max_bytes, "batch", &root, error);
  if (parser == NULL)
    return NULL;

  if (!read_int (root, "", "version", G_MININT64, G_MAXINT64, &version, error))
    return NULL;
  if (version != PV_BATCH_VERSION)
    {
      refuse (error, "", "version", "%" G_GINT64_FORMAT " is not supported (expected %d)",
              version, PV_BATCH_VERSION);
      return NULL;
    }
  if (!read_event (root, &event_id, error))
    return NULL;
  batch = pv_batch_new (event_id);

  more = get_member (root, "", "more", FALSE, error);
  if (more != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (more) || json_node_get_value_type (more) != G_TYPE_BOOLEAN)
        {
          refuse (error, "", "more", "expected a boolean, found %s", describe_node (more));
          return NULL;
        }
      batch->more = json_node_get_boolean (more);
    }

  if (!(records = read_array (root, "records", TRUE, PV_BATCH_MAX_RECORDS, error))
      || !(heads = read_array (root, "heads", TRUE, PV_BATCH_MAX_HEADS, error)))
    return NULL;
  people = read_array (root, "people", FALSE, PV_BATCH_MAX_PEOPLE, error);
  if (people == NULL && json_object_has_member (root, "people"))
    return NULL;

  last_seq = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  for (guint i = 0; i < json_array_get_length (records); i++)
    {
      JsonObject *object = element_object (records, i, "records", where, sizeof where, error);
      PvRecord *record;

      if (object == NULL || !(record = read_record (object, where, error)))
        return NULL;
      g_ptr_array_add (batch->records, record);
      if (!check_order (last_seq, record, where, error))
        return NULL;
    }

  head_devices = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < json_array_get_length (heads); i++)
    {
      JsonObject *object = element_object (heads, i, "heads", where, sizeof where, error);
      PvHead head = { 0 };

      if (object == NULL || !read_head (object, where, &head, error))
        return NULL;
      if (!g_hash_table_add (head_devices, GUINT_TO_POINTER (head.device_id)))
        {
          refuse (error, where, "device", "a second head for device %u", head.device_id);
          return NULL;
        }
      g_array_append_val (batch->heads, head);
    }

  for (guint i = 0; people != NULL && i < json_array_get_length (people); i++)
    {
      JsonObject *object = element_object (people, i, "people", where, sizeof where, error);
      PvPerson *person;

      if (object == NULL || !(person = read_person (object, where, error)))
        return NULL;
      g_ptr_array_add (batch->people, person);
    }

  batch->checked = TRUE;
  return g_steal_pointer (&batch);
}

/* The "vector" member of @root: device id → guint64 * highest seq. */
static GHashTable *
read_vector (JsonObject *root, GError **error)
{
  g_autoptr (GHashTable) vector = NULL;
  g_autoptr (GList) names = NULL;
  JsonObject *entries;
  JsonNode *node = get_member (root, "", "vector", TRUE, error);

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      refuse (error, "", "vector", "expected an object, found %s", describe_node (node));
      return NULL;
    }
  entries = json_node_get_object (node);

  vector = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  names = json_object_get_members (entries);
  for (const GList *l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;
      guint64 device = 0;
      gint64 seq;

      /* Decimal without sign or leading zeros: one spelling per device, so
       * two keys cannot name the same one. */
      if (name[0] < '1' || name[0] > '9' || strlen (name) > 5
          || !g_ascii_string_to_unsigned (name, 10, 1, G_MAXUINT16, &device, NULL))
        {
          g_autofree char *shown = g_utf8_make_valid (name, MIN (strlen (name), 16));

          g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                       "vector.“%s”: not a device id (1 to 65535 in decimal)", shown);
          return NULL;
        }
      if (!read_int (entries, "vector", name, 0, G_MAXINT64, &seq, error))
        return NULL;
      g_hash_table_insert (vector, GUINT_TO_POINTER ((guint) device), g_memdup2 (&seq, sizeof (guint64)));
    }
  return g_steal_pointer (&vector);
}

GHashTable *
pv_vector_new_from_json (const char *data,
                         gsize len,
                         gsize max_bytes,
                         guint32 *out_event_id,
                         GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *root = NULL;
  GHashTable *vector;
  guint32 event_id;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = parse_object (data, len, max_bytes, "vector", &root, error);
  if (parser == NULL || !read_event (root, &event_id, error) || !(vector = read_vector (root, error)))
    return NULL;
  if (out_event_id)
    *out_event_id = event_id;
  return vector;
}

void
pv_pull_request_free (PvPullRequest *request)
{
  if (request == NULL)
    return;
  g_clear_pointer (&request->vector, g_hash_table_unref);
  g_clear_pointer (&request->people_wanted, g_array_unref);
  g_free (request);
}

GBytes *
pv_pull_request_to_json (const PvPullRequest *request)
{
  g_autoptr (GBytes) vector = pv_vector_to_json (request->event_id, request->vector);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;

  /* The vector's own encoding, with the request's members added. */
  if (!json_parser_load_from_data (parser, g_bytes_get_data (vector, NULL), (gssize) g_bytes_get_size (vector), NULL))
    g_return_val_if_reached (NULL);
  root = json_node_get_object (json_parser_get_root (parser));
  json_object_set_int_member (root, "device", request->device_id);
  json_object_set_int_member (root, "limit", request->limit);
  if (request->people_wanted != NULL && request->people_wanted->len > 0)
    {
      JsonArray *people = json_array_sized_new (request->people_wanted->len);

      for (guint i = 0; i < request->people_wanted->len; i++)
        {
          guint64 key = g_array_index (request->people_wanted, guint64, i);
          JsonArray *pair = json_array_sized_new (2);

          json_array_add_int_element (pair, (gint64) (key >> 32));
          json_array_add_int_element (pair, (gint64) (guint32) key);
          json_array_add_array_element (people, pair);
        }
      json_object_set_array_member (root, "people", people);
    }
  return pv_json_to_bytes (json_parser_get_root (parser));
}

PvPullRequest *
pv_pull_request_new_from_json (const char *data, gsize len, gsize max_bytes, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (PvPullRequest) request = g_new0 (PvPullRequest, 1);
  JsonObject *root = NULL;
  JsonArray *people;
  gint64 device = 0, limit = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = parse_object (data, len, max_bytes, "pull request", &root, error);
  if (parser == NULL || !read_event (root, &request->event_id, error)
      || !(request->vector = read_vector (root, error)))
    return NULL;
  if ((json_object_has_member (root, "device") && !read_int (root, "", "device", 0, G_MAXUINT16, &device, error))
      || (json_object_has_member (root, "limit")
          && !read_int (root, "", "limit", 0, PV_BATCH_MAX_RECORDS, &limit, error)))
    return NULL;
  request->device_id = (guint16) device;
  request->limit = (guint) limit;
  request->people_wanted = g_array_new (FALSE, FALSE, sizeof (guint64));
  if (!json_object_has_member (root, "people"))
    return g_steal_pointer (&request);
  if (!(people = read_array (root, "people", FALSE, PV_BATCH_MAX_PEOPLE, error)))
    return NULL;
  for (guint i = 0; i < json_array_get_length (people); i++)
    {
      JsonNode *node = json_array_get_element (people, i);
      JsonArray *pair;
      JsonNode *issuer, *serial;
      guint64 key;

      if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (pair = json_node_get_array (node)) != 2
          || !JSON_NODE_HOLDS_VALUE (issuer = json_array_get_element (pair, 0))
          || !JSON_NODE_HOLDS_VALUE (serial = json_array_get_element (pair, 1))
          || json_node_get_value_type (issuer) != G_TYPE_INT64 || json_node_get_value_type (serial) != G_TYPE_INT64
          || json_node_get_int (issuer) < 1 || json_node_get_int (issuer) > G_MAXUINT16
          || json_node_get_int (serial) < 1 || json_node_get_int (serial) > G_MAXUINT32)
        {
          g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                       "people[%u]: expected [issuer, serial] (1…65535, 1…4294967295)", i);
          return NULL;
        }
      key = ((guint64) json_node_get_int (issuer) << 32) | (guint64) json_node_get_int (serial);
      g_array_append_val (request->people_wanted, key);
    }
  return g_steal_pointer (&request);
}

/* The binary framing */

#define BINARY_TYPE "(yuba(qttyayayay)a(qtayay)a(qussay))"

static GVariant *
fixed_bytes (const guint8 *data, gsize len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

GBytes *
pv_batch_to_binary (const PvBatch *batch)
{
  g_auto (GVariantBuilder) records = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(qttyayayay)"));
  g_auto (GVariantBuilder) heads = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(qtayay)"));
  g_auto (GVariantBuilder) people = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(qussay)"));
  g_autoptr (GVariant) whole = NULL;

  for (guint i = 0; i < batch->records->len; i++)
    {
      const PvRecord *r = batch->records->pdata[i];

      g_variant_builder_add (&records, "(qtty@ay@ay@ay)", r->device_id, r->seq, (guint64) r->hlc, (guint8) r->kind,
                             g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, r->body, TRUE),
                             fixed_bytes (r->prev, PV_HASH_SIZE), fixed_bytes (r->hash, PV_HASH_SIZE));
    }
  for (guint i = 0; i < batch->heads->len; i++)
    {
      const PvHead *h = &g_array_index (batch->heads, PvHead, i);

      g_variant_builder_add (&heads, "(qt@ay@ay)", h->device_id, h->seq, fixed_bytes (h->hash, PV_HASH_SIZE),
                             fixed_bytes (h->signature, PV_SIGNATURE_SIZE));
    }
  for (guint i = 0; i < batch->people->len; i++)
    {
      const PvPerson *p = batch->people->pdata[i];

      g_variant_builder_add (&people, "(quss@ay)", p->issuer, p->serial, p->name, p->phone,
                             fixed_bytes (p->salt, PV_PII_SALT_SIZE));
    }
  whole = g_variant_ref_sink (g_variant_new ("(yub@a(qttyayayay)@a(qtayay)@a(qussay))", (guint8) PV_BATCH_VERSION,
                                             batch->event_id, batch->more, g_variant_builder_end (&records),
                                             g_variant_builder_end (&heads), g_variant_builder_end (&people)));
  /* Little-endian on the wire, whatever this machine is. */
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      g_autoptr (GVariant) swapped = g_variant_byteswap (whole);
      return g_variant_get_data_as_bytes (swapped);
    }
  return g_variant_get_data_as_bytes (whole);
}

static gboolean
read_binary_fixed (GVariant *array, guint8 *out, gsize size, const char *where, const char *name, GError **error)
{
  gsize len = 0;
  const guint8 *data = g_variant_get_fixed_array (array, &len, 1);

  if (len != size)
    return refuse (error, where, name, "%zu bytes, expected %zu", len, size), FALSE;
  memcpy (out, data, size);
  return TRUE;
}

static PvRecord *
read_binary_record (GVariant *child, const char *where, GError **error)
{
  g_autoptr (PvRecord) record = g_new0 (PvRecord, 1);
  g_autoptr (GVariant) body = g_variant_get_child_value (child, 4);
  g_autoptr (GVariant) prev = g_variant_get_child_value (child, 5);
  g_autoptr (GVariant) hash = g_variant_get_child_value (child, 6);
  guint64 seq, hlc;
  guint16 device;
  guint8 kind;

  /* Field by field: g_variant_get() would parse a format string per record. */
  {
    g_autoptr (GVariant) v0 = g_variant_get_child_value (child, 0), v1 = g_variant_get_child_value (child, 1);
    g_autoptr (GVariant) v2 = g_variant_get_child_value (child, 2), v3 = g_variant_get_child_value (child, 3);

    device = g_variant_get_uint16 (v0);
    seq = g_variant_get_uint64 (v1);
    hlc = g_variant_get_uint64 (v2);
    kind = g_variant_get_byte (v3);
  }
  if (device == 0)
    return refuse (error, where, "device", "0 is not a device"), NULL;
  if (seq == 0 || seq > G_MAXINT64)
    return refuse (error, where, "seq", "%" G_GUINT64_FORMAT " is out of range", seq), NULL;
  if (hlc > PV_HLC_MAX)
    return refuse (error, where, "hlc", "%" G_GUINT64_FORMAT " is out of range", hlc), NULL;
  if (g_variant_get_size (body) > PV_BATCH_MAX_BODY)
    return refuse (error, where, "body", "%zu bytes, at most %d", g_variant_get_size (body), PV_BATCH_MAX_BODY), NULL;
  record->device_id = device;
  record->seq = seq;
  record->hlc = (PvHlc) hlc;
  record->kind = (PvRecordKind) kind;
  record->body = g_variant_get_data_as_bytes (body);
  if (!read_binary_fixed (prev, record->prev, PV_HASH_SIZE, where, "prev", error)
      || !read_binary_fixed (hash, record->hash, PV_HASH_SIZE, where, "hash", error)
      || !check_record (record, where, error))
    return NULL;
  return g_steal_pointer (&record);
}

PvBatch *
pv_batch_new_from_binary (const guint8 *data, gsize len, gsize max_bytes, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GVariant) whole = NULL, records = NULL, heads = NULL, people = NULL;
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GHashTable) last_seq = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GHashTable) head_devices = g_hash_table_new (NULL, NULL);
  guint32 event_id;
  gboolean more;
  guint8 version;
  char where[32];

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (len > max_bytes)
    return refuse (error, "", "batch", "%zu bytes, more than the %zu taken", len, max_bytes), NULL;
  bytes = g_bytes_new (data, len);
  whole = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (BINARY_TYPE), bytes, FALSE));
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (whole);
      g_variant_unref (whole);
      whole = swapped;
    }
  /* One spelling per batch, as in the JSON: anything GVariant would have to
   * guess at is refused before a field is read. */
  if (!g_variant_is_normal_form (whole))
    return refuse (error, "", "batch", "not a batch of type %s in normal form", BINARY_TYPE), NULL;
  g_variant_get (whole, "(yub@a(qttyayayay)@a(qtayay)@a(qussay))", &version, &event_id, &more, &records, &heads,
                 &people);
  if (version != PV_BATCH_VERSION)
    return refuse (error, "", "version", "%u is not supported (expected %d)", version, PV_BATCH_VERSION), NULL;
  if (g_variant_n_children (records) > PV_BATCH_MAX_RECORDS || g_variant_n_children (heads) > PV_BATCH_MAX_HEADS
      || g_variant_n_children (people) > PV_BATCH_MAX_PEOPLE)
    return refuse (error, "", "batch", "more records, heads or people than a batch may hold"), NULL;
  batch = pv_batch_new (event_id);
  batch->more = more;
  for (gsize i = 0; i < g_variant_n_children (records); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (records, i);
      PvRecord *record;

      g_snprintf (where, sizeof where, "records[%zu]", i);
      if (!(record = read_binary_record (child, where, error)))
        return NULL;
      g_ptr_array_add (batch->records, record);
      if (!check_order (last_seq, record, where, error))
        return NULL;
    }
  for (gsize i = 0; i < g_variant_n_children (heads); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (heads, i);
      g_autoptr (GVariant) hash = g_variant_get_child_value (child, 2);
      g_autoptr (GVariant) signature = g_variant_get_child_value (child, 3);
      PvHead head = { 0 };

      g_snprintf (where, sizeof where, "heads[%zu]", i);
      g_variant_get_child (child, 0, "q", &head.device_id);
      g_variant_get_child (child, 1, "t", &head.seq);
      if (head.device_id == 0 || head.seq == 0 || head.seq > G_MAXINT64)
        return refuse (error, where, "device", "device %u, seq %" G_GUINT64_FORMAT ": out of range", head.device_id,
                       head.seq),
               NULL;
      if (!read_binary_fixed (hash, head.hash, PV_HASH_SIZE, where, "hash", error)
          || !read_binary_fixed (signature, head.signature, PV_SIGNATURE_SIZE, where, "signature", error))
        return NULL;
      if (!g_hash_table_add (head_devices, GUINT_TO_POINTER (head.device_id)))
        return refuse (error, where, "device", "a second head for device %u", head.device_id), NULL;
      g_array_append_val (batch->heads, head);
    }
  for (gsize i = 0; i < g_variant_n_children (people); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (people, i);
      g_autoptr (GVariant) salt_value = g_variant_get_child_value (child, 4);
      guint8 salt[PV_PII_SALT_SIZE];
      const char *name, *phone;
      guint16 issuer;
      guint32 serial;

      g_snprintf (where, sizeof where, "people[%zu]", i);
      g_variant_get_child (child, 0, "q", &issuer);
      g_variant_get_child (child, 1, "u", &serial);
      g_variant_get_child (child, 2, "&s", &name);
      g_variant_get_child (child, 3, "&s", &phone);
      if (issuer == 0 || serial == 0 || strlen (name) > PV_PERSON_MAX_NAME || strlen (phone) > PV_PERSON_MAX_PHONE)
        return refuse (error, where, "issuer", "a ticket or name out of range"), NULL;
      if (!read_binary_fixed (salt_value, salt, PV_PII_SALT_SIZE, where, "salt", error))
        return NULL;
      g_ptr_array_add (batch->people, pv_person_new (issuer, serial, name, phone, salt));
    }
  batch->checked = TRUE;
  return g_steal_pointer (&batch);
}

void
pv_json_add_string (JsonBuilder *builder, const char *member, const char *value)
{
  json_builder_set_member_name (builder, member);
  if (value)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
pv_json_add_int (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

void
pv_json_add_bool (JsonBuilder *builder, const char *member, gboolean value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, value);
}

void
pv_json_add_null (JsonBuilder *builder, const char *member)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_null_value (builder);
}

JsonNode *
pv_json_member_of_type (JsonObject *object, const char *name, GType type)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type ? node : NULL;
}

const char *
pv_json_member_string (JsonObject *object, const char *name)
{
  JsonNode *node = pv_json_member_of_type (object, name, G_TYPE_STRING);

  return node ? json_node_get_string (node) : NULL;
}

JsonObject *
pv_json_member_object (JsonObject *object, const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
pv_json_member_array (JsonObject *object, const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

JsonObject *
pv_json_element_object (JsonArray *array, guint i)
{
  JsonNode *node = array && i < json_array_get_length (array) ? json_array_get_element (array, i) : NULL;

  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}
