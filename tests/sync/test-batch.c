/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-batch.c: the sync wire format. Batches built from the records of a
 * real event (tickets issued at the desk, scans at a gate) must survive
 * encoding field for field and rebuild an identical ledger on a fresh
 * replica; everything else — truncated, oversized, mistyped, tampered or
 * reordered input — must be refused with a message naming the field. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "pv-wire.h"
#include "test-util.h"

#define LIMIT (16 * 1024 * 1024)

static gboolean
collect_cb (const PvRecord *record, gpointer user_data, GError **error)
{
  g_ptr_array_add (user_data, pv_record_copy (record));
  return TRUE;
}

/* A few tickets issued at the admin desk and scanned at a gate, merged
 * back, so the ledger holds records of two devices and every kind a fair's
 * first morning writes. */
static void
make_history (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = NULL;
  g_autofree char *a = test_issue (f->admin, "Season pass", -1, 1);
  g_autofree char *b = test_issue (f->admin, "One-day", 0, 1);
  g_autofree char *c = test_issue (f->admin, "One-day", 0, 1);
  gint64 gate_clock = f->clock;

  gate = test_add_device (f->admin, f->dir, PV_ROLE_GATE, "gate-1", &gate_clock);
  gate_clock = test_time (gate, 0, 10, 5);
  g_assert_cmpint (test_scan (gate, a, "Gate 1", gate_clock, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (gate, b, "Gate 1", gate_clock + 1000, FALSE), ==, PV_VERDICT_ADMIT);
  g_assert_cmpint (test_scan (gate, b, "Gate 1", gate_clock + 2000, FALSE), ==, PV_VERDICT_ALREADY_USED);
  g_assert_cmpint (test_scan (gate, a, "Gate 1", gate_clock + 3000, TRUE), ==, PV_VERDICT_EXIT);
  g_assert_true (pv_batch_merge (f->admin, gate, NULL, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&gate));
}

static PvBatch *
make_batch (PvStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) heads = NULL;
  PvBatch *batch = pv_batch_new (TEST_EVENT_ID);
  guint8 salt[PV_PII_SALT_SIZE];

  g_assert_true (pv_records_foreach (store, collect_cb, batch->records, &error));
  g_assert_no_error (error);
  heads = pv_ledger_get_heads (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (heads->len, >=, 2);
  for (guint i = 0; i < heads->len; i++)
    pv_batch_add_head (batch, &g_array_index (heads, PvHead, i));

  for (guint i = 0; i < PV_PII_SALT_SIZE; i++)
    salt[i] = (guint8) (i * 17 + 3);
  {
    g_autoptr (PvPerson) p1 = pv_person_new (1, 1, "Asha Rao “अशा”", "+919812345678", salt);
    g_autoptr (PvPerson) p2 = pv_person_new (1, 2, "", "", salt);

    pv_batch_add_person (batch, p1);
    pv_batch_add_person (batch, p2);
  }
  batch->more = TRUE;
  return batch;
}

static void
assert_same_batch (const PvBatch *a, const PvBatch *b)
{
  g_assert_cmphex (a->event_id, ==, b->event_id);
  g_assert_cmpint (a->more, ==, b->more);
  g_assert_cmpuint (a->records->len, ==, b->records->len);
  for (guint i = 0; i < a->records->len; i++)
    {
      const PvRecord *x = a->records->pdata[i], *y = b->records->pdata[i];

      g_assert_cmpuint (x->device_id, ==, y->device_id);
      g_assert_cmpuint (x->seq, ==, y->seq);
      g_assert_cmpuint (x->hlc, ==, y->hlc);
      g_assert_cmpint (x->kind, ==, y->kind);
      g_assert_true (g_bytes_equal (x->body, y->body));
      g_assert_cmpmem (x->prev, PV_HASH_SIZE, y->prev, PV_HASH_SIZE);
      g_assert_cmpmem (x->hash, PV_HASH_SIZE, y->hash, PV_HASH_SIZE);
    }
  g_assert_cmpuint (a->heads->len, ==, b->heads->len);
  for (guint i = 0; i < a->heads->len; i++)
    {
      const PvHead *x = &g_array_index (a->heads, PvHead, i), *y = &g_array_index (b->heads, PvHead, i);

      g_assert_cmpuint (x->device_id, ==, y->device_id);
      g_assert_cmpuint (x->seq, ==, y->seq);
      g_assert_cmpmem (x->hash, PV_HASH_SIZE, y->hash, PV_HASH_SIZE);
      g_assert_cmpmem (x->signature, PV_SIGNATURE_SIZE, y->signature, PV_SIGNATURE_SIZE);
    }
  g_assert_cmpuint (a->people->len, ==, b->people->len);
  for (guint i = 0; i < a->people->len; i++)
    {
      const PvPerson *x = a->people->pdata[i], *y = b->people->pdata[i];

      g_assert_cmpuint (x->issuer, ==, y->issuer);
      g_assert_cmpuint (x->serial, ==, y->serial);
      g_assert_cmpstr (x->name, ==, y->name);
      g_assert_cmpstr (x->phone, ==, y->phone);
      g_assert_cmpmem (x->salt, PV_PII_SALT_SIZE, y->salt, PV_PII_SALT_SIZE);
    }
}

static PvBatch *
parse_ok (GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  PvBatch *batch = pv_batch_new_from_json (data, len, LIMIT, &error);

  g_assert_no_error (error);
  g_assert_nonnull (batch);
  return batch;
}

/* Refused as malformed, with @needle in the message. Parses a heap copy of
 * exactly @len bytes, so a read past the end shows under AddressSanitizer. */
static void
assert_refused_len (const char *text, gsize len, gsize max_bytes, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *copy = g_memdup2 (text, len);
  g_autoptr (PvBatch) batch = pv_batch_new_from_json (copy, len, max_bytes, &error);

  g_assert_null (batch);
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  if (needle && !strstr (error->message, needle))
    g_error ("“%s” does not name “%s”", error->message, needle);
}

static void
assert_refused (const char *text, const char *needle)
{
  assert_refused_len (text, strlen (text), LIMIT, needle);
}

/* With PV_WRITE_CORPUS=DIR set, the valid encodings the tests make are
 * saved there as seeds for fuzz-sync-batch (tests/fuzz/corpus-sync). */
static void
maybe_write_seed (const char *name, GBytes *bytes)
{
  const char *dir = g_getenv ("PV_WRITE_CORPUS");
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), NULL));
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = NULL, back = NULL, empty_back = NULL;
  g_autoptr (PvBatch) empty = pv_batch_new (0xdeadbeef);
  g_autoptr (GBytes) bytes = NULL, again = NULL, empty_bytes = NULL;
  gboolean kinds[PV_RECORD_DELIVERY_REQUESTED + 1] = { FALSE };

  make_history (f);
  batch = make_batch (f->admin);
  for (guint i = 0; i < batch->records->len; i++)
    kinds[((PvRecord *) batch->records->pdata[i])->kind] = TRUE;
  for (guint k = PV_RECORD_EVENT_CONFIG; k <= PV_RECORD_EXIT; k++)
    if (k != PV_RECORD_DEVICE_REVOKED && k != PV_RECORD_TICKET_REVOKED)
      g_assert_true (kinds[k]);

  bytes = pv_batch_to_json (batch);
  g_assert_true (g_utf8_validate (g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), NULL));
  back = parse_ok (bytes);
  assert_same_batch (batch, back);
  maybe_write_seed ("batch-real", bytes);

  /* One batch, one spelling. */
  again = pv_batch_to_json (back);
  g_assert_true (g_bytes_equal (bytes, again));

  /* No people: the member is left out, and that parses too. */
  empty_bytes = pv_batch_to_json (empty);
  g_assert_null (strstr (g_bytes_get_data (empty_bytes, NULL), "people"));
  empty_back = parse_ok (empty_bytes);
  maybe_write_seed ("batch-empty", empty_bytes);
  assert_same_batch (empty, empty_back);
}

