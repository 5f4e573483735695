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
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every key a config file may hold is documented: the records reachable from {@link GatehouseConfig} are walked
 * reflectively, each component named as the binder names it ({@link RecordBinder#keyOf}), and each name must be the
 * first cell of a table row in docs/configuration.md ({@code | `key` |}). A key added to a record without a doc row
 * fails here, with the list of what is missing.
 */
class ConfigDocsCoverageTest {

    @Test
    void everyKeyOfTheConfigRecordsHasARowInTheConfigurationDoc() throws IOException {
        String doc = Files.readString(configurationDoc());
        Set<String> missing = new TreeSet<>();
        for (Class<?> record : reachableRecords(GatehouseConfig.class)) {
            if (record == FilterConfig.class) continue;   // written "- TYPE: {settings}": its keys are the types below
            for (String key : RecordBinder.keys(record).keySet()) {
                if (!doc.contains("| `" + key + "` |")) missing.add(record.getName().replace("io.gatehouse.", "") + " → " + key);
            }
        }
        assertThat(missing)
                .as("config keys with no '| `key` |' row in docs/configuration.md (record → key)")
                .isEmpty();
    }

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
