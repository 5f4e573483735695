package io.gatehouse.filter;

/** A filter with the name of its type (as in the config's {@code filters:} list), for logs and the admin API. */
public interface NamedFilter extends Filter {
    String name();
}