/* The binary framing carries the same batch, in one spelling, and refuses
 * what the JSON refuses: a changed byte, a cut, another version. */
static void
test_binary (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = NULL, back = NULL, again_batch = NULL;
  g_autoptr (GBytes) bytes = NULL, json = NULL, again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *copy = NULL;
  gsize len;
  guint refused = 0;
  guint8 salt[PV_PII_SALT_SIZE] = { 7 };
  g_autoptr (PvPerson) person = pv_person_new (1, 1, "Asha Rao “अशा”", "+919812345678", salt);

  make_history (f);
  batch = make_batch (f->admin);
  pv_batch_add_person (batch, person);
  bytes = pv_batch_to_binary (batch);
  json = pv_batch_to_json (batch);
  g_assert_cmpuint (g_bytes_get_size (bytes), <, g_bytes_get_size (json));
  len = g_bytes_get_size (bytes);
  back = pv_batch_new_from_binary (g_bytes_get_data (bytes, NULL), len, G_MAXSIZE, &error);
  g_assert_no_error (error);
  assert_same_batch (batch, back);
  again = pv_batch_to_binary (back);
  g_assert_true (g_bytes_equal (bytes, again));
  maybe_write_seed ("batch-binary", bytes);

  /* Over the limit, unread. */
  g_assert_null (pv_batch_new_from_binary (g_bytes_get_data (bytes, NULL), len, len - 1, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Every cut, and a flip of every byte, is refused or parses to a batch
   * that is still in one spelling — never anything else. */
  copy = g_memdup2 (g_bytes_get_data (bytes, NULL), len);
  for (gsize cut = 0; cut < len; cut += 1 + cut / 8)
    {
      g_assert_null (pv_batch_new_from_binary (copy, cut, G_MAXSIZE, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
      g_clear_error (&error);
    }
  for (gsize i = 0; i < len; i++)
    {
      g_autoptr (PvBatch) changed = NULL;

      copy[i] ^= 0x5a;
      changed = pv_batch_new_from_binary (copy, len, G_MAXSIZE, &error);
      if (changed == NULL)
        {
          g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
          g_clear_error (&error);
          refused++;
        }
      else
        {
          g_autoptr (GBytes) spelled = pv_batch_to_binary (changed);
          g_assert_cmpmem (g_bytes_get_data (spelled, NULL), g_bytes_get_size (spelled), copy, len);
        }
      copy[i] ^= 0x5a;
    }
  /* Records are most of the bytes, and their hashes catch any change; what
   * parses is a change to a signature or a name, which the receiver checks. */
  g_assert_cmpuint (refused, >, len * 3 / 4);

  /* The version is the first byte. */
  copy[0] = PV_BATCH_VERSION + 1;
  g_assert_null (pv_batch_new_from_binary (copy, len, G_MAXSIZE, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "version"));
}

/* The decoded batch, applied in order through core's trusted path, gives a
 * replica holding exactly the source's records. */
static void
test_apply (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = NULL, back = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (PvStore) fresh = NULL;
  g_autofree char *want = NULL, *got = NULL;

  make_history (f);
  batch = make_batch (f->admin);
  bytes = pv_batch_to_json (batch);
  back = parse_ok (bytes);

  fresh = test_open (f->dir, "fresh.db", &f->clock);
  for (guint i = 0; i < back->records->len; i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean is_new = FALSE;

      g_assert_true (pv_ledger_apply (fresh, back->records->pdata[i], &is_new, &error));
      g_assert_no_error (error);
      g_assert_true (is_new);
    }
  want = test_digest (f->admin, FALSE);
  got = test_digest (fresh, FALSE);
  g_assert_cmpstr (want, ==, got);
  g_assert_cmpuint (pv_ledger_count (fresh), ==, back->records->len);
  g_assert_finalize_object (g_steal_pointer (&fresh));
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GBytes) bytes = NULL;
  const char *text;
  gsize len;

  make_history (f);
  batch = make_batch (f->admin);
  bytes = pv_batch_to_json (batch);
  text = g_bytes_get_data (bytes, &len);
  g_test_message ("truncating a %" G_GSIZE_FORMAT "-byte batch at every offset", len);
  for (gsize cut = 0; cut < len; cut++)
    assert_refused_len (text, cut, LIMIT, NULL);
}

static void
test_oversize (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *junk = NULL;
  const char *text;
  gsize len;

  make_history (f);
  batch = make_batch (f->admin);
  bytes = pv_batch_to_json (batch);
  text = g_bytes_get_data (bytes, &len);
  assert_refused_len (text, len, len - 1, "larger than the limit");

  /* Not even looked at: junk that would be refused for what it is is
   * refused for its size first. */
  junk = g_strnfill (1 << 20, '[');
  junk[0] = '{';
  assert_refused_len (junk, 1 << 20, 1 << 19, "larger than the limit");
  /* Within the limit, the depth guard stops it before json-glib recurses. */
  assert_refused_len (junk, 1 << 20, LIMIT, "nested deeper");
}

/* Replaces @path's member (e.g. "records", 1, "prev") in the encoded batch
 * with the raw JSON text @literal, or removes it when @literal is NULL. */
static char *
mutate (GBytes *bytes, const char *array, guint index, const char *member, const char *literal)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  JsonObject *root, *object;
  char **parts;
  char *out;

  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                             (gssize) g_bytes_get_size (bytes), &error));
  root = json_node_get_object (json_parser_get_root (parser));
  if (array)
    object = json_array_get_object_element (json_object_get_array_member (root, array), index);
  else
    object = root;
  if (literal == NULL)
    json_object_remove_member (object, member);
  else
    json_object_set_string_member (object, member, "@@HERE@@");
  json_generator_set_root (generator, json_parser_get_root (parser));
  text = json_generator_to_data (generator, NULL);
  if (literal == NULL)
    return g_steal_pointer (&text);
  parts = g_strsplit (text, "\"@@HERE@@\"", 2);
  out = g_strconcat (parts[0], literal, parts[1], NULL);
  g_strfreev (parts);
  return out;
}

