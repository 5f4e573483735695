package io.gatehouse.config;

import java.time.Duration;

/**
 * Client-side timeouts of a listener.
 *
 * @param requestHeader   time to receive a whole request head (slowloris); 408 then close
 * @param idle            a keep-alive connection with no request in flight is closed after this; so is one whose
 *                        client takes no byte of its response for this long
 * @param requestBodyIdle longest gap between two pieces of a request body (slow POST); 408 then close
 */
public record ListenerTimeoutsConfig(Duration requestHeader, Duration idle, Duration requestBodyIdle) {
    public static final ListenerTimeoutsConfig DEFAULT = new ListenerTimeoutsConfig(null, null, null);

    public ListenerTimeoutsConfig {
        requestHeader = requestHeader == null ? Duration.ofSeconds(10) : requestHeader;
        idle = idle == null ? Duration.ofSeconds(60) : idle;
        requestBodyIdle = requestBodyIdle == null ? Duration.ofSeconds(30) : requestBodyIdle;
    }

    public ListenerTimeoutsConfig(Duration requestHeader, Duration idle) {
        this(requestHeader, idle, null);
    }
}
