package io.gatehouse.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Golden tests: each {@code config/invalid/NAME.yaml} must fail with exactly the problems in {@code NAME.txt}, as
 * rendered to the user ({@code file:line:column: path: message}, one a line). Add a case by adding the two files.
 */
class InvalidConfigGoldenTest {
    /** The environment the cases see: PORT is set, EMPTY is set but empty, nothing else is. */
    private static final Map<String, String> ENV = Map.of("PORT", "8080", "EMPTY", "");

    static Stream<String> cases() throws IOException, URISyntaxException {
        try (Stream<Path> files = Files.list(dir())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList().stream();
        }
    }

    private static Path dir() throws URISyntaxException {
        return Path.of(InvalidConfigGoldenTest.class.getResource("/config/invalid").toURI());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void invalidConfigReportsExactlyTheExpectedProblems(String name) throws Exception {
        Path yaml = dir().resolve(name);
        String expected = Files.readString(dir().resolve(name.replace(".yaml", ".txt"))).strip();

        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(Files.readString(yaml), name, ENV::get));

        assertThat(e).as("%s should not load", name).isNotNull();
        assertThat(e.getMessage()).isEqualTo(expected);
        assertThat(e.problems()).hasSize(expected.split("\n").length);
    }

    @Test
    void thereAreGoldenCasesAndEachHasItsExpectation() throws Exception {
        List<String> names = cases().toList();
        assertThat(names).hasSizeGreaterThan(10);
        for (String name : names) {
            assertThat(dir().resolve(name.replace(".yaml", ".txt"))).exists();
        }
    }
}