static char *
base64_of_size (gsize n)
{
  g_autofree guint8 *zero = g_malloc0 (n + 1);
  char *b64 = g_base64_encode (zero, n);
  char *quoted = g_strdup_printf ("\"%s\"", b64);

  g_free (b64);
  return quoted;
}

/* Wrong values common to every field, whatever its type. */
static const char *const any_wrong[] = {
  "null",
  "{}",
  "[]",
  "[1]",
  "true",
  "1.5",
  "1e3",
  "-1",
  "99999999999999999999",
  "9223372036854775808",
  "{\"a\":{\"b\":[null]}}",
};

static void
check_field (GBytes *bytes, const char *array, guint index, const char *member, const char *const *extra, gsize n_extra)
{
  g_autofree char *where = array ? g_strdup_printf ("%s[%u].%s", array, index, member) : g_strdup (member);

  for (gsize i = 0; i < G_N_ELEMENTS (any_wrong) + n_extra; i++)
    {
      const char *literal = i < G_N_ELEMENTS (any_wrong) ? any_wrong[i] : extra[i - G_N_ELEMENTS (any_wrong)];
      g_autofree char *text = mutate (bytes, array, index, member, literal);

      assert_refused (text, where);
    }
  {
    g_autofree char *text = mutate (bytes, array, index, member, NULL);
    g_autofree char *missing = g_strconcat (where, ": missing", NULL);

    assert_refused (text, missing);
  }
}

