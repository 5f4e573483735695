package io.gatehouse.config;

import java.util.List;
import java.util.Map;

/**
 * The {@code headers} filter: header rules for the request on its way to the endpoint and for the response on its way
 * to the client (nginx's {@code proxy_set_header} and {@code add_header}, Envoy's request/response_headers_to_add).
 * Applied in the order remove, set, add.
 *
 * @param request  rules for the request, before the filters after this one see it
 * @param response rules for the response head (Gatehouse's own answers included)
 */
public record HeadersConfig(HeaderRulesConfig request, HeaderRulesConfig response) {
    public HeadersConfig {
        request = request == null ? HeaderRulesConfig.NONE : request;
        response = response == null ? HeaderRulesConfig.NONE : response;
    }

    /**
     * @param set    name → value, replacing any value the message had
     * @param add    name → value, added beside any the message had
     * @param remove names to remove
     */
    public record HeaderRulesConfig(Map<String, String> set, Map<String, String> add, List<String> remove) {
        public static final HeaderRulesConfig NONE = new HeaderRulesConfig(null, null, null);

        public HeaderRulesConfig {
            set = set == null ? Map.of() : Map.copyOf(set);
            add = add == null ? Map.of() : Map.copyOf(add);
            remove = remove == null ? List.of() : List.copyOf(remove);
            for (String name : set.keySet()) checkName("set", name);
            for (String name : add.keySet()) checkName("add", name);
            for (String name : remove) checkName("remove", name);
            for (String value : set.values()) checkValue("set", value);
            for (String value : add.values()) checkValue("add", value);
        }

        public boolean isEmpty() {
            return set.isEmpty() && add.isEmpty() && remove.isEmpty();
        }

        private static void checkName(String key, String name) {
            if (name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
                throw new IllegalArgumentException(key + ": '" + name + "' is not a valid header name");
            }
            String lower = name.toLowerCase(java.util.Locale.ROOT);
            if (List.of("host", "content-length", "transfer-encoding", "connection", "upgrade", "te").contains(lower)) {
                throw new IllegalArgumentException(key + ": '" + name + "' frames or routes the message; it cannot be rewritten here");
            }
        }

        private static void checkValue(String key, String value) {
            if (value == null || value.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
                throw new IllegalArgumentException(key + ": a header value must not contain CR, LF or NUL");
            }
        }
    }
}
