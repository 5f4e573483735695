package io.gatehouse.http;

import java.util.regex.Pattern;

/** Globs in config values (user agents, header values): {@code *} is any run of characters, the rest is literal. */
public final class Globs {
    private Globs() {}

    public static Pattern pattern(String glob) {
        StringBuilder re = new StringBuilder();
        for (String part : glob.split("\\*", -1)) {
            if (!re.isEmpty()) re.append(".*");
            re.append(Pattern.quote(part));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