static void
test_fields (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *b0 = base64_of_size (0), *b15 = base64_of_size (15), *b16 = base64_of_size (16);
  g_autofree char *b17 = base64_of_size (17), *b31 = base64_of_size (31), *b33 = base64_of_size (33);
  g_autofree char *b63 = base64_of_size (63), *b65 = base64_of_size (65), *b_big = base64_of_size (PV_BATCH_MAX_BODY + 1);
  g_autofree char *b_huge = base64_of_size (PV_BATCH_MAX_BODY * 2);
  g_autofree char *long_name = g_strdup_printf ("\"%0*d\"", PV_PERSON_MAX_NAME + 1, 0);
  g_autofree char *long_phone = g_strdup_printf ("\"%0*d\"", PV_PERSON_MAX_PHONE + 1, 0);
  /* Numbers where base64 belongs, non-canonical spellings, outside the
   * alphabet, URL-safe variant, spaces, a missing pad. */
  const char *bad_b64[] = { "12", "\"AAAA AAA\"", "\"AAA\"", "\"AAB=\"", "\"A===\"", "\"-_-_\"", "\"!!!!\"",
                            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"", NULL, NULL, NULL, NULL };
  const char *bad_int[] = { "\"1\"", "\"0x1\"", "0" };
  const char *bad_device[] = { "\"1\"", "0", "65536" };
  const char *bad_kind[] = { "\"1\"", "0", "99", "256" };
  const char *bad_serial[] = { "\"1\"", "0", "4294967296" };
  const char *bad_name[] = { "1", "\"\\udc00x\"" };

  make_history (f);
  batch = make_batch (f->admin);
  bytes = pv_batch_to_json (batch);

  check_field (bytes, "records", 1, "device", bad_device, G_N_ELEMENTS (bad_device));
  check_field (bytes, "records", 1, "seq", bad_int, G_N_ELEMENTS (bad_int));
  check_field (bytes, "records", 1, "hlc", bad_int, 2);
  check_field (bytes, "records", 1, "kind", bad_kind, G_N_ELEMENTS (bad_kind));
  bad_b64[8] = b_big;
  bad_b64[9] = b_huge;
  check_field (bytes, "records", 1, "body", bad_b64, 10);
  bad_b64[8] = b31;
  bad_b64[9] = b33;
  bad_b64[10] = b0;
  check_field (bytes, "records", 1, "prev", bad_b64, 11);
  check_field (bytes, "records", 1, "hash", bad_b64, 11);

  check_field (bytes, "heads", 0, "device", bad_device, G_N_ELEMENTS (bad_device));
  check_field (bytes, "heads", 0, "seq", bad_int, G_N_ELEMENTS (bad_int));
  check_field (bytes, "heads", 0, "hash", bad_b64, 11);
  bad_b64[8] = b63;
  bad_b64[9] = b65;
  check_field (bytes, "heads", 0, "signature", bad_b64, 11);

  check_field (bytes, "people", 1, "issuer", bad_device, G_N_ELEMENTS (bad_device));
  check_field (bytes, "people", 1, "serial", bad_serial, G_N_ELEMENTS (bad_serial));
  bad_b64[8] = b15;
  bad_b64[9] = b17;
  check_field (bytes, "people", 1, "salt", bad_b64, 11);
  {
    const char *names[] = { bad_name[0], bad_name[1], long_name };
    const char *phones[] = { bad_name[0], bad_name[1], long_phone };

    check_field (bytes, "people", 1, "name", names, G_N_ELEMENTS (names));
    check_field (bytes, "people", 1, "phone", phones, G_N_ELEMENTS (phones));
  }

  /* The exact wording the protocol promises. */
  {
    g_autofree char *text = mutate (bytes, "records", 1, "prev", b31);
    assert_refused (text, "records[1].prev: 31 bytes, expected 32");
  }
  /* A valid base64 of the right size is not enough: it must be the
   * record's. */
  {
    g_autofree char *text = mutate (bytes, "records", 1, "prev", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"");
    assert_refused (text, "records[1].hash: does not match");
  }
  /* Unknown members are ignored, at every level. */
  {
    g_autofree char *text = mutate (bytes, "records", 1, "future", "{\"x\":[1,2,{}]}");
    g_autofree char *text2 = mutate (bytes, NULL, 0, "future", "\"yes\"");
    g_autoptr (GBytes) b = g_bytes_new (text, strlen (text)), b2 = g_bytes_new (text2, strlen (text2));
    g_autoptr (PvBatch) p = parse_ok (b), p2 = parse_ok (b2);

    assert_same_batch (batch, p);
    assert_same_batch (batch, p2);
  }
}

