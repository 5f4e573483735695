package io.gatehouse.http;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlatHttpHeadersTest {

    private static HttpHeaders netty() {
        return DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
    }

    /** An AsciiString that is a slice of a larger array, as the decoders produce. */
    private static AsciiString slice(String s) {
        byte[] padded = ("..." + s + "..").getBytes(StandardCharsets.ISO_8859_1);
        return new AsciiString(padded, 3, s.length(), false);
    }

    // ---- differential: the same random operations on both, compared after each one

    private static final CharSequence[] NAMES = {
        HttpHeaderNames.CONTENT_TYPE, "Content-Type", new AsciiString("CONTENT-type"), slice("content-type"),
        HttpHeaderNames.CONNECTION, "connection", slice("Connection"),
        HttpHeaderNames.CONTENT_LENGTH, "Content-Length",
        HttpHeaderNames.DATE, "date",
        "x-a", "X-A", slice("x-a"), new AsciiString("x-b"), "X-B", "x-c", slice("x-"),
    };

    private static final CharSequence[] VALUES = {
        "a", "A", slice("a"), "b", "a, b", " b ,c ", "gzip, deflate", slice("keep-alive, Upgrade"), "", ",", "x,",
        ", a", " ", "close", "CLOSE", "12", "-3", slice("42"), "70000", "abc",
        "Sun, 06 Nov 1994 08:49:37 GMT", slice("Sun, 06 Nov 1994 08:49:37 GMT"),
    };

    @ParameterizedTest
    @ValueSource(longs = {1, 7, 42, 2024, 987654321})
    void behavesLikeNettysDefaultHttpHeadersUnderRandomOperations(long seed) {
        Random random = new Random(seed);
        HttpHeaders flat = new FlatHttpHeaders();
        HttpHeaders netty = netty();
        for (int step = 0; step < 3000; step++) {
            String op = apply(random, flat, netty);
            String at = "seed " + seed + " step " + step + " after " + op;
            assertSameState(at, flat, netty);
            assertSameAnswers(at, random, flat, netty);
        }
    }

    /** Applies one random operation to both and returns its description. */
    private static String apply(Random random, HttpHeaders flat, HttpHeaders netty) {
        CharSequence name = pick(random, NAMES);
        CharSequence value = pick(random, VALUES);
        int op = random.nextInt(100);
        Function<HttpHeaders, Object> action;
        String description;
        if (op < 30) {
            description = "add(" + name + ", " + value + ")";
            action = name instanceof String s ? h -> h.add(s, value) : h -> h.add(name, value);
        } else if (op < 42) {
            description = "set(" + name + ", " + value + ")";
            action = name instanceof String s ? h -> h.set(s, value) : h -> h.set(name, value);
        } else if (op < 48) {
            description = "remove(" + name + ")";
            action = name instanceof String s ? h -> h.remove(s) : h -> h.remove(name);
        } else if (op < 53) {
            List<Object> values = randomValues(random, false);
            description = "add(" + name + ", " + values + ")";
            action = name instanceof String s ? h -> h.add(s, values) : h -> h.add(name, values);
        } else if (op < 58) {
            List<Object> values = randomValues(random, true);
            description = "set(" + name + ", " + values + ")";
            action = name instanceof String s ? h -> h.set(s, values) : h -> h.set(name, values);
        } else if (op < 66) {
            int n = random.nextInt(80_000) - 1000;
            int kind = random.nextInt(4);
            description = "int op " + kind + "(" + name + ", " + n + ")";
            action = switch (kind) {
                case 0 -> h -> h.addInt(name, n);
                case 1 -> h -> h.setInt(name, n);
                case 2 -> h -> h.addShort(name, (short) n);
                default -> h -> h.setShort(name, (short) n);
            };
        } else if (op < 70) {
            Object object = switch (random.nextInt(3)) {
                case 0 -> new Date(784111777000L + random.nextInt(1000) * 1000L);
                case 1 -> random.nextInt(100);
                default -> List.of("listed", "as", "one");
            };
            boolean add = random.nextBoolean();
            description = (add ? "add(" : "set(") + name + ", (Object) " + object + ")";
            action = add ? h -> h.add(name, object) : h -> h.set(name, object);
        } else if (op < 72) {
            description = "clear()";
            action = HttpHeaders::clear;
        } else if (op < 80) {
            // Only the first value returned: Netty's ValueIterator unlinks unrelated fields of the same hash bucket
            // when it removes a later one (valueIteratorRemovesExactlyTheValuesItReturned covers those here).
            boolean strings = random.nextBoolean();
            boolean removeFirst = random.nextBoolean();
            description = "value iteration(" + name + "), removing the first: " + removeFirst;
            action = h -> {
                Iterator<? extends CharSequence> it = strings
                        ? h.valueCharSequenceIterator(name) : h.valueStringIterator(name);
                List<String> seen = new ArrayList<>();
                while (it.hasNext()) {
                    seen.add(it.next().toString());
                    if (removeFirst && seen.size() == 1) it.remove();
                }
                return seen;
            };
        } else if (op < 86) {
            long otherSeed = random.nextLong();
            int kind = random.nextInt(3);
            description = "headers op " + kind;
            action = h -> {
                HttpHeaders other = h instanceof FlatHttpHeaders ? new FlatHttpHeaders() : netty();
                Random same = new Random(otherSeed);
                for (int i = same.nextInt(6); i > 0; i--) other.add(pick(same, NAMES), pick(same, VALUES));
                return switch (kind) {
                    case 0 -> h.add(other);
                    case 1 -> h.set(other);
                    default -> h.setAll(other);
                };
            };
        } else if (op < 90) {
            int index = random.nextInt(24);
            description = "setValue on field " + index + " to " + value;
            action = h -> {
                Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
                for (int i = 0; it.hasNext(); i++) {
                    Map.Entry<CharSequence, CharSequence> field = it.next();
                    if (i == index) return field.setValue(value);
                }
                return null;
            };
        } else if (op < 93) {
            description = "iterator remove";
            action = h -> {
                Iterator<Map.Entry<String, String>> it = h.iteratorAsString();
                if (it.hasNext()) it.next();
                it.remove();
                return null;
            };
        } else if (op < 96) {
            description = "set(this) and add(copy)";
            action = h -> h.set(h).add(h.copy());
        } else {
            description = "add(" + name + ", null)";
            action = h -> h.add(name, (Object) null);
        }
        assertThat(outcome(() -> returned(flat, action.apply(flat))))
                .as(description).isEqualTo(outcome(() -> returned(netty, action.apply(netty))));
        return description;
    }

    private static Object returned(HttpHeaders h, Object result) {
        return result == h ? "this" : String.valueOf(result);
    }

    private static List<Object> randomValues(Random random, boolean withNull) {
        List<Object> values = new ArrayList<>();
        for (int i = random.nextInt(4); i > 0; i--) values.add(pick(random, VALUES));
        if (withNull && random.nextInt(4) == 0) values.add(random.nextInt(values.size() + 1), null);
        return values;
    }

    private static void assertSameState(String at, HttpHeaders flat, HttpHeaders netty) {
        assertThat(fields(flat)).as(at).isEqualTo(fields(netty));
        assertThat(stringFields(flat)).as(at).isEqualTo(stringFields(netty));
        assertThat(flat.size()).as(at).isEqualTo(netty.size());
        assertThat(flat.isEmpty()).as(at).isEqualTo(netty.isEmpty());
        assertThat(new ArrayList<>(flat.names())).as(at).isEqualTo(new ArrayList<>(netty.names()));
        assertThat(flat.names().size()).as(at).isEqualTo(netty.names().size());
        assertThat(flat.hashCode()).as(at).isEqualTo(netty.hashCode());
        assertThat(flat.toString().replace("FlatHttpHeaders", "Headers"))
                .as(at).isEqualTo(netty.toString().replace("DefaultHttpHeaders", "Headers"));
        assertThat(flat.copy()).as(at).isEqualTo(flat).hasSameHashCodeAs(flat).isInstanceOf(FlatHttpHeaders.class);
    }

    /** Every field with the class of its name and value, which {@code names()} depends on. */
    private static List<String> fields(HttpHeaders h) {
        List<String> fields = new ArrayList<>();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            fields.add(e.getKey().getClass().getSimpleName() + ":" + e.getKey() + "="
                    + e.getValue().getClass().getSimpleName() + ":" + e.getValue());
        }
        return fields;
    }

    private static List<String> stringFields(HttpHeaders h) {
        List<String> fields = new ArrayList<>();
        for (Map.Entry<String, String> e : h.entries()) fields.add(e.getKey() + "=" + e.getValue());
        return fields;
    }

    private static void assertSameAnswers(String at, Random random, HttpHeaders flat, HttpHeaders netty) {
        for (int i = 0; i < 4; i++) {
            CharSequence name = pick(random, NAMES);
            CharSequence value = pick(random, VALUES);
            String s = name.toString();
            String v = value.toString();
            List<Function<HttpHeaders, Object>> queries = Arrays.asList(
                    h -> h.get(name), h -> h.get(s), h -> h.get(name, "default"), h -> h.getAll(name),
                    h -> h.getAll(s), h -> h.getAsString(name), h -> h.getAllAsString(name),
                    h -> h.contains(name), h -> h.contains(s),
                    h -> h.contains(name, value, true), h -> h.contains(name, value, false),
                    h -> h.contains(s, v, true), h -> h.contains(s, v, false),
                    h -> h.containsValue(name, value, true), h -> h.containsValue(name, value, false),
                    h -> h.getInt(name), h -> h.getInt(name, -7),
                    h -> h.getShort(name), h -> h.getShort(name, (short) 9),
                    h -> h.getTimeMillis(name), h -> h.getTimeMillis(name, 5L),
                    h -> h.names().contains(s), h -> list(h.valueStringIterator(name)),
                    h -> list(h.valueCharSequenceIterator(name)));
            for (int q = 0; q < queries.size(); q++) {
                Function<HttpHeaders, Object> query = queries.get(q);
                assertThat(outcome(() -> query.apply(flat)))
                        .as(at + ", query " + q + " on " + name + " / " + value)
                        .isEqualTo(outcome(() -> query.apply(netty)));
            }
        }
    }

    private static List<String> list(Iterator<? extends CharSequence> it) {
        List<String> all = new ArrayList<>();
        it.forEachRemaining(c -> all.add(c.toString()));
        return all;
    }

    /** The result as a comparable string, or the class of what was thrown. */
    private static String outcome(Callable<Object> call) {
        try {
            Object result = call.call();
            return result instanceof Iterable<?> items ? "iterable " + toList(items) : "returned " + result;
        } catch (Exception e) {
            return "threw " + e.getClass().getName();
        }
    }

    private static List<String> toList(Iterable<?> items) {
        List<String> all = new ArrayList<>();
        items.forEach(item -> all.add(String.valueOf(item)));
        return all;
    }

    private static CharSequence pick(Random random, CharSequence[] from) {
        return from[random.nextInt(from.length)];
    }

    // ---- examples

    @Test
    void namesAreMatchedCaseInsensitivelyWhateverTheirType() {
        HttpHeaders h = new FlatHttpHeaders().add("Content-Type", "text/plain");

        assertThat(h.get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/plain");
        assertThat(h.get("CONTENT-TYPE")).isEqualTo("text/plain");
        assertThat(h.get(slice("content-TYPE"))).isEqualTo("text/plain");
        assertThat(h.contains(slice("content-typ"))).isFalse();
        assertThat(h.contains("content-typf")).isFalse();
    }

    @Test
    void getReturnsTheFirstValueAndGetAllEveryValueInOrder() {
        HttpHeaders h = new FlatHttpHeaders().add("x-a", "1").add("x-b", "other").add("X-A", "2").add("x-a", "3");

        assertThat(h.get("x-a")).isEqualTo("1");
        assertThat(h.getAll("x-a")).containsExactly("1", "2", "3");
        assertThat(h.getAll("x-missing")).isEmpty();
    }

    @Test
    void setRemovesEveryFieldOfTheNameAndAppendsItAtTheEnd() {
        HttpHeaders h = new FlatHttpHeaders().add("x-a", "1").add("x-b", "b").add("x-a", "2").add("x-c", "c");

        h.set("X-A", "3");

        assertThat(h.entries()).extracting(Map.Entry::getKey).containsExactly("x-b", "x-c", "X-A");
        assertThat(h.getAll("x-a")).containsExactly("3");
    }

    @Test
    void containsValueSplitsCommaSeparatedValuesAndTrimsEachElement() {
        HttpHeaders h = new FlatHttpHeaders().add(HttpHeaderNames.CONNECTION, slice(" keep-alive , Upgrade"));

        assertThat(h.containsValue(HttpHeaderNames.CONNECTION, "upgrade", true)).isTrue();
        assertThat(h.containsValue(HttpHeaderNames.CONNECTION, "upgrade", false)).isFalse();
        assertThat(h.containsValue(HttpHeaderNames.CONNECTION, "keep-alive", false)).isTrue();
        assertThat(h.containsValue(HttpHeaderNames.CONNECTION, "keep", true)).isFalse();
        assertThat(h.contains(HttpHeaderNames.CONNECTION, "upgrade", true)).isFalse();
    }

    @Test
    void copyIsIndependentOfTheOriginal() {
        HttpHeaders original = new FlatHttpHeaders().add("x-a", "1");
        HttpHeaders copy = original.copy();

        copy.add("x-b", "2");
        original.set("x-a", "changed");

        assertThat(copy).isInstanceOf(FlatHttpHeaders.class);
        assertThat(copy.get("x-a")).isEqualTo("1");
        assertThat(original.contains("x-b")).isFalse();
    }

    @Test
    void growsPastSixteenFieldsKeepingInsertionOrder() {
        HttpHeaders h = new FlatHttpHeaders();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            h.add("x-" + i, Integer.toString(i));
            expected.add("x-" + i + "=" + i);
        }

        assertThat(h.size()).isEqualTo(40);
        assertThat(stringFields(h)).isEqualTo(expected);
        assertThat(h.getInt("X-39")).isEqualTo(39);
    }

    @Test
    void valueIteratorWalksTheLastAddedValueFirstAndRemovesWhatItReturned() {
        HttpHeaders h = new FlatHttpHeaders().add("cookie", "a=1").add("x", "y").add("Cookie", "b=2");

        Iterator<CharSequence> it = ((FlatHttpHeaders) h).valueCharSequenceIterator(HttpHeaderNames.COOKIE);
        assertThat(it.next().toString()).isEqualTo("b=2");
        it.remove();
        assertThat(it.next().toString()).isEqualTo("a=1");

        assertThat(stringFields(h)).containsExactly("cookie=a=1", "x=y");
    }

    @Test
    void valueIteratorRemovesExactlyTheValuesItReturned() {
        HttpHeaders h = new FlatHttpHeaders();
        for (int i = 0; i < 6; i++) h.add("x-" + (i % 3), Integer.toString(i)).add("y", "keep" + i);

        Iterator<String> it = h.valueStringIterator("X-1");
        List<String> seen = new ArrayList<>();
        while (it.hasNext()) {
            seen.add(it.next());
            it.remove();
        }
        assertThatThrownBy(it::remove).isInstanceOf(IllegalStateException.class);

        assertThat(seen).containsExactly("4", "1");
        assertThat(h.contains("x-1")).isFalse();
        assertThat(h.getAll("y")).containsExactly("keep0", "keep1", "keep2", "keep3", "keep4", "keep5");
        assertThat(h.getAll("x-0")).containsExactly("0", "3");
        assertThat(h.getAll("x-2")).containsExactly("2", "5");
        assertThat(h.size()).isEqualTo(10);
    }

    @Test
    void nullNamesAndValuesAreRejected() {
        HttpHeaders h = new FlatHttpHeaders();
        List<Consumer<HttpHeaders>> calls = List.of(
                x -> x.add((CharSequence) null, "v"), x -> x.add("n", (Object) null), x -> x.set((String) null, "v"),
                x -> x.set("n", (Object) null), x -> x.get((CharSequence) null), x -> x.remove((String) null),
                x -> x.getAll((CharSequence) null), x -> x.containsValue(null, "v", true));

        for (Consumer<HttpHeaders> call : calls) {
            assertThatThrownBy(() -> call.accept(h)).isInstanceOf(NullPointerException.class);
        }
        assertThat(h.isEmpty()).isTrue();
    }

    @Test
    void equalHeadersAreEqualAndHashLikeNettys() {
        HttpHeaders a = new FlatHttpHeaders().add("X-A", "1").add("x-b", "2");
        HttpHeaders b = new FlatHttpHeaders().add("x-a", "1").add("x-b", "2");
        HttpHeaders c = new FlatHttpHeaders().add("x-a", "1").add("x-b", "B");

        assertThat(a).isEqualTo(b).isNotEqualTo(c);
        assertThat(a.hashCode()).isEqualTo(netty().add("X-A", "1").add("x-b", "2").hashCode());
    }

    @Test
    void encodesFieldsByteForByteAsNettysRequestEncoder() {
        FlatHttpHeaders flat = new FlatHttpHeaders();
        HttpHeaders reference = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        byte[] raw = "xxHost: example.com\r\n".getBytes(StandardCharsets.US_ASCII);
        AsciiString sliceName = new AsciiString(raw, 2, 4, false);   // "Host", an offset into a larger array
        AsciiString sliceValue = new AsciiString(raw, 8, 11, false); // "example.com"
        Object[][] fields = {
            {sliceName, sliceValue}, {HttpHeaderNames.CONTENT_LENGTH, "0"}, {"X-Plain", "caf\u00e9"},
            {"x-wide", "\u0100bc"}, {AsciiString.of("Empty"), ""},
        };
        for (int round = 0; round < 4; round++) { // past the initial 16 slots
            for (Object[] f : fields) {
                flat.add((CharSequence) f[0], f[1]);
                reference.add((CharSequence) f[0], f[1]);
            }
        }
        io.netty.buffer.ByteBuf ours = io.netty.buffer.Unpooled.buffer(1); // grows: encodeTo makes room itself
        flat.encodeTo(ours);
        io.netty.channel.embedded.EmbeddedChannel ch =
                new io.netty.channel.embedded.EmbeddedChannel(new io.netty.handler.codec.http.HttpRequestEncoder());
        ch.writeOutbound(new io.netty.handler.codec.http.DefaultFullHttpRequest(
                io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.GET, "/",
                io.netty.buffer.Unpooled.EMPTY_BUFFER, reference, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
        io.netty.buffer.ByteBuf theirs = ch.readOutbound();
        String expected = theirs.toString(StandardCharsets.ISO_8859_1);
        String requestLine = "GET / HTTP/1.1\r\n";
        assertThat(expected).startsWith(requestLine).endsWith("\r\n\r\n");
        assertThat(ours.toString(StandardCharsets.ISO_8859_1))
                .isEqualTo(expected.substring(requestLine.length(), expected.length() - 2))
                .contains("x-wide: ?bc\r\n", "X-Plain: caf\u00e9\r\n", "Host: example.com\r\n");
        theirs.release();
        ch.finishAndReleaseAll();
    }
}
