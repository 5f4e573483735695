package io.gatehouse.config;

import java.time.Duration;

/**
 * Client-side timeouts of a listener.
 *
 * @param requestHeader time to receive a whole request head (slowloris); 408 then close
 * @param idle          a keep-alive connection with no request in flight is closed after this
 */
public record ListenerTimeoutsConfig(Duration requestHeader, Duration idle) {
    public static final ListenerTimeoutsConfig DEFAULT = new ListenerTimeoutsConfig(null, null);

    public ListenerTimeoutsConfig {
        requestHeader = requestHeader == null ? Duration.ofSeconds(10) : requestHeader;
        idle = idle == null ? Duration.ofSeconds(60) : idle;
    }
}
