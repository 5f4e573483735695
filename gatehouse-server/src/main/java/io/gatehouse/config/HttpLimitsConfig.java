package io.gatehouse.config;

/**
 * Bounds on what a client may send. Over a bound the request is answered and the connection closed;
 * it never reaches a cluster.
 *
 * @param maxUriLength      request-target bytes; over it: 414
 * @param maxHeaderSize     bytes of the whole header section (request line excluded); over it: 431
 * @param maxHeaders        number of header fields; over it: 431
 * @param maxBodySize       request body bytes, default for every route; over it: 413; 0 means no limit
 * @param maxPipelined      pipelined requests a client may queue behind the one being answered; beyond it the extra ones
 *                          are dropped and the connection closes after the ones within the limit are answered
 */
public record HttpLimitsConfig(int maxUriLength, int maxHeaderSize, int maxHeaders, long maxBodySize, int maxPipelined) {
    public static final HttpLimitsConfig DEFAULT = new HttpLimitsConfig(0, 0, 0, -1, 0);

    public HttpLimitsConfig {
        maxUriLength = maxUriLength == 0 ? 8192 : maxUriLength;
        maxHeaderSize = maxHeaderSize == 0 ? 32768 : maxHeaderSize;
        maxHeaders = maxHeaders == 0 ? 100 : maxHeaders;
        maxBodySize = maxBodySize < 0 ? 0 : maxBodySize;
        maxPipelined = maxPipelined == 0 ? 16 : maxPipelined;
        if (maxUriLength < 16) throw new IllegalArgumentException("max_uri_length: must be >= 16");
        if (maxHeaderSize < 256) throw new IllegalArgumentException("max_header_size: must be >= 256");
        if (maxHeaders < 1) throw new IllegalArgumentException("max_headers: must be >= 1");
        if (maxPipelined < 1) throw new IllegalArgumentException("max_pipelined: must be >= 1");
    }
}
