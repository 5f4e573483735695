package io.gatehouse.cache;

import io.gatehouse.cache.CacheStrategy.Action;
import io.gatehouse.clock.ManualClock;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decision and storing rules, one row per directive and corner (RFC 9111, RFC 5861, RFC 9213). Times come from a
 * {@link ManualClock}: the response is received at T (its Date is T unless the row says otherwise), and the decision
 * is taken {@code elapsed} seconds later. Header lists are {@code name: value} pairs separated by {@code |}; the same
 * name twice is two field lines.
 */
class CacheStrategyTest {
    static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
    static final String DATE = HttpDates.format(T.toEpochMilli());

    static HttpHeaders headers(String spec) {
        HttpHeaders h = new DefaultHttpHeaders();
        if (spec == null || spec.isBlank()) return h;
        for (String line : spec.split("\\|")) {
            int colon = line.indexOf(':');
            h.add(line.substring(0, colon).strip(), line.substring(colon + 1).strip().replace("{date}", DATE)
                    .replace("{past}", HttpDates.format(T.toEpochMilli() - 100_000_000L))
                    .replace("{plus100}", HttpDates.format(T.toEpochMilli() + 100_000L)));
        }
        if (!h.contains("date")) h.set("date", DATE);
        if (h.get("date").equals("none")) h.remove("date");
        return h;
    }

