package io.gatehouse.telemetry;

import java.util.List;

/** What the metrics read from a listener (it implements this, so telemetry does not depend on the listener). */
public interface ListenerStats {
    String name();

    int connectionCount();

    long bytesReceived();

    long bytesSent();

    long rejectedCount();

    /** The meters of its routes as they are now. */
    List<RouteMeters> routeMeters();
}
