/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-hub.c: hub cert — a self-signed certificate and key for the hub's
 * HTTPS. Nobody's authority vouches for it; devices pin its SHA-256
 * fingerprint, which the pairing code carries, so no authority is needed. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "pv-ctl.h"
#include "pv-pairing.h"

/* What can fail here fails the same way: one line with GnuTLS's words. */
static int
tls_fail (const char *what, int rc)
{
  return pv_ctl_error (_ ("Cannot make the certificate (%s): %s"), what, gnutls_strerror (rc));
}

static gboolean
write_private (const char *path, const gnutls_datum_t *data, GError **error)
{
  /* The key is readable by its owner only, from its first byte on. */
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);

  return out != NULL && g_output_stream_write_all (G_OUTPUT_STREAM (out), data->data, data->size, NULL, NULL, error)
         && g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}

int
pv_ctl_hub_cert (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *cert_path = NULL, *key_path = NULL, *days_text = NULL;
  g_auto (GStrv) names = NULL;
  g_autoptr (GError) error = NULL;
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t key_pem = { 0 }, crt_pem = { 0 }, crt_der = { 0 };
  guint8 serial[16], fingerprint[PV_FINGERPRINT_SIZE];
  char hex[PV_FINGERPRINT_HEX_SIZE + 1];
  guint64 days = 825;
  time_t now = time (NULL);
  int status, rc;
  GOptionEntry entries[] = {
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert_path, N_ ("Write the certificate here, PEM (required)"),
      N_ ("FILE") },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key_path, N_ ("Write the private key here, PEM (required)"), N_ ("FILE") },
    { "name", 0, 0, G_OPTION_ARG_STRING_ARRAY, &names,
      N_ ("A host name or address devices reach the hub by (repeatable; default localhost)"), N_ ("NAME") },
    { "days", 0, 0, G_OPTION_ARG_STRING, &days_text, N_ ("Days the certificate holds (default 825)"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!cert_path || !key_path)
    return pv_ctl_usage_error (ctl, _ ("--cert and --key are required"));
  if (days_text && !pv_ctl_parse_uint ("--days", days_text, 1, 3650, &days, &error))
    return pv_ctl_fail (error);
  if (g_file_test (cert_path, G_FILE_TEST_EXISTS) || g_file_test (key_path, G_FILE_TEST_EXISTS))
    return pv_ctl_error (_ ("%s or %s exists already; a new certificate gets new files"), cert_path, key_path);

  randombytes_buf (serial, sizeof serial);
  serial[0] &= 0x7f; /* a positive number */
  if ((rc = gnutls_x509_privkey_init (&key)) < 0
      || (rc = gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0))
           < 0)
    {
      status = tls_fail ("key", rc);
      goto out;
    }
  if ((rc = gnutls_x509_crt_init (&crt)) < 0 || (rc = gnutls_x509_crt_set_version (crt, 3)) < 0
      || (rc = gnutls_x509_crt_set_serial (crt, serial, sizeof serial)) < 0
      || (rc = gnutls_x509_crt_set_activation_time (crt, now - 24 * 3600)) < 0
      || (rc = gnutls_x509_crt_set_expiration_time (crt, now + (time_t) days * 24 * 3600)) < 0
      || (rc = gnutls_x509_crt_set_key (crt, key)) < 0
      || (rc = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, "pravesh-hub",
                                              strlen ("pravesh-hub")))
           < 0
      || (rc = gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0
      || (rc = gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
    {
      status = tls_fail ("fields", rc);
      goto out;
    }
  for (guint i = 0; names == NULL ? i < 1 : names[i] != NULL; i++)
    {
      const char *name = names ? names[i] : "localhost";
      g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (name);

      rc = ip ? gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, g_inet_address_to_bytes (ip),
                                                      (unsigned) g_inet_address_get_native_size (ip), GNUTLS_FSAN_APPEND)
              : gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, name, (unsigned) strlen (name),
                                                      GNUTLS_FSAN_APPEND);
      if (rc < 0)
        {
          status = tls_fail (name, rc);
          goto out;
        }
    }
  if ((rc = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0
      || (rc = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &crt_pem)) < 0
      || (rc = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &crt_der)) < 0
      || (rc = gnutls_x509_privkey_export2 (key, GNUTLS_X509_FMT_PEM, &key_pem)) < 0)
    {
      status = tls_fail ("signature", rc);
      goto out;
    }
  if (!write_private (key_path, &key_pem, &error)
      || !g_file_set_contents (cert_path, (const char *) crt_pem.data, crt_pem.size, &error))
    {
      g_unlink (key_path);
      status = pv_ctl_fail (error);
      goto out;
    }
  crypto_hash_sha256 (fingerprint, crt_der.data, crt_der.size);
  sodium_bin2hex (hex, sizeof hex, fingerprint, sizeof fingerprint);
  g_print (_ ("Wrote %s and %s; SHA-256 fingerprint %s\n"), cert_path, key_path, hex);
  status = PV_CTL_EXIT_OK;

out:
  gnutls_free (key_pem.data);
  gnutls_free (crt_pem.data);
  gnutls_free (crt_der.data);
  if (crt)
    gnutls_x509_crt_deinit (crt);
  if (key)
    gnutls_x509_privkey_deinit (key);
  return status;
}