    static CachedResponse stored(int status, String response, long delayMillis, CachePolicy policy) {
        ManualClock clock = new ManualClock(T);
        long requestTime = clock.currentTimeMillis();
        clock.advance(Duration.ofMillis(delayMillis));
        return new CachedResponse(status, headers(response), new byte[0], requestTime, clock.currentTimeMillis(),
                "http://h/p", List.of(), "", Set.of(), policy);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', nullValues = "-", textBlock = """
            # case                                  ; request headers                 ; response headers                                  ; elapsed s ; expected
            fresh by max-age                        ; -                               ; cache-control: max-age=60                         ; 30  ; SERVE
            stale by max-age                        ; -                               ; cache-control: max-age=60                         ; 61  ; VALIDATE
            max-age exactly reached is stale        ; -                               ; cache-control: max-age=60                         ; 60  ; VALIDATE
            max-age with leading zeros              ; -                               ; cache-control: max-age=0060                       ; 59  ; SERVE
            max-age quoted                          ; -                               ; cache-control: max-age="60"                       ; 59  ; SERVE
            max-age huge is clamped, still fresh    ; -                               ; cache-control: max-age=99999999999999999999       ; 3600 ; SERVE
            max-age not a number is stale           ; -                               ; cache-control: max-age=abc                        ; 1   ; VALIDATE
            max-age negative is stale               ; -                               ; cache-control: max-age=-1                         ; 1   ; VALIDATE
            max-age decimal is stale                ; -                               ; cache-control: max-age=1.5                        ; 0   ; VALIDATE
            max-age duplicated differently is stale ; -                               ; cache-control: max-age=60, max-age=120            ; 1   ; VALIDATE
            max-age duplicated equal stands         ; -                               ; cache-control: max-age=60 | cache-control: max-age=60 ; 30 ; SERVE
            cache-control split over two lines      ; -                               ; cache-control: public | cache-control: max-age=60 ; 30  ; SERVE
            directive names are case-insensitive    ; -                               ; cache-control: MAX-AGE=60                         ; 30  ; SERVE
            s-maxage beats max-age (longer)         ; -                               ; cache-control: max-age=1, s-maxage=60             ; 30  ; SERVE
            s-maxage beats max-age (shorter)        ; -                               ; cache-control: max-age=600, s-maxage=10           ; 30  ; VALIDATE
            expires in the future                   ; -                               ; expires: {plus100}                                ; 50  ; SERVE
            expires passed                          ; -                               ; expires: {plus100}                                ; 101 ; VALIDATE
            invalid expires means expired           ; -                               ; expires: 0                                        ; 0   ; VALIDATE
            two different expires are stale        ; -                               ; expires: {plus100} | expires: {date}              ; 0   ; VALIDATE
            max-age beats expires                   ; -                               ; cache-control: max-age=60 | expires: 0            ; 30  ; SERVE
            no explicit freshness, heuristic 10%    ; -                               ; last-modified: {past}                             ; 9000 ; SERVE
            heuristic ends at 10% of the LM age     ; -                               ; last-modified: {past}                             ; 10001 ; VALIDATE
            no freshness at all                     ; -                               ; etag: "a"                                         ; 0   ; VALIDATE
            no-cache response always validated      ; -                               ; cache-control: max-age=600, no-cache              ; 1   ; VALIDATE
            qualified no-cache counts as no-cache   ; -                               ; cache-control: max-age=600, no-cache="set-cookie" ; 1   ; VALIDATE
            Age header counts                       ; -                               ; cache-control: max-age=60 | age: 50               ; 11  ; VALIDATE
            Age header below lifetime               ; -                               ; cache-control: max-age=60 | age: 50               ; 9   ; SERVE
            Age with leading zeros                  ; -                               ; cache-control: max-age=60 | age: 0050             ; 11  ; VALIDATE
            Age huge                                ; -                               ; cache-control: max-age=60 | age: 99999999999999999 ; 0  ; VALIDATE
            Age invalid ignored                     ; -                               ; cache-control: max-age=60 | age: abc              ; 30  ; SERVE
            Age list takes the first                ; -                               ; cache-control: max-age=60 | age: 50, 10           ; 11  ; VALIDATE
            Date in the past makes apparent age     ; -                               ; cache-control: max-age=60 | date: {past}          ; 0   ; VALIDATE
            request no-cache validates              ; cache-control: no-cache         ; cache-control: max-age=600                        ; 1   ; VALIDATE
            request pragma no-cache validates       ; pragma: no-cache                ; cache-control: max-age=600                        ; 1   ; VALIDATE
            pragma ignored with cache-control       ; pragma: no-cache | cache-control: max-stale ; cache-control: max-age=600            ; 1   ; SERVE
            request max-age smaller than age        ; cache-control: max-age=10       ; cache-control: max-age=600                        ; 11  ; VALIDATE
            request max-age larger than age         ; cache-control: max-age=10       ; cache-control: max-age=600                        ; 9   ; SERVE
            request max-age=0                       ; cache-control: max-age=0        ; cache-control: max-age=600                        ; 1   ; VALIDATE
            request max-age invalid validates       ; cache-control: max-age=x        ; cache-control: max-age=600                        ; 1   ; VALIDATE
            request min-fresh satisfied             ; cache-control: min-fresh=10     ; cache-control: max-age=60                         ; 40  ; SERVE
            request min-fresh not satisfied         ; cache-control: min-fresh=30     ; cache-control: max-age=60                         ; 40  ; VALIDATE
            request max-stale within                ; cache-control: max-stale=30     ; cache-control: max-age=60                         ; 80  ; SERVE
            request max-stale exceeded              ; cache-control: max-stale=10     ; cache-control: max-age=60                         ; 80  ; VALIDATE
            request max-stale any                   ; cache-control: max-stale        ; cache-control: max-age=60                         ; 99999 ; SERVE
            max-stale refused by must-revalidate    ; cache-control: max-stale        ; cache-control: max-age=60, must-revalidate        ; 80  ; VALIDATE
            max-stale refused by proxy-revalidate   ; cache-control: max-stale        ; cache-control: max-age=60, proxy-revalidate       ; 80  ; VALIDATE
            max-stale refused by s-maxage           ; cache-control: max-stale        ; cache-control: s-maxage=60                        ; 80  ; VALIDATE
            only-if-cached with fresh               ; cache-control: only-if-cached   ; cache-control: max-age=60                         ; 1   ; SERVE
            only-if-cached with stale               ; cache-control: only-if-cached   ; cache-control: max-age=60                         ; 61  ; UNSATISFIABLE
            stale-while-revalidate within           ; -                               ; cache-control: max-age=60, stale-while-revalidate=30 ; 80 ; SERVE_STALE_REVALIDATE
            stale-while-revalidate past             ; -                               ; cache-control: max-age=60, stale-while-revalidate=30 ; 91 ; VALIDATE
            swr refused by must-revalidate          ; -                               ; cache-control: max-age=60, stale-while-revalidate=30, must-revalidate ; 80 ; VALIDATE
            targeted field beats cache-control      ; -                               ; cache-control: max-age=1 | cdn-cache-control: max-age=60 ; 30 ; SERVE
            targeted field ignores expires          ; -                               ; expires: {plus100} | cdn-cache-control: max-age=10 ; 50 ; VALIDATE
            gatehouse target beats cdn target       ; -                               ; gatehouse-cache-control: max-age=100 | cdn-cache-control: max-age=10 ; 50 ; SERVE
            invalid targeted field is ignored       ; -                               ; cache-control: max-age=60 | cdn-cache-control: max-age=(10 ; 30 ; SERVE
            targeted string max-age is ignored      ; -                               ; cache-control: max-age=60 | cdn-cache-control: max-age="100" ; 80 ; VALIDATE
            targeted no-cache                       ; -                               ; cache-control: max-age=60 | cdn-cache-control: max-age=60, no-cache ; 1 ; VALIDATE
            """)
    void decision(String name, String request, String response, long elapsed, Action expected) {
        CachedResponse stored = stored(200, response, 0, CachePolicy.STANDARD);
        long now = T.toEpochMilli() + elapsed * 1000;
        assertThat(CacheStrategy.decide(headers(request), stored, now).action()).as(name).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', nullValues = "-", textBlock = """
            # case                                   ; method ; request headers                 ; status ; response headers                              ; stored
            plain 200 is heuristically cacheable     ; GET    ; -                               ; 200    ; -                                             ; true
            POST is not stored                       ; POST   ; -                               ; 200    ; cache-control: max-age=60                     ; false
            HEAD is not stored                       ; HEAD   ; -                               ; 200    ; cache-control: max-age=60                     ; false
            no-store                                 ; GET    ; -                               ; 200    ; cache-control: no-store, max-age=60           ; false
            no-store on a second line                ; GET    ; -                               ; 200    ; cache-control: max-age=60 | cache-control: no-store ; false
            request no-store                         ; GET    ; cache-control: no-store         ; 200    ; cache-control: max-age=60                     ; false
            private                                  ; GET    ; -                               ; 200    ; cache-control: private, max-age=60            ; false
            qualified private is stored without it   ; GET    ; -                               ; 200    ; cache-control: private="x-user", max-age=60   ; true
            no-cache is stored                       ; GET    ; -                               ; 200    ; cache-control: no-cache                       ; true
            authorization without permission         ; GET    ; authorization: Basic eA==       ; 200    ; cache-control: max-age=60                     ; false
            authorization with public                ; GET    ; authorization: Basic eA==       ; 200    ; cache-control: public, max-age=60             ; true
            authorization with s-maxage              ; GET    ; authorization: Basic eA==       ; 200    ; cache-control: s-maxage=60                    ; true
            authorization with must-revalidate       ; GET    ; authorization: Basic eA==       ; 200    ; cache-control: must-revalidate, max-age=60    ; true
            404 heuristically cacheable              ; GET    ; -                               ; 404    ; -                                             ; true
            302 without freshness is not             ; GET    ; -                               ; 302    ; -                                             ; false
            302 with max-age is                      ; GET    ; -                               ; 302    ; cache-control: max-age=60                     ; true
            500 with max-age is                      ; GET    ; -                               ; 500    ; cache-control: max-age=60                     ; true
            503 without freshness is not             ; GET    ; -                               ; 503    ; -                                             ; false
            418 with expires is                      ; GET    ; -                               ; 418    ; expires: {plus100}                            ; true
            599 with public is                       ; GET    ; -                               ; 599    ; cache-control: public                         ; true
            206 never                                ; GET    ; -                               ; 206    ; cache-control: max-age=60                     ; false
            304 never                                ; GET    ; -                               ; 304    ; cache-control: max-age=60                     ; false
            must-understand overrides no-store       ; GET    ; -                               ; 200    ; cache-control: must-understand, no-store, max-age=60 ; true
            must-understand, unknown status          ; GET    ; -                               ; 299    ; cache-control: must-understand, no-store, max-age=60 ; false
            vary star                                ; GET    ; -                               ; 200    ; cache-control: max-age=60 | vary: *           ; false
            vary star on a second line               ; GET    ; -                               ; 200    ; cache-control: max-age=60 | vary: accept | vary: x, *  ; false
            set-cookie not stored by default         ; GET    ; -                               ; 200    ; cache-control: max-age=60 | set-cookie: a=b   ; false
            set-cookie named private is stripped     ; GET    ; -                               ; 200    ; cache-control: max-age=60, private="set-cookie" | set-cookie: a=b ; true
            targeted no-store                        ; GET    ; -                               ; 200    ; cache-control: max-age=60 | cdn-cache-control: no-store ; false
            targeted max-age overrides private       ; GET    ; -                               ; 200    ; cache-control: private | cdn-cache-control: max-age=60 ; true
            """)
    void storing(String name, String method, String request, int status, String response, boolean stored) {
        var s = CacheStrategy.storable(HttpMethod.valueOf(method), headers(request), status, headers(response), CachePolicy.STANDARD);
        assertThat(s.store()).as(name + " (" + s.reason() + ")").isEqualTo(stored);
    }

    @org.junit.jupiter.api.Test
    void ageCountsTheResponseDelay() {
        // the origin took 5 s to answer; its Date says the moment it answered: age starts at the 5 s of delay
        ManualClock clock = new ManualClock(T);
        long requestTime = clock.currentTimeMillis();
        clock.advance(Duration.ofSeconds(5));
        HttpHeaders h = headers("cache-control: max-age=10");
        h.set("date", HttpDates.format(clock.currentTimeMillis()));
        CachedResponse r = new CachedResponse(200, h, new byte[0], requestTime, clock.currentTimeMillis(), "u", List.of(), "", Set.of(), CachePolicy.STANDARD);
        assertThat(CacheStrategy.currentAgeMillis(r, clock.currentTimeMillis())).isEqualTo(5000);
        clock.advance(Duration.ofSeconds(4));
        assertThat(CacheStrategy.decide(headers(null), r, clock.currentTimeMillis()).action()).isEqualTo(Action.SERVE);
        clock.advance(Duration.ofSeconds(2));
        assertThat(CacheStrategy.decide(headers(null), r, clock.currentTimeMillis()).action()).isEqualTo(Action.VALIDATE);
    }

    @org.junit.jupiter.api.Test
    void operatorTtlsApplyWithoutExplicitFreshnessOrAlwaysWhenTheOriginIsIgnored() {
        CachePolicy respect = CachePolicy.STANDARD.withTtl(Map.of(404, Duration.ofMinutes(1)), true);
        long at30 = T.toEpochMilli() + 30_000;
        assertThat(CacheStrategy.decide(headers(null), stored(404, "", 0, respect), at30).action()).isEqualTo(Action.SERVE);
        // an explicit max-age wins while the origin is respected
        assertThat(CacheStrategy.decide(headers(null), stored(404, "cache-control: max-age=10", 0, respect), at30).action())
                .isEqualTo(Action.VALIDATE);
        CachePolicy ignore = CachePolicy.STANDARD.withTtl(Map.of(200, Duration.ofMinutes(1)), false);
        assertThat(CacheStrategy.storable(HttpMethod.GET, headers(null), 200, headers("cache-control: no-store"), ignore).store()).isTrue();
        assertThat(CacheStrategy.decide(headers(null), stored(200, "cache-control: no-cache, max-age=0", 0, ignore), at30).action())
                .isEqualTo(Action.SERVE);
        assertThat(CacheStrategy.storable(HttpMethod.GET, headers(null), 500, headers("cache-control: max-age=60"), ignore).store()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', nullValues = "-", textBlock = """
            # case                                  ; response headers                                       ; stale s ; failure  ; operator window s ; usable
            stale-if-error within                   ; cache-control: max-age=10, stale-if-error=60           ; 30  ; http_5xx ; 0   ; true
            stale-if-error past                     ; cache-control: max-age=10, stale-if-error=60           ; 61  ; http_5xx ; 0   ; false
            nothing allows it                       ; cache-control: max-age=10                              ; 1   ; error    ; 0   ; false
            operator window allows it               ; cache-control: max-age=10                              ; 100 ; error    ; 300 ; true
            operator window not for this failure    ; cache-control: max-age=10                              ; 100 ; timeout  ; 300 ; false
            must-revalidate forbids                 ; cache-control: max-age=10, must-revalidate, stale-if-error=60 ; 1 ; error ; 300 ; false
            operator window stops at s-maxage       ; cache-control: s-maxage=10                             ; 1   ; error    ; 300 ; false
            origin's own stale-if-error with s-maxage ; cache-control: s-maxage=10, stale-if-error=60        ; 1   ; error    ; 0   ; true
            """)
    void staleOnError(String name, String response, long stale, String failure, long window, boolean usable) {
        CachePolicy policy = CachePolicy.STANDARD.withStaleOnError(Duration.ofSeconds(window), Set.of("error", "http_5xx"));
        CachedResponse r = stored(200, response, 0, policy);
        long now = T.toEpochMilli() + r.lifetimeMillis() + stale * 1000;
        assertThat(CacheStrategy.usableOnError(headers(null), r, now, failure, policy)).as(name).isEqualTo(usable);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', textBlock = """
            IMF-fixdate         ; Sun, 06 Nov 1994 08:49:37 GMT ; 784111777000
            RFC 850             ; Sunday, 06-Nov-94 08:49:37 GMT ; 784111777000
            asctime             ; Sun Nov  6 08:49:37 1994       ; 784111777000
            not a date          ; 0                              ; -1
            bad day             ; Sun, 31 Feb 1994 08:49:37 GMT  ; -1
            no zone             ; Sun, 06 Nov 1994 08:49:37      ; -1
            """)
    void httpDates(String name, String value, long millis) {
        Long parsed = HttpDates.parse(value);
        assertThat(parsed == null ? -1 : parsed).as(name).isEqualTo(millis);
    }

    @org.junit.jupiter.api.Test
    void notModifiedUpdatesTheStoredFieldsButNotContentLengthOrHopByHop() {
        CachedResponse r = stored(200, "cache-control: max-age=10 | etag: \"v1\" | content-length: 5 | x-a: old", 0, CachePolicy.STANDARD);
        HttpHeaders nm = headers("cache-control: max-age=100 | etag: \"v1\" | content-length: 0 | x-a: new | connection: x-hop | x-hop: 1 | keep-alive: 5");
        CachedResponse u = r.updatedBy(nm, T.toEpochMilli() + 50_000, T.toEpochMilli() + 50_000, CachePolicy.STANDARD);
        assertThat(u.headers().get("content-length")).isEqualTo("5");
        assertThat(u.headers().get("x-a")).isEqualTo("new");
        assertThat(u.headers().contains("x-hop")).isFalse();
        assertThat(u.headers().contains("keep-alive")).isFalse();
        assertThat(u.lifetimeMillis()).isEqualTo(100_000);
    }
}
