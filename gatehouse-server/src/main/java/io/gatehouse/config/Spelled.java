package io.gatehouse.config;

import java.util.List;
import java.util.Map;

/**
 * A closed-set config value (an enum) with more to say about its spelling than its constant's name in lower case:
 * a spelling that is no Java name ({@code http/1.1}, {@code 1.2}, {@code 502}), other accepted spellings, or
 * advice for words people write that are no value of the set. The binder accepts the spelling and the aliases in
 * any case, and lists the spellings when a value is not one of them.
 */
public interface Spelled {
    /** How the file writes it, and how errors and the admin API show it. */
    String spelling();

    /** Other spellings accepted for it (a common form of the same thing, such as {@code TLSv1.2}). */
    default List<String> aliases() {
        return List.of();
    }

    /**
     * Words that are no value of the set but that people write for one (often another product's name for it), each
     * with the advice to show, such as HTTP/2's two forms; one table for the whole set, so every constant returns
     * the same. A word within a typo of one of these gets its advice too.
     */
    default Map<String, String> misnomers() {
        return Map.of();
    }
}
