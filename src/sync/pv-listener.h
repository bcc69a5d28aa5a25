/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-listener.h: how every server we run (the hub's, a gate's for its
 * peers) takes connections: accepted here and handed to a SoupServer, with
 * a cap on open connections in all and per client address, deadlines for
 * each step of a request (TLS handshake, headers, body, answer, idle
 * keep-alive) and a pause instead of a spin when file descriptors run
 * out. The TLS versions and suites we allow are pv-tls.h's.
 *
 * A connection over a cap is refused at once (plain HTTP gets a 503 with
 * Retry-After first); a connection past a deadline is shut down. A
 * connection a handler takes over for good (a WebSocket) is released from
 * the deadlines with pv_listen_release(): its own protocol watches it. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct
{
  guint max_connections;     /* open at once; 0: from the file-descriptor limit */
  guint max_per_address;     /* open at once from one address (IPv6: its /64) */
  guint handshake_timeout_s; /* TLS handshake, from accept */
  guint header_timeout_s;    /* a request's headers, from its connection or first byte */
  guint idle_timeout_s;      /* a kept-alive connection with no new request */
  guint body_timeout_s;      /* a body, from its headers (plus length / PV_LISTEN_MIN_RATE);
                              * also the longest pause while an answer is written */
} PvListenLimits;

/* Bytes per second a body must at least arrive at: a push of megabytes
 * over a weak venue Wi-Fi gets longer than a small form. */
#define PV_LISTEN_MIN_RATE (16 * 1024)

/* The defaults, with max_connections 0 (worked out from the limit). */
void pv_listen_limits_init (PvListenLimits *limits);

/* Connections a process may hold open under its file-descriptor limit,
 * leaving room for its own files and outgoing connections. */
guint pv_listen_max_for_fd_limit (void);

/* Raises this process's soft file-descriptor limit to its hard limit (a
 * service's LimitNOFILE); returns the limit now in force. */
guint64 pv_listen_raise_fd_limit (void);

/* Listens on "ADDRESS:PORT" (port 0 for any free one) and gives the URL
 * served, e.g. "http://127.0.0.1:41234/": HTTPS when @server has a
 * "tls-certificate". @limits NULL: the defaults. Only one such call per
 * server; the listening socket closes when @server is finalized. */
gboolean pv_listen (SoupServer *server,
                    const char *address,
                    const PvListenLimits *limits,
                    char **out_url,
                    GError **error);

/* "ADDRESS:PORT" as pv_listen() takes it (a literal IP address, an IPv6
 * one in brackets or not; port 0 for any free one); NULL with @error. */
GSocketAddress *pv_listen_parse_address (const char *address, GError **error);

/* This machine's own addresses other stations can reach it by, as text
 * (IPv4 first, then IPv6; no loopback and no IPv6 link-local ones, which
 * need an interface to go with them); empty when it has none. */
GStrv pv_listen_local_addresses (void);

/* A client as a limit counts it: @address cut to its first @v4_bits
 * (IPv4, and IPv4 mapped into IPv6) or @v6_bits (a multiple of 16), so
 * that one network is one key; IPv6 loopback whole. */
char *pv_address_key (GSocketAddress *address, guint v4_bits, guint v6_bits);

/* Frees @msg's connection from its deadlines and its address's count: it
 * was taken over for a protocol that keeps itself alive (a WebSocket
 * session, or a refusal that closes it). */
void pv_listen_release (SoupServerMessage *msg);

/* @msg came from a device that proved itself (a valid token, a valid
 * webhook signature): its connection's next request is read before the
 * public's. */
void pv_listen_prefer (SoupServerMessage *msg);

/* The socket under a stream taken from libsoup (its wrapper, a TLS
 * connection, a socket connection), or NULL. */
GSocket *pv_listen_socket_of (GIOStream *stream);

/* Appends Prometheus lines for @server's listener, each name prefixed by
 * @prefix (e.g. "pravesh_http"): connections open and allowed, refused by
 * reason, closed by deadline, pauses for want of file descriptors. */
void pv_listen_write_metrics (SoupServer *server, const char *prefix, GString *out);

G_END_DECLS