static void
test_top_level (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = pv_batch_new (TEST_EVENT_ID);
  g_autoptr (GBytes) bytes = pv_batch_to_json (batch);
  const char *bad_version[] = { "2", "0", "\"1\"" };
  const char *bad_event[] = { "\"5EED0001\"", "\"5eed001\"", "\"5eed00011\"", "\"5eed000g\"", "1592590337", "\"\"" };
  const char *bad_array[] = { "\"[]\"", "0", "null", "{}", "1.5", "true" };
  g_autofree char *deep = NULL;

  assert_refused ("", "empty");
  assert_refused ("[]", "expected a JSON object");
  assert_refused ("null", "expected a JSON object");
  assert_refused ("\"x\"", "expected a JSON object");
  assert_refused ("{", "not valid JSON");
  assert_refused ("{} {}", "trailing data");
  assert_refused ("{\"a\":\"}\"} x", "trailing data");
  {
    /* Whitespace around the object is fine; "more" defaults to false. */
    static const char spaced[] = "  {\"version\":1,\"event\":\"5eed0001\",\"records\":[],\"heads\":[]}\r\n\t ";
    g_autoptr (GBytes) b = g_bytes_new_static (spaced, sizeof spaced - 1);
    g_autoptr (PvBatch) p = parse_ok (b);

    g_assert_false (p->more);
    g_assert_cmphex (p->event_id, ==, TEST_EVENT_ID);
  }
  assert_refused ("{\"version\":1,\"event\":\"5eed0001\",\"records\":[1],\"heads\":[]}", "records[0]: expected an object, found an integer");
  assert_refused ("{\"version\":1,\"event\":\"5eed0001\",\"records\":[],\"heads\":[null]}", "heads[0]: expected an object, found null");
  assert_refused_len ("{\"version\":1}\0{}", 15, LIMIT, NULL);
  assert_refused ("\xff\xfe{}", "expected a JSON object");
  assert_refused ("{\"a\xff\":1}", "not valid JSON");
  assert_refused ("{\"version\":1,\"event\":\"5eed0001\",\"records\":[],\"heads\":[],\"x\":\"a\\u0000b\"}", "NUL");

  check_field (bytes, NULL, 0, "version", bad_version, G_N_ELEMENTS (bad_version));
  check_field (bytes, NULL, 0, "event", bad_event, G_N_ELEMENTS (bad_event));
  /* "[]" is a fine (empty) array, so these get their own list. */
  for (gsize i = 0; i < G_N_ELEMENTS (bad_array); i++)
    {
      g_autofree char *records = mutate (bytes, NULL, 0, "records", bad_array[i]);
      g_autofree char *heads = mutate (bytes, NULL, 0, "heads", bad_array[i]);
      g_autofree char *no_records = mutate (bytes, NULL, 0, "records", NULL);

      assert_refused (records, "records: expected an array");
      assert_refused (heads, "heads: expected an array");
      assert_refused (no_records, "records: missing");
    }
  {
    g_autofree char *text = mutate (bytes, NULL, 0, "more", "\"yes\"");
    g_autofree char *text2 = mutate (bytes, NULL, 0, "people", "{}");
    g_autofree char *text3 = mutate (bytes, NULL, 0, "more", NULL);
    g_autoptr (GBytes) b3 = g_bytes_new (text3, strlen (text3));
    g_autoptr (PvBatch) p3 = parse_ok (b3);

    assert_refused (text, "more: expected a boolean");
    assert_refused (text2, "people: expected an array");
    g_assert_false (p3->more);
  }

  /* Deep nesting inside an ignored member is still refused, before
   * parsing. */
  {
    g_autofree char *open = g_strnfill (PV_JSON_MAX_DEPTH, '[');
    g_autofree char *close = g_strnfill (PV_JSON_MAX_DEPTH, ']');
    deep = g_strdup_printf ("%s%s", open, close);
    g_autofree char *text = mutate (bytes, NULL, 0, "future", deep);
    assert_refused (text, "nested deeper");
  }
}

