package io.gatehouse.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packages of the edge depend on each other in one direction: http below route, filter and telemetry; the
 * listener above them. A reference from a lower package to a higher one makes a cycle and fails here, naming it.
 * Two cycles are known and tolerated: a cluster and its own sub-packages (load balancers, health), and the server
 * with its admin API.
 */
class PackageCyclesTest {
    private static final Pattern REFERENCE = Pattern.compile("io\\.gatehouse\\.((?:[a-z0-9_]+\\.)*)[A-Z]\\w*");
    private static final Set<Set<String>> TOLERATED = Set.of(
            Set.of("cluster", "cluster.health", "cluster.loadbalancer"),
            Set.of("(root)", "admin"));

    @Test
    void packagesFormNoCyclesBeyondTheKnownOnes() throws IOException {
        Map<String, Set<String>> deps = dependencies(Path.of("src/main/java/io/gatehouse"));
        List<Set<String>> cycles = stronglyConnected(deps);
        List<String> unexpected = new ArrayList<>();
        for (Set<String> c : cycles) {
            if (TOLERATED.contains(c)) continue;
            StringBuilder why = new StringBuilder(new TreeSet<>(c).toString());
            for (String p : new TreeSet<>(c)) {
                Set<String> inside = new TreeSet<>(deps.get(p));
                inside.retainAll(c);
                why.append("\n    ").append(p).append(" -> ").append(inside);
            }
            unexpected.add(why.toString());
        }
        assertThat(unexpected).as("package cycles").isEmpty();
        assertThat(deps).as("packages scanned").containsKeys("http", "filter", "route", "listener", "telemetry");
    }

    private static Map<String, Set<String>> dependencies(Path root) throws IOException {
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String rel = root.relativize(f.getParent()).toString().replace('/', '.');
                String pkg = rel.isEmpty() ? "(root)" : rel;
                String src = Files.readString(f)
                        .replaceAll("(?s)/\\*.*?\\*/", "")     // comments and strings name things without using them
                        .replaceAll("//[^\\n]*", "")
                        .replaceAll("\"(?:[^\"\\\\\\n]|\\\\.)*\"", "\"\"");
                Set<String> out = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(src);
                while (m.find()) {
                    String target = m.group(1).isEmpty() ? "(root)" : m.group(1).substring(0, m.group(1).length() - 1);
                    if (!target.equals(pkg)) out.add(target);
                }
            }
        }
        deps.values().forEach(s -> s.retainAll(deps.keySet()));
        return deps;
    }

    /** Tarjan's strongly connected components of more than one package. */
    private static List<Set<String>> stronglyConnected(Map<String, Set<String>> deps) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new HashSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : deps.keySet()) if (!index.containsKey(v)) visit(v, deps, index, low, stack, onStack, out, counter);
        return out;
    }

    private static void visit(String v, Map<String, Set<String>> deps, Map<String, Integer> index, Map<String, Integer> low,
                              Deque<String> stack, Set<String> onStack, List<Set<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : deps.get(v)) {
            if (!index.containsKey(w)) {
                visit(w, deps, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new HashSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) out.add(component);
        }
    }
}
