package io.gatehouse.config;

import java.time.Duration;

/**
 * A cluster's endpoints found in a registry instead of listed in the file: exactly one of {@code zookeeper} and
 * {@code kubernetes}. Endpoints then come and go at runtime, without a reload.
 */
public record DiscoveryConfig(ZooKeeper zookeeper, Kubernetes kubernetes) {
    public DiscoveryConfig {
        if ((zookeeper == null) == (kubernetes == null)) {
            throw new IllegalArgumentException("discovery: needs exactly one of zookeeper, kubernetes");
        }
    }

    /** The source's name as the admin API shows it. */
    public String kind() {
        return zookeeper != null ? "zookeeper" : "kubernetes";
    }

    /**
     * Instances registered through Curator's service-discovery recipe: the ephemeral nodes under
     * {@code base_path/service}, whose address and port become endpoints. An instance that dies leaves when its
     * ZooKeeper session expires.
     *
     * @param connect           the ensemble, {@code host:port[,host:port...]}
     * @param basePath          where the recipe keeps its services (default {@code /gatehouse/services}, as the
     *                          reference app registers)
     * @param service           the service name (required)
     * @param sessionTimeout    ZooKeeper session timeout (default 10s)
     * @param connectionTimeout how long to wait to connect, at start and after losing the connection (default 2s)
     */
    public record ZooKeeper(String connect, String basePath, String service, Duration sessionTimeout,
                            Duration connectionTimeout) {
        public ZooKeeper {
            if (connect == null || connect.isBlank()) throw new IllegalArgumentException("connect: is required, e.g. 127.0.0.1:2181");
            for (String part : connect.split(",")) {
                try {
                    HostPort.parse(part.contains("/") ? part.substring(0, part.indexOf('/')) : part, false);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("connect: " + e.getMessage());
                }
            }
            basePath = basePath == null ? "/gatehouse/services" : basePath;
            if (!basePath.startsWith("/")) throw new IllegalArgumentException("base_path: must start with /");
            if (service == null || service.isBlank()) throw new IllegalArgumentException("service: is required");
            if (service.contains("/")) throw new IllegalArgumentException("service: must not contain /");
            sessionTimeout = sessionTimeout == null ? Duration.ofSeconds(10) : sessionTimeout;
            connectionTimeout = connectionTimeout == null ? Duration.ofSeconds(2) : connectionTimeout;
            if (sessionTimeout.isZero()) throw new IllegalArgumentException("session_timeout: must be above 0");
            if (connectionTimeout.isZero()) throw new IllegalArgumentException("connection_timeout: must be above 0");
        }
    }

    /**
     * The ready endpoints of a Kubernetes Service, from its EndpointSlices (label
     * {@code kubernetes.io/service-name}), watched.
     *
     * @param service   the Service's name (required)
     * @param namespace its namespace (default: the client's, else {@code default})
     * @param port      the name of the port in the slices to use (default: the slice's first port)
     * @param apiServer the API server's URL (default: in-cluster configuration or kubeconfig)
     * @param timeout   connect and request timeout toward the API server (default 5s)
     */
    public record Kubernetes(String service, String namespace, String port, String apiServer, Duration timeout) {
        public Kubernetes {
            if (service == null || service.isBlank()) throw new IllegalArgumentException("service: is required");
            if (apiServer != null && !apiServer.startsWith("http://") && !apiServer.startsWith("https://")) {
                throw new IllegalArgumentException("api_server: must be an http:// or https:// URL");
            }
            timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
            if (timeout.isZero()) throw new IllegalArgumentException("timeout: must be above 0");
        }
    }
}