/* Tampered and reordered records are named by their index. */
static void
test_integrity (Fixture *f, gconstpointer data)
{
  g_autoptr (PvBatch) batch = NULL, swapped = NULL, doubled = NULL;
  g_autoptr (GBytes) bytes = NULL, swapped_bytes = NULL, doubled_bytes = NULL;
  PvRecord *record;
  gsize len;
  guint8 *body;
  guint a = G_MAXUINT, b = G_MAXUINT;

  make_history (f);
  batch = make_batch (f->admin);

  /* One byte of a scan's body changed on the way (a gate name letter):
   * still a valid body, no longer the record that was hashed. */
  for (guint i = 0; i < batch->records->len && a == G_MAXUINT; i++)
    if (((PvRecord *) batch->records->pdata[i])->kind == PV_RECORD_ENTRY)
      a = i;
  g_assert_cmpuint (a, !=, G_MAXUINT);
  record = batch->records->pdata[a];
  body = g_bytes_unref_to_data (record->body, &len);
  for (gsize j = 0; j < len; j++)
    if (body[j] == '1')
      {
        body[j] = '2';
        break;
      }
  record->body = g_bytes_new_take (body, len);
  {
    g_autoptr (GVariant) still_valid = pv_record_dup_body (record, NULL);
    g_assert_nonnull (still_valid);
  }
  bytes = pv_batch_to_json (batch);
  {
    g_autofree char *needle = g_strdup_printf ("records[%u].hash: does not match", a);
    assert_refused_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), LIMIT, needle);
  }

  /* Two records of one device out of order. */
  g_clear_pointer (&batch, pv_batch_free);
  batch = make_batch (f->admin);
  swapped = pv_batch_new (TEST_EVENT_ID);
  doubled = pv_batch_new (TEST_EVENT_ID);
  a = 1;
  for (guint i = a + 1; i < batch->records->len && b == G_MAXUINT; i++)
    if (((PvRecord *) batch->records->pdata[i])->device_id == ((PvRecord *) batch->records->pdata[a])->device_id)
      b = i;
  g_assert_cmpuint (b, !=, G_MAXUINT);
  for (guint i = 0; i < batch->records->len; i++)
    {
      guint from = i == a ? b : i == b ? a
                                       : i;
      pv_batch_add_record (swapped, batch->records->pdata[from]);
      pv_batch_add_record (doubled, batch->records->pdata[i]);
      if (i == a)
        pv_batch_add_record (doubled, batch->records->pdata[i]);
    }
  swapped_bytes = pv_batch_to_json (swapped);
  doubled_bytes = pv_batch_to_json (doubled);
  {
    g_autofree char *needle = g_strdup_printf ("records[%u].seq", b);
    g_autofree char *needle2 = g_strdup_printf ("records[%u].seq", a + 1);

    assert_refused_len (g_bytes_get_data (swapped_bytes, NULL), g_bytes_get_size (swapped_bytes), LIMIT, needle);
    assert_refused_len (g_bytes_get_data (doubled_bytes, NULL), g_bytes_get_size (doubled_bytes), LIMIT, needle2);
  }

  /* Two heads for one device. */
  {
    g_autoptr (PvBatch) two = pv_batch_new (TEST_EVENT_ID);
    g_autoptr (GBytes) two_bytes = NULL;

    pv_batch_add_head (two, &g_array_index (batch->heads, PvHead, 0));
    pv_batch_add_head (two, &g_array_index (batch->heads, PvHead, 0));
    two_bytes = pv_batch_to_json (two);
    assert_refused_len (g_bytes_get_data (two_bytes, NULL), g_bytes_get_size (two_bytes), LIMIT, "heads[1].device");
  }
}

