package io.gatehouse.config;

/**
 * What a listener speaks. Only {@code http} exists today (HTTP/1.1, and HTTP/2 by ALPN or prior knowledge); the TCP
 * (L4) and forward-proxy listeners will be further values, so a file written now keeps its meaning.
 */
public enum ListenerProtocol {
    HTTP
}
