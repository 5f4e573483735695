package io.gatehouse.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every key a config file may hold is documented in its own place: the records reachable from
 * {@link GatehouseConfig} are walked reflectively, each component named as the binder names it
 * ({@link RecordBinder#keyOf}), and each name must be the first cell of a table row ({@code | `key` |}) in the
 * section of docs/configuration.md that documents that record ({@link #SECTIONS}): from the record's heading to the
 * next heading of any level. A key documented only under another section (common names such as {@code enabled},
 * {@code path} or {@code timeout} are in many tables) fails, as does a key with no row at all, or a record added
 * without a section here.
 */
class ConfigDocsCoverageTest {

    /** Each config record and the heading (its text, without the #s) of the section whose table documents its keys. */
    static final Map<Class<?>, String> SECTIONS = Map.ofEntries(
            Map.entry(GatehouseConfig.class, "Top level"),
            Map.entry(ListenerConfig.class, "Listener"),
            Map.entry(HttpLimitsConfig.class, "Listener limits"),
            Map.entry(ListenerTimeoutsConfig.class, "Listener timeouts"),
            Map.entry(TlsConfig.class, "tls"),
            Map.entry(TlsConfig.CertificateConfig.class, "certificate"),
            Map.entry(Http2Config.class, "Listener http2"),
            Map.entry(ProxyHeadersConfig.class, "proxy_headers"),
            Map.entry(RouteConfig.class, "Route"),
            Map.entry(MatchConfig.class, "match"),
            Map.entry(MatchConfig.ClientCertMatchConfig.class, "match"),
            Map.entry(MatchConfig.HeaderMatchConfig.class, "match"),
            Map.entry(RouteConfig.DirectResponseConfig.class, "direct_response"),
            Map.entry(RouteConfig.RedirectConfig.class, "redirect"),
            Map.entry(FilesConfig.class, "files"),
            Map.entry(HeadersConfig.class, "headers"),
            Map.entry(HeadersConfig.HeaderRulesConfig.class, "header rules"),
            Map.entry(BufferRequestConfig.class, "buffer_request"),
            Map.entry(ApiKeyAuthConfig.class, "api_key"),
            Map.entry(IdentityHeadersConfig.class, "identity headers"),
            Map.entry(JwtAuthConfig.class, "jwt"),
            Map.entry(AuthorizeConfig.class, "authorize"),
            Map.entry(AuthorizeConfig.ValueRuleConfig.class, "value rules"),
            Map.entry(DenyConfig.class, "deny"),
            Map.entry(RateLimitConfig.class, "rate_limit"),
            Map.entry(RateLimitConfig.PlanLimitsConfig.class, "plans"),
            Map.entry(RateLimitConfig.LimitConfig.class, "limits"),
            Map.entry(QuotaConfig.class, "quota"),
            Map.entry(ConcurrencyLimitConfig.class, "concurrency_limit"),
            Map.entry(CorsConfig.class, "cors"),
            Map.entry(BasicAuthConfig.class, "basic_auth"),
            Map.entry(OidcConfig.class, "oidc"),
            Map.entry(MtlsIdentityConfig.class, "mtls_identity"),
            Map.entry(RouteConfig.HstsConfig.class, "hsts"),
            Map.entry(CompressionConfig.class, "compression"),
            Map.entry(CacheConfig.class, "cache"),
            Map.entry(CacheConfig.DiskConfig.class, "cache disk"),
            Map.entry(CacheConfig.KeyConfig.class, "cache key"),
            Map.entry(DecompressRequestsConfig.class, "decompress_requests"),
            Map.entry(RouteConfig.RouteTimeoutsConfig.class, "Route timeouts"),
            Map.entry(RetryConfig.class, "retries"),
            Map.entry(ClusterConfig.class, "Cluster"),
            Map.entry(UpstreamTlsConfig.class, "Cluster tls"),
            Map.entry(ClusterConfig.Http2Config.class, "Cluster http2"),
            Map.entry(ClusterConfig.EndpointConfig.class, "Endpoint"),
            Map.entry(DnsConfig.class, "dns"),
            Map.entry(DiscoveryConfig.class, "discovery"),
            Map.entry(DiscoveryConfig.ZooKeeper.class, "zookeeper"),
            Map.entry(DiscoveryConfig.Kubernetes.class, "kubernetes"),
            Map.entry(ClusterConfig.LoadBalancerConfig.class, "load_balancer"),
            Map.entry(ClusterConfig.HashConfig.class, "load_balancer"),
            Map.entry(ClusterConfig.StickyCookieConfig.class, "load_balancer"),
            Map.entry(ClusterConfig.HealthCheckConfig.class, "health_check"),
            Map.entry(ClusterConfig.OutlierDetectionConfig.class, "outlier_detection"),
            Map.entry(ClusterConfig.ResponseBufferingConfig.class, "response_buffering"),
            Map.entry(ClusterConfig.ClusterTimeoutsConfig.class, "Cluster timeouts"),
            Map.entry(ClusterConfig.ConnectionPoolConfig.class, "connection_pool"),
            Map.entry(ClusterConfig.ClusterLimitsConfig.class, "Cluster limits"),
            Map.entry(ClusterConfig.RetryBudgetConfig.class, "retry_budget"),
            Map.entry(ConsumerConfig.class, "consumers"),
            Map.entry(ConsumerConfig.ApiKeyHashConfig.class, "API keys"),
            Map.entry(ConfigLoader.ConsumersFileConfig.class, "consumers_file"),
            Map.entry(MeteringConfig.class, "metering"),
            Map.entry(RedisConfig.class, "redis"),
            Map.entry(RedisConfig.SentinelConfig.class, "Redis Sentinel"),
            Map.entry(AdminConfig.class, "admin"),
            Map.entry(AccessLogConfig.class, "access_log"),
            Map.entry(TracingConfig.class, "tracing"),
            Map.entry(LoggingConfig.class, "logging"),
            Map.entry(ServerConfig.class, "server"));

    @Test
    void everyKeyOfTheConfigRecordsHasARowInItsOwnSectionOfTheConfigurationDoc() throws IOException {
        Set<Class<?>> records = reachableRecords(GatehouseConfig.class);
        records.remove(FilterConfig.class); // written "- TYPE: {settings}": its keys are the types' records
        assertThat(undocumented(Files.readString(configurationDoc()), records, SECTIONS))
                .as("config keys with no '| `key` |' row in their record's own section of docs/configuration.md")
                .isEmpty();
    }

    /** Records for the cases below: one documented in the right place, one with a key under a sibling's heading. */
    record Outer(String name, Inner inner) {
    }

    record Inner(String enabled, String path) {
    }

    @Test
    void aKeyDocumentedOnlyUnderAnotherSectionIsReported() {
        String doc = """
                ## Outer
                | key | meaning |
                |---|---|
                | `name` | its name |
                | `inner` | see below |
                | `path` | (documented here by mistake: it belongs to inner) |

                ### inner
                | `enabled` | on or off |

                ### other
                | `path` | another record's path |
                """;
        Map<Class<?>, String> sections = Map.of(Outer.class, "Outer", Inner.class, "inner");
        assertThat(undocumented(doc, List.of(Outer.class, Inner.class), sections))
                .containsExactly("config.ConfigDocsCoverageTest$Inner → path (under 'inner')");
        String fixed = doc.replace("| `enabled` | on or off |", "| `enabled` | on or off |\n| `path` | where |");
        assertThat(undocumented(fixed, List.of(Outer.class, Inner.class), sections)).isEmpty();
    }

    @Test
    void aRecordWithoutASectionOrWithAnAmbiguousOneIsReported() {
        String doc = "## Outer\n| `name` |\n| `inner` |\n## inner\n| `enabled` |\n| `path` |\n#### inner\n";
        assertThat(undocumented(doc, List.of(Outer.class, Inner.class), Map.of(Outer.class, "Outer")))
                .containsExactly("config.ConfigDocsCoverageTest$Inner: no section in ConfigDocsCoverageTest.SECTIONS");
        assertThat(undocumented(doc, List.of(Inner.class), Map.of(Inner.class, "inner")))
                .containsExactly("config.ConfigDocsCoverageTest$Inner: 2 headings read 'inner'");
        assertThat(undocumented(doc, List.of(Inner.class), Map.of(Inner.class, "Inner")))
                .containsExactly("config.ConfigDocsCoverageTest$Inner: no heading reads 'Inner'");
    }

    /**
     * What {@code doc} fails to document: "record → key (under 'heading')" for each key of {@code records} with no
     * {@code | `key` |} row between its record's heading and the next heading, and a line for each record whose
     * heading is unknown, missing or not unique.
     */
    static Set<String> undocumented(String doc, Collection<Class<?>> records, Map<Class<?>, String> sections) {
        Map<String, List<String>> bodies = sections(doc);
        Set<String> missing = new TreeSet<>();
        for (Class<?> record : records) {
            String name = record.getName().replace("io.gatehouse.", "");
            String heading = sections.get(record);
            List<String> found = heading == null ? List.of() : bodies.getOrDefault(heading, List.of());
            if (heading == null) {
                missing.add(name + ": no section in ConfigDocsCoverageTest.SECTIONS");
            } else if (found.size() != 1) {
                missing.add(name + ": " + (found.isEmpty() ? "no heading reads" : found.size() + " headings read") + " '" + heading + "'");
            } else {
                for (String key : RecordBinder.keys(record).keySet()) {
                    if (!found.get(0).contains("| `" + key + "` |")) missing.add(name + " → " + key + " (under '" + heading + "')");
                }
            }
        }
        return missing;
    }

    /** Each heading's text (without the #s) and the text up to the next heading of any level, per occurrence. */
    private static Map<String, List<String>> sections(String doc) {
        Map<String, List<String>> out = new HashMap<>();
        String heading = null;
        StringBuilder body = new StringBuilder();
        for (String line : (doc + "\n# end").split("\n", -1)) {
            Matcher m = HEADING.matcher(line);
            if (m.matches()) {
                if (heading != null) out.computeIfAbsent(heading, h -> new ArrayList<>()).add(body.toString());
                heading = m.group(1).strip();
                body.setLength(0);
            } else {
                body.append(line).append('\n');
            }
        }
        return out;
    }

    private static final Pattern HEADING = Pattern.compile("#{1,6} (.+)");

    @Test
    void everyFilterTypeIsNamedInTheConfigurationDoc() throws IOException {
        String doc = Files.readString(configurationDoc());
        assertThat(shippedFilterTypes().stream().filter(t -> !doc.contains("`" + t + "`")).toList())
                .as("filter types not named (in backticks) in docs/configuration.md")
                .isEmpty();
    }

    @Test
    void theWalkReachesNestedRecordsInListsAndMaps() {
        Set<Class<?>> records = reachableRecords(GatehouseConfig.class);
        // Sanity for the walk itself, so an empty walk cannot make the coverage test pass vacuously.
        assertThat(records).contains(ListenerConfig.class, RouteConfig.class, ClusterConfig.class, HeadersConfig.class,
                ClusterConfig.EndpointConfig.class, TlsConfig.CertificateConfig.class, MatchConfig.HeaderMatchConfig.class);
        assertThat(RecordBinder.keys(ClusterConfig.OutlierDetectionConfig.class)).containsKey("consecutive_5xx");
    }

    /**
     * Records reachable through components, list elements, map values, sealed interfaces' permitted records and the
     * registered filter types' config records.
     */
    static Set<Class<?>> reachableRecords(Class<?> root) {
        Set<Class<?>> seen = new LinkedHashSet<>();
        Deque<Type> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            Type t = todo.pop();
            if (t instanceof ParameterizedType p) {
                todo.addAll(List.of(p.getActualTypeArguments()));
            } else if (t instanceof WildcardType w) {
                todo.addAll(List.of(w.getUpperBounds()));
            } else if (t instanceof Class<?> c) {
                if (c == FilterConfig.class) {
                    // the settings are typed by the filter's name: every registered type's config record
                    seen.add(c);
                    for (String type : shippedFilterTypes()) todo.push(FilterConfig.configType(type));
                } else if (c.isRecord() && seen.add(c)) {
                    for (RecordComponent rc : c.getRecordComponents()) todo.push(rc.getGenericType());
                } else if (c.isSealed()) {
                    todo.addAll(List.of(c.getPermittedSubclasses()));
                }
            }
        }
        return seen;
    }

    /** The registered filter types that ship: not those a test registered in this JVM (from test-classes). */
    static List<String> shippedFilterTypes() {
        return FilterConfig.types().stream().filter(t -> {
            var source = FilterConfig.configType(t).getProtectionDomain().getCodeSource();
            return source == null || !source.getLocation().toString().contains("test-classes");
        }).toList();
    }

    /** docs/configuration.md of this checkout, found upwards from the working directory (the module's). */
    private static Path configurationDoc() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path doc = dir.resolve("docs/configuration.md");
            if (Files.isRegularFile(doc)) return doc;
        }
        throw new IllegalStateException("docs/configuration.md not found above " + Path.of("").toAbsolutePath());
    }
}
