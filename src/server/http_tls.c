/*
 * http_tls.c - HTTPS's certificate and key (see http_internal.h): read
 * from their PEM files and checked with GnuTLS, the library libmicrohttpd
 * serves TLS with, before the server starts, so that a file that cannot
 * be read, is not PEM or does not pair with the other is an error naming
 * it, not a server that fails every handshake.
 */
#include <gnutls/gnutls.h>
#include <stdlib.h>

#include "base/io.h"
#include "server/http_internal.h"

/* The key and certificate pair up: GnuTLS takes them as one credential. */
static int check_pair(const http_tls *t, const char *cert_path, const char *key_path, weir_err *err)
{
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    gnutls_datum_t cert = {(unsigned char *)t->cert, (unsigned)t->cert_len};
    gnutls_datum_t key = {(unsigned char *)t->key, (unsigned)t->key_len};
    int g = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(cred);
    if (g >= 0)
        return WEIR_OK;
    return weir_err_set(err, WEIR_EINVAL, "--tls-cert %s and --tls-key %s: %s%s", cert_path, key_path,
                        gnutls_strerror(g),
                        g == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "" : " (both must be PEM: a certificate and its private key)");
}

int http_tls_load(const char *cert_path, const char *key_path, http_tls *out, weir_err *err)
{
    *out = (http_tls){0};
    if (!cert_path || !key_path)
        return weir_err_set(err, WEIR_EINVAL, "HTTPS needs both --tls-cert FILE and --tls-key FILE");
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return weir_err_set(err, WEIR_EINVAL, "--tls-cert: this libmicrohttpd was built without TLS");
    int rc = weir_io_read_file(&weir_io_posix, cert_path, &out->cert, &out->cert_len, err);
    if (rc)
        return weir_err_wrap(err, "--tls-cert");
    if ((rc = weir_io_read_file(&weir_io_posix, key_path, &out->key, &out->key_len, err))) {
        http_tls_free(out);
        return weir_err_wrap(err, "--tls-key");
    }
    if ((rc = check_pair(out, cert_path, key_path, err)))
        http_tls_free(out);
    return rc;
}

void http_tls_free(http_tls *t)
{
    free(t->cert);
    free(t->key);
    *t = (http_tls){0};
}