static void
assert_vector_refused (const char *text, gsize len, gsize max_bytes, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *copy = g_memdup2 (text, len);
  guint32 event = 0;
  g_autoptr (GHashTable) vector = pv_vector_new_from_json (copy, len, max_bytes, &event, &error);

  g_assert_null (vector);
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  if (needle && !strstr (error->message, needle))
    g_error ("“%s” does not name “%s”", error->message, needle);
}

static void
test_vector (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) vector = NULL, back = NULL;
  g_autoptr (GBytes) bytes = NULL, again = NULL;
  GHashTableIter iter;
  gpointer key, value;
  guint32 event = 0;
  const char *text;
  gsize len;
  /* clang-format off */
  const struct { const char *json; const char *needle; } bad[] = {
    { "{\"event\":\"5eed0001\"}", "vector: missing" },
    { "{\"vector\":{}}", "event: missing" },
    { "{\"event\":\"5eed0001\",\"vector\":[]}", "vector: expected an object" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"0\":1}}", "not a device id" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"01\":1}}", "not a device id" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"65536\":1}}", "not a device id" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"-1\":1}}", "not a device id" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"\":1}}", "not a device id" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"1 \":1}}", "not a device id" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"1\":-1}}", "vector.1: -1 is out of range" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"1\":99999999999999999999}}", "vector.1:" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"1\":1.5}}", "vector.1: expected an integer" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"1\":\"3\"}}", "vector.1: expected an integer, found a string" },
    { "{\"event\":\"5eed0001\",\"vector\":{\"1\":null}}", "vector.1: expected an integer, found null" },
    { "{\"event\":\"5EED0001\",\"vector\":{}}", "event: expected 8 lowercase" },
    { "[]", "expected a JSON object" },
  };
  /* clang-format on */

  make_history (f);
  vector = pv_ledger_version_vector (f->admin, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (vector), ==, 2);
  bytes = pv_vector_to_json (TEST_EVENT_ID, vector);
  text = g_bytes_get_data (bytes, &len);
  g_test_message ("%.*s", (int) len, text);
  maybe_write_seed ("vector-real", bytes);
  back = pv_vector_new_from_json (text, len, LIMIT, &event, &error);
  g_assert_no_error (error);
  g_assert_cmphex (event, ==, TEST_EVENT_ID);
  g_assert_cmpuint (g_hash_table_size (back), ==, g_hash_table_size (vector));
  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (back, key), ==, *(guint64 *) value);
  again = pv_vector_to_json (event, back);
  g_assert_true (g_bytes_equal (bytes, again));

  for (gsize cut = 0; cut < len; cut++)
    assert_vector_refused (text, cut, LIMIT, NULL);
  assert_vector_refused (text, len, len - 1, "larger than the limit");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_vector_refused (bad[i].json, strlen (bad[i].json), LIMIT, bad[i].needle);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST_ADD ("/sync/batch/round-trip", test_round_trip);
  TEST_ADD ("/sync/batch/binary", test_binary);
  TEST_ADD ("/sync/batch/apply", test_apply);
  TEST_ADD ("/sync/batch/truncated", test_truncated);
  TEST_ADD ("/sync/batch/oversize", test_oversize);
  TEST_ADD ("/sync/batch/fields", test_fields);
  TEST_ADD ("/sync/batch/top-level", test_top_level);
  TEST_ADD ("/sync/batch/integrity", test_integrity);
  TEST_ADD ("/sync/vector", test_vector);

  return g_test_run ();
}
