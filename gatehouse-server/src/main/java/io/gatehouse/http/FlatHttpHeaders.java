package io.gatehouse.http;

import static io.netty.util.internal.ObjectUtil.checkNotNull;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CharSequenceValueConverter;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.AbstractCollection;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * HTTP header fields in insertion order in two flat arrays, looked up by a linear scan that compares names by identity
 * first and then case-insensitively (ASCII only), with no hashing.
 *
 * <p>Written by hand because it is on the proxy's hot path: Netty's {@code DefaultHttpHeaders} hashes every name and
 * allocates a linked entry per field, while a message has ~5-20 fields and a flat scan of those, mostly hitting the
 * decoders' interned {@link io.netty.handler.codec.http.HttpHeaderNames} constants by identity, is cheaper.
 *
 * <p>Behaves exactly like {@code DefaultHttpHeaders} with validation off
 * ({@code DefaultHttpHeadersFactory.headersFactory().withValidation(false)}), quirks included: {@link #get} returns
 * the first value, {@link #set} removes every field of the name and appends at the end, {@link
 * #valueCharSequenceIterator} walks the values last-added first, {@link #names} is a live view that may repeat a name
 * added with different cases or {@code CharSequence} types, {@link #setAll} keeps only the last value of each name,
 * and adding or setting headers of another class goes through their {@code String} entries. Names and values are not
 * validated: the decoders have already checked every byte, and code adding fields is trusted like Netty's with
 * validation off. Null names and values throw {@link NullPointerException}. Not thread-safe.
 */
public final class FlatHttpHeaders extends HttpHeaders {
    private static final int INITIAL_CAPACITY = 16;
    private static final ValueConverter CONVERTER = new ValueConverter();
    // Same seed as DefaultHeaders, so that equal headers of either class hash alike.
    private static final int HASH_CODE_SEED = 0xc2b2ae35;

    private CharSequence[] names;
    private CharSequence[] values;
    private int size;

    public FlatHttpHeaders() {
        this(INITIAL_CAPACITY);
    }

    /** Room for {@code capacity} fields before the arrays grow (a decoder that counted the lines sizes them so). */
    public FlatHttpHeaders(int capacity) {
        capacity = Math.max(1, capacity);
        names = new CharSequence[capacity];
        values = new CharSequence[capacity];
    }

    private FlatHttpHeaders(FlatHttpHeaders source) {
        int capacity = Math.max(INITIAL_CAPACITY, source.size);
        names = Arrays.copyOf(source.names, capacity);
        values = Arrays.copyOf(source.values, capacity);
        size = source.size;
    }

    // ---- lookups

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        CharSequence value = first(name);
        return value == null ? null : value.toString();
    }

    @Override
    public Integer getInt(CharSequence name) {
        CharSequence v = first(name);
        try {
            return v == null ? null : CONVERTER.convertToInt(v);
        } catch (RuntimeException unparsable) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public Short getShort(CharSequence name) {
        CharSequence v = first(name);
        try {
            return v == null ? null : CONVERTER.convertToShort(v);
        } catch (RuntimeException unparsable) {
            return null;
        }
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v != null ? v : defaultValue;
    }

    /** Like Netty's, an unparsable date escapes as the (undeclared) {@link java.text.ParseException}. */
    @Override
    public Long getTimeMillis(CharSequence name) {
        CharSequence v = first(name);
        try {
            return v == null ? null : CONVERTER.convertToTimeMillis(v);
        } catch (RuntimeException unparsable) {
            return null;
        }
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        checkNotNull(name, "name");
        CharSequence[] names = this.names;
        int count = 0;
        for (int i = 0; i < size; i++) {
            if (sameName(name, names[i])) count++;
        }
        if (count == 0) return Collections.emptyList();
        CharSequence[] found = new CharSequence[count];
        for (int i = 0, j = 0; j < count; i++) {
            if (sameName(name, names[i])) found[j++] = values[i];
        }
        return new StringList(found);
    }

    @Override
    public boolean contains(String name) {
        return contains((CharSequence) name);
    }

    @Override
    public boolean contains(CharSequence name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, (CharSequence) value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            boolean equal = ignoreCase
                    ? AsciiString.contentEqualsIgnoreCase(value, values[i])
                    : AsciiString.contentEquals(value, values[i]);
            if (equal) return true;
        }
        return false;
    }

    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            if (containsCommaSeparatedTrimmed(values[i], value, ignoreCase)) return true;
        }
        return false;
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<String> names() {
        return new NameSet();
    }

    @Override
    public List<Entry<String, String>> entries() {
        if (isEmpty()) return Collections.emptyList();
        List<Entry<String, String>> entries = new ArrayList<>(size);
        for (Entry<String, String> entry : this) {
            entries.add(entry);
        }
        return entries;
    }

    // ---- iteration

    /** @deprecated as in {@link HttpHeaders}: prefer {@link #iteratorCharSequence()}, which converts nothing. */
    @Deprecated
    @Override
    public Iterator<Entry<String, String>> iterator() {
        Iterator<Entry<CharSequence, CharSequence>> fields = iteratorCharSequence();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return fields.hasNext();
            }

            @Override
            public Entry<String, String> next() {
                return new StringField(fields.next());
            }

            @Override
            public void remove() {
                fields.remove();
            }
        };
    }

    @Override
    public Iterator<Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new FieldIterator();
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        Iterator<CharSequence> values = valueCharSequenceIterator(name);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return values.hasNext();
            }

            @Override
            public String next() {
                return values.next().toString();
            }

            @Override
            public void remove() {
                values.remove();
            }
        };
    }

    /**
     * The values of {@code name}, last added first (as Netty's hash bucket chains them). {@code remove()} removes
     * exactly the value last returned, where Netty's, after the first removal, can also unlink unrelated fields that
     * share the hash bucket.
     */
    @Override
    public Iterator<CharSequence> valueCharSequenceIterator(CharSequence name) {
        return new ValueIterator(checkNotNull(name, "name"));
    }

    // ---- mutation

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        CharSequence converted = CONVERTER.convertObject(checkNotNull(value, "value"));
        append(checkNotNull(name, "name"), converted);
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        for (Object value : values) {
            add(name, value);
        }
        return this;
    }

    @Override
    public HttpHeaders add(HttpHeaders headers) {
        if (headers instanceof FlatHttpHeaders other) {
            if (other == this) throw new IllegalArgumentException("can't add to itself.");
            appendAll(other);
            return this;
        }
        return super.add(headers);
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        append(checkNotNull(name, "name"), CONVERTER.convertInt(value));
        return this;
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        append(checkNotNull(name, "name"), CONVERTER.convertShort(value));
        return this;
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence converted = CONVERTER.convertObject(checkNotNull(value, "value"));
        replace(name, converted);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    /** Replaces the values of {@code name} by {@code values} up to the first null one, as Netty does. */
    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        removeAll(checkNotNull(name, "name"));
        for (Object value : values) {
            if (value == null) break;
            append(name, CONVERTER.convertObject(value));
        }
        return this;
    }

    @Override
    public HttpHeaders set(HttpHeaders headers) {
        if (headers instanceof FlatHttpHeaders other) {
            if (other != this) {
                clear();
                appendAll(other);
            }
            return this;
        }
        return super.set(headers);
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        replace(name, CONVERTER.convertInt(value));
        return this;
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        replace(name, CONVERTER.convertShort(value));
        return this;
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        removeAll(checkNotNull(name, "name"));
        return this;
    }

    @Override
    public HttpHeaders clear() {
        Arrays.fill(names, 0, size, null);
        Arrays.fill(values, 0, size, null);
        size = 0;
        return this;
    }

    @Override
    public HttpHeaders copy() {
        return new FlatHttpHeaders(this);
    }

    // ---- equality, as DefaultHttpHeaders: same class, names case-insensitive, values case-sensitive in order

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FlatHttpHeaders other) || other.size != size) return false;
        if (other == this) return true;
        for (CharSequence name : distinctNames()) {
            List<String> theirs = other.getAll(name);
            List<String> ours = getAll(name);
            if (theirs.size() != ours.size()) return false;
            for (int i = 0; i < ours.size(); i++) {
                if (!AsciiString.contentEquals(theirs.get(i), ours.get(i))) return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int result = HASH_CODE_SEED;
        for (CharSequence name : distinctNames()) {
            result = 31 * result + AsciiString.hashCode(name);
            for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
                result = 31 * result + AsciiString.hashCode(values[i]);
            }
        }
        return result;
    }

    // ---- the flat storage

    /** The first value of {@code name}, or null. */
    /** The name of field {@code i} (0 ≤ i < {@link #size()}), as stored: a scan without an iterator or entries. */
    public CharSequence nameAt(int i) {
        if (i >= size) throw new IndexOutOfBoundsException(i);
        return names[i];
    }

    /** The first value of {@code name} as stored (no String made of it), or null. */
    public CharSequence first(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : values[i];
    }

    private int indexOf(CharSequence name, int from) {
        checkNotNull(name, "name");
        CharSequence[] names = this.names;
        for (int i = from, n = size; i < n; i++) {
            if (sameName(name, names[i])) return i;
        }
        return -1;
    }

    private void append(CharSequence name, CharSequence value) {
        if (size == names.length) grow(size + 1);
        names[size] = name;
        values[size] = value;
        size++;
    }

    private void appendAll(FlatHttpHeaders other) {
        int n = other.size;
        if (size + n > names.length) grow(size + n);
        System.arraycopy(other.names, 0, names, size, n);
        System.arraycopy(other.values, 0, values, size, n);
        size += n;
    }

    private void grow(int minCapacity) {
        int capacity = names.length;
        while (capacity < minCapacity) capacity <<= 1;
        names = Arrays.copyOf(names, capacity);
        values = Arrays.copyOf(values, capacity);
    }

    private void replace(CharSequence name, CharSequence value) {
        removeAll(checkNotNull(name, "name"));
        append(name, value);
    }

    /** Removes every field named {@code name}, keeping the others in order. */
    private void removeAll(CharSequence name) {
        int read = indexOf(name, 0);
        if (read < 0) return;
        CharSequence[] names = this.names;
        CharSequence[] values = this.values;
        int write = read;
        for (read++; read < size; read++) {
            if (!sameName(name, names[read])) {
                names[write] = names[read];
                values[write] = values[read];
                write++;
            }
        }
        Arrays.fill(names, write, size, null);
        Arrays.fill(values, write, size, null);
        size = write;
    }

    private void removeAt(int index) {
        int tail = size - index - 1;
        if (tail > 0) {
            System.arraycopy(names, index + 1, names, index, tail);
            System.arraycopy(values, index + 1, values, index, tail);
        }
        size--;
        names[size] = null;
        values[size] = null;
    }

    /** The names without repeats by {@code equals} (so case- and type-sensitive), as Netty's {@code names()}. */
    private Set<CharSequence> distinctNames() {
        if (size == 0) return Collections.emptySet();
        Set<CharSequence> distinct = new LinkedHashSet<>(size);
        for (int i = 0; i < size; i++) {
            distinct.add(names[i]);
        }
        return distinct;
    }

    /**
     * {@link AsciiString#contentEqualsIgnoreCase} without its type dispatch for the cases the decoders produce: the
     * same interned constant, or two AsciiStrings compared byte by byte, folding case only where the bytes differ.
     */
    static boolean sameName(CharSequence a, CharSequence b) {
        if (a == b) return true;
        int length = a.length();
        if (length != b.length()) return false;
        if (a instanceof AsciiString x && b instanceof AsciiString y) {
            byte[] xs = x.array();
            byte[] ys = y.array();
            for (int i = x.arrayOffset(), j = y.arrayOffset(), end = i + length; i < end; i++, j++) {
                byte p = xs[i];
                byte q = ys[j];
                if (p != q && lower(p) != lower(q)) return false;
            }
            return true;
        }
        for (int i = 0; i < length; i++) {
            char p = a.charAt(i);
            char q = b.charAt(i);
            if (p != q && AsciiString.toLowerCase(p) != AsciiString.toLowerCase(q)) return false;
        }
        return true;
    }

    private static int lower(byte b) {
        return b >= 'A' && b <= 'Z' ? b + 32 : b;
    }

    /** Netty's package-private {@code HttpHeaders.containsCommaSeparatedTrimmed}, same splitting and trimming. */
    private static boolean containsCommaSeparatedTrimmed(CharSequence raw, CharSequence expected, boolean ignoreCase) {
        int begin = 0;
        int end = AsciiString.indexOf(raw, ',', begin);
        if (end == -1) return equal(AsciiString.trim(raw), expected, ignoreCase);
        do {
            if (equal(AsciiString.trim(raw.subSequence(begin, end)), expected, ignoreCase)) return true;
            begin = end + 1;
        } while ((end = AsciiString.indexOf(raw, ',', begin)) != -1);
        return begin < raw.length()
                && equal(AsciiString.trim(raw.subSequence(begin, raw.length())), expected, ignoreCase);
    }

    private static boolean equal(CharSequence a, CharSequence b, boolean ignoreCase) {
        return ignoreCase ? AsciiString.contentEqualsIgnoreCase(a, b) : AsciiString.contentEquals(a, b);
    }

    /** DefaultHttpHeaders' value converter: dates as HTTP dates, anything else by {@code toString()}. */
    private static final class ValueConverter extends CharSequenceValueConverter {
        @Override
        public CharSequence convertObject(Object value) {
            if (value instanceof CharSequence s) return s;
            if (value instanceof Date date) return DateFormatter.format(date);
            if (value instanceof Calendar calendar) return DateFormatter.format(calendar.getTime());
            return value.toString();
        }
    }

    /**
     * Writes every field as {@code name: value CRLF}, byte for byte as Netty's HTTP/1.x encoders do (ASCII, no
     * validation), straight from the arrays: no iterator and no entry object per field, one bounds check in all.
     */
    public void encodeTo(ByteBuf buf) {
        CharSequence[] names = this.names;
        CharSequence[] values = this.values;
        int n = size;
        int total = 0;
        for (int i = 0; i < n; i++) {
            total += names[i].length() + values[i].length() + 4;
        }
        buf.ensureWritable(total);
        int at = buf.writerIndex();
        for (int i = 0; i < n; i++) {
            at = writeAscii(buf, at, names[i]);
            buf.setShort(at, COLON_SPACE);
            at = writeAscii(buf, at + 2, values[i]);
            buf.setShort(at, CRLF);
            at += 2;
        }
        buf.writerIndex(at);
    }

    private static final int COLON_SPACE = (':' << 8) | ' ';
    private static final int CRLF = ('\r' << 8) | '\n';

    private static int writeAscii(ByteBuf buf, int at, CharSequence s) {
        int length = s.length();
        if (s instanceof AsciiString a) {
            buf.setBytes(at, a.array(), a.arrayOffset(), length);
        } else {
            for (int i = 0; i < length; i++) {
                buf.setByte(at + i, AsciiString.c2b(s.charAt(i))); // as Netty's encoders write a String
            }
        }
        return at + length;
    }

    private final class FieldIterator implements Iterator<Entry<CharSequence, CharSequence>> {
        private int next;

        @Override
        public boolean hasNext() {
            return next < size;
        }

        @Override
        public Entry<CharSequence, CharSequence> next() {
            if (next >= size) throw new NoSuchElementException();
            int i = next++;
            return new Field(i, names[i], values[i]);
        }

        @Override
        public void remove() {
            throw new UnsupportedOperationException("read only");
        }
    }

    /**
     * One field as a Map.Entry, created per {@code next()} so callers may keep it. {@link #setValue} writes through
     * while the field is still where it was, and otherwise (the headers changed since) only changes this entry, as
     * setting the value of a removed Netty entry does.
     */
    private final class Field implements Entry<CharSequence, CharSequence> {
        private final int index;
        private final CharSequence key;
        private CharSequence value;

        Field(int index, CharSequence key, CharSequence value) {
            this.index = index;
            this.key = key;
            this.value = value;
        }

        @Override
        public CharSequence getKey() {
            return key;
        }

        @Override
        public CharSequence getValue() {
            return value;
        }

        @Override
        public CharSequence setValue(CharSequence newValue) {
            checkNotNull(newValue, "value");
            CharSequence old = value;
            if (index < size && names[index] == key && values[index] == old) values[index] = newValue;
            value = newValue;
            return old;
        }

        @Override
        public String toString() {
            return key.toString() + '=' + value.toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Map.Entry<?, ?> other && key.equals(other.getKey()) && value.equals(other.getValue());
        }

        @Override
        public int hashCode() {
            return key.hashCode() ^ value.hashCode();
        }
    }

    /** Netty's {@code HeadersUtils.StringEntry}: converts lazily, and keeps the value it first returned. */
    private static final class StringField implements Entry<String, String> {
        private final Entry<CharSequence, CharSequence> field;
        private String name;
        private String value;

        StringField(Entry<CharSequence, CharSequence> field) {
            this.field = field;
        }

        @Override
        public String getKey() {
            if (name == null) name = field.getKey().toString();
            return name;
        }

        @Override
        public String getValue() {
            if (value == null && field.getValue() != null) value = field.getValue().toString();
            return value;
        }

        @Override
        public String setValue(String newValue) {
            String old = getValue();
            field.setValue(newValue);
            return old;
        }

        @Override
        public String toString() {
            return field.toString();
        }
    }

    private final class ValueIterator implements Iterator<CharSequence> {
        private final CharSequence name;
        private int next;
        private int last = -1;

        ValueIterator(CharSequence name) {
            this.name = name;
            next = previousIndex(size);
        }

        @Override
        public boolean hasNext() {
            return next >= 0;
        }

        @Override
        public CharSequence next() {
            if (next < 0) throw new NoSuchElementException();
            last = next;
            next = previousIndex(last);
            return values[last];
        }

        @Override
        public void remove() {
            if (last < 0) throw new IllegalStateException();
            removeAt(last); // only fields after it move, and this iterator walks towards the front
            last = -1;
        }

        private int previousIndex(int before) {
            for (int i = before - 1; i >= 0; i--) {
                if (sameName(name, names[i])) return i;
            }
            return -1;
        }
    }

    /** Netty's {@code HeadersUtils.DelegatingNameSet}: a live view. */
    private final class NameSet extends AbstractCollection<String> implements Set<String> {
        @Override
        public int size() {
            return distinctNames().size();
        }

        @Override
        public boolean isEmpty() {
            return FlatHttpHeaders.this.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return FlatHttpHeaders.this.contains(o.toString());
        }

        @Override
        public Iterator<String> iterator() {
            Iterator<CharSequence> distinct = distinctNames().iterator();
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return distinct.hasNext();
                }

                @Override
                public String next() {
                    return distinct.next().toString();
                }

                @Override
                public void remove() {
                    distinct.remove();
                }
            };
        }
    }

    /** A snapshot of values shown as Strings, converted on access like Netty's {@code getAllAsString}. */
    private static final class StringList extends AbstractList<String> {
        private final CharSequence[] values;

        StringList(CharSequence[] values) {
            this.values = values;
        }

        @Override
        public String get(int index) {
            return values[index].toString();
        }

        @Override
        public int size() {
            return values.length;
        }
    }
}
