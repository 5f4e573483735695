package io.gatehouse.cache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The owner function for sharding a cache across edges: stable, even, and minimal movement when the fleet changes. */
class CacheKeysOwnerTest {
    static final List<String> FLEET = List.of("edge-a:8080", "edge-b:8080", "edge-c:8080", "edge-d:8080");

    static List<String> keys(int n) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) keys.add("https://shop.example/products/" + i + "?page=" + (i % 7));
        return keys;
    }

    @Test
    void everyEdgeAgreesWhateverTheOrderOfMembers() {
        List<String> shuffled = new ArrayList<>(FLEET);
        Collections.reverse(shuffled);
        for (String k : keys(1000)) assertThat(CacheKeys.owner(k, shuffled)).isEqualTo(CacheKeys.owner(k, FLEET));
        // and the same answer in every JVM: pinned values
        assertThat(CacheKeys.hash64("")).isEqualTo(io.gatehouse.cluster.Endpoint.mix64(0xcbf29ce484222325L));
    }

    @Test
    void keysSpreadEvenly() {
        Map<String, Integer> counts = new HashMap<>();
        for (String k : keys(20_000)) counts.merge(CacheKeys.owner(k, FLEET), 1, Integer::sum);
        assertThat(counts).hasSize(4);
        for (int c : counts.values()) assertThat(c).isBetween(4_500, 5_500);
    }

    @Test
    void aMemberJoiningTakesAboutItsShareAndNothingElseMoves() {
        List<String> grown = new ArrayList<>(FLEET);
        grown.add("edge-e:8080");
        int moved = 0;
        for (String k : keys(20_000)) {
            String before = CacheKeys.owner(k, FLEET), after = CacheKeys.owner(k, grown);
            if (!before.equals(after)) {
                moved++;
                assertThat(after).isEqualTo("edge-e:8080");   // only to the newcomer
            }
        }
        assertThat(moved).isBetween(3_500, 4_500);             // about 1/5
        List<String> shrunk = List.of("edge-a:8080", "edge-b:8080", "edge-d:8080");
        for (String k : keys(20_000)) {
            String before = CacheKeys.owner(k, FLEET);
            if (!before.equals("edge-c:8080")) assertThat(CacheKeys.owner(k, shrunk)).isEqualTo(before);
        }
        assertThatThrownBy(() -> CacheKeys.owner("k", List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
